// Speaker at cluster scale: Daemon (speaker mode) + KubeSource (@kubernetes/client-node lists and
// watches) against test/fake-apiserver.ts, 10k L2 + 10k BGP VIPs already assigned, every Service
// with an EndpointSlice on this node. The announcers are fakes that record calls (the L2 and BGP
// data planes are benchmarked on their own); the ServiceL2Status / ServiceBGPStatus writes go to
// the fake API server for real. Measures the time from start() until every L2 VIP is announced
// and the BGP announcer holds every route, then until every status object is written.
// The "before" is issue #9's measurement of the previous speaker (status calls awaited per VIP).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { Daemon } from '../src/daemon.js';
import type { BgpRoute } from '../src/bgp-decision.js';
import type { PeerConfig } from '../src/config.js';
import { KubeSource } from '../src/source/kube.js';
import type { BgpAnnouncer, L2Announcer } from '../src/speaker.js';
import { FakeApiServer } from '../test/fake-apiserver.js';

const N = Number(process.env.LBKIT_BENCH_VIPS ?? 10_000);
const out = process.env.LBKIT_BENCH_OUT;
const log = (s: string): void => void process.stderr.write(`[speaker-scale] ${s}\n`);
const MLB = '/apis/metallb.io/v1beta1';
const NS = 'metallb-system';

const ip = (base: number, i: number) => `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

async function main(): Promise<void> {
  const api = new FakeApiServer({ recordRequests: false });
  await api.start();
  api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2pool', namespace: NS }, spec: { addresses: ['10.100.0.0/16'] } });
  api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'bgppool', namespace: NS }, spec: { addresses: ['10.110.0.0/16'] } });
  api.put(MLB, 'l2advertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2', namespace: NS }, spec: { ipAddressPools: ['l2pool'] } });
  api.put(MLB, 'bgpadvertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'bgp', namespace: NS }, spec: { ipAddressPools: ['bgppool'] } });
  api.put('/apis/metallb.io/v1beta2', 'bgppeers', { apiVersion: 'metallb.io/v1beta2', metadata: { name: 'tor', namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1' } });
  api.put('/api/v1', 'nodes', { apiVersion: 'v1', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
  for (const [kind, base] of [['l2', 100], ['bgp', 110]] as const)
    for (let i = 0; i < N; i++) {
      const name = `${kind}-${i}`;
      const ns = `ns${i % 50}`;
      api.put('/api/v1', 'services', {
        apiVersion: 'v1',
        metadata: { name, namespace: ns, annotations: { 'metallb.io/ip-allocated-from-pool': `${kind}pool` } },
        spec: { type: 'LoadBalancer', clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ port: 80, protocol: 'TCP' }] },
        status: { loadBalancer: { ingress: [{ ip: ip(base, i) }] } },
      });
      api.put('/apis/discovery.k8s.io/v1', 'endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { name: `${name}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.0.1'], nodeName: 'n1', conditions: { ready: true } }],
      });
    }
  let l2Announced = 0;
  let l2Done = 0;
  let bgpDone = 0;
  let bgpUpdates = 0;
  let t0 = 0;
  const l2: L2Announcer = {
    announce: () => {
      if (++l2Announced === N) l2Done = performance.now() - t0;
    },
    withdraw: () => {},
    close: () => {},
  };
  const bgp: BgpAnnouncer = {
    update: (_s: PeerConfig[], routes: Map<string, BgpRoute[]>) => {
      bgpUpdates++;
      if (!bgpDone && (routes.get('tor')?.length ?? 0) >= N) bgpDone = performance.now() - t0;
    },
    close: () => {},
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'f', server: api.url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'f', user: 'u' }], currentContext: 'c' });
  const src = new KubeSource(kc, { namespace: NS });
  const dm = new Daemon({ source: src, node: 'n1', mode: 'speaker', l2, bgp });
  const c0 = process.cpuUsage();
  const load0 = loadavg()[0]!;
  t0 = performance.now();
  let synced = 0;
  const started = dm.start().then(() => (synced = performance.now() - t0));
  while ((!l2Done || !bgpDone) && performance.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 10));
  await started;
  const announced = performance.now() - t0;
  log(`source synced + first pass ${synced.toFixed(0)} ms; ${N} L2 announced at ${l2Done.toFixed(0)} ms, ${N} BGP routes at ${bgpDone.toFixed(0)} ms (${bgpUpdates} BGP updates)`);
  const cpu = process.cpuUsage(c0);
  const load = (load0 + loadavg()[0]!) / 2;
  const count = () => api.list(MLB, 'servicel2statuses').length + api.list(MLB, 'servicebgpstatuses').length;
  while (count() < 2 * N && performance.now() - t0 < 600_000) await new Promise((r) => setTimeout(r, 50));
  await src.flushWrites();
  const statusDone = performance.now() - t0;
  log(`status objects written at ${statusDone.toFixed(0)} ms (${count()})`);
  await dm.stop();
  await api.stop();
  const md = `## kube-adapter: speaker at cluster scale (${N / 1000}k L2 + ${N / 1000}k BGP VIPs)

Daemon in speaker mode with KubeSource (@kubernetes/client-node's Watch; paginated lists and writes over
a keep-alive REST client with client-node's KubeConfig authentication) against \`test/fake-apiserver.ts\` in the same process; ${N} L2 and ${N} BGP Services already
assigned, each with an EndpointSlice on this node (one node, no memberlist). L2 and BGP announcers are
fakes that record calls; the ServiceL2Status / ServiceBGPStatus objects are written to the API server
for real, behind the announcements. 2-core VM shared with other jobs (load average ${load.toFixed(1)} during the
run): expect noise. "Before" is issue #9's measurement of the previous speaker.

| measure | lbkit | target | before (issue #9) |
|---|---|---|---|
| start() → every L2 VIP announced | ${(l2Done / 1000).toFixed(2)} s | < 5 s | 254 s for both |
| start() → BGP announcer holds every route | ${(bgpDone / 1000).toFixed(2)} s | < 5 s | (after the whole loop) |
| start() → first full pass done (list of ${2 * N} Services + ${2 * N} slices included) | ${(announced / 1000).toFixed(2)} s | — | — |
| BGP updates pushed during the first pass | ${bgpUpdates} | — | 1 (after the loop) |
| CPU of this process until announced (API server included) | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s | — | — |
| start() → all ${2 * N} status objects written (behind) | ${(statusDone / 1000).toFixed(1)} s | — | — |
`;
  if (out) writeFileSync(out, md);
  process.stdout.write(md);
}

main().catch((e) => {
  log(`FAILED: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
