/**
 * BFDProfile objects applied to BGP peers (MetalLB's `BGPPeer.spec.bfdProfile`) on @lbkit/bfd:
 * one BFD session per BGP session that names a profile (multihop when the peer is
 * `ebgpMultiHop`), timers, multiplier, passive mode and minimum TTL from the profile. When a
 * session leaves Up because the path failed (not because the peer went AdminDown, RFC 5882
 * §3.2), `onDown` is called so the BGP session can be torn down at once.
 *
 * `echoMode: true` turns on the echo function on single-hop IPv4 sessions (as FRR does in MetalLB's
 * FRR mode): our echo packets every `echoInterval` ms (default 50, FRR's) through an AF_PACKET socket
 * (@lbkit/afpacket, CAP_NET_RAW), and RequiredMinEchoRx = `echoInterval` so the router sends its own,
 * which this node's kernel loops back — that needs `net.ipv4.ip_forward=1` (checked, logged once
 * when off; the echo function then stays off for the router's packets). Multihop and IPv6 sessions
 * run without echo (logged once per profile), like FRR.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { BfdManager, type ManagerOptions, type SessionConfig } from '@lbkit/bfd';
import type { PeerConfig } from '../config.js';
import { errMsg } from '../errors.js';
import type { Logger } from '../log.js';
import type { BFDProfile } from '../types.js';

/** MetalLB's BFDProfile spec as parsed by config.ts. */
export type BfdProfileSpec = NonNullable<BFDProfile['spec']>;

/** MetalLB's (and FRR's) default echo interval, ms. */
export const DEFAULT_ECHO_INTERVAL = 50;

/** Whether this network namespace forwards IPv4 (needed to loop the router's echo packets). */
export function ipv4Forwarding(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')): boolean {
  try {
    return read().trim() === '1';
  } catch {
    return false;
  }
}

/**
 * The BFD session settings for one BGP peer and its profile (MetalLB defaults: 300 ms, × 3).
 * `forwarding`: this node loops the router's echo packets (advertise RequiredMinEchoRx).
 */
export function sessionFor(peer: PeerConfig, profile: BfdProfileSpec, forwarding = false): SessionConfig {
  const c: SessionConfig = {
    peer: peer.peerAddress,
    multihop: peer.ebgpMultiHop,
    receiveInterval: profile.receiveInterval ?? 300,
    transmitInterval: profile.transmitInterval ?? 300,
    detectMultiplier: profile.detectMultiplier ?? 3,
    passive: profile.passiveMode ?? false,
  };
  if (peer.sourceAddress) c.local = peer.sourceAddress;
  if (peer.ebgpMultiHop) c.minimumTtl = profile.minimumTtl ?? 254;
  if (profile.echoMode && echoCapable(peer)) {
    c.echoInterval = profile.echoInterval ?? DEFAULT_ECHO_INTERVAL;
    if (forwarding) c.echoReceiveInterval = c.echoInterval;
  }
  return c;
}

/** The echo function runs on single-hop IPv4 sessions only. */
export function echoCapable(peer: PeerConfig): boolean {
  return !peer.ebgpMultiHop && net.isIPv4(peer.peerAddress);
}

/** Keeps one BFD session per BGP peer with a profile; reports path failures. */
export class BfdPeers {
  private mgr: BfdManager | undefined;
  /** BGP peer address → { BFD session key, settings signature } */
  private readonly active = new Map<string, { key: string; sig: string }>();
  private readonly warnedEcho = new Set<string>();

  /**
   * @param onDown called with the BGP peer address when its BFD session detects a failure
   * @param log logger
   * @param opts manager options and the peers' port (tests on loopback only)
   */
  constructor(
    private readonly onDown: (peerAddress: string, diag: number) => void,
    private readonly log: Logger,
    private readonly opts: ManagerOptions & { remotePort?: number } = {},
    private readonly forwarding: () => boolean = () => ipv4Forwarding(),
  ) {}

  private manager(): BfdManager {
    if (this.mgr) return this.mgr;
    const m = new BfdManager(this.opts);
    m.on('error', (e) => this.log.log('warn', 'BFD socket error', { err: errMsg(e) }));
    m.on('up', (s) => this.log.log('info', 'BFD session up', { peer: s.config.peer }));
    m.on('down', (e) => {
      const peer = e.session.config.peer;
      this.log.log('warn', 'BFD session down', { peer, diag: e.diag, peerAdminDown: e.peerAdminDown });
      if (!e.peerAdminDown && this.active.get(peer)?.key === e.session.key) this.onDown(peer, e.diag);
    });
    this.mgr = m;
    return m;
  }

  /** Applies the desired peers and profiles: adds, reconfigures and removes sessions. */
  update(peers: PeerConfig[], profiles: ReadonlyMap<string, Record<string, unknown>> | undefined): void {
    const want = new Map<string, SessionConfig>();
    for (const p of peers) {
      if (!p.bfdProfile) continue;
      const prof = profiles?.get(p.bfdProfile) as BfdProfileSpec | undefined;
      if (!prof) {
        this.log.log('error', 'BGPPeer names a BFDProfile that does not exist; BFD not started for it', { peer: p.name, bfdProfile: p.bfdProfile });
        continue;
      }
      const forwarding = prof.echoMode ? this.forwarding() : false;
      if (prof.echoMode && !this.warnedEcho.has(p.bfdProfile)) {
        if (!echoCapable(p)) {
          this.warnedEcho.add(p.bfdProfile);
          this.log.log('warn', 'BFDProfile echoMode: the echo function runs on single-hop IPv4 sessions only; this peer runs asynchronous mode', { bfdProfile: p.bfdProfile, peer: p.name });
        } else if (!forwarding) {
          this.warnedEcho.add(p.bfdProfile);
          this.log.log('warn', 'BFDProfile echoMode: net.ipv4.ip_forward is 0, so this node cannot loop the router\'s echo packets; only our own echo packets run', { bfdProfile: p.bfdProfile });
        }
      }
      const cfg = sessionFor(p, prof, forwarding);
      if (this.opts.remotePort) cfg.remotePort = this.opts.remotePort;
      want.set(p.peerAddress, cfg);
    }
    for (const [addr, cur] of [...this.active]) {
      const w = want.get(addr);
      if (w && JSON.stringify(w) === cur.sig) continue;
      this.active.delete(addr);
      this.mgr?.removeSession(cur.key);
    }
    for (const [addr, cfg] of want) {
      if (this.active.has(addr)) continue;
      try {
        const s = this.manager().addSession(cfg);
        this.active.set(addr, { key: s.key, sig: JSON.stringify(cfg) });
      } catch (e) {
        this.log.log('error', 'BFD session rejected', { peer: addr, err: errMsg(e) });
      }
    }
  }

  /** Session states for status pages. */
  status(): Array<{ peer: string; state: string; diag: string }> {
    return (this.mgr?.status() ?? []).map((s) => ({ peer: s.peer, state: s.state, diag: s.diag }));
  }

  /** Tells every peer AdminDown (so routers do not count a failure) and closes the sockets. */
  async close(): Promise<void> {
    this.active.clear();
    await this.mgr?.stop();
    this.mgr = undefined;
  }
}
