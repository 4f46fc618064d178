/**
 * The controller's per-Service cost cuts: the informer transform (stripped, structurally shared
 * objects), low-priority informational writes in the REST client, no re-convergence when only our
 * own write comes back through the watch, hashed event signatures, and lbkitd's heap tuning.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAllocator } from '../src/adapters/allocator.js';
import { heapTuningFor, DEFAULT_HEAP_GROWING_PERCENT } from '../src/cli/heap.js';
import { hash52 } from '../src/controller/event-dedup.js';
import { Daemon } from '../src/daemon.js';
import { internKey, jsonEqual, leanTransform, transformKindOf } from '../src/informer/transform.js';
import { RestClient } from '../src/kube/rest.js';
import { KubeSource } from '../src/source/kube.js';
import type { KubeObject } from '../src/types.js';
import { FakeApiServer, type Commit } from './fake-apiserver.js';
import { kubeconfigFor as kubeconfig } from './config-helpers.js';
import { until } from './helpers.js';

const CORE = '/api/v1';
const MLB = '/apis/metallb.io/v1beta1';
const NS = 'metallb-system';


let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  cleanup = [];
});

describe('informer transform', () => {
  const svc = (rv: string, ip?: string): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: 'u1',
        resourceVersion: rv,
        labels: { app: 'web' },
        annotations: { 'metallb.io/address-pool': 'p', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"blob"}', 'other.io/x': 'y' },
        managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
        ownerReferences: [{ kind: 'X' }],
      },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1', ports: [{ port: 80, protocol: 'TCP' }] },
      status: ip ? { loadBalancer: { ingress: [{ ip }] } } : { loadBalancer: {} },
    }) as unknown as KubeObject;

  it('keeps what lbkit reads: Services lose managedFields, owner references and foreign annotations', () => {
    const t = leanTransform('services');
    const o = t(svc('1'), undefined) as unknown as { metadata: Record<string, unknown>; spec: unknown };
    expect(o.metadata).toEqual({ name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '1', labels: { app: 'web' }, annotations: { 'metallb.io/address-pool': 'p' } });
    expect(o.spec).toEqual({ type: 'LoadBalancer', clusterIP: '10.96.0.1', ports: [{ port: 80, protocol: 'TCP' }] });
    // other kinds keep every annotation but kubectl's last-applied copy
    const other = leanTransform('other')(svc('1'), undefined) as unknown as { metadata: { annotations: Record<string, string> } };
    expect(other.metadata.annotations).toEqual({ 'metallb.io/address-pool': 'p', 'other.io/x': 'y' });
  });

  it('Nodes keep only conditions and addresses of their status', () => {
    const node = { metadata: { name: 'n1', labels: { a: 'b' } }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'False' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], images: [{ names: ['x'], sizeBytes: 1 }], nodeInfo: { kernelVersion: '6' } } };
    const o = leanTransform(transformKindOf('/api/v1/nodes'))(node as unknown as KubeObject, undefined) as unknown as { status: unknown };
    expect(o.status).toEqual({ conditions: node.status.conditions, addresses: node.status.addresses });
  });

  it('a new version shares every unchanged part with the stored one, and only those', () => {
    const t = leanTransform('services');
    const v1 = t(svc('1'), undefined) as unknown as Record<string, Record<string, unknown>>;
    const v2 = t(svc('2', '10.0.0.1'), v1 as unknown as KubeObject) as unknown as Record<string, Record<string, unknown>>;
    expect(v2.spec).toBe(v1.spec);
    expect(v2.metadata!.labels).toBe(v1.metadata!.labels);
    expect(v2.metadata!.annotations).toBe(v1.metadata!.annotations);
    expect(v2.status).not.toBe(v1.status);
    expect(v2.status).toEqual({ loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } });
    expect(v2.metadata!.resourceVersion).toBe('2');
    const changed = svc('3', '10.0.0.1') as unknown as { spec: { ports: Array<{ port: number }> } };
    changed.spec.ports[0]!.port = 443;
    const v3 = t(changed as unknown as KubeObject, v2 as unknown as KubeObject) as unknown as Record<string, Record<string, unknown>>;
    expect(v3.spec).not.toBe(v2.spec);
    expect((v3.spec as { ports: Array<{ port: number }> }).ports[0]!.port).toBe(443);
    expect(v3.status).toBe(v2.status);
  });

  it('jsonEqual and internKey', () => {
    expect(jsonEqual({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    const parts = ['ns1', 'svc-12345'];
    expect(internKey(`${parts[0]}/${parts[1]}`)).toBe('ns1/svc-12345');
    expect(internKey('')).toBe('');
    expect(internKey('42')).toBe('42');
  });
});

describe('REST client priorities', () => {
  it('a low-priority write waits while a normal one is in flight, then goes out', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.put(CORE, 'services', { metadata: { name: 'a', namespace: 'default' }, spec: {} });
    api.latencyMs = 150;
    const rest = new RestClient(kubeconfig(api.url));
    cleanup.push(() => rest.close(), () => api.stop());
    const order: string[] = [];
    api.onCommit = (c: Commit) => void order.push(c.coll.endsWith('/events') ? 'event' : 'status');
    const t0 = Date.now();
    const normal = rest.mergePatch('/api/v1/namespaces/default/services/a/status', { status: { loadBalancer: {} } }, { discardBody: true });
    await new Promise((r) => setTimeout(r, 10));
    const low = rest.request('POST', '/api/v1/namespaces/default/events', { metadata: { name: 'e1' }, reason: 'x' }, 'application/json', { priority: 'low' });
    expect(await normal).toBeUndefined();
    const created = (await low) as { metadata: { name: string } };
    expect(created.metadata.name).toBe('e1');
    expect(order).toEqual(['status', 'event']);
    // the event was held until the status write returned: two latencies, not one
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(rest.stats.lowDeferred).toBe(1);
  });

  it('a starving low-priority request still goes out while normal requests keep coming', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.put(CORE, 'services', { metadata: { name: 'a', namespace: 'default' }, spec: {} });
    api.latencyMs = 40;
    const rest = new RestClient(kubeconfig(api.url), { starveMs: 200 });
    cleanup.push(() => rest.close(), () => api.stop());
    let busy = true;
    const loop = (async () => {
      while (busy) await rest.request('GET', '/api/v1/namespaces/default/services/a');
    })();
    const loop2 = (async () => {
      await new Promise((r) => setTimeout(r, 20));
      while (busy) await rest.request('GET', '/api/v1/namespaces/default/services/a');
    })();
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    await rest.request('POST', '/api/v1/namespaces/default/events', { metadata: { name: 'e2' } }, 'application/json', { priority: 'low', discardBody: true });
    const waited = Date.now() - t0;
    busy = false;
    await Promise.all([loop, loop2]);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(2000);
    expect(api.get(CORE, 'events', 'default', 'e2')).toBeDefined();
  });
});

describe('controller loop: own writes coming back', () => {
  it('a status and pool annotation confirmed by the watch do not converge the Service again', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS }, spec: { addresses: ['10.10.0.0/24'] } });
    const n = 40;
    for (let i = 0; i < n; i++) api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: `s${i}`, namespace: 'default', uid: `u${i}` }, spec: { type: 'LoadBalancer', clusterIP: `10.96.0.${i + 1}`, clusterIPs: [`10.96.0.${i + 1}`], ports: [{ port: 80, protocol: 'TCP' }] } });
    const src = new KubeSource(kubeconfig(api.url), { namespace: NS, restartDelayMs: 50 });
    const dm = new Daemon({ source: src, node: '', mode: 'controller', allocator: createAllocator(), retryBaseMs: 20 });
    cleanup.push(
      () => dm.stop(),
      () => api.stop(),
    );
    await dm.start();
    const annotated = () => api.list(CORE, 'services').filter((s) => (s.metadata.annotations as Record<string, string> | undefined)?.['metallb.io/ip-allocated-from-pool'] === 'p').length;
    await until(() => annotated() === n, 20_000, 'all annotated');
    await until(() => dm.loop!.stats.skipped >= 2 * n, 5_000, 'both confirmations seen');
    // one convergence per Service: the status and the annotation coming back change nothing it reads
    expect(dm.loop!.stats.processed).toBe(n);
    expect(dm.loop!.depth().unconfirmed).toBe(0);
    // a real change still converges: a requested IP moves the Service
    const s0 = api.get(CORE, 'services', 'default', 's0')!;
    api.put(CORE, 'services', { ...s0, metadata: { ...s0.metadata, annotations: { ...(s0.metadata.annotations as object), 'metallb.io/loadBalancerIPs': '10.10.0.200' } } });
    await until(() => (api.get(CORE, 'services', 'default', 's0')?.status as { loadBalancer?: { ingress?: Array<{ ip: string }> } })?.loadBalancer?.ingress?.[0]?.ip === '10.10.0.200', 10_000, 's0 moved');
    expect(dm.loop!.stats.processed).toBeGreaterThan(n);
  });
});

describe('event signatures and heap tuning', () => {
  it('hash52 separates signatures and is never 0', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const h = hash52(`Normal\u0000IPAllocated\u0000Assigned IP ["10.${i >> 8}.${i & 255}.1"]`);
      expect(h).not.toBe(0);
      expect(Number.isSafeInteger(h)).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBe(20_000);
    expect(hash52('a')).toBe(hash52('a'));
  });

  it('lbkitd applies --heap-growing-percent by default, unless told otherwise', () => {
    expect(heapTuningFor({}, [])).toEqual({ growingPercent: DEFAULT_HEAP_GROWING_PERCENT });
    expect(heapTuningFor({ LBKITD_HEAP_GROWING_PERCENT: '50' }, [])).toEqual({ growingPercent: 50 });
    expect(heapTuningFor({ LBKITD_HEAP_GROWING_PERCENT: '0' }, []).growingPercent).toBeUndefined();
    expect(heapTuningFor({ LBKITD_HEAP_GROWING_PERCENT: 'off' }, []).growingPercent).toBeUndefined();
    expect(heapTuningFor({}, ['--heap-growing-percent=80']).growingPercent).toBeUndefined();
    const bad = heapTuningFor({ LBKITD_HEAP_GROWING_PERCENT: 'lots' }, []);
    expect(bad.growingPercent).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(bad.note).toMatch(/not an integer/);
  });
});
