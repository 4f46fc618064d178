/**
 * Wires an ObjectSource to the controller and/or the speaker: the event-driven core of `lbkitd`.
 *
 * Object events (incremental from a Kubernetes source, diffed snapshots from the YAML file) update
 * a {@link ClusterState}; a Service event queues that one key in the controller's and the
 * speaker's work queues, an EndpointSlice event queues its Service in the speaker's, a relevant
 * Node / membership / configuration change queues every key. Nothing reconciles before the source
 * has synced, so a transient API error never looks like "no pools".
 */
import type { IpAllocator } from './allocator.js';
import { parseConfig, type Config } from './config.js';
import { secretsDigest } from './config/peer.js';
import type { Controller } from './controller.js';
import { ControllerLoop } from './controller/loop.js';
import { errMsg } from './errors.js';
import { ClusterState, SnapshotDiffer } from './informer/cluster-state.js';
import { nullLogger, type Logger } from './log.js';
import type { MetallbMetrics } from './metrics.js';
import { Speaker, type BgpAnnouncer, type L2Announcer, type Membership } from './speaker.js';
import type { ObjectSource } from './source/source.js';
import type { KubeObject, Node, Service, Snapshot } from './types.js';

/** Which components run. */
export type Mode = 'controller' | 'speaker' | 'all';

/** Daemon options. */
export interface DaemonOptions {
  source: ObjectSource;
  node: string;
  mode: Mode;
  /** Required for controller/all modes. */
  allocator?: IpAllocator;
  l2?: L2Announcer;
  bgp?: BgpAnnouncer;
  membership?: Membership;
  metrics?: MetallbMetrics;
  log?: Logger;
  /** `--lb-class` */
  loadBalancerClass?: string;
  /** Namespace of the metallb.io objects (default metallb-system). */
  namespace?: string;
  /** L2 drain window in ms. */
  drainMs?: number;
  /** L2 startup hold in ms (see SpeakerOptions.l2StartupGraceMs; default 0 = off). */
  l2StartupGraceMs?: number;
  /** `--ignore-exclude-lb`: nodes labelled exclude-from-external-load-balancers stay candidates. */
  ignoreExcludeLB?: boolean;
  /** Debounce of configuration changes in ms (default 20). */
  debounceMs?: number;
  /** Concurrent Service status writes (default 16). */
  writeConcurrency?: number;
  /** Backoff of failed status writes: first delay (default 100 ms). */
  retryBaseMs?: number;
}

/** Readiness of the daemon. */
export interface DaemonHealth {
  /** Ready: the source synced, a configuration is loaded (controller) and no sticky error. */
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
  /** Work waiting: controller keys, status writes, speaker keys. */
  depth: { controller: number; writes: number; speaker: number };
}

/** The daemon. */
export class Daemon {
  /** The controller core (controller/all modes). */
  readonly controller: Controller | undefined;
  /** The controller's work-queue loop (controller/all modes). */
  readonly loop: ControllerLoop | undefined;
  /** The speaker (speaker/all modes). */
  readonly speaker: Speaker | undefined;
  /** The incremental cluster view. */
  readonly state = new ClusterState();
  private config: Config | null = null;
  private configText = '';
  private readonly log: Logger;
  private readonly differ = new SnapshotDiffer();
  private configTimer: NodeJS.Timeout | undefined;
  private poolTimer: NodeJS.Timeout | undefined;
  private synced = false;
  private stopped = false;
  private sourceError: string | undefined;
  private readonly poolStatus = new Map<string, string>();
  private poolWriting: Promise<void> = Promise.resolve();
  private readonly changeListeners: Array<() => void> = [];
  /** Last configuration error, if the latest config was rejected. */
  lastConfigError: string | undefined;

  /** @param opts see {@link DaemonOptions} */
  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log ?? nullLogger;
    if (opts.mode !== 'speaker') {
      if (!opts.allocator) throw new Error('Daemon: an allocator is required in controller mode');
      this.loop = new ControllerLoop({
        allocator: opts.allocator,
        statusWriter: opts.source.statusWriter,
        events: opts.source.events,
        getService: (k) => this.state.services.get(k),
        serviceKeys: () => this.state.services.keys(),
        loadBalancerClass: opts.loadBalancerClass,
        metrics: opts.metrics,
        log: opts.log,
        writeConcurrency: opts.writeConcurrency,
        retryBaseMs: opts.retryBaseMs,
      });
      this.controller = this.loop.controller;
      this.loop.onProcessed = () => this.schedulePools();
    }
    if (opts.mode !== 'controller') {
      this.speaker = new Speaker({
        node: opts.node,
        l2: opts.l2,
        bgp: opts.bgp,
        membership: opts.membership,
        events: opts.source.events,
        status: opts.source.speakerStatus,
        metrics: opts.metrics,
        log: opts.log?.child({ component: 'speaker' }),
        drainMs: opts.drainMs ?? 0,
        l2StartupGraceMs: opts.l2StartupGraceMs ?? 0,
        ignoreExcludeLB: opts.ignoreExcludeLB ?? false,
      });
      this.speaker.setSliceProvider((k) => this.state.slicesOf(k));
      this.speaker.setNodes(this.state.nodes);
      this.speaker.onIdle = () => this.changed();
      opts.membership?.onChange(() => this.changed());
    }
  }

  /** Registers a callback for "something observable changed" (state file); debounce on your side. */
  onChange(cb: () => void): void {
    this.changeListeners.push(cb);
  }

  private changed(): void {
    for (const cb of this.changeListeners) {
      try {
        cb();
      } catch {
        /* observers never break the daemon */
      }
    }
  }

  /**
   * Starts the source, loads the configuration and resolves after the first full convergence.
   * Rejects when {@link stop} is called before the source synced.
   */
  async start(): Promise<void> {
    const src = this.opts.source;
    if (src.onObject) src.onObject((field, type, obj, old) => this.onObject(field, type, obj, old));
    else src.onChange((snap) => this.differ.diff(snap, (f, t, o, old) => this.onObject(f, t, o, old)));
    src.onError((e) => {
      this.sourceError = errMsg(e);
      this.log.log('error', 'source error, keeping the last good state', { err: errMsg(e) });
      this.opts.metrics?.configStale.set({}, 1);
    });
    await src.start();
    if (this.stopped) return;
    if (!src.onObject) this.differ.diff(src.snapshot(), (f, t, o, old) => this.onObject(f, t, o, old));
    this.synced = true;
    this.loadConfig();
    this.loop?.start();
    if (this.speaker) {
      this.speaker.setConfig(this.config);
      for (const [k, s] of this.state.services) this.speaker.setService(k, s);
    }
    await this.settled();
    this.updatePoolMetrics();
    this.changed();
  }

  /** Resolves when the controller (status writes included) and the speaker have nothing left to do. */
  async settled(): Promise<void> {
    for (let i = 0; i < 100 && !this.stopped; i++) {
      if (this.loop) await this.loop.idle();
      if (this.speaker) await this.speaker.drained();
      const d = this.loop?.depth();
      if (!d || (d.queued === 0 && d.writes === 0)) {
        if (!this.speaker || this.speaker.depth() === 0) return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private onObject(field: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined): void {
    if (this.stopped) return;
    const t = this.state.apply(field, type, obj, old);
    if (!this.synced) return;
    switch (t.kind) {
      case 'service': {
        const svc = this.state.services.get(t.key);
        this.loop?.serviceChanged(t.key, svc, old as Service | undefined);
        this.speaker?.setService(t.key, svc);
        this.changed();
        break;
      }
      case 'slice':
        for (const k of t.services) this.speaker?.slicesChanged(k);
        break;
      case 'node':
        if (t.relevant) {
          this.scheduleConfig();
          this.speaker?.setNodes(this.state.nodes);
        }
        break;
      case 'config':
        this.scheduleConfig();
        break;
    }
  }

  private scheduleConfig(): void {
    if (this.configTimer || this.stopped) return;
    this.configTimer = setTimeout(() => {
      this.configTimer = undefined;
      if (this.loadConfig()) {
        if (this.config) this.loop?.setConfig(this.config);
        this.speaker?.setConfig(this.config);
      }
      this.changed();
    }, this.opts.debounceMs ?? 20);
  }

  /** Parses the configuration kinds; returns true when a new valid config was loaded. */
  private loadConfig(): boolean {
    const snap = this.state.configSnapshot();
    // only what parseConfig reads: status writes (pool counters), resourceVersions and managed
    // fields never cause a reload (a reload converges every Service again)
    const sig = (l: KubeObject[]) => l.map((o) => [o.metadata?.namespace, o.metadata?.name, o.metadata?.labels, o.spec]);
    const text = JSON.stringify([sig(snap.pools), sig(snap.l2Advertisements), sig(snap.bgpAdvertisements), sig(snap.bgpPeers), sig(snap.communities), sig(snap.bfdProfiles), sig(snap.namespaces), snap.nodes.map((n) => [n.metadata?.name, n.metadata?.labels]), secretsDigest(snap.secrets ?? [])]);
    if (text === this.configText) return false;
    this.configText = text;
    try {
      // a controller alone reads pools only (MetalLB's PoolReconciler): a bad BGPPeer never stops allocation
      const cfg = parseConfig(snap, { namespace: this.opts.namespace ?? 'metallb-system', scope: this.opts.mode === 'controller' ? 'pools' : 'all' });
      this.config = cfg;
      this.lastConfigError = undefined;
      this.sourceError = undefined;
      this.opts.metrics?.configLoaded.set({}, 1);
      this.opts.metrics?.configStale.set({}, 0);
      this.log.log('info', 'config loaded', { pools: [...cfg.pools.keys()], l2Advertisements: cfg.l2Advertisements.length, bgpAdvertisements: cfg.bgpAdvertisements.length, peers: cfg.peers.length });
      if (this.loop && !this.loop.controller.currentConfig) this.loop.controller.setConfig(cfg);
      this.reportConfigState(undefined);
      return true;
    } catch (e) {
      this.lastConfigError = errMsg(e);
      this.opts.metrics?.configStale.set({}, 1);
      this.log.log('error', 'invalid configuration, keeping the previous one', { err: errMsg(e) });
      this.reportConfigState(this.lastConfigError);
      return false;
    }
  }

  /** MetalLB's ConfigurationState: whether the configuration this process loaded is valid. */
  private reportConfigState(error: string | undefined): void {
    const components: Array<'controller' | 'speaker'> = this.opts.mode === 'all' ? ['controller', 'speaker'] : [this.opts.mode];
    this.opts.source.reportConfigState?.({ components, node: this.opts.node, error });
  }

  private schedulePools(): void {
    if (this.poolTimer || this.stopped) return;
    this.poolTimer = setTimeout(() => {
      this.poolTimer = undefined;
      this.updatePoolMetrics();
      this.poolWriting = this.poolWriting.then(() => this.updatePoolStatus());
      this.changed();
    }, 500);
    this.poolTimer.unref?.();
  }

  private async updatePoolStatus(): Promise<void> {
    const src = this.opts.source;
    if (!src.updatePoolStatus || !this.opts.allocator || this.stopped) return;
    let failed = false;
    for (const s of this.opts.allocator.stats()) {
      const st = { assignedIPv4: s.ipv4InUse, assignedIPv6: s.ipv6InUse, availableIPv4: Math.max(0, s.ipv4Total - s.ipv4InUse), availableIPv6: Math.max(0, s.ipv6Total - s.ipv6InUse) };
      const k = JSON.stringify(st);
      if (this.poolStatus.get(s.pool) === k) continue;
      try {
        await src.updatePoolStatus(s.pool, st);
        this.poolStatus.set(s.pool, k);
      } catch (e) {
        failed = true;
        this.log.log('warn', 'pool status write failed, retrying', { pool: s.pool, err: errMsg(e).split('\n')[0] });
      }
    }
    if (failed && !this.stopped) {
      const t = setTimeout(() => this.schedulePools(), 2000);
      t.unref?.();
    }
  }

  private updatePoolMetrics(): void {
    const m = this.opts.metrics;
    if (!m || !this.opts.allocator) return;
    for (const s of this.opts.allocator.stats()) {
      const l = { pool: s.pool };
      m.addressesTotal.set(l, s.total);
      m.addressesInUse.set(l, s.inUse);
      m.ipv4Total.set(l, s.ipv4Total);
      m.ipv6Total.set(l, s.ipv6Total);
      m.ipv4InUse.set(l, s.ipv4InUse);
      m.ipv6InUse.set(l, s.ipv6InUse);
      m.servicesAllocated.set(l, s.services);
    }
  }

  /** Readiness: synced, configured (controller), no sticky source or write error. */
  health(): DaemonHealth {
    const reasons: string[] = [];
    const sh = this.opts.source.health?.();
    if (!this.synced || (sh && !sh.synced)) reasons.push('source not synced');
    for (const e of sh?.errors ?? []) reasons.push(`source: ${e}`);
    if (this.sourceError && !sh) reasons.push(`source: ${this.sourceError}`);
    if (this.loop && this.synced && !this.config) reasons.push(this.lastConfigError ? `no valid configuration: ${this.lastConfigError}` : 'no configuration');
    if (this.loop?.lastWriteError) reasons.push(`status write failing: ${this.loop.lastWriteError}`);
    const d = this.loop?.depth();
    return { ready: reasons.length === 0, reasons, depth: { controller: d?.queued ?? 0, writes: d?.writes ?? 0, speaker: this.speaker?.depth() ?? 0 } };
  }

  /** The currently loaded configuration. */
  get currentConfig(): Config | null {
    return this.config;
  }

  /** Node objects as currently known. */
  nodes(): Node[] {
    return [...this.state.nodes.values()];
  }

  /** Services as currently known (sorted by key). */
  services(): Service[] {
    return [...this.state.services.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, s]) => s);
  }

  /** Planned shutdown: the queues stop, the speaker leaves and drains, then the source stops. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.configTimer);
    clearTimeout(this.poolTimer);
    await this.loop?.stop();
    await this.speaker?.shutdown();
    await this.opts.source.stop();
  }
}
