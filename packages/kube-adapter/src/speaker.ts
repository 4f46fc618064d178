/**
 * The speaker (`speaker/main.go`): decides per service and protocol whether this node announces,
 * drives the L2 and BGP announcers, writes ServiceL2Status/ServiceBGPStatus and emits events.
 */
import { poolForIP, type Config, type PeerConfig } from './config.js';
import { L2ElectionMemo, shouldAnnounceL2, type L2Decision, type L2DecisionInput } from './election.js';
import { peerNamesForService, peersForNode, routesForPeer, shouldAnnounceBgp, type BgpRoute } from './bgp-decision.js';
import { LABEL_SERVICE_NAME, slicesFor } from './endpoints.js';
import type { EventRecorder } from './events.js';
import { errMsg } from './errors.js';
import { canonicalIP } from './ip.js';
import { nullLogger, type Logger } from './log.js';
import { recordBgpSessions, type BgpSessionMetrics, type MetallbMetrics } from './metrics.js';
import { ingressIPs } from './service.js';
import { StartupHold } from './startup-hold.js';
import { WorkQueue } from './queue/workqueue.js';
import { keyOf, type EndpointSlice, type Node, type Service } from './types.js';

/** Announces IPs on the local link (ARP / NDP responders plus gratuitous packets). */
export interface L2Announcer {
  /**
   * Starts answering for `ip` on `interfaces` (empty = every eligible interface) and sends
   * gratuitous packets. Returns false when none of the requested interfaces exists here.
   */
  announce(ip: string, interfaces: string[]): Promise<boolean | void> | boolean | void;
  /**
   * Optional batch form of {@link announce}: every VIP of `ips` on `interfaces` at once (one table
   * update, one burst of gratuitous packets). Returns the VIPs announced on at least one interface.
   * The speaker uses it for everything it decides in one batch (a start, a fail-over, a re-announce).
   */
  announceMany?(ips: string[], interfaces: string[]): Promise<string[]> | string[];
  /**
   * Stops answering for `ip`. `drain: false`: the address is no longer in use (service deleted, no
   * longer a LoadBalancer, IP changed or out of every pool): stop at once. Otherwise ownership moves
   * to another node and the announcer may keep a drain window (answering unicast requests only).
   */
  withdraw(ip: string, opts?: { drain?: boolean }): Promise<void> | void;
  /** Releases sockets. */
  close(): Promise<void> | void;
}

/** Keeps BGP sessions and advertises routes. */
export interface BgpAnnouncer {
  /** Desired sessions for this node and, per peer name, the routes to advertise there. */
  update(sessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>, bfdProfiles?: ReadonlyMap<string, Record<string, unknown>>): Promise<void> | void;
  /** Session states for metrics. */
  sessionStates?(): BgpSessionMetrics[];
  /** Closes every session (sending a Cease). */
  close(): Promise<void> | void;
}

/** Live speakers (memberlist). */
export interface Membership {
  /** Names of alive and suspect members (this node included). */
  members(): string[];
  /** Registers a callback for joins, leaves and failures (`change`: who joined and who left, when known). */
  onChange(cb: (change?: { joined: string[]; left: string[]; rejoined?: boolean }) => void): void;
  /** Announces a graceful leave. */
  leave(): Promise<void>;
  /** Optional: joins more seeds (`host:port`), used for discovery from Node addresses. */
  join?(seeds: string[]): Promise<void>;
  /** Optional: joins the configured seeds of an agent started with its join deferred (once). */
  beginJoin?(): Promise<void>;
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
   * Shutdown drain (ms, `lbkitd --drain-ms`): on {@link Speaker.shutdown} the node leaves the
   * membership (the others take over and send their gratuitous packets), withdraws its L2 VIPs in
   * drain mode (the L2 announcer answers only unicast requests from clients with a stale cache) and
   * waits this long before closing the announcers. 0 = close at once. A lost election never waits
   * here: the VIP is withdrawn at once in drain mode and the L2 announcer's own drain window applies
   * (`--l2-drain-ms`); a VIP no longer in use is withdrawn with `drain: false`.
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

/**
 * The speaker, as a per-key work queue: service keys are queued (deduplicated) when the service or
 * its EndpointSlices change, every key when the config, the nodes or the membership change; one
 * worker decides and announces each key at once (the announcers are never kept waiting by API
 * writes: ServiceL2Status / ServiceBGPStatus go to the status sink without being awaited), and the
 * BGP routes are pushed once per drained batch (at most every 100 ms while a long batch runs).
 *
 * Inputs are given incrementally ({@link setConfig}, {@link setNodes}, {@link setService},
 * {@link slicesChanged}) or all at once with {@link sync}.
 */
export class Speaker {
  private latest: Config | null = null;
  private readonly services = new Map<string, Service>();
  private nodes = new Map<string, Node>();
  private slicesIndex: Map<string, EndpointSlice[]> | undefined;
  private slicesProvider: ((key: string) => EndpointSlice[]) | undefined;
  private members: string[] | null = null;
  /** What the L2 elections of the current config, Nodes and members share; dropped when one changes. */
  private l2Memo: L2ElectionMemo | undefined;
  private readonly queue = new WorkQueue<string>();
  private readonly l2Svcs = new Map<string, L2Entry>();
  private readonly ipRefs = new Map<string, Set<string>>();
  /** L2 announcements decided in the current batch, per interface list: handed over as one `announceMany` each. */
  private readonly pendingL2 = new Map<string, { interfaces: string[]; ips: Set<string> }>();
  /** Services behind a pending IP (for the announceFailed event). */
  private readonly pendingL2Svcs = new Map<string, Service[]>();
  private lastL2Flush = 0;
  /** IPs a service released here in drain mode (ownership moved): ended at once if the service stops using them. */
  private readonly drainedBy = new Map<string, Set<string>>();
  private readonly bgpSvcs = new Map<string, { routes: BgpRoute[]; peers: string[] }>();
  private readonly announcedIPs = new Map<string, string[]>();
  /** Last object seen per service key, to delete its status objects after the service is gone. */
  private readonly lastSeen = new Map<string, Service>();
  private readonly log: Logger;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private drainedWaiters: Array<() => void> = [];
  private bgpDirty = false;
  private loopIdle = false;
  /** Wakes the idle loop without a key (a config change that only the BGP sessions see). */
  private idleWake: (() => void) | undefined;
  private lastBgpFlush = 0;
  private readonly hold: StartupHold;
  /** Last decision per service, for inspection (`lbkitd` status file, tests). */
  readonly decisions = new Map<string, { l2?: L2Decision; bgp?: string }>();
  /** Keys processed since start (benches). */
  processed = 0;
  /** Called after a drained batch (state file, metrics); debounce on your side. */
  onIdle: (() => void) | undefined;

  /** @param opts node name, announcers and sinks */
  constructor(private readonly opts: SpeakerOptions) {
    this.log = opts.log ?? nullLogger;
    this.hold = new StartupHold({ node: opts.node, graceMs: opts.l2StartupGraceMs ?? 0, log: this.log, onExpire: () => this.enqueueAll() });
    opts.membership?.onChange((change) => {
      // members only left: only the services whose winner left can change hands (a fail-over of
      // N VIPs re-runs N elections, not all of them); anything else re-runs every election
      if (change && change.left.length > 0 && change.joined.length === 0 && !change.rejoined && !this.hold.active) this.enqueueWonBy(change.left);
      else this.enqueueAll();
      // a member (re)joined, or others had declared us dead (a healed partition): once the elections
      // are re-run, re-send the gratuitous packets of the VIPs still owned here, so clients that
      // followed the other side return
      if (change?.joined.length || change?.rejoined) void this.drained().then(() => this.reannounceL2());
    });
  }

  private reannounceL2(): void {
    const groups = new Map<string, { interfaces: string[]; ips: Set<string> }>();
    const done = new Set<string>();
    for (const e of this.stopped ? [] : this.l2Svcs.values()) {
      const k = e.interfaces.join(',');
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { interfaces: e.interfaces, ips: new Set() }));
      for (const ip of e.ips) if (!done.has(ip) && done.add(ip)) g.ips.add(ip);
    }
    for (const g of groups.values()) void this.announceGroup([...g.ips], g.interfaces).catch(() => {});
  }

  /** Announces `ips` on `interfaces`: one `announceMany` when the announcer has it. Returns the IPs that could not be announced. */
  private async announceGroup(ips: string[], interfaces: string[]): Promise<string[]> {
    const l2 = this.opts.l2;
    if (!l2 || ips.length === 0) return [];
    if (l2.announceMany) {
      const ok = new Set(await l2.announceMany(ips, interfaces));
      return ips.filter((ip) => !ok.has(ip));
    }
    const failed: string[] = [];
    for (const ip of ips) if ((await l2.announce(ip, interfaces)) === false) failed.push(ip);
    return failed;
  }

  /** Hands the L2 announcements of the batch so far to the announcer: one call (one burst) per interface list. */
  private async flushL2(): Promise<void> {
    this.lastL2Flush = Date.now();
    const groups = [...this.pendingL2.values()];
    const svcs = new Map(this.pendingL2Svcs);
    this.pendingL2.clear();
    this.pendingL2Svcs.clear();
    for (const g of groups) {
      let failed: string[];
      try {
        failed = await this.announceGroup([...g.ips], g.interfaces);
      } catch (e) {
        this.log.log('error', 'L2 announce failed', { vips: g.ips.size, interfaces: g.interfaces, err: errMsg(e) });
        continue;
      }
      for (const ip of failed)
        for (const svc of svcs.get(ip) ?? [])
          this.opts.events?.event(svc, 'Warning', 'announceFailed', `the interfaces specified by LB IP ${JSON.stringify(ip)} doesn't exist in assigned node ${JSON.stringify(this.opts.node)} with protocol "layer2"`);
    }
  }

  private queueL2(ip: string, interfaces: string[], svc: Service): void {
    const k = interfaces.join(',');
    let g = this.pendingL2.get(k);
    if (!g) this.pendingL2.set(k, (g = { interfaces, ips: new Set() }));
    g.ips.add(ip);
    const l = this.pendingL2Svcs.get(ip);
    if (l) l.push(svc);
    else this.pendingL2Svcs.set(ip, [svc]);
  }

  /** Drops `ip` from the pending announcements (it is released before the batch was handed over). */
  private unqueueL2(ip: string): void {
    for (const g of this.pendingL2.values()) g.ips.delete(ip);
    this.pendingL2Svcs.delete(ip);
  }

  /** Services currently announced in L2 from this node (`namespace/name` → IPs). */
  l2Announced(): Map<string, string[]> {
    return new Map([...this.l2Svcs].map(([k, v]) => [k, v.ips]));
  }

  /** True while the startup hold keeps new L2 announcements back (see {@link SpeakerOptions.l2StartupGraceMs}). */
  l2Held(): boolean {
    return this.hold.active;
  }

  /** IPs this node currently announces (a drain window after a hand-over is the L2 announcer's). */
  answeringIPs(): string[] {
    return [...this.ipRefs.keys()].sort();
  }

  /** Services advertised over BGP from this node. */
  bgpAnnounced(): Map<string, BgpRoute[]> {
    return new Map([...this.bgpSvcs].map(([k, v]) => [k, v.routes]));
  }

  /** Keys waiting or in flight. */
  depth(): number {
    return this.queue.length + this.queue.inFlight;
  }

  /**
   * Replaces every input at once (or, without `state`, re-evaluates every service) and resolves
   * when the resulting batch has been applied, BGP routes included.
   */
  sync(state?: SpeakerState): Promise<void> {
    if (state) {
      const keys = new Set<string>();
      for (const s of state.services) {
        const k = keyOf(s);
        keys.add(k);
        this.services.set(k, s);
      }
      for (const k of [...this.services.keys()]) if (!keys.has(k)) this.services.delete(k);
      const idx = new Map<string, EndpointSlice[]>();
      for (const sl of state.endpointSlices) {
        const name = sl?.metadata?.labels?.[LABEL_SERVICE_NAME];
        if (typeof name !== 'string') continue;
        const k = `${sl.metadata?.namespace ?? ''}/${name}`;
        const l = idx.get(k);
        if (l) l.push(sl);
        else idx.set(k, [sl]);
      }
      this.slicesIndex = idx;
      this.nodes = new Map(state.nodes.map((n) => [n.metadata?.name ?? '', n]));
      if (state.config) this.latest = state.config;
      // keys of services that disappeared are processed as deletions
      for (const k of this.lastSeen.keys()) if (!keys.has(k)) this.queue.add(k);
    }
    this.reconsiderConfig(true);
    return this.drained();
  }

  /** Sets the latest configuration (applied when MetalLB's SetConfig rule allows it). */
  setConfig(cfg: Config | null): void {
    if (!cfg) return;
    this.latest = cfg;
    this.reconsiderConfig(false);
  }

  /** Replaces the Node objects (every key is re-evaluated). */
  setNodes(nodes: Map<string, Node>): void {
    this.nodes = nodes;
    this.enqueueAll();
  }

  /** Uses `provider` for a service's EndpointSlices (an index kept by the caller). */
  setSliceProvider(provider: (key: string) => EndpointSlice[]): void {
    this.slicesProvider = provider;
    this.slicesIndex = undefined;
  }

  /** A service was added, changed (`svc`) or deleted (undefined). */
  setService(key: string, svc: Service | undefined): void {
    if (svc) this.services.set(key, svc);
    else this.services.delete(key);
    this.add(key);
  }

  /** The EndpointSlices of a service changed. */
  slicesChanged(key: string): void {
    if (this.services.has(key)) this.add(key);
  }

  /**
   * Members left: queues the services whose last L2 election was won by one of them (or that were
   * never decided). Removing a candidate that did not win cannot change the winner.
   */
  private enqueueWonBy(left: string[]): void {
    if (this.stopped) return;
    this.members = null;
    this.l2Memo = undefined;
    const gone = new Set(left);
    for (const k of this.services.keys()) {
      const d = this.decisions.get(k);
      if (!d || (d.l2 && d.l2.candidates.length > 0 && gone.has(d.l2.candidates[0]!))) this.add(k);
    }
    for (const k of this.lastSeen.keys()) if (!this.services.has(k)) this.add(k);
    this.kick();
  }

  /** Queues every known service (config, nodes or membership changed). */
  enqueueAll(): void {
    if (this.stopped) return;
    this.members = null;
    this.l2Memo = undefined; // the Nodes map may have changed in place
    for (const k of this.services.keys()) this.add(k);
    for (const k of this.lastSeen.keys()) if (!this.services.has(k)) this.add(k);
    this.kick();
  }

  /** Resolves when the queue is drained and the BGP routes pushed. */
  drained(): Promise<void> {
    this.kick();
    if (this.stopped) return Promise.resolve();
    if (this.loopIdle && this.queue.length === 0 && this.queue.inFlight === 0 && !this.bgpDirty) return Promise.resolve();
    return new Promise((r) => this.drainedWaiters.push(r));
  }

  private add(key: string): void {
    if (this.stopped) return;
    this.queue.add(key);
    this.kick();
  }

  private kick(): void {
    if (!this.loop && !this.stopped) this.loop = this.run().catch((e) => this.log.log('error', 'speaker loop failed', { err: errMsg(e) }));
  }

  private slicesOf(key: string, svc: Service): EndpointSlice[] {
    if (this.slicesProvider) return this.slicesProvider(key);
    if (this.slicesIndex) return this.slicesIndex.get(key) ?? [];
    return slicesFor(svc, []);
  }

  private currentMembers(): string[] | null {
    if (!this.opts.membership) return null;
    this.members ??= this.opts.membership.members();
    return this.members;
  }

  /** The configuration the speaker currently applies (may lag behind the latest, see chooseConfig()). */
  private applied: Config | null = null;

  /** Applies `latest` when allowed; re-queues every key when the applied config changes (or `always`). */
  private reconsiderConfig(always: boolean): void {
    if (!this.latest) return;
    const c = this.chooseConfig(this.latest);
    if (c !== this.applied || always) {
      this.applied = c;
      // the BGP sessions follow the config even when no route changes (a new peer, a password from a changed Secret)
      this.bgpDirty = true;
      this.enqueueAll();
      this.idleWake?.(); // no service to re-queue: wake the idle loop for the BGP push
    }
  }

  /**
   * MetalLB's speaker SetConfig rule: a new config in which a currently announced IP has no pool
   * is not applied yet (the speaker keeps announcing under the old one until the controller has
   * cleared that service); it is retried after every batch.
   */
  private chooseConfig(latest: Config): Config {
    if (!this.applied || latest === this.applied) return latest;
    for (const [key, ips] of this.announcedIPs) {
      if (!this.l2Svcs.has(key) && !this.bgpSvcs.has(key)) continue;
      const s = this.services.get(key);
      if (!s || ingressIPs(s).map((i) => canonicalIP(i)).join(',') !== ips.join(',')) continue; // the service changed: it will be withdrawn anyway
      const orphan = ips.find((ip) => !poolForIP(latest, ip));
      if (orphan) {
        this.log.log('warn', 'new config rejected for now: an announced IP has no pool in it, keeping the previous config', { service: key, ip: orphan });
        return this.applied;
      }
    }
    return latest;
  }

  private async run(): Promise<void> {
    let t0 = Date.now();
    while (!this.stopped) {
      const key = this.queue.get();
      if (key === undefined) {
        // drained: a held-back config may apply now; then push BGP once and wake the waiters
        if (this.latest && this.applied !== this.latest) {
          const before = this.applied;
          this.reconsiderConfig(false);
          if (this.applied !== before) continue;
        }
        if (this.pendingL2.size > 0) await this.flushL2();
        if (this.bgpDirty) await this.flushBgp();
        if (this.queue.length > 0) continue;
        this.flushStatus();
        const w = this.drainedWaiters;
        this.drainedWaiters = [];
        for (const r of w) r();
        try {
          this.onIdle?.();
        } catch {
          /* observers never break the loop */
        }
        this.loopIdle = true;
        await new Promise<void>((r) => {
          this.idleWake = r;
          void this.queue.waitForWork().then(r);
        });
        this.idleWake = undefined;
        this.loopIdle = false;
        t0 = Date.now();
        this.lastStatusFlush = t0;
        continue;
      }
      try {
        await this.processKey(key);
      } catch (e) {
        this.log.log('error', 'announce failed', { service: key, err: errMsg(e) });
      } finally {
        this.queue.done(key);
      }
      // during a long batch: L2 bursts every 100 ms; BGP at most every max(100 ms, 10× the last push's cost); status every 2 s
      if (this.pendingL2.size > 0 && Date.now() - this.lastL2Flush > 100) await this.flushL2();
      if (this.bgpDirty && Date.now() - this.lastBgpFlush > Math.max(100, 10 * this.bgpCost)) await this.flushBgp();
      if (this.pendingStatus.size > 0 && Date.now() - this.lastStatusFlush > 2000) this.flushStatus();
      if (Date.now() - t0 > 8) {
        await new Promise((r) => setImmediate(r));
        t0 = Date.now();
      }
    }
    const w = this.drainedWaiters;
    this.drainedWaiters = [];
    for (const r of w) r();
  }

  private async processKey(key: string): Promise<void> {
    this.processed++;
    const config = this.applied;
    const svc = this.services.get(key);
    if (!svc) {
      await this.withdrawService(key, this.lastSeen.get(key) ?? null, 'serviceDeleted');
      this.lastSeen.delete(key);
      this.decisions.delete(key);
      return;
    }
    this.lastSeen.set(key, svc);
    if (!config) return;
    const me = this.nodes.get(this.opts.node);
    const members = this.currentMembers();
    const hold = this.hold.holding(members, this.nodes.keys());
    await this.applyService(key, svc, config, this.nodes, me, members, hold);
  }

  /** Status writes of the current batch, coalesced per (kind, service): handed to the sink after the batch. */
  private readonly pendingStatus = new Map<string, { kind: 'l2' | 'bgp'; svc: Service; node: string; v: string[] | null }>();
  private lastStatusFlush = Date.now();

  /** Announce first, write status behind: recorded now, handed to the sink once the batch is done. */
  private status(kind: 'l2' | 'bgp', svc: Service, node: string, v: string[] | null): void {
    if (!this.opts.status) return;
    this.pendingStatus.set(`${kind}/${keyOf(svc)}/${node}`, { kind, svc, node, v });
  }

  private flushStatus(): void {
    this.lastStatusFlush = Date.now();
    const all = [...this.pendingStatus.values()];
    this.pendingStatus.clear();
    for (const p of all) this.writeStatus(p.kind, p.svc, p.node, p.v);
  }

  private writeStatus(kind: 'l2' | 'bgp', svc: Service, node: string, v: string[] | null): void {
    const sink = this.opts.status;
    if (!sink) return;
    try {
      const r = kind === 'l2' ? sink.setL2Status(svc, node, v) : sink.setBgpStatus(svc, node, v);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e: unknown) => this.log.log('warn', 'speaker status write failed', { service: keyOf(svc), err: errMsg(e) }));
    } catch (e) {
      this.log.log('warn', 'speaker status write failed', { service: keyOf(svc), err: errMsg(e) });
    }
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
    const slices = this.slicesOf(key, svc);
    // BGP
    const b = shouldAnnounceBgp({ myNode: this.opts.node, svc, ips: good, config, node: me, slices, ignoreExcludeLB: this.opts.ignoreExcludeLB ?? false });
    if (b.announce && this.opts.bgp) {
      const sessions = peersForNode(config, me);
      const was = this.bgpSvcs.has(key);
      const peers = peerNamesForService(b.routes, sessions);
      const old = this.bgpSvcs.get(key);
      this.bgpSvcs.set(key, { routes: b.routes, peers });
      if (!old || JSON.stringify(old.routes) !== JSON.stringify(b.routes)) this.bgpDirty = true;
      if (!was) this.assigned(svc, good, 'bgp');
      if (!old || old.peers.join(',') !== peers.join(',')) this.status('bgp', svc, this.opts.node, peers);
    } else if (this.bgpSvcs.has(key)) {
      this.bgpSvcs.delete(key);
      this.bgpDirty = true;
      this.unassigned(key, 'bgp');
      this.status('bgp', svc, this.opts.node, null);
    }
    // L2. Startup hold: an election run before the first join is not trusted yet, so it is not run
    // at all (nothing is announced, nothing to withdraw either: the hold only ever applies before this
    // service's first announcement). Every held service is elected when the hold ends: the membership
    // change or the timer that ends it re-queues them all. Skipping it spares an early speaker a whole
    // pass of elections while the speakers it waits for are still starting on the same CPUs.
    const bgpDecision = b.announce ? 'announce' : b.reason;
    if (hold && !this.l2Svcs.has(key)) {
      this.decisions.set(key, { l2: { announce: false, reason: 'startupHold', candidates: [] }, bgp: bgpDecision });
      return;
    }
    const inp: L2DecisionInput = { myNode: this.opts.node, svc, ips: good, config, nodes, slices, members, ignoreExcludeLB: this.opts.ignoreExcludeLB ?? false };
    if (!this.l2Memo?.fits(inp)) this.l2Memo = new L2ElectionMemo({ config, myNode: inp.myNode, nodes, members, ignoreExcludeLB: inp.ignoreExcludeLB ?? false });
    inp.memo = this.l2Memo;
    const d = shouldAnnounceL2(inp);
    this.decisions.set(key, { l2: d, bgp: bgpDecision });
    if (d.announce && this.opts.l2) {
      const cur = this.l2Svcs.get(key);
      if (!cur || cur.interfaces.join(',') !== d.interfaces.join(',')) {
        if (cur) await this.l2Release(key, cur, false);
        this.drainedBy.delete(key);
        this.l2Svcs.set(key, { ips: good, interfaces: d.interfaces });
        if (this.lastL2Flush === 0 || this.pendingL2.size === 0) this.lastL2Flush = Date.now();
        for (const ip of good) {
          const refs = this.ipRefs.get(ip) ?? new Set();
          const first = refs.size === 0;
          refs.add(key);
          this.ipRefs.set(ip, refs);
          // a shared IP is announced once (refcounted), like MetalLB's Announce.SetBalancer; the
          // announcement is handed over with the rest of the batch (one burst, see flushL2)
          if (first) this.queueL2(ip, d.interfaces, svc);
        }
        if (!cur) this.assigned(svc, good, 'layer2');
        this.status('l2', svc, this.opts.node, d.interfaces);
      }
    } else if (this.l2Svcs.has(key)) {
      const cur = this.l2Svcs.get(key)!;
      this.l2Svcs.delete(key);
      // ownership moves to another node: withdrawn in drain mode (the announcer's drain window)
      await this.l2Release(key, cur, true);
      this.unassigned(key, 'layer2');
      this.status('l2', svc, this.opts.node, null);
      this.log.log('info', 'withdrawn', { service: key, protocol: 'layer2', reason: d.announce ? 'l2 disabled' : d.reason });
    }
  }

  /**
   * Releases the IPs of `key` (refcounted). `drain`: ownership moves to another node (the announcer
   * may answer unicast requests for a while); false: the address is no longer in use here.
   */
  private async l2Release(key: string, cur: L2Entry, drain: boolean): Promise<void> {
    for (const ip of cur.ips) {
      const refs = this.ipRefs.get(ip);
      refs?.delete(key);
      if (refs && refs.size > 0) continue;
      this.ipRefs.delete(ip);
      this.unqueueL2(ip);
      if (drain) {
        const set = this.drainedBy.get(key) ?? new Set<string>();
        set.add(ip);
        this.drainedBy.set(key, set);
      }
      await this.opts.l2?.withdraw(ip, drain ? {} : { drain: false });
    }
  }

  /** The service no longer uses the IPs it left draining here: end those drain windows now. */
  private async endDrains(key: string): Promise<void> {
    const ips = this.drainedBy.get(key);
    if (!ips) return;
    this.drainedBy.delete(key);
    for (const ip of ips) if (!this.ipRefs.has(ip)) await this.opts.l2?.withdraw(ip, { drain: false });
  }

  private async withdrawService(key: string, svc: Service | null, reason: string, keepRecord = false): Promise<void> {
    await this.endDrains(key);
    const cur = this.l2Svcs.get(key);
    if (cur) {
      this.l2Svcs.delete(key);
      // deleted, no longer a LoadBalancer, IP gone or changed: no new owner to hand clients to
      await this.l2Release(key, cur, false);
      this.unassigned(key, 'layer2');
      if (svc) this.status('l2', svc, this.opts.node, null);
      this.log.log('info', 'withdrawn', { service: key, protocol: 'layer2', reason });
    }
    if (this.bgpSvcs.has(key)) {
      this.bgpSvcs.delete(key);
      this.bgpDirty = true;
      this.unassigned(key, 'bgp');
      if (svc) this.status('bgp', svc, this.opts.node, null);
    }
    if (!keepRecord) this.announcedIPs.delete(key);
  }

  private bgpCost = 0;

  private async flushBgp(): Promise<void> {
    const t0 = Date.now();
    try {
      await this.pushBgp();
    } finally {
      this.lastBgpFlush = Date.now();
      this.bgpCost = this.lastBgpFlush - t0;
    }
  }

  private async pushBgp(): Promise<void> {
    this.bgpDirty = false;
    const config = this.applied;
    if (!this.opts.bgp || !config) return;
    const me = this.nodes.get(this.opts.node);
    const sessions = peersForNode(config, me);
    const all = [...this.bgpSvcs.values()].flatMap((s) => s.routes);
    const byPeer = new Map<string, BgpRoute[]>();
    for (const p of sessions) byPeer.set(p.name, routesForPeer(all, p.name));
    try {
      await this.opts.bgp.update(sessions, byPeer, config.bfdProfiles);
    } catch (e) {
      this.log.log('error', 'BGP update failed', { err: errMsg(e) });
    }
    const m = this.opts.metrics;
    if (m && this.opts.bgp.sessionStates) recordBgpSessions(m, this.opts.bgp.sessionStates());
  }

  private assigned(svc: Service, ips: string[], protocol: string): void {
    this.opts.events?.event(svc, 'Normal', 'nodeAssigned', `announcing from node ${JSON.stringify(this.opts.node)} with protocol ${JSON.stringify(protocol)}`);
    this.log.log('info', 'announcing', { service: keyOf(svc), protocol, ips });
    for (const ip of ips) this.opts.metrics?.announced.set({ service: keyOf(svc), protocol, node: this.opts.node, ip }, 1);
  }

  private unassigned(key: string, protocol: string): void {
    this.opts.metrics?.announced.deleteMatching({ service: key, protocol });
  }

  /**
   * Planned shutdown: leave the membership first (peers take over at once and send their gratuitous
   * packets), withdraw the L2 VIPs in drain mode (unicast requests only) and wait
   * {@link SpeakerOptions.drainMs}, then withdraw everything and close the announcers.
   */
  async shutdown(): Promise<void> {
    if (this.loop && this.depth() > 0) await this.drained();
    this.flushStatus();
    this.hold.stop();
    if (this.opts.membership) await this.opts.membership.leave().catch(() => {});
    const drain = this.opts.drainMs ?? 0;
    const l2ips = this.answeringIPs();
    if (drain > 0 && l2ips.length > 0) {
      for (const ip of l2ips) await Promise.resolve(this.opts.l2?.withdraw(ip)).catch(() => {});
      await new Promise((r) => setTimeout(r, drain));
    }
    this.stopped = true;
    this.queue.shutDown();
    this.pendingL2.clear();
    this.pendingL2Svcs.clear();
    for (const ip of l2ips) await Promise.resolve(this.opts.l2?.withdraw(ip, { drain: false })).catch(() => {});
    this.ipRefs.clear();
    await Promise.resolve(this.opts.l2?.close()).catch(() => {});
    await Promise.resolve(this.opts.bgp?.close()).catch(() => {});
    await this.opts.membership?.close().catch(() => {});
  }
}
