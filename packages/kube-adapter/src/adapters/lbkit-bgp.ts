/**
 * BGP backend on `@lbkit/bgp`: one BgpSpeaker per local ASN (MetalLB's myASN may differ per
 * BGPPeer), one peer per BGPPeer session; routes are announced with their attributes to exactly
 * the peers their BGPAdvertisement names (per-peer filtering through `announce(..., {peers})`).
 *
 * BFD: a BGPPeer with `bfdProfile` gets a @lbkit/bfd session ({@link BfdPeers}); when it detects
 * a failure the BGP session is torn down at once (Cease 6/10, RFC 9384) instead of waiting for the
 * hold timer.
 *
 * Planned drain (RFC 8326 graceful shutdown), when `gracefulShutdownMs` > 0: a prefix this node
 * stops announcing (node excluded, service gone, no local endpoints) is first re-announced with
 * the GRACEFUL_SHUTDOWN community 65535:0 and LOCAL_PREF 0 (iBGP), then withdrawn
 * `gracefulShutdownMs` later; {@link LbkitBgpAnnouncer.close} (SIGTERM) does the same for every
 * prefix before the sessions are closed. Routers that honour the community (FRR does on receive)
 * move new connections to the other nodes before the route goes.
 */
import { execFileSync } from 'node:child_process';
import { BgpSpeaker, type PeerOptions } from '@lbkit/bgp';
import type { BgpRoute } from '../bgp-decision.js';
import type { PeerConfig } from '../config.js';
import { sessionASNs, unsupportedPeerFields } from '../config/peer-support.js';
import { errMsg } from '../errors.js';
import { nullLogger, type Logger } from '../log.js';
import type { BgpAnnouncer } from '../speaker.js';
import type { BgpSessionMetrics } from '../metrics.js';
import { joinHostPort } from '../hostport.js';
import { BfdPeers } from './bfd-peers.js';

/** RFC 8326 GRACEFUL_SHUTDOWN well-known community. */
export const GRACEFUL_SHUTDOWN = '65535:0';

/** Options of {@link LbkitBgpAnnouncer}. */
export interface LbkitBgpOptions {
  node: string;
  /** Router ID when no BGPPeer sets one (default: first global IPv4 address of this host). */
  routerID?: string;
  log?: Logger;
  /** RFC 8326 drain time before a planned withdrawal, ms (default 0: withdraw at once). */
  gracefulShutdownMs?: number;
  /** Namespace of the BGPPeers (names them in messages; default metallb-system). */
  namespace?: string;
  /** BFD ports to listen on and the peers' port (tests on loopback only; default 3784/4784). */
  bfdPorts?: { singleHop?: number; multihop?: number; remote?: number };
}

type Attrs = { localPref?: number; communities?: string[]; largeCommunities?: string[] };

interface Group {
  speaker: BgpSpeaker;
  /** peer name → { address, signature } */
  peers: Map<string, { address: string; sig: string }>;
  /** prefix → signature of what is announced */
  routes: Map<string, string>;
  /** prefix → attributes and peers of what is announced */
  attrs: Map<string, { attrs: Attrs; peers: string[] }>;
  /** prefixes being drained (GRACEFUL_SHUTDOWN announced, withdrawal pending) */
  draining: Map<string, NodeJS.Timeout>;
}

function localIPv4(): string | undefined {
  try {
    const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' });
    return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The @lbkit/bgp options of one BGPPeer session: address, port, the peer's AS (`dynamicASN:
 * internal` = ours), timers, `connectTime` (FRR `timers connect`: the ConnectRetry timer and the
 * delay between attempts), `enableGracefulRestart` (the RFC 4724 capability, 120 s restart time as
 * FRR's default), source address, router ID, TCP-MD5 password and eBGP multihop.
 */
export function lbkitPeerOptions(s: PeerConfig): PeerOptions {
  const po: PeerOptions = { address: s.peerAddress, asn: sessionASNs(s).peer, port: s.peerPort, holdTime: s.holdTime, keepalive: s.keepaliveTime, families: ['ipv4', 'ipv6'] };
  if (s.connectTime !== undefined) {
    po.connectRetry = s.connectTime;
    po.backoff = { initialMs: s.connectTime * 1000, maxMs: s.connectTime * 1000 };
  }
  if (s.enableGracefulRestart) po.gracefulRestart = { restartTime: 120 };
  if (s.sourceAddress) po.sourceAddress = s.sourceAddress;
  if (s.routerID) po.routerId = s.routerID;
  if (s.password) po.password = s.password;
  if (s.ebgpMultiHop) po.ebgpMultihop = 255;
  return po;
}

/** The @lbkit/bgp-backed announcer. */
export class LbkitBgpAnnouncer implements BgpAnnouncer {
  private readonly groups = new Map<number, Group>();
  private readonly log: Logger;
  private names = new Map<string, string>();
  /** peer address → `IP:port` and the number of prefixes that should be advertised to it (metrics). */
  private wanted = new Map<string, { hostPort: string; pending: number }>();
  private readonly bfd: BfdPeers;
  private closing: Promise<void> | undefined;

  /** @param opts node name, router ID fallback, logger, drain time */
  constructor(private readonly opts: LbkitBgpOptions) {
    this.log = opts.log ?? nullLogger;
    const bp = opts.bfdPorts;
    this.bfd = new BfdPeers((peer, diag) => this.bfdDown(peer, diag), this.log, bp ? { ports: { singleHop: bp.singleHop, multihop: bp.multihop }, remotePort: bp.remote } : {});
  }

  /** BFD saw the path to `peer` fail: drop its BGP session now. */
  private bfdDown(peer: string, diag: number): void {
    for (const g of this.groups.values())
      if (g.speaker.resetPeer(peer)) this.log.log('warn', 'BGP session torn down: BFD down', { peer: this.names.get(peer) ?? peer, diag });
  }

  /** Required by the factory; nothing to do before the first update. */
  async start(): Promise<void> {}

  private async group(asn: number, sessions: PeerConfig[]): Promise<Group> {
    let g = this.groups.get(asn);
    if (g) return g;
    const rid = sessions.find((s) => s.routerID)?.routerID ?? this.opts.routerID ?? sessions.find((s) => s.sourceAddress && !s.sourceAddress.includes(':'))?.sourceAddress ?? localIPv4();
    if (!rid) throw new Error('lbkit BGP backend: no IPv4 address for a router ID; set BGPPeer spec.routerID');
    const speaker = new BgpSpeaker({ asn, routerId: rid });
    speaker.on('established', (peer) => this.log.log('info', 'BGP session established', { peer: this.names.get(peer) ?? peer, asn }));
    speaker.on('down', (peer, reason) => this.log.log('warn', 'BGP session down', { peer: this.names.get(peer) ?? peer, reason }));
    speaker.on('error', (err, peer) => this.log.log('warn', 'BGP error', { peer, err: errMsg(err) }));
    await speaker.start();
    g = { speaker, peers: new Map(), routes: new Map(), attrs: new Map(), draining: new Map() };
    this.groups.set(asn, g);
    this.log.log('info', 'BGP speaker started', { asn, routerID: rid });
    return g;
  }

  /** Unsupported-field messages already logged (logged once per peer and problem). */
  private reported = new Set<string>();

  /** Drops (and logs once) the peers whose fields no lbkit backend supports (spec.vrf, dynamicASN external). */
  private supported(sessions: PeerConfig[]): PeerConfig[] {
    const now = new Set<string>();
    const ok = sessions.filter((s) => {
      const bad = unsupportedPeerFields(s, this.opts.namespace ?? 'metallb-system');
      for (const b of bad) {
        now.add(b.message);
        if (!this.reported.has(b.message)) this.log.log('error', 'BGP peer not configured', { peer: s.name, field: b.field, err: b.message });
      }
      return bad.length === 0;
    });
    this.reported = now;
    return ok;
  }

  /** @inheritdoc */
  async update(allSessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>, bfdProfiles?: ReadonlyMap<string, Record<string, unknown>>): Promise<void> {
    if (this.closing) return;
    const sessions = this.supported(allSessions);
    this.names = new Map(sessions.map((s) => [s.peerAddress, s.name]));
    this.bfd.update(sessions, bfdProfiles);
    this.wanted = new Map(sessions.map((s) => [s.peerAddress, { hostPort: joinHostPort(s.peerAddress, s.peerPort), pending: new Set((routesByPeer.get(s.name) ?? []).map((r) => r.prefix)).size }]));
    const byAsn = new Map<number, PeerConfig[]>();
    // one speaker per local AS: spec.localASN replaces spec.myASN on its session (FRR `local-as … no-prepend replace-as`)
    for (const s of sessions) {
      const asn = sessionASNs(s).local;
      byAsn.set(asn, [...(byAsn.get(asn) ?? []), s]);
    }
    // groups whose ASN is gone: stop them
    for (const [asn, g] of [...this.groups]) {
      if (byAsn.has(asn)) continue;
      this.groups.delete(asn);
      for (const t of g.draining.values()) clearTimeout(t);
      await g.speaker.stop('peer de-configured').catch(() => {});
    }
    for (const [asn, list] of byAsn) {
      let g: Group;
      try {
        g = await this.group(asn, list);
      } catch (e) {
        this.log.log('error', 'BGP speaker not started', { asn, err: errMsg(e) });
        continue;
      }
      const wanted = new Set(list.map((s) => s.name));
      for (const [name, p] of [...g.peers]) {
        const s = list.find((x) => x.name === name);
        if (s && JSON.stringify(s) === p.sig) continue;
        g.peers.delete(name);
        await g.speaker.removePeer(p.address, wanted.has(name) ? 'peer reconfigured' : 'peer de-configured').catch(() => {});
      }
      for (const s of list) {
        if (g.peers.has(s.name)) continue;
        const po = lbkitPeerOptions(s);
        try {
          g.speaker.addPeer(po);
          g.peers.set(s.name, { address: s.peerAddress, sig: JSON.stringify(s) });
        } catch (e) {
          this.log.log('error', 'BGP peer rejected', { peer: s.name, err: errMsg(e) });
        }
      }
      // routes of this group: prefix → attributes + the peer addresses that should receive it
      const want = new Map<string, { route: BgpRoute; peers: string[] }>();
      for (const s of list)
        for (const r of routesByPeer.get(s.name) ?? []) {
          const cur = want.get(r.prefix);
          if (cur) cur.peers.push(s.peerAddress);
          else want.set(r.prefix, { route: r, peers: [s.peerAddress] });
        }
      for (const [prefix, w] of want) {
        const attrs: Attrs = {};
        if (w.route.localPref !== undefined) attrs.localPref = w.route.localPref;
        if (w.route.communities.length) attrs.communities = w.route.communities;
        if (w.route.largeCommunities.length) attrs.largeCommunities = w.route.largeCommunities;
        const peers = [...new Set(w.peers)].sort();
        const sig = JSON.stringify([attrs, peers]);
        if (g.routes.get(prefix) === sig) continue;
        clearTimeout(g.draining.get(prefix));
        g.draining.delete(prefix);
        try {
          g.speaker.announce(prefix, attrs, { peers });
          g.routes.set(prefix, sig);
          g.attrs.set(prefix, { attrs, peers });
        } catch (e) {
          this.log.log('error', 'BGP announce failed', { prefix, err: errMsg(e) });
        }
      }
      for (const prefix of [...g.routes.keys()]) {
        if (want.has(prefix)) continue;
        this.plannedWithdraw(g, prefix);
      }
    }
  }

  /** Withdraws a prefix, after an RFC 8326 graceful-shutdown period when one is configured. */
  private plannedWithdraw(g: Group, prefix: string): void {
    const ms = this.opts.gracefulShutdownMs ?? 0;
    const cur = g.attrs.get(prefix);
    g.routes.delete(prefix);
    g.attrs.delete(prefix);
    if (ms <= 0 || !cur) {
      g.speaker.withdraw(prefix);
      return;
    }
    this.announceShutdown(g, prefix, cur);
    this.log.log('info', 'BGP graceful shutdown: withdrawing after the drain', { prefix, ms });
    const t = setTimeout(() => {
      g.draining.delete(prefix);
      if (g.routes.has(prefix)) return;
      g.speaker.withdraw(prefix);
      this.log.log('info', 'BGP route withdrawn after the drain', { prefix });
    }, ms);
    g.draining.set(prefix, t);
  }

  /** Re-announces a prefix with GRACEFUL_SHUTDOWN and LOCAL_PREF 0 (the latter used on iBGP only). */
  private announceShutdown(g: Group, prefix: string, cur: { attrs: Attrs; peers: string[] }): void {
    const communities = [...new Set([...(cur.attrs.communities ?? []), GRACEFUL_SHUTDOWN])];
    try {
      g.speaker.announce(prefix, { ...cur.attrs, communities, localPref: 0 }, { peers: cur.peers });
    } catch (e) {
      this.log.log('error', 'BGP graceful shutdown announce failed', { prefix, err: errMsg(e) });
      g.speaker.withdraw(prefix);
    }
  }

  /**
   * Planned drain of every prefix (RFC 8326): GRACEFUL_SHUTDOWN now, withdraw after
   * `gracefulShutdownMs`. Resolves when everything is withdrawn; the sessions stay up.
   */
  async drain(ms = this.opts.gracefulShutdownMs ?? 0): Promise<void> {
    let any = false;
    for (const g of this.groups.values()) {
      for (const [prefix, cur] of g.attrs) {
        this.announceShutdown(g, prefix, cur);
        any = true;
      }
      any ||= g.draining.size > 0;
    }
    if (any && ms > 0) {
      this.log.log('info', 'BGP graceful shutdown: draining', { ms });
      await new Promise((r) => setTimeout(r, ms));
    }
    for (const g of this.groups.values()) {
      for (const t of g.draining.values()) clearTimeout(t);
      for (const prefix of new Set([...g.attrs.keys(), ...g.draining.keys()])) g.speaker.withdraw(prefix);
      g.draining.clear();
      g.routes.clear();
      g.attrs.clear();
    }
    // let the withdrawals leave before anything closes the sessions (at most 1 s)
    const t0 = Date.now();
    while (Date.now() - t0 < 1000 && [...this.groups.values()].some((g) => g.speaker.status().some((p) => p.state === 'Established' && p.stats.prefixesSent > 0)))
      await new Promise((r) => setTimeout(r, 10));
  }

  /** @inheritdoc */
  sessionStates(): BgpSessionMetrics[] {
    const out: BgpSessionMetrics[] = [];
    for (const g of this.groups.values())
      for (const st of g.speaker.status()) {
        const w = this.wanted.get(st.address);
        out.push({ peer: this.names.get(st.address) ?? st.address, address: w?.hostPort ?? st.address, up: st.state === 'Established', prefixes: st.stats.prefixesSent, updates: st.stats.updatesOut, pending: w?.pending ?? 0 });
      }
    return out;
  }

  /** BFD session states (peer address, state, diagnostic). */
  bfdStates(): Array<{ peer: string; state: string; diag: string }> {
    return this.bfd.status();
  }

  /**
   * Planned shutdown: the graceful-shutdown drain ({@link drain}) when configured, then BFD
   * AdminDown (routers must not read it as a failure) and Cease 6/2 on every session.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if ((this.opts.gracefulShutdownMs ?? 0) > 0) await this.drain();
      await this.bfd.close().catch(() => {});
      for (const g of this.groups.values()) await g.speaker.stop('lbkitd shutting down').catch(() => {});
      this.groups.clear();
    })();
    return this.closing;
  }
}
