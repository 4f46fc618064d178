/** The fake API server itself behaves like kube-apiserver where the tests and benches rely on it. */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from './fake-apiserver.js';

let api: FakeApiServer;
afterEach(async () => api?.stop());

const svc = (name: string) => ({ apiVersion: 'v1', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer' } });

async function req(method: string, path: string, body?: unknown, type = 'application/json') {
  const r = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': type }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { code: r.status, body: (await r.json()) as Record<string, any> };
}

async function watchLines(path: string, ms: number): Promise<Array<{ type: string; object: Record<string, any> }>> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  const lines: string[] = [];
  try {
    const r = await fetch(`${api.url}${path}`, { signal: ctl.signal });
    const dec = new TextDecoder();
    let buf = '';
    for await (const ch of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(ch);
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts.filter(Boolean));
    }
  } catch {
    /* aborted */
  } finally {
    clearTimeout(t);
  }
  return lines.map((l) => JSON.parse(l));
}

describe('FakeApiServer', () => {
  it('409 on a stale resourceVersion; the status subresource and the object are written apart', async () => {
    api = new FakeApiServer();
    await api.start();
    const o = api.put('/api/v1', 'services', svc('a'));
    const stale = o.metadata.resourceVersion;
    const ok = await req('PUT', '/api/v1/namespaces/default/services/a/status', { ...o, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } });
    expect(ok.code).toBe(200);
    const conflict = await req('PUT', '/api/v1/namespaces/default/services/a', { ...o, metadata: { ...o.metadata, resourceVersion: stale } });
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    // a patch of the object never touches status; a patch of /status never touches the rest
    await req('PATCH', '/api/v1/namespaces/default/services/a', { metadata: { labels: { x: 'y' } }, status: { loadBalancer: {} } }, 'application/merge-patch+json');
    expect(api.get('/api/v1', 'services', 'default', 'a')!.status).toEqual({ loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } });
    await req('PATCH', '/api/v1/namespaces/default/services/a/status', { metadata: { labels: { x: 'z' } }, status: { loadBalancer: { ingress: null } } }, 'application/merge-patch+json');
    const now = api.get('/api/v1', 'services', 'default', 'a')!;
    expect(now.metadata.labels).toEqual({ x: 'y' });
    expect(now.status).toEqual({ loadBalancer: {} });
  });

  it('pagination with limit/continue; 410 for a watch from a compacted resourceVersion; timeoutSeconds ends a watch', async () => {
    api = new FakeApiServer();
    await api.start();
    for (let i = 0; i < 5; i++) api.put('/api/v1', 'services', svc(`s${i}`));
    const p1 = await req('GET', '/api/v1/services?limit=2');
    expect(p1.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['s0', 's1']);
    const p2 = await req('GET', `/api/v1/services?limit=2&continue=${p1.body.metadata.continue}`);
    expect(p2.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['s2', 's3']);
    expect(p2.body.metadata.resourceVersion).toBe(p1.body.metadata.resourceVersion);
    const old = Number(p1.body.metadata.resourceVersion) - 3;
    const replay = await watchLines(`/api/v1/services?watch=true&resourceVersion=${old}&timeoutSeconds=1`, 3000);
    expect(replay.map((e) => e.object.metadata.name)).toEqual(['s2', 's3', 's4']);
    api.put('/api/v1', 'services', svc('s5'));
    api.compact();
    const gone = await watchLines(`/api/v1/services?watch=true&resourceVersion=${old}`, 3000);
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    expect((await req('GET', `/api/v1/services?limit=2&continue=${p1.body.metadata.continue}`)).code).toBe(410);
  });

  it('injected faults (count-limited), and a stalled watch that stays open and silent', async () => {
    api = new FakeApiServer();
    await api.start();
    api.addFault({ method: 'GET', path: '/services', status: 503, times: 2 });
    expect((await req('GET', '/api/v1/services')).code).toBe(503);
    expect((await req('GET', '/api/v1/services')).code).toBe(503);
    expect((await req('GET', '/api/v1/services')).code).toBe(200);
    api.stallWatches();
    const pending = watchLines('/api/v1/services?watch=true', 400);
    await new Promise((r) => setTimeout(r, 50));
    api.put('/api/v1', 'services', svc('late'));
    expect(await pending).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(api.watchCount).toBe(0);
  });

  it('coordination.k8s.io/v1 Leases: create, 409 AlreadyExists, PUT with the current resourceVersion, 409 Conflict on a stale one', async () => {
    api = new FakeApiServer();
    await api.start();
    const base = '/apis/coordination.k8s.io/v1/namespaces/ns/leases';
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
    const created = await req('POST', base, lease);
    expect(created.code).toBe(201);
    expect(created.body.kind).toBe('Lease');
    expect((await req('POST', base, lease)).code).toBe(409);
    const rv = created.body.metadata.resourceVersion as string;
    const mine = await req('PUT', `${base}/l`, { ...lease, metadata: { name: 'l', resourceVersion: rv }, spec: { holderIdentity: 'b', leaseDurationSeconds: 15 } });
    expect(mine.code).toBe(200);
    expect(mine.body.spec.holderIdentity).toBe('b');
    expect(mine.body.metadata).toMatchObject({ name: 'l', namespace: 'ns' });
    const stale = await req('PUT', `${base}/l`, { ...lease, metadata: { name: 'l', resourceVersion: rv }, spec: { holderIdentity: 'c', leaseDurationSeconds: 15 } });
    expect(stale.code).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect((api.get('/apis/coordination.k8s.io/v1', 'leases', 'ns', 'l')!.spec as { holderIdentity: string }).holderIdentity).toBe('b');
  });
});
