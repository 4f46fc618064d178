/** Metrics on prom-client: MetalLB's names, types and labels; BGP `peer` = IP:port from a live session; process metrics; HTTP endpoints. */
import { BgpSpeaker } from '@lbkit/bgp';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { LbkitBgpAnnouncer } from '../src/adapters/lbkit-bgp.js';
import { LbkitL2Announcer } from '../src/adapters/lbkit-l2.js';
import type { PeerConfig } from '../src/config.js';
import { metallbMetrics, recordBgpSessions, Registry, serveMetrics } from '../src/metrics.js';

/** Parses the exposition format into `{ name → { type, help } }` and `series → value`. */
function parse(text: string) {
  const meta = new Map<string, { type?: string; help?: string }>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      const e = meta.get(m[2]!) ?? {};
      if (m[1] === 'TYPE') e.type = m[3];
      else e.help = m[3];
      meta.set(m[2]!, e);
      continue;
    }
    m = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return { meta, samples };
}

// MetalLB's metrics (research notes §5.3, internal/{allocator,k8s/controllers,layer2,bgp/native}/stats.go, speaker/main.go)
const METALLB: Array<[string, 'gauge' | 'counter', string[]]> = [
  ['metallb_allocator_addresses_total', 'gauge', ['pool']],
  ['metallb_allocator_addresses_in_use_total', 'gauge', ['pool']],
  ['metallb_allocator_ipv4_addresses_total', 'gauge', ['pool']],
  ['metallb_allocator_ipv6_addresses_total', 'gauge', ['pool']],
  ['metallb_allocator_ipv4_addresses_in_use_total', 'gauge', ['pool']],
  ['metallb_allocator_ipv6_addresses_in_use_total', 'gauge', ['pool']],
  ['metallb_allocator_services_allocated_total', 'gauge', ['pool']],
  ['metallb_k8s_client_updates_total', 'counter', []],
  ['metallb_k8s_client_update_errors_total', 'counter', []],
  ['metallb_k8s_client_config_loaded_bool', 'gauge', []],
  ['metallb_k8s_client_config_stale_bool', 'gauge', []],
  ['metallb_speaker_announced', 'gauge', ['ip', 'node', 'protocol', 'service']],
  ['metallb_layer2_requests_received', 'counter', ['ip']],
  ['metallb_layer2_responses_sent', 'counter', ['ip']],
  ['metallb_layer2_gratuitous_sent', 'counter', ['ip']],
  ['metallb_bgp_session_up', 'gauge', ['peer']],
  ['metallb_bgp_updates_total', 'counter', ['peer']],
  ['metallb_bgp_announced_prefixes_total', 'gauge', ['peer']],
  ['metallb_bgp_pending_prefixes_total', 'gauge', ['peer']],
];

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('metallbMetrics', () => {
  it("has every MetalLB family with MetalLB's type and label names", async () => {
    const r = new Registry();
    const m = metallbMetrics(r);
    const byName = new Map(Object.values(m).map((x) => [x.name, x]));
    for (const [name, type, labels] of METALLB) {
      const x = byName.get(name);
      expect(x, name).toBeDefined();
      expect(x!.type, name).toBe(type);
      expect([...x!.labelNames].sort(), name).toEqual(labels);
    }
    expect(byName.size).toBe(METALLB.length);
    const { meta } = parse(await r.render());
    for (const [name, type] of METALLB) expect(meta.get(name)?.type, name).toBe(type);
  });

  it('labels are written sorted, series can be deleted by a partial label set, counters follow external totals', async () => {
    const r = new Registry();
    const m = metallbMetrics(r);
    m.announced.set({ service: 'default/web', protocol: 'layer2', node: 'n1', ip: '10.0.0.1' }, 1);
    m.announced.set({ service: 'default/db', protocol: 'layer2', node: 'n1', ip: '10.0.0.2' }, 1);
    m.l2RequestsReceived.inc({ ip: '10.0.0.1' });
    m.l2RequestsReceived.inc({ ip: '10.0.0.1' }, 2);
    let s = parse(await r.render()).samples;
    expect(s.get('metallb_speaker_announced{ip="10.0.0.1",node="n1",protocol="layer2",service="default/web"}')).toBe(1);
    expect(s.get('metallb_layer2_requests_received{ip="10.0.0.1"}')).toBe(3);
    // the same series whatever the order of the labels given; a label the family does not have is refused
    m.announced.set({ ip: '10.0.0.1', node: 'n1', service: 'default/web', protocol: 'layer2' }, 1);
    expect(m.announced.labelSets().length).toBe(2);
    expect(() => m.announced.set({ service: 'x', protocol: 'layer2', node: 'n1', ip: '10.0.0.3', pool: 'p' }, 1)).toThrow(/pool/);
    m.announced.deleteMatching({ service: 'default/web' });
    s = parse(await r.render()).samples;
    expect([...s.keys()].filter((k) => k.startsWith('metallb_speaker_announced'))).toEqual(['metallb_speaker_announced{ip="10.0.0.2",node="n1",protocol="layer2",service="default/db"}']);
    // series added after the per-label index was built are found by it too
    m.announced.set({ service: 'default/web', protocol: 'bgp', node: 'n1', ip: '10.0.0.1' }, 1);
    m.announced.set({ service: 'default/web', protocol: 'layer2', node: 'n1', ip: '10.0.0.5' }, 1);
    m.announced.deleteMatching({ service: 'default/web', protocol: 'layer2' });
    expect(m.announced.labelSets().map((l) => `${l.service} ${l.protocol} ${l.ip}`).sort()).toEqual(['default/db layer2 10.0.0.2', 'default/web bgp 10.0.0.1']);
    m.announced.deleteMatching({ node: 'n1' });
    expect(m.announced.labelSets()).toEqual([]);
    // external running total (a session's UPDATE count): differences are added; a reset restarts the series
    const l = { peer: '192.0.2.1:179' };
    m.bgpUpdates.setTotal(l, 5);
    m.bgpUpdates.setTotal(l, 8);
    expect(m.bgpUpdates.get(l)).toBe(8);
    m.bgpUpdates.setTotal(l, 2);
    expect(parse(await r.render()).samples.get('metallb_bgp_updates_total{peer="192.0.2.1:179"}')).toBe(2);
  });

  it('series set before prom-client is loaded and changed after it render as last set; the prom-client objects are live', async () => {
    const r = new Registry();
    const m = metallbMetrics(r);
    const l = { service: 'default/a', protocol: 'layer2', node: 'n1', ip: '10.0.0.1' };
    m.announced.set(l, 1);
    m.updates.setTotal({}, 0); // a counter series at 0 is exposed
    m.gratuitousSent.inc({ ip: '10.0.0.1' }, 4);
    let s = parse(await r.render()).samples;
    expect(s.get('metallb_speaker_announced{ip="10.0.0.1",node="n1",protocol="layer2",service="default/a"}')).toBe(1);
    expect(s.get('metallb_k8s_client_updates_total')).toBe(0);
    expect(s.get('metallb_layer2_gratuitous_sent{ip="10.0.0.1"}')).toBe(4);
    // after the load: changes, deletions and families made later all show in the next render
    m.announced.set(l, 0);
    m.announced.set({ ...l, ip: '10.0.0.2' }, 1);
    m.gratuitousSent.delete({ ip: '10.0.0.1' });
    m.updates.inc();
    const late = r.metric('lbkit_test_late', 'made after the first render', 'gauge', ['x']);
    late.set({ x: 'y' }, 7);
    // a metric of the user's own, registered on the prom-client registry, is rendered with ours
    const own = new (await import('prom-client')).Gauge({ name: 'user_metric', help: 'h', registers: [r.prom] });
    own.set(3);
    s = parse(await r.render()).samples;
    expect(s.get('metallb_speaker_announced{ip="10.0.0.1",node="n1",protocol="layer2",service="default/a"}')).toBe(0);
    expect(s.get('metallb_speaker_announced{ip="10.0.0.2",node="n1",protocol="layer2",service="default/a"}')).toBe(1);
    expect([...s.keys()].some((k) => k.startsWith('metallb_layer2_gratuitous_sent'))).toBe(false);
    expect(s.get('metallb_k8s_client_updates_total')).toBe(1);
    expect(s.get('lbkit_test_late{x="y"}')).toBe(7);
    expect(s.get('user_metric')).toBe(3);
    expect(m.announced.prom).toBe(m.announced.prom);
    expect((m.announced.prom as unknown as { name: string }).name).toBe('metallb_speaker_announced');
    // what prom-client refuses is refused when it is set, not at the next render
    expect(() => m.updates.inc({}, -1)).toThrow(/decrease a counter/);
    expect(() => m.configLoaded.set({}, Number.NaN)).toThrow(/not a valid number/);
    expect(() => r.metric('bad name', 'h', 'gauge')).toThrow(/Invalid metric name/);
    expect(() => r.metric('ok_name', 'h', 'gauge', ['bad-label'])).toThrow(/Invalid label name/);
  });

  it('recordBgpSessions: peer label is IP:port, peers that disappear lose their series', async () => {
    const r = new Registry();
    const m = metallbMetrics(r);
    recordBgpSessions(m, [
      { peer: 'tor1', address: '192.0.2.1:179', up: true, prefixes: 3, updates: 4, pending: 3 },
      { peer: 'tor2', address: '[2001:db8::1]:1179', up: false, prefixes: 0, updates: 0, pending: 2 },
    ]);
    let s = parse(await r.render()).samples;
    expect(s.get('metallb_bgp_session_up{peer="192.0.2.1:179"}')).toBe(1);
    expect(s.get('metallb_bgp_announced_prefixes_total{peer="192.0.2.1:179"}')).toBe(3);
    expect(s.get('metallb_bgp_updates_total{peer="192.0.2.1:179"}')).toBe(4);
    expect(s.get('metallb_bgp_pending_prefixes_total{peer="[2001:db8::1]:1179"}')).toBe(2);
    expect(s.get('metallb_bgp_session_up{peer="[2001:db8::1]:1179"}')).toBe(0);
    recordBgpSessions(m, [{ peer: 'tor1', address: '192.0.2.1:179', up: true, prefixes: 3, updates: 4, pending: 3 }]);
    s = parse(await r.render()).samples;
    expect([...s.keys()].some((k) => k.includes('2001:db8::1'))).toBe(false);
  });

  it('the lbkit BGP backend reports a live session as IP:port with UPDATE, announced and pending counts', async () => {
    const router = new BgpSpeaker({ asn: 64512, routerId: '192.0.2.254', listen: { address: '127.0.0.1', port: 0 } });
    router.addPeer({ address: '127.0.0.1', asn: 64513, passive: true });
    await router.start();
    closers.push(() => router.stop('test done'));
    const port = router.listenPort;
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10' });
    closers.push(() => ann.close());
    const peer: PeerConfig = { name: 'tor', myASN: 64513, peerASN: 64512, peerAddress: '127.0.0.1', peerPort: port, holdTime: 90, keepaliveTime: 30, ebgpMultiHop: false, nodeSelectors: [], enableGracefulRestart: false, dualStackAddressFamily: false };
    const routes = [
      { prefix: '198.51.100.1/32', communities: [], largeCommunities: [], peers: [] },
      { prefix: '198.51.100.2/32', communities: [], largeCommunities: [], peers: [] },
    ];
    await ann.update([peer], new Map([['tor', routes]]));
    const t0 = Date.now();
    while (!ann.sessionStates().some((s) => s.up && s.prefixes === 2) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const [st] = ann.sessionStates();
    expect(st).toMatchObject({ peer: 'tor', address: `127.0.0.1:${port}`, up: true, prefixes: 2, pending: 2 });
    expect(st!.updates).toBeGreaterThanOrEqual(1);
    const r = new Registry();
    const m = metallbMetrics(r);
    recordBgpSessions(m, ann.sessionStates());
    const s = parse(await r.render()).samples;
    expect(s.get(`metallb_bgp_session_up{peer="127.0.0.1:${port}"}`)).toBe(1);
    expect(s.get(`metallb_bgp_announced_prefixes_total{peer="127.0.0.1:${port}"}`)).toBe(2);
    expect(s.get(`metallb_bgp_updates_total{peer="127.0.0.1:${port}"}`)).toBe(st!.updates);
  }, 20_000);

  it('default process/runtime metrics on request; /metrics, /healthz and /readyz over HTTP', async () => {
    const r = new Registry({ defaultMetrics: true });
    metallbMetrics(r).configLoaded.set({}, 1);
    let ready = false;
    const srv = await serveMetrics(r, 0, '127.0.0.1', { ready: () => ready });
    closers.push(() => new Promise<void>((res) => srv.close(() => res())));
    const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const { meta, samples } = parse(await res.text());
    expect(samples.get('metallb_k8s_client_config_loaded_bool')).toBe(1);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(meta.has(name), name).toBe(true);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    // a registry without the option has no process metrics (tests build many registries)
    expect(await new Registry().render()).not.toContain('process_cpu_seconds_total');
  });

  it('layer2 requests/responses: counted per VIP when the lbkit L2 backend answers an ARP request for an owned IP', async () => {
    class Link extends EventEmitter {
      sent = 0;
      send(): void {
        this.sent++;
      }
      addMembership(): void {}
      dropMembership(): void {}
      close(): void {}
    }
    const links: Link[] = [];
    const r = new Registry();
    const m = metallbMetrics(r);
    const a = new LbkitL2Announcer({
      listInterfaces: () => ['eth0'],
      watchIntervalMs: 0,
      reportIntervalMs: 0,
      repeatForMs: 0,
      onReply: (ip) => {
        m.l2RequestsReceived.inc({ ip });
        m.l2ResponsesSent.inc({ ip });
      },
      transports: { mac: () => '02:00:00:00:00:11', arp: () => (links.push(new Link()), links[links.length - 1]!), ndp: () => new Link() },
    });
    closers.push(() => a.close());
    await a.start();
    a.announce('10.77.0.200', ['eth0']);
    // ARP request (RFC 826 layout) from 10.77.0.10 for `tpa`
    const req = (tpa: string) =>
      Buffer.concat([
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0x10, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x10, 10, 77, 0, 10, 0, 0, 0, 0, 0, 0]),
        Buffer.from(tpa.split('.').map(Number)),
      ]);
    links[0]!.emit('frame', req('10.77.0.200'), 0);
    links[0]!.emit('frame', req('10.77.0.200'), 0);
    links[0]!.emit('frame', req('10.77.0.99'), 0);
    const s = parse(await r.render()).samples;
    expect(s.get('metallb_layer2_requests_received{ip="10.77.0.200"}')).toBe(2);
    expect(s.get('metallb_layer2_responses_sent{ip="10.77.0.200"}')).toBe(2);
    expect([...s.keys()].some((k) => k.includes('10.77.0.99'))).toBe(false);
  });
});
