/**
 * The speaker (`speaker/main.go`): decides per service and protocol whether this node announces,
 * drives the L2 and BGP announcers, writes ServiceL2Status/ServiceBGPStatus and emits events.
 */
import { poolForIP, type Config, type PeerConfig } from './config.js';
import { shouldAnnounceL2, type L2Decision } from './election.js';
import { peerNamesForService, peersForNode, routesForPeer, shouldAnnounceBgp, type BgpRoute } from './bgp-decision.js';
import { slicesFor } from './endpoints.js';
import type { EventRecorder } from './events.js';
import { errMsg } from './errors.js';
import { canonicalIP } from './ip.js';
import { nullLogger, type Logger } from './log.js';
import type { MetallbMetrics } from './metrics.js';
import { ingressIPs } from './service.js';
import { StartupHold } from './startup-hold.js';
import { keyOf, type EndpointSlice, type Node, type Service } from './types.js';

/** Announces IPs on the local link (ARP / NDP responders plus gratuitous packets). */
export interface L2Announcer {
  /**
   * Starts answering for `ip` on `interfaces` (empty = every eligible interface) and sends
   * gratuitous packets. Returns false when none of the requested interfaces exists here.
   */
  announce(ip: string, interfaces: string[]): Promise<boolean | void> | boolean | void;
  /** Stops answering for `ip`. */
  withdraw(ip: string): Promise<void> | void;
  /** Releases sockets. */
  close(): Promise<void> | void;
}

/** Keeps BGP sessions and advertises routes. */
export interface BgpAnnouncer {
  /** Desired sessions for this node and, per peer name, the routes to advertise there. */
  update(sessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>): Promise<void> | void;
  /** Session states for metrics. */
  sessionStates?(): Array<{ peer: string; up: boolean; prefixes: number }>;
  /** Closes every session (sending a Cease). */
  close(): Promise<void> | void;
}

/** Live speakers (memberlist). */
export interface Membership {
  /** Names of alive and suspect members (this node included). */
  members(): string[];
  /** Registers a callback for joins, leaves and failures. */
  onChange(cb: () => void): void;
  /** Announces a graceful leave. */
  leave(): Promise<void>;
  /** Optional: joins more seeds (`host:port`), used for discovery from Node addresses. */
  join?(seeds: string[]): Promise<void>;
  /** Stops the agent. */
  close(): Promise<void>;
}

/** Where the speaker writes ServiceL2Status / ServiceBGPStatus. */
export interface SpeakerStatusSink {
  /** Creates/updates (interfaces given) or deletes (null) this node's ServiceL2Status for the service. */
  setL2Status(svc: Service, node: string, interfaces: string[] | null): Promise<void> | void;
  /** Creates/updates (peers given) or deletes (null) this node's ServiceBGPStatus for the service. */
  setBgpStatus(svc: Service, node: string, peers: string[] | null): Promise<void> | void;
}

/** What the speaker sees of the cluster. */
export interface SpeakerState {
  config: Config | null;
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

/** Speaker options. */
export interface SpeakerOptions {
  node: string;
  l2?: L2Announcer;
  bgp?: BgpAnnouncer;
  /** Without membership the candidate set is every Node object (memberlist disabled). */
  membership?: Membership;
  events?: EventRecorder;
  status?: SpeakerStatusSink;
  metrics?: MetallbMetrics;
  log?: Logger;
  /** `--ignore-exclude-lb` */
  ignoreExcludeLB?: boolean;
  /**
   * Drain window (ms): after a planned hand-over (this node lost the election, or shutdown()),
   * keep answering for the IP this long so in-flight clients are not black-holed while the new
   * leader's gratuitous packets take over (Deckhouse-style). 0 = withdraw at once (MetalLB).
   */
  drainMs?: number;
  /**
   * Startup hold (ms): with `membership`, new L2 announcements wait until membership lists another
   * member, or at most this long (then a lone node announces). Avoids a restarting node that has
   * not joined yet winning every election alone and stealing VIPs with gratuitous ARP / NA. BGP and
   * withdrawals are never held. Default 0 = off (MetalLB's behaviour); `lbkitd` defaults to 5000.
   */
  l2StartupGraceMs?: number;
}

interface L2Entry {
  ips: string[];
  interfaces: string[];
}

/** The speaker. Call {@link Speaker.sync} whenever its inputs change. */
export class Speaker {
  private state: SpeakerState = { config: null, services: [], endpointSlices: [], nodes: [] };
  private readonly l2Svcs = new Map<string, L2Entry>();
  private readonly ipRefs = new Map<string, Set<string>>();
  private readonly draining = new Map<string, NodeJS.Timeout>();
  private readonly bgpSvcs = new Map<string, { routes: BgpRoute[]; peers: string[] }>();
  private readonly announcedIPs = new Map<string, string[]>();
  /** Last object seen per service key, to delete its status objects after the service is gone. */
  private readonly lastSeen = new Map<string, Service>();
  private readonly log: Logger;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly hold: StartupHold;
  /** Last decision per service, for inspection (`lbkitd` status file, tests). */
  readonly decisions = new Map<string, { l2?: L2Decision; bgp?: string }>();

  /** @param opts node name, announcers and sinks */
  constructor(private readonly opts: SpeakerOptions) {
    this.log = opts.log ?? nullLogger;
    this.hold = new StartupHold({ node: opts.node, graceMs: opts.l2StartupGraceMs ?? 0, log: this.log, onExpire: () => void this.sync() });
    opts.membership?.onChange(() => void this.sync());
  }

  /** Services currently announced in L2 from this node (`namespace/name` → IPs). */
  l2Announced(): Map<string, string[]> {
    return new Map([...this.l2Svcs].map(([k, v]) => [k, v.ips]));
  }

  /** True while the startup hold keeps new L2 announcements back (see {@link SpeakerOptions.l2StartupGraceMs}). */
  l2Held(): boolean {
    return this.hold.active;
  }

  /** IPs this node currently answers for (announced or draining). */
  answeringIPs(): string[] {
    return [...new Set([...this.ipRefs.keys(), ...this.draining.keys()])].sort();
  }

  /** Services advertised over BGP from this node. */
  bgpAnnounced(): Map<string, BgpRoute[]> {
    return new Map([...this.bgpSvcs].map(([k, v]) => [k, v.routes]));
  }

  /** Replaces the inputs and reconciles (serialised; resolves when applied). */
  sync(state?: SpeakerState): Promise<void> {
    if (state) this.state = state;
    this.chain = this.chain.then(() => this.apply()).catch((e) => this.log.log('error', 'speaker sync failed', { err: errMsg(e) }));
    return this.chain;
  }

  /** The configuration the speaker currently applies (may lag behind the latest, see apply()). */
  private applied: Config | null = null;

  /**
   * MetalLB's speaker SetConfig rule: a new config in which a currently announced IP has no pool
   * is not applied yet (the speaker keeps announcing under the old one until the controller has
   * cleared that service); it is retried on every sync.
   */
  private chooseConfig(latest: Config): Config {
    if (!this.applied || latest === this.applied) return latest;
    const current = new Map(this.state.services.map((s) => [keyOf(s), ingressIPs(s).map((i) => canonicalIP(i)).join(',')]));
    for (const [key, ips] of this.announcedIPs) {
      if (!this.l2Svcs.has(key) && !this.bgpSvcs.has(key)) continue;
      if (current.get(key) !== ips.join(',')) continue; // the service changed: it will be withdrawn anyway
      const orphan = ips.find((ip) => !poolForIP(latest, ip));
      if (orphan) {
        this.log.log('warn', 'new config rejected for now: an announced IP has no pool in it, keeping the previous config', { service: key, ip: orphan });
        return this.applied;
      }
    }
    return latest;
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    const latest = this.state.config;
    if (!latest) return;
    for (let i = 0; i < 2; i++) {
      const config = this.chooseConfig(latest);
      this.applied = config;
      await this.applyWith(config);
      if (config === latest) break;
    }
  }

  private async applyWith(config: Config): Promise<void> {
    const nodes = new Map(this.state.nodes.map((n) => [n.metadata?.name ?? '', n]));
    const me = nodes.get(this.opts.node);
    const members = this.opts.membership ? this.opts.membership.members() : null;
    const hold = this.hold.holding(members);
    const seen = new Set<string>();
    for (const svc of this.state.services) {
      const key = keyOf(svc);
      seen.add(key);
      this.lastSeen.set(key, svc);
      try {
        await this.applyService(key, svc, config, nodes, me, members, hold);
      } catch (e) {
        this.log.log('error', 'announce failed', { service: key, err: errMsg(e) });
      }
    }
    for (const key of new Set([...this.l2Svcs.keys(), ...this.bgpSvcs.keys()])) if (!seen.has(key)) await this.withdrawService(key, this.lastSeen.get(key) ?? null, 'serviceDeleted');
    for (const key of [...this.lastSeen.keys()]) if (!seen.has(key)) this.lastSeen.delete(key);
    await this.applyBgp(config, me);
  }

  private async applyService(key: string, svc: Service, config: Config, nodes: Map<string, Node>, me: Node | undefined, members: string[] | null, hold: boolean): Promise<void> {
    const raw = ingressIPs(svc);
    const ips = raw.map((i) => canonicalIP(i));
    let reason: string | undefined;
    if (svc.spec?.type !== 'LoadBalancer') reason = 'notLoadBalancer';
    else if (raw.length === 0) reason = 'noIPAllocated';
    else if (ips.some((i) => i === null)) reason = 'invalidIP';
    else if (ips.some((i) => !poolForIP(config, i!))) reason = 'ipNotAllowed';
    if (reason) {
      this.decisions.set(key, { bgp: reason });
      await this.withdrawService(key, svc, reason);
      return;
    }
    const good = ips as string[];
    const prev = this.announcedIPs.get(key);
    if (prev && prev.join(',') !== good.join(',')) await this.withdrawService(key, svc, 'loadBalancerIPChanged', true);
    this.announcedIPs.set(key, good);
    const slices = slicesFor(svc, this.state.endpointSlices);
    // BGP
    const b = shouldAnnounceBgp({ myNode: this.opts.node, svc, ips: good, config, node: me, slices, ignoreExcludeLB: this.opts.ignoreExcludeLB ?? false });
    if (b.announce && this.opts.bgp) {
      const sessions = peersForNode(config, me);
      const was = this.bgpSvcs.has(key);
      const peers = peerNamesForService(b.routes, sessions);
      const old = this.bgpSvcs.get(key);
      this.bgpSvcs.set(key, { routes: b.routes, peers });
      if (!was) this.assigned(svc, good, 'bgp');
      if (!old || old.peers.join(',') !== peers.join(',')) await this.opts.status?.setBgpStatus(svc, this.opts.node, peers);
    } else if (this.bgpSvcs.has(key)) {
      this.bgpSvcs.delete(key);
      this.unassigned(key, 'bgp');
      await this.opts.status?.setBgpStatus(svc, this.opts.node, null);
    }
    // L2
    const d = shouldAnnounceL2({ myNode: this.opts.node, svc, ips: good, config, nodes, slices, members, ignoreExcludeLB: this.opts.ignoreExcludeLB ?? false });
    // startup hold: a win computed before the first join is not trusted yet (nothing is announced,
    // nothing to withdraw either: the hold only ever applies before this service's first announcement)
    const held = hold && d.announce && !this.l2Svcs.has(key);
    this.decisions.set(key, { l2: held ? { announce: false, reason: 'startupHold', candidates: d.candidates } : d, bgp: b.announce ? 'announce' : b.reason });
    if (held) {
      this.log.log('debug', 'L2 announcement held until memberlist joins', { service: key });
    } else if (d.announce && this.opts.l2) {
      const cur = this.l2Svcs.get(key);
      if (!cur || cur.interfaces.join(',') !== d.interfaces.join(',')) {
        if (cur) await this.l2Release(key, cur, 0);
        this.l2Svcs.set(key, { ips: good, interfaces: d.interfaces });
        for (const ip of good) {
          const refs = this.ipRefs.get(ip) ?? new Set();
          const first = refs.size === 0;
          refs.add(key);
          this.ipRefs.set(ip, refs);
          const t = this.draining.get(ip);
          if (t) {
            clearTimeout(t);
            this.draining.delete(ip);
          }
          // a shared IP is announced once (refcounted), like MetalLB's Announce.SetBalancer
          if (first && (await this.opts.l2.announce(ip, d.interfaces)) === false)
            this.opts.events?.event(svc, 'Warning', 'announceFailed', `the interfaces specified by LB IP ${JSON.stringify(ip)} doesn't exist in assigned node ${JSON.stringify(this.opts.node)} with protocol "layer2"`);
        }
        if (!cur) this.assigned(svc, good, 'layer2');
        await this.opts.status?.setL2Status(svc, this.opts.node, d.interfaces);
      }
    } else if (this.l2Svcs.has(key)) {
      const cur = this.l2Svcs.get(key)!;
      this.l2Svcs.delete(key);
      await this.l2Release(key, cur, this.opts.drainMs ?? 0);
      this.unassigned(key, 'layer2');
      await this.opts.status?.setL2Status(svc, this.opts.node, null);
      this.log.log('info', 'withdrawn', { service: key, protocol: 'layer2', reason: d.announce ? 'l2 disabled' : d.reason });
    }
  }

  private async l2Release(key: string, cur: L2Entry, drainMs: number): Promise<void> {
    for (const ip of cur.ips) {
      const refs = this.ipRefs.get(ip);
      refs?.delete(key);
      if (refs && refs.size > 0) continue;
      this.ipRefs.delete(ip);
      if (drainMs > 0 && !this.stopped) {
        // keep answering during the drain window, then withdraw unless re-announced meanwhile
        const t = setTimeout(() => {
          this.draining.delete(ip);
          if (!this.ipRefs.has(ip)) void Promise.resolve(this.opts.l2?.withdraw(ip)).catch(() => {});
        }, drainMs);
        t.unref?.();
        this.draining.set(ip, t);
      } else await this.opts.l2?.withdraw(ip);
    }
  }

  private async withdrawService(key: string, svc: Service | null, reason: string, keepRecord = false): Promise<void> {
    const cur = this.l2Svcs.get(key);
    if (cur) {
      this.l2Svcs.delete(key);
      await this.l2Release(key, cur, 0);
      this.unassigned(key, 'layer2');
      if (svc) await this.opts.status?.setL2Status(svc, this.opts.node, null);
      this.log.log('info', 'withdrawn', { service: key, protocol: 'layer2', reason });
    }
    if (this.bgpSvcs.has(key)) {
      this.bgpSvcs.delete(key);
      this.unassigned(key, 'bgp');
      if (svc) await this.opts.status?.setBgpStatus(svc, this.opts.node, null);
    }
    if (!keepRecord) this.announcedIPs.delete(key);
  }

  private async applyBgp(config: Config, me: Node | undefined): Promise<void> {
    if (!this.opts.bgp) return;
    const sessions = peersForNode(config, me);
    const all = [...this.bgpSvcs.values()].flatMap((s) => s.routes);
    const byPeer = new Map<string, BgpRoute[]>();
    for (const p of sessions) byPeer.set(p.name, routesForPeer(all, p.name));
    await this.opts.bgp.update(sessions, byPeer);
    const m = this.opts.metrics;
    if (m && this.opts.bgp.sessionStates)
      for (const s of this.opts.bgp.sessionStates()) {
        m.bgpSessionUp.set({ peer: s.peer }, s.up ? 1 : 0);
        m.bgpAnnounced.set({ peer: s.peer }, s.prefixes);
      }
  }

  private assigned(svc: Service, ips: string[], protocol: string): void {
    this.opts.events?.event(svc, 'Normal', 'nodeAssigned', `announcing from node ${JSON.stringify(this.opts.node)} with protocol ${JSON.stringify(protocol)}`);
    this.log.log('info', 'announcing', { service: keyOf(svc), protocol, ips, node: this.opts.node });
    for (const ip of ips) this.opts.metrics?.announced.set({ service: keyOf(svc), protocol, node: this.opts.node, ip }, 1);
  }

  private unassigned(key: string, protocol: string): void {
    this.opts.metrics?.announced.deleteMatching({ service: key, protocol });
  }

  /**
   * Planned shutdown: leave the membership first (peers take over at once), keep answering
   * during the drain window, then withdraw everything and close the announcers.
   */
  async shutdown(): Promise<void> {
    await this.chain;
    this.hold.stop();
    if (this.opts.membership) await this.opts.membership.leave().catch(() => {});
    const drain = this.opts.drainMs ?? 0;
    if (drain > 0 && this.ipRefs.size > 0) await new Promise((r) => setTimeout(r, drain));
    this.stopped = true;
    for (const t of this.draining.values()) clearTimeout(t);
    for (const ip of this.answeringIPs()) await Promise.resolve(this.opts.l2?.withdraw(ip)).catch(() => {});
    this.draining.clear();
    this.ipRefs.clear();
    await Promise.resolve(this.opts.l2?.close()).catch(() => {});
    await Promise.resolve(this.opts.bgp?.close()).catch(() => {});
    await this.opts.membership?.close().catch(() => {});
  }
}
