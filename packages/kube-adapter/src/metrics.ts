/**
 * Prometheus metrics on prom-client with MetalLB's metric names, types and labels, plus the
 * default process/runtime metrics (`process_*`, `nodejs_*`) when asked for. `serveMetrics` exposes
 * `/metrics` (text format) and `/healthz`, `/readyz`.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';

/** Label set of one metric series: Prometheus label name → value (e.g. `{ pool: 'default' }`). */
export type Labels = Record<string, string>;

function labelKey(l: Labels): string {
  return JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
}

/** The same labels with keys in name order: exposition lists them sorted, as Go's client does. */
function sorted(l: Labels): Labels {
  return Object.fromEntries(Object.keys(l).sort().map((k) => [k, String(l[k])]));
}

/**
 * {@link sorted} and {@link labelKey} in one pass over the metric's own label names (already in
 * name order): no sort, no JSON per call (a start-up sets a series per announced VIP). Labels that
 * are not the metric's take the generic path, where prom-client reports them.
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
    const labels = sorted(l);
    return { labels, key: labelKey(labels) };
  }
  return { labels: out, key: JSON.stringify(pairs) };
}

/** Files series `key` under its label value `v` in one label's index (nothing when the series lacks the label). */
function indexSeries(byValue: Map<string, Set<string>>, v: string | undefined, key: string): void {
  if (v === undefined) return;
  let keys = byValue.get(v);
  if (!keys) byValue.set(v, (keys = new Set()));
  keys.add(key);
}

/**
 * One metric family (gauge or counter) with labelled series, backed by a prom-client metric.
 * Keeps its own index of series so that {@link Metric.get} is synchronous and
 * {@link Metric.deleteMatching} can remove series by a partial label set.
 */
export class Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  /** The prom-client metric (registered in the owning {@link Registry}). */
  readonly prom: Gauge<string> | Counter<string>;
  /**
   * @param name metric name, e.g. `metallb_speaker_announced`
   * @param help HELP text
   * @param type `gauge` or `counter`
   * @param labelNames every label name a series may carry
   * @param registry prom-client registry to register in
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    readonly labelNames: readonly string[],
    registry: PromRegistry,
  ) {
    const cfg = { name, help, labelNames: [...labelNames], registers: [registry] };
    this.prom = type === 'gauge' ? new Gauge(cfg) : new Counter(cfg);
    this.sortedNames = [...labelNames].sort();
  }
  private readonly sortedNames: readonly string[];
  /** The series key of a label set (the one {@link set} and {@link inc} store under). */
  private keyOf(labels: Labels): string {
    return sortedWithKey(labels, this.sortedNames).key;
  }
  /** Sets a series value. On a counter the value must not go down (use {@link Metric.setTotal}). */
  set(labels: Labels, v: number): void {
    if (this.prom instanceof Gauge) {
      const s = sortedWithKey(labels, this.sortedNames);
      this.prom.set(s.labels, v);
      const cur = this.series.get(s.key);
      if (cur) cur.value = v;
      else this.addSeries(s.key, s.labels, v);
    } else this.setTotal(labels, v);
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
  /** Adds to a series (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const s = sortedWithKey(labels, this.sortedNames);
    this.prom.inc(s.labels, by);
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
    this.prom.remove(s.labels);
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
  /** Also export prom-client's default process and Node.js runtime metrics (default false). */
  defaultMetrics?: boolean;
}

/** A set of metric families rendered together (one prom-client registry). */
export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly hooks: Array<() => void> = [];
  /** The underlying prom-client registry (add your own metrics to it). */
  readonly prom = new PromRegistry();
  /** @param opts whether to add the default process/runtime metrics */
  constructor(opts: RegistryOptions = {}) {
    // the event-loop delay histogram samples once a second (prom-client's default, 10 ms, wakes an
    // idle daemon 100 times a second; lag is still measured to the microsecond at each sample)
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.prom, eventLoopMonitoringPrecision: 1000 });
  }
  /** Returns the family `name`, creating it on first use with `labelNames`. */
  metric(name: string, help: string, type: 'gauge' | 'counter', labelNames: readonly string[] = []): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = new Metric(name, help, type, labelNames, this.prom);
      this.metrics.set(name, m);
    }
    return m;
  }
  /** Runs `fn` before every {@link Registry.render} (refresh values that are read, not pushed). */
  beforeRender(fn: () => void): void {
    this.hooks.push(fn);
  }
  /** Prometheus text format 0.0.4 of every family. */
  render(): Promise<string> {
    for (const h of this.hooks) h();
    return this.prom.metrics();
  }
  /** Content type of {@link Registry.render}'s output. */
  get contentType(): string {
    return this.prom.contentType;
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
