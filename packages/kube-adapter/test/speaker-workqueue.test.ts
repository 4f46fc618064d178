/**
 * The speaker's work queue through the Daemon and a KubeSource (real @kubernetes/client-node)
 * against test/fake-apiserver.ts: announcing never waits for ServiceL2Status writes (which are
 * retried with backoff when they fail), an EndpointSlice change re-evaluates only its Service, and
 * BGP routes are pushed per batch.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { BgpRoute } from '../src/bgp-decision.js';
import type { PeerConfig } from '../src/config.js';
import { Daemon } from '../src/daemon.js';
import { KubeSource } from '../src/source/kube.js';
import type { BgpAnnouncer, L2Announcer } from '../src/speaker.js';
import { FakeApiServer } from './fake-apiserver.js';
import { until } from './helpers.js';

const MLB = '/apis/metallb.io/v1beta1';
const NS = 'metallb-system';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

function slice(name: string, ready = true) {
  return { apiVersion: 'discovery.k8s.io/v1', metadata: { name: `${name}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: ready ? [{ addresses: ['10.244.0.1'], nodeName: 'n1', conditions: { ready: true } }] : [] };
}

async function world(n: number) {
  const api = new FakeApiServer();
  await api.start();
  api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2pool', namespace: NS }, spec: { addresses: ['10.100.0.0/24'] } });
  api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'bgppool', namespace: NS }, spec: { addresses: ['10.110.0.0/24'] } });
  api.put(MLB, 'l2advertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2', namespace: NS }, spec: { ipAddressPools: ['l2pool'] } });
  api.put(MLB, 'bgpadvertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'b', namespace: NS }, spec: { ipAddressPools: ['bgppool'] } });
  api.put('/apis/metallb.io/v1beta2', 'bgppeers', { apiVersion: 'metallb.io/v1beta2', metadata: { name: 'tor', namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1' } });
  api.put('/api/v1', 'nodes', { apiVersion: 'v1', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
  for (let i = 0; i < n; i++)
    for (const [kind, net] of [['l2', 100], ['bgp', 110]] as const) {
      const name = `${kind}${i}`;
      api.put('/api/v1', 'services', { apiVersion: 'v1', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: `10.96.0.${i}`, ports: [{ port: 80, protocol: 'TCP' }] }, status: { loadBalancer: { ingress: [{ ip: `10.${net}.0.${i}` }] } } });
      api.put('/apis/discovery.k8s.io/v1', 'endpointslices', slice(name));
    }
  const announced = new Map<string, number>();
  const calls: string[] = [];
  const l2: L2Announcer = {
    announce: (ip) => {
      calls.push(`announce ${ip}`);
      announced.set(ip, (announced.get(ip) ?? 0) + 1);
    },
    withdraw: (ip) => {
      calls.push(`withdraw ${ip}`);
      announced.delete(ip);
    },
    close: () => {},
  };
  const bgpUpdates: number[] = [];
  const bgp: BgpAnnouncer = { update: (_s: PeerConfig[], r: Map<string, BgpRoute[]>) => void bgpUpdates.push(r.get('tor')?.length ?? 0), close: () => {} };
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'f', server: api.url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'f', user: 'u' }], currentContext: 'c' });
  const src = new KubeSource(kc, { namespace: NS });
  const dm = new Daemon({ source: src, node: 'n1', mode: 'speaker', l2, bgp });
  cleanup.push(async () => {
    await dm.stop();
    await api.stop();
  });
  return { api, src, dm, announced, calls, bgpUpdates, speakerProcessed: () => dm.speaker!.processed };
}

describe('speaker work queue against a list/watch API server', () => {
  it('announces every VIP while the ServiceL2Status writes fail, then the retries write them', async () => {
    const w = await world(20);
    const fault = w.api.addFault({ method: 'POST', path: '/servicel2statuses', status: 500 });
    await w.dm.start();
    // start() resolves after the first full pass: every L2 VIP announced, every BGP route pushed
    expect(w.announced.size).toBe(20);
    expect(w.bgpUpdates.at(-1)).toBe(20);
    expect(w.api.list(MLB, 'servicel2statuses')).toHaveLength(0);
    await until(() => w.api.counts.faults >= 20, 10_000, 'failed status writes');
    w.api.removeFault(fault);
    // no other change: the per-key retries alone create the objects
    const written = (plural: string) => w.api.list(MLB, plural).filter((o) => o.status).length;
    await until(() => written('servicel2statuses') === 20, 15_000, 'retried ServiceL2Status');
    await until(() => written('servicebgpstatuses') === 20, 15_000, 'ServiceBGPStatus');
    expect(w.api.list(MLB, 'servicel2statuses')).toHaveLength(20);
    expect(w.api.list(MLB, 'servicel2statuses').map((o) => (o.status as { serviceName: string }).serviceName).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `l2${i}`).sort());
  }, 40_000);

  it('an EndpointSlice change re-evaluates its Service only; a deleted Service is withdrawn', async () => {
    const w = await world(10);
    await w.dm.start();
    expect(w.announced.size).toBe(10);
    const before = w.speakerProcessed();
    w.api.put('/apis/discovery.k8s.io/v1', 'endpointslices', slice('l23', false));
    await until(() => !w.announced.has('10.100.0.3'), 10_000, 'withdrawal on endpoints gone');
    await w.dm.settled();
    // one key (plus at most a repeat of it), not a pass over all 20 services
    expect(w.speakerProcessed() - before).toBeLessThanOrEqual(2);
    expect(w.calls.filter((c) => c.startsWith('announce'))).toHaveLength(10);
    w.api.remove('/api/v1', 'services', 'default', 'bgp5');
    await until(() => w.bgpUpdates.at(-1) === 9, 10_000, 'BGP route withdrawn');
    w.api.put('/apis/discovery.k8s.io/v1', 'endpointslices', slice('l23', true));
    await until(() => w.announced.has('10.100.0.3'), 10_000, 'announced again');
  }, 40_000);
});
