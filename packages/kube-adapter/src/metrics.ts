/** A tiny Prometheus text-format registry and HTTP exporter (no dependencies). */
import { createServer, type Server } from 'node:http';

/** Label set of one metric series: Prometheus label name → value (e.g. `{ pool: 'default' }`). */
export type Labels = Record<string, string>;

function labelKey(l: Labels): string {
  return Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

/** One metric family (gauge or counter) with labelled series. */
export class Metric {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  /**
   * @param name metric name, e.g. `metallb_speaker_announced`
   * @param help HELP text
   * @param type `gauge` or `counter`
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
  ) {}
  /** Sets a series value. */
  set(labels: Labels, v: number): void {
    this.series.set(labelKey(labels), { labels, value: v });
  }
  /** Adds to a series (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    const cur = this.series.get(k);
    this.series.set(k, { labels, value: (cur?.value ?? 0) + by });
  }
  /** Current value of a series (0 when absent). */
  get(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }
  /** Removes a series. */
  delete(labels: Labels): void {
    this.series.delete(labelKey(labels));
  }
  /** Removes every series whose labels include `partial`. */
  deleteMatching(partial: Labels): void {
    for (const [k, s] of this.series) if (Object.entries(partial).every(([a, b]) => s.labels[a] === b)) this.series.delete(k);
  }
  /** Text exposition of this family. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, s] of this.series) lines.push(`${this.name}${k ? `{${k}}` : ''} ${s.value}`);
    return lines.join('\n');
  }
}

/** A set of metric families rendered together. */
export class Registry {
  private readonly metrics = new Map<string, Metric>();
  /** Returns the family `name`, creating it on first use. */
  metric(name: string, help: string, type: 'gauge' | 'counter'): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = new Metric(name, help, type);
      this.metrics.set(name, m);
    }
    return m;
  }
  /** Prometheus text format 0.0.4. */
  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }
}

/** MetalLB-compatible metric families used by lbkit. */
export function metallbMetrics(r: Registry) {
  return {
    addressesTotal: r.metric('metallb_allocator_addresses_total', 'Number of usable IP addresses, per pool', 'gauge'),
    addressesInUse: r.metric('metallb_allocator_addresses_in_use_total', 'Number of IP addresses in use, per pool', 'gauge'),
    ipv4Total: r.metric('metallb_allocator_ipv4_addresses_total', 'Number of usable IPv4 addresses, per pool', 'gauge'),
    ipv6Total: r.metric('metallb_allocator_ipv6_addresses_total', 'Number of usable IPv6 addresses, per pool', 'gauge'),
    ipv4InUse: r.metric('metallb_allocator_ipv4_addresses_in_use_total', 'Number of IPv4 addresses in use, per pool', 'gauge'),
    ipv6InUse: r.metric('metallb_allocator_ipv6_addresses_in_use_total', 'Number of IPv6 addresses in use, per pool', 'gauge'),
    servicesAllocated: r.metric('metallb_allocator_services_allocated_total', 'Number of services allocated, per pool', 'gauge'),
    updates: r.metric('metallb_k8s_client_updates_total', 'Number of k8s object updates that have been processed', 'counter'),
    updateErrors: r.metric('metallb_k8s_client_update_errors_total', 'Number of k8s object updates that failed for some reason', 'counter'),
    configLoaded: r.metric('metallb_k8s_client_config_loaded_bool', '1 if the MetalLB configuration was successfully loaded at least once', 'gauge'),
    configStale: r.metric('metallb_k8s_client_config_stale_bool', '1 if running on a stale configuration, because the latest config failed to load', 'gauge'),
    announced: r.metric('metallb_speaker_announced', 'Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.', 'gauge'),
    gratuitousSent: r.metric('metallb_layer2_gratuitous_sent', 'Number of gratuitous ARP/NDP packets sent for an IP', 'counter'),
    bgpSessionUp: r.metric('metallb_bgp_session_up', 'BGP session state (1 is up, 0 is down)', 'gauge'),
    bgpAnnounced: r.metric('metallb_bgp_announced_prefixes_total', 'Number of prefixes currently being advertised on the BGP session', 'gauge'),
  };
}

/** The metric set returned by {@link metallbMetrics}. */
export type MetallbMetrics = ReturnType<typeof metallbMetrics>;

/** Serves `/metrics` (text format) and `/healthz` on `host:port`; resolves once listening. */
export async function serveMetrics(r: Registry, port: number, host = '0.0.0.0'): Promise<Server> {
  const srv = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(r.render());
    } else if (req.url === '/healthz' || req.url === '/readyz') {
      res.writeHead(200).end('ok');
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  return srv;
}
