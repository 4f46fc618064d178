/**
 * Wires an ObjectSource to the controller and/or the speaker: the reconcile loop of `lbkitd`.
 */
import type { IpAllocator } from './allocator.js';
import { parseConfig, type Config } from './config.js';
import { Controller } from './controller.js';
import { errMsg } from './errors.js';
import { nullLogger, type Logger } from './log.js';
import type { MetallbMetrics } from './metrics.js';
import { Speaker, type BgpAnnouncer, type L2Announcer, type Membership } from './speaker.js';
import type { ObjectSource } from './source/source.js';
import { keyOf, type Node, type Service } from './types.js';

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
  /** Debounce for change events in ms (default 20). */
  debounceMs?: number;
}

/** The reconcile loop. */
export class Daemon {
  /** The controller (controller/all modes). */
  readonly controller: Controller | undefined;
  /** The speaker (speaker/all modes). */
  readonly speaker: Speaker | undefined;
  private config: Config | null = null;
  private configText = '';
  private readonly known = new Set<string>();
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Last configuration error, if the latest config was rejected. */
  lastConfigError: string | undefined;

  /** @param opts see {@link DaemonOptions} */
  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log ?? nullLogger;
    if (opts.mode !== 'speaker') {
      if (!opts.allocator) throw new Error('Daemon: an allocator is required in controller mode');
      this.controller = new Controller({ allocator: opts.allocator, events: opts.source.events, loadBalancerClass: opts.loadBalancerClass });
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
    }
  }

  /** Starts the source and runs the first reconcile. */
  async start(): Promise<void> {
    this.opts.source.onChange(() => this.schedule());
    this.opts.source.onError((e) => {
      this.log.log('error', 'source error, keeping the last good state', { err: errMsg(e) });
      this.opts.metrics?.configStale.set({}, 1);
    });
    await this.opts.source.start();
    await this.reconcile();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reconcile(), this.opts.debounceMs ?? 20);
  }

  /** Runs one reconcile pass (serialised). */
  reconcile(): Promise<void> {
    this.running = this.running.then(() => this.pass()).catch((e) => this.log.log('error', 'reconcile failed', { err: errMsg(e) }));
    return this.running;
  }

  private loadConfig(): boolean {
    const snap = this.opts.source.snapshot();
    const text = JSON.stringify([snap.pools, snap.l2Advertisements, snap.bgpAdvertisements, snap.bgpPeers, snap.communities, snap.bfdProfiles, snap.namespaces, snap.nodes.map((n) => [n.metadata?.name, n.metadata?.labels])]);
    if (text === this.configText) return false;
    try {
      const cfg = parseConfig(snap, { namespace: this.opts.namespace ?? 'metallb-system' });
      this.config = cfg;
      this.configText = text;
      this.lastConfigError = undefined;
      this.opts.metrics?.configLoaded.set({}, 1);
      this.opts.metrics?.configStale.set({}, 0);
      this.log.log('info', 'config loaded', { pools: [...cfg.pools.keys()], l2Advertisements: cfg.l2Advertisements.length, bgpAdvertisements: cfg.bgpAdvertisements.length, peers: cfg.peers.length });
      return true;
    } catch (e) {
      this.configText = text;
      this.lastConfigError = errMsg(e);
      this.opts.metrics?.configStale.set({}, 1);
      this.log.log('error', 'invalid configuration, keeping the previous one', { err: errMsg(e) });
      return false;
    }
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    const changed = this.loadConfig();
    if (this.controller) {
      if (changed && this.config) this.controller.setConfig(this.config);
      for (let round = 0; round < 4; round++) {
        const services = this.opts.source.snapshot().services;
        const keys = new Set(services.map(keyOf));
        let again = false;
        for (const k of [...this.known]) {
          if (keys.has(k)) continue;
          this.known.delete(k);
          if (this.controller.setBalancer(k, null).state === 'ReprocessAll') again = true;
        }
        for (const k of keys) this.known.add(k);
        const results = this.controller.reprocessAll(services);
        for (const r of results) {
          this.opts.metrics?.updates.inc();
          if (r.state === 'ReprocessAll') again = true;
          if (r.update) {
            try {
              await this.opts.source.statusWriter.updateServiceStatus(r.update);
              this.log.log('info', 'service updated', { service: r.key, ingress: (r.update.status?.loadBalancer?.ingress ?? []).map((i) => i.ip), pool: r.update.metadata?.annotations?.['metallb.io/ip-allocated-from-pool'] });
            } catch (e) {
              this.opts.metrics?.updateErrors.inc();
              this.log.log('error', 'status update failed', { service: r.key, err: errMsg(e) });
            }
          }
        }
        if (!again) break;
      }
      this.updatePoolMetrics();
      await this.updatePoolStatus();
    }
    if (this.speaker) {
      const snap = this.opts.source.snapshot();
      await this.speaker.sync({ config: this.config, services: snap.services, endpointSlices: snap.endpointSlices, nodes: snap.nodes });
    }
  }

  private readonly poolStatus = new Map<string, string>();

  private async updatePoolStatus(): Promise<void> {
    const src = this.opts.source;
    if (!src.updatePoolStatus || !this.opts.allocator) return;
    for (const s of this.opts.allocator.stats()) {
      const st = { assignedIPv4: s.ipv4InUse, assignedIPv6: s.ipv6InUse, availableIPv4: Math.max(0, s.ipv4Total - s.ipv4InUse), availableIPv6: Math.max(0, s.ipv6Total - s.ipv6InUse) };
      const k = JSON.stringify(st);
      if (this.poolStatus.get(s.pool) === k) continue;
      try {
        await src.updatePoolStatus(s.pool, st);
        this.poolStatus.set(s.pool, k);
      } catch (e) {
        this.log.log('warn', 'pool status write failed', { pool: s.pool, err: errMsg(e) });
      }
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

  /** The currently loaded configuration. */
  get currentConfig(): Config | null {
    return this.config;
  }

  /** Node objects as the source currently has them. */
  nodes(): Node[] {
    return this.opts.source.snapshot().nodes;
  }

  /** Services as the source currently has them. */
  services(): Service[] {
    return this.opts.source.snapshot().services;
  }

  /** Planned shutdown: the speaker leaves and drains, then the source stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.speaker?.shutdown();
    await this.opts.source.stop();
  }
}
