/**
 * Prometheus metrics with MetalLB's metric names, types and labels, plus the default
 * process/runtime metrics (`process_*`, `nodejs_*`) when asked for, exposed through prom-client.
 * `serveMetrics` exposes `/metrics` (text format) and `/healthz`, `/readyz`.
 *
 * Series are kept here and handed to prom-client when it renders (each metric's `collect`), so a
 * value change is one Map write. prom-client itself is loaded on first use: the first render, the
 * first access to a `prom` property, or {@link Registry.load} (its load is about 50 ms of a
 * speaker's start, before any scrape could come).
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);
let promClient: typeof PromClient | undefined;

/** prom-client (CommonJS), loaded synchronously on first use. */
function promClientModule(): typeof PromClient {
  return (promClient ??= require('prom-client') as typeof PromClient);
}

/** Label set of one metric series: Prometheus label name → value (e.g. `{ pool: 'default' }`). */
export type Labels = Record<string, string>;

/**
 * The label set in the metric's label-name order and its series key, in one pass over the metric's
 * own label names (already in name order): no sort, no JSON per call (a start-up sets a series per
 * announced VIP). A label the metric does not have is refused, as prom-client refuses it.
 */
function sortedWithKey(l: Labels, names: readonly string[]): { labels: Labels; key: string } {
  const out: Labels = {};
  const pairs: Array<[string, string]> = [];
  for (const k of names) {
    const v = l[k];
    if (v === undefined) continue;
    const sv = String(v);
    out[k] = sv;
    pairs.push([k, sv]);
  }
  if (pairs.length !== Object.keys(l).length) {
    const extra = Object.keys(l).find((k) => !names.includes(k) && l[k] !== undefined);
    if (extra !== undefined) throw new Error(`Added label "${extra}" is not included in initial labelset: ${inspect([...names])}`);
  }
  return { labels: out, key: JSON.stringify(pairs) };
}

/** Prometheus' metric and label name syntax (checked when a family is made, as prom-client does). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkValue(v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`Value is not a valid number: ${inspect(v)}`);
}

/** Files series `key` under its label value `v` in one label's index (nothing when the series lacks the label). */
function indexSeries(byValue: Map<string, Set<string>>, v: string | undefined, key: string): void {
  if (v === undefined) return;
  let keys = byValue.get(v);
  if (!keys) byValue.set(v, (keys = new Set()));
  keys.add(key);
}

/**
 * One metric family (gauge or counter) with labelled series. The series live here ({@link Metric.get}
 * is synchronous, {@link Metric.deleteMatching} removes series by a partial label set); the
 * prom-client metric that renders them is made when its registry loads prom-client, and takes
 * the current series at every render.
 */
export class Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  private promMetric: PromClient.Gauge<string> | PromClient.Counter<string> | undefined;
  private readonly sortedNames: readonly string[];
  /**
   * @param name metric name, e.g. `metallb_speaker_announced`
   * @param help HELP text
   * @param type `gauge` or `counter`
   * @param labelNames every label name a series may carry
   * @param registry the registry that renders it
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    readonly labelNames: readonly string[],
    private readonly registry: Registry,
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`Invalid metric name: ${name}`);
    const bad = labelNames.find((l) => !LABEL_NAME.test(l));
    if (bad !== undefined) throw new Error(`Invalid label name: ${bad}`);
    this.sortedNames = [...labelNames].sort();
  }
  /**
   * The prom-client metric (registered in the registry's prom-client registry; loads prom-client on
   * first access). Its values are replaced by this metric's series at every render: change them here.
   */
  get prom(): PromClient.Gauge<string> | PromClient.Counter<string> {
    // the registry's load makes every family's metric, this one included
    if (!this.promMetric) this.registry.load();
    return this.promMetric!;
  }
  /** Makes the prom-client metric in `reg` (called once by its {@link Registry.load}). */
  attach(reg: PromClient.Registry): void {
    if (this.promMetric) return;
    const pc = promClientModule();
    const series = this.series;
    const cfg = { name: this.name, help: this.help, labelNames: [...this.labelNames], registers: [reg] };
    this.promMetric =
      this.type === 'gauge'
        ? new pc.Gauge({
            ...cfg,
            collect(this: PromClient.Gauge<string>) {
              this.reset();
              for (const s of series.values()) this.set(s.labels, s.value);
            },
          })
        : new pc.Counter({
            ...cfg,
            collect(this: PromClient.Counter<string>) {
              this.reset();
              for (const s of series.values()) this.inc(s.labels, s.value);
            },
          });
  }
  /** The series key of a label set (the one {@link set} and {@link inc} store under). */
  private keyOf(labels: Labels): string {
    return sortedWithKey(labels, this.sortedNames).key;
  }
  /** Sets a series value. On a counter the value must not go down (use {@link Metric.setTotal}). */
  set(labels: Labels, v: number): void {
    if (this.type !== 'gauge') return this.setTotal(labels, v);
    checkValue(v);
    const s = sortedWithKey(labels, this.sortedNames);
    const cur = this.series.get(s.key);
    if (cur) cur.value = v;
    else this.addSeries(s.key, s.labels, v);
  }
  /**
   * Series keys by label value, per label name that {@link deleteMatching} was asked about (built
   * on first use, then kept up to date): withdrawing a service finds its series without a scan of
   * every series (a hand-over of thousands of VIPs would otherwise be quadratic).
   */
  private readonly index = new Map<string, Map<string, Set<string>>>();
  private addSeries(key: string, labels: Labels, value: number): void {
    this.series.set(key, { labels, value });
    for (const [name, byValue] of this.index) indexSeries(byValue, labels[name], key);
  }
  /**
   * Sets a counter from a running total kept elsewhere (e.g. a BGP session's UPDATE count): adds the
   * difference; a total that went down (the session's counters restarted) restarts the series.
   */
  setTotal(labels: Labels, total: number): void {
    const cur = this.get(labels);
    if (total < cur) this.delete(labels);
    const by = total < cur ? total : total - cur;
    if (by > 0 || !this.series.has(this.keyOf(labels))) this.inc(labels, by);
  }
  /** Adds to a series (default 1); a counter never goes down. */
  inc(labels: Labels = {}, by = 1): void {
    checkValue(by);
    if (this.type === 'counter' && by < 0) throw new Error('It is not possible to decrease a counter');
    const s = sortedWithKey(labels, this.sortedNames);
    const cur = this.series.get(s.key);
    if (cur) cur.value += by;
    else this.addSeries(s.key, s.labels, by);
  }
  /** Current value of a series (0 when absent). */
  get(labels: Labels = {}): number {
    return this.series.get(this.keyOf(labels))?.value ?? 0;
  }
  /** Removes a series. */
  delete(labels: Labels): void {
    const k = this.keyOf(labels);
    const s = this.series.get(k);
    if (!s) return;
    this.series.delete(k);
    for (const [name, byValue] of this.index) {
      const v = s.labels[name];
      const keys = v === undefined ? undefined : byValue.get(v);
      if (!keys) continue;
      keys.delete(k);
      if (keys.size === 0) byValue.delete(v!);
    }
  }
  /** Removes every series whose labels include `partial`. */
  deleteMatching(partial: Labels): void {
    const want = Object.entries(partial);
    const matches = (l: Labels): boolean => want.every(([a, b]) => l[a] === b);
    if (want.length === 0) {
      for (const s of [...this.series.values()]) this.delete(s.labels);
      return;
    }
    const [name, value] = want[0]!;
    let byValue = this.index.get(name);
    if (!byValue) {
      byValue = new Map();
      for (const [k, s] of this.series) indexSeries(byValue, s.labels[name], k);
      this.index.set(name, byValue);
    }
    for (const k of [...(byValue.get(value) ?? [])]) {
      const s = this.series.get(k);
      if (s && matches(s.labels)) this.delete(s.labels);
    }
  }
  /** Label sets of the current series. */
  labelSets(): Labels[] {
    return [...this.series.values()].map((s) => s.labels);
  }
}

/** Options of {@link Registry}. */
export interface RegistryOptions {
  /** Also export prom-client's default process and Node.js runtime metrics (default false), from {@link Registry.load} on. */
  defaultMetrics?: boolean;
}

/** A set of metric families rendered together (one prom-client registry, made on first use). */
export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly hooks: Array<() => void> = [];
  private promRegistry: PromClient.Registry | undefined;
  /** @param opts whether to add the default process/runtime metrics */
  constructor(private readonly opts: RegistryOptions = {}) {}
  /**
   * Loads prom-client and makes the prom-client registry with every family (and the default
   * metrics when asked for: their event-loop and GC histograms start here). Done by the first
   * render at the latest; call it earlier to have those histograms cover more of the run.
   */
  load(): PromClient.Registry {
    if (this.promRegistry) return this.promRegistry;
    const pc = promClientModule();
    const reg = (this.promRegistry = new pc.Registry());
    // the event-loop delay histogram samples once a second (prom-client's default, 10 ms, wakes an
    // idle daemon 100 times a second; lag is still measured to the microsecond at each sample)
    if (this.opts.defaultMetrics) pc.collectDefaultMetrics({ register: reg, eventLoopMonitoringPrecision: 1000 });
    for (const m of this.metrics.values()) m.attach(reg);
    return reg;
  }
  /** The underlying prom-client registry (add your own metrics to it); loads prom-client on first access. */
  get prom(): PromClient.Registry {
    return this.load();
  }
  /** Returns the family `name`, creating it on first use with `labelNames`. */
  metric(name: string, help: string, type: 'gauge' | 'counter', labelNames: readonly string[] = []): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = new Metric(name, help, type, labelNames, this);
      this.metrics.set(name, m);
      if (this.promRegistry) m.attach(this.promRegistry);
    }
    return m;
  }
  /** Runs `fn` before every {@link Registry.render} (refresh values that are read, not pushed). */
  beforeRender(fn: () => void): void {
    this.hooks.push(fn);
  }
  /** Prometheus text format 0.0.4 of every family. */
  render(): Promise<string> {
    const reg = this.load();
    for (const h of this.hooks) h();
    return reg.metrics();
  }
  /** Content type of {@link Registry.render}'s output. */
  get contentType(): string {
    return this.load().contentType;
  }
}

/** MetalLB-compatible metric families used by lbkit (names, types and labels as MetalLB's). */
export function metallbMetrics(r: Registry) {
  const pool = ['pool'] as const;
  const ip = ['ip'] as const;
  const peer = ['peer'] as const;
  return {
    addressesTotal: r.metric('metallb_allocator_addresses_total', 'Number of usable IP addresses, per pool', 'gauge', pool),
    addressesInUse: r.metric('metallb_allocator_addresses_in_use_total', 'Number of IP addresses in use, per pool', 'gauge', pool),
    ipv4Total: r.metric('metallb_allocator_ipv4_addresses_total', 'Number of usable IPv4 addresses, per pool', 'gauge', pool),
    ipv6Total: r.metric('metallb_allocator_ipv6_addresses_total', 'Number of usable IPv6 addresses, per pool', 'gauge', pool),
    ipv4InUse: r.metric('metallb_allocator_ipv4_addresses_in_use_total', 'Number of IPv4 addresses in use, per pool', 'gauge', pool),
    ipv6InUse: r.metric('metallb_allocator_ipv6_addresses_in_use_total', 'Number of IPv6 addresses in use, per pool', 'gauge', pool),
    servicesAllocated: r.metric('metallb_allocator_services_allocated_total', 'Number of services allocated, per pool', 'gauge', pool),
    updates: r.metric('metallb_k8s_client_updates_total', 'Number of k8s object updates that have been processed', 'counter'),
    updateErrors: r.metric('metallb_k8s_client_update_errors_total', 'Number of k8s object updates that failed for some reason', 'counter'),
    configLoaded: r.metric('metallb_k8s_client_config_loaded_bool', '1 if the MetalLB configuration was successfully loaded at least once', 'gauge'),
    configStale: r.metric('metallb_k8s_client_config_stale_bool', '1 if running on a stale configuration, because the latest config failed to load', 'gauge'),
    announced: r.metric('metallb_speaker_announced', 'Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.', 'gauge', ['service', 'protocol', 'node', 'ip']),
    l2RequestsReceived: r.metric('metallb_layer2_requests_received', 'Number of layer2 requests received for owned IPs', 'counter', ip),
    l2ResponsesSent: r.metric('metallb_layer2_responses_sent', 'Number of layer2 responses sent for owned IPs', 'counter', ip),
    gratuitousSent: r.metric('metallb_layer2_gratuitous_sent', 'Number of gratuitous layer2 packets sent for owned IPs as a result of failovers', 'counter', ip),
    bgpSessionUp: r.metric('metallb_bgp_session_up', 'BGP session state (1 is up, 0 is down)', 'gauge', peer),
    bgpUpdates: r.metric('metallb_bgp_updates_total', 'Number of BGP UPDATE messages sent', 'counter', peer),
    bgpAnnounced: r.metric('metallb_bgp_announced_prefixes_total', 'Number of prefixes currently being advertised on the BGP session', 'gauge', peer),
    bgpPending: r.metric('metallb_bgp_pending_prefixes_total', 'Number of prefixes that should be advertised on the BGP session', 'gauge', peer),
  };
}

/** The metric set returned by {@link metallbMetrics}. */
export type MetallbMetrics = ReturnType<typeof metallbMetrics>;

/** One BGP session as a backend reports it (see `BgpAnnouncer.sessionStates`). */
export interface BgpSessionMetrics {
  /** Peer name (BGPPeer object name). */
  peer: string;
  /** `IP:port` of the peer (`[v6]:port`): MetalLB's `peer` label. Falls back to `peer` when absent. */
  address?: string;
  up: boolean;
  /** Prefixes currently advertised on the session. */
  prefixes: number;
  /** UPDATE messages sent since the session object was created. */
  updates?: number;
  /** Prefixes that should be advertised on the session. */
  pending?: number;
}

/**
 * Records BGP session metrics with MetalLB's `peer` label (`IP:port`); series of peers no longer
 * reported are removed.
 */
export function recordBgpSessions(m: MetallbMetrics, sessions: readonly BgpSessionMetrics[]): void {
  const seen = new Set<string>();
  for (const s of sessions) {
    const l = { peer: s.address ?? s.peer };
    seen.add(l.peer);
    m.bgpSessionUp.set(l, s.up ? 1 : 0);
    m.bgpAnnounced.set(l, s.prefixes);
    if (s.updates !== undefined) m.bgpUpdates.setTotal(l, s.updates);
    if (s.pending !== undefined) m.bgpPending.set(l, s.pending);
  }
  for (const metric of [m.bgpSessionUp, m.bgpAnnounced, m.bgpUpdates, m.bgpPending])
    for (const l of metric.labelSets()) if (!seen.has(l.peer!)) metric.delete(l);
}

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** `/readyz` answers 200 only while this returns true (default: always ready). */
  ready?: () => boolean;
}

/** Serves `/metrics` (text format) and `/healthz`, `/readyz` on `host:port`; resolves once listening. */
export async function serveMetrics(r: Registry, port: number, host = '0.0.0.0', opts: ServeMetricsOptions = {}): Promise<Server> {
  const srv = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      r.render().then(
        (text) => res.writeHead(200, { 'content-type': r.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(`metrics: ${e instanceof Error ? e.message : String(e)}`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok');
    } else if (path === '/readyz') {
      const ok = opts.ready ? opts.ready() : true;
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'not ready');
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  return srv;
}
