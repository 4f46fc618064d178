/**
 * BGP backend on `@lbkit/bgp`: one BgpSpeaker per local ASN (MetalLB's myASN may differ per
 * BGPPeer), one peer per BGPPeer session; routes are announced with their attributes to exactly
 * the peers their BGPAdvertisement names (per-peer filtering through `announce(..., {peers})`).
 */
import { execFileSync } from 'node:child_process';
import { BgpSpeaker, type PeerOptions } from '@lbkit/bgp';
import type { BgpRoute } from '../bgp-decision.js';
import type { PeerConfig } from '../config.js';
import { errMsg } from '../errors.js';
import { nullLogger, type Logger } from '../log.js';
import type { BgpAnnouncer } from '../speaker.js';

/** True: this backend is integrated. */
export const INTEGRATED = true;

/** Options of {@link LbkitBgpAnnouncer}. */
export interface LbkitBgpOptions {
  node: string;
  /** Router ID when no BGPPeer sets one (default: first global IPv4 address of this host). */
  routerID?: string;
  log?: Logger;
}

interface Group {
  speaker: BgpSpeaker;
  /** peer name → { address, signature } */
  peers: Map<string, { address: string; sig: string }>;
  /** prefix → signature of what is announced */
  routes: Map<string, string>;
}

function localIPv4(): string | undefined {
  try {
    const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' });
    return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** The @lbkit/bgp-backed announcer. */
export class LbkitBgpAnnouncer implements BgpAnnouncer {
  private readonly groups = new Map<number, Group>();
  private readonly log: Logger;
  private names = new Map<string, string>();

  /** @param opts node name, router ID fallback, logger */
  constructor(private readonly opts: LbkitBgpOptions) {
    this.log = opts.log ?? nullLogger;
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
    g = { speaker, peers: new Map(), routes: new Map() };
    this.groups.set(asn, g);
    this.log.log('info', 'BGP speaker started', { asn, routerID: rid });
    return g;
  }

  /** @inheritdoc */
  async update(sessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>): Promise<void> {
    this.names = new Map(sessions.map((s) => [s.peerAddress, s.name]));
    const byAsn = new Map<number, PeerConfig[]>();
    for (const s of sessions) byAsn.set(s.myASN, [...(byAsn.get(s.myASN) ?? []), s]);
    // groups whose ASN is gone: stop them
    for (const [asn, g] of [...this.groups]) {
      if (byAsn.has(asn)) continue;
      this.groups.delete(asn);
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
        const po: PeerOptions = { address: s.peerAddress, asn: s.peerASN, port: s.peerPort, holdTime: s.holdTime, keepalive: s.keepaliveTime, families: ['ipv4', 'ipv6'] };
        if (s.sourceAddress) po.sourceAddress = s.sourceAddress;
        if (s.routerID) po.routerId = s.routerID;
        if (s.password) po.password = s.password;
        if (s.ebgpMultiHop) po.ebgpMultihop = 255;
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
        const attrs: { localPref?: number; communities?: string[]; largeCommunities?: string[] } = {};
        if (w.route.localPref !== undefined) attrs.localPref = w.route.localPref;
        if (w.route.communities.length) attrs.communities = w.route.communities;
        if (w.route.largeCommunities.length) attrs.largeCommunities = w.route.largeCommunities;
        const peers = [...new Set(w.peers)].sort();
        const sig = JSON.stringify([attrs, peers]);
        if (g.routes.get(prefix) === sig) continue;
        try {
          g.speaker.announce(prefix, attrs, { peers });
          g.routes.set(prefix, sig);
        } catch (e) {
          this.log.log('error', 'BGP announce failed', { prefix, err: errMsg(e) });
        }
      }
      for (const prefix of [...g.routes.keys()]) {
        if (want.has(prefix)) continue;
        g.speaker.withdraw(prefix);
        g.routes.delete(prefix);
      }
    }
  }

  /** @inheritdoc */
  sessionStates(): Array<{ peer: string; up: boolean; prefixes: number }> {
    const out: Array<{ peer: string; up: boolean; prefixes: number }> = [];
    for (const g of this.groups.values())
      for (const st of g.speaker.status()) out.push({ peer: this.names.get(st.address) ?? st.address, up: st.state === 'Established', prefixes: st.stats.prefixesSent });
    return out;
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    for (const g of this.groups.values()) await g.speaker.stop('lbkitd shutting down').catch(() => {});
    this.groups.clear();
  }
}
