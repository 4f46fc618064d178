import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeSource } from '../src/source/kube.js';
import type { Snapshot } from '../src/types.js';
import { FakeApiServer } from './fake-apiserver.js';
import { kubeconfigFor } from './config-helpers.js';

async function waitFor<T>(fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error('timeout waiting for condition');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const NS = 'metallb-system';
const CORE = '/api/v1';
const MLB = '/apis/metallb.io/v1beta1';

describe('KubeSource against a list/watch API server (real @kubernetes/client-node)', () => {
  let api: FakeApiServer;
  let src: KubeSource;

  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, protocol: 'TCP' }] } });
    api.put(CORE, 'nodes', { apiVersion: 'v1', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'pool1', namespace: NS }, spec: { addresses: ['192.168.10.0/24'] } });
    api.put('/apis/metallb.io/v1beta2', 'bgppeers', { apiVersion: 'metallb.io/v1beta2', metadata: { name: 'r1', namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1' } });
    src = new KubeSource(kubeconfigFor(api.url), { namespace: NS, restartDelayMs: 200 });
  });

  afterEach(async () => {
    await src.stop();
    await api.stop();
  });

  it('lists every kind, then follows watch events', async () => {
    const changes: Snapshot[] = [];
    src.onChange((s) => changes.push(s));
    await src.start();
    const s = src.snapshot();
    expect(s.services.map((x) => x.metadata?.name)).toEqual(['web']);
    expect(s.nodes.map((x) => x.metadata?.name)).toEqual(['n1']);
    expect(s.pools.map((x) => x.spec?.addresses)).toEqual([['192.168.10.0/24']]);
    expect(s.bgpPeers.map((x) => x.spec?.peerAddress)).toEqual(['10.0.0.1']);
    // the watch requests went to the right paths
    await waitFor(() => api.requests.some((r) => r.path.startsWith('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools?') && r.path.includes('watch=true')));

    api.put(MLB, 'l2advertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2', namespace: NS }, spec: { interfaces: ['eth0'] } });
    api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: 'db', namespace: 'prod' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.6', ports: [{ port: 5432 }] } });
    const before = changes.length;
    // change notifications are coalesced (10 ms): wait for the one that carries both puts
    const added = await waitFor(() => changes.slice(before).find((c) => c.services.length === 2 && c.l2Advertisements.length === 1));
    expect(added.l2Advertisements[0]!.spec!.interfaces).toEqual(['eth0']);
    expect(src.snapshot().services.map((x) => x.metadata?.name).sort()).toEqual(['db', 'web']);
    const afterAdd = changes.length;
    api.remove(CORE, 'services', 'prod', 'db');
    // the removal is announced by a later notification of its own
    const removed = await waitFor(() => changes.slice(afterAdd).find((c) => c.services.length === 1));
    expect(removed.services.map((x) => x.metadata?.name)).toEqual(['web']);
  });

  it('writes status (merge PATCH on /status) and the pool annotation (merge PATCH), Events, and speaker status CRs', async () => {
    await src.start();
    const svc = structuredClone(src.snapshot().services[0]!);
    svc.status = { loadBalancer: { ingress: [{ ip: '192.168.10.0' }] } };
    svc.metadata!.annotations = { 'metallb.io/ip-allocated-from-pool': 'pool1' };
    await src.statusWriter.updateServiceStatus(svc);
    // the status is written before updateServiceStatus resolves; the pool annotation follows behind
    expect((api.get(CORE, 'services', 'default', 'web')!.status as { loadBalancer: unknown }).loadBalancer).toEqual({ ingress: [{ ip: '192.168.10.0' }] });
    await src.flushWrites();
    const stored = api.get(CORE, 'services', 'default', 'web')!;
    expect((stored.status as { loadBalancer: unknown }).loadBalancer).toEqual({ ingress: [{ ip: '192.168.10.0' }] });
    expect((stored.metadata.annotations as Record<string, string>)['metallb.io/ip-allocated-from-pool']).toBe('pool1');
    const patch = api.requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/default/services/web')!;
    expect(patch.contentType).toContain('application/merge-patch+json');
    // status through the status subresource (merge patch: no read-modify-write, no 409 on a stale copy)
    const st = api.requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/default/services/web/status')!;
    expect(st.contentType).toContain('application/merge-patch+json');
    expect(st.body).toEqual({ status: { loadBalancer: { ingress: [{ ip: '192.168.10.0' }] } } });
    // the informer sees the write
    await waitFor(() => src.snapshot().services[0]!.status?.loadBalancer?.ingress?.[0]?.ip === '192.168.10.0' && src.snapshot().services[0]!.metadata?.annotations?.['metallb.io/ip-allocated-from-pool'] === 'pool1');

    // clearing removes the annotation
    const cleared = structuredClone(src.snapshot().services[0]!);
    cleared.status = { loadBalancer: {} };
    delete cleared.metadata!.annotations!['metallb.io/ip-allocated-from-pool'];
    await src.statusWriter.updateServiceStatus(cleared);
    await src.flushWrites();
    expect((api.get(CORE, 'services', 'default', 'web')!.metadata.annotations ?? {}) as Record<string, string>).not.toHaveProperty('metallb.io/ip-allocated-from-pool');

    src.events.event(svc, 'Normal', 'IPAllocated', 'Assigned IP ["192.168.10.0"]');
    const ev = await waitFor(() => api.list(CORE, 'events')[0]);
    expect(ev).toMatchObject({ reason: 'IPAllocated', type: 'Normal', message: 'Assigned IP ["192.168.10.0"]', involvedObject: { kind: 'Service', name: 'web', namespace: 'default' } });

    src.speakerStatus.setL2Status(svc, 'n1', ['eth0']);
    await src.flushWrites();
    let l2 = api.list(MLB, 'servicel2statuses');
    expect(l2).toHaveLength(1);
    expect(l2[0]!.metadata.name).toMatch(/^l2-/);
    expect(l2[0]!.metadata.labels).toEqual({ 'metallb.io/node': 'n1', 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' });
    expect(l2[0]!.status).toEqual({ node: 'n1', serviceName: 'web', serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] });
    src.speakerStatus.setL2Status(svc, 'n1', []);
    await src.flushWrites();
    l2 = api.list(MLB, 'servicel2statuses');
    expect(l2).toHaveLength(1);
    expect(l2[0]!.status).toMatchObject({ interfaces: [] });
    src.speakerStatus.setL2Status(svc, 'n1', null);
    await src.flushWrites();
    expect(api.list(MLB, 'servicel2statuses')).toHaveLength(0);

    src.speakerStatus.setBgpStatus(svc, 'n1', ['r1']);
    await src.flushWrites();
    const b = api.list(MLB, 'servicebgpstatuses');
    expect(b[0]!.status).toEqual({ node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] });
  });

  it('start() waits until every kind has been listed once (a failing CRD list never looks like "no pools")', async () => {
    api.failing.add(`${MLB}/ipaddresspools`);
    let started = false;
    const p = src.start().then(() => (started = true));
    await new Promise((r) => setTimeout(r, 700));
    expect(started).toBe(false);
    api.failing.clear();
    await p;
    expect(src.snapshot().pools).toHaveLength(1);
  });

  it('survives the API server dropping watches (informer restarts)', async () => {
    await src.start();
    // drop all connections: informers error out and restart
    api['server']!.closeAllConnections();
    await new Promise((r) => setTimeout(r, 300));
    api.put(CORE, 'nodes', { apiVersion: 'v1', metadata: { name: 'n2' } });
    await waitFor(() => src.snapshot().nodes.length === 2);
  });
});
