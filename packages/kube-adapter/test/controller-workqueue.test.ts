/**
 * The work-queue controller through the real @kubernetes/client-node against test/fake-apiserver.ts:
 * small-size versions of the scale bench's paths (500 Services; 409/500 faults on writes; 410 after
 * compaction; a stalled watch; a forbidden optional kind; a forbidden required kind and stop()
 * before the sync; one event per change; retry after failure without any other change).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAllocator } from '../src/adapters/allocator.js';
import { Daemon } from '../src/daemon.js';
import type { Logger } from '../src/log.js';
import { KubeSource, type KubeSourceOptions } from '../src/source/kube.js';
import { FakeApiServer } from './fake-apiserver.js';
import { kubeconfigFor as kubeconfig } from './config-helpers.js';
import { until } from './helpers.js';

const CORE = '/api/v1';
const MLB = '/apis/metallb.io/v1beta1';
const NS = 'metallb-system';


function svc(i: number, ns = 'default') {
  return { apiVersion: 'v1', metadata: { name: `s${i}`, namespace: ns, uid: `u${i}` }, spec: { type: 'LoadBalancer', clusterIP: `10.96.${i >> 8}.${i & 255}`, clusterIPs: [`10.96.${i >> 8}.${i & 255}`], ports: [{ port: 80, protocol: 'TCP' }] } };
}

const ip = (api: FakeApiServer, name: string, ns = 'default') => (api.get(CORE, 'services', ns, name)?.status as { loadBalancer?: { ingress?: Array<{ ip: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;

function memLog(): Logger & { lines: Array<{ level: string; msg: string; f?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; f?: Record<string, unknown> }> = [];
  const l = { lines, log: (level: string, msg: string, f?: Record<string, unknown>) => void lines.push({ level, msg, f }), child: () => l };
  return l as never;
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

async function setup(opts: { services?: number; pool?: string; source?: KubeSourceOptions; api?: FakeApiServer } = {}) {
  const api = opts.api ?? new FakeApiServer();
  if (!api.url) await api.start();
  api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS }, spec: { addresses: [opts.pool ?? '10.10.0.0/22'] } });
  for (let i = 0; i < (opts.services ?? 0); i++) api.put(CORE, 'services', svc(i));
  const log = memLog();
  const src = new KubeSource(kubeconfig(api.url), { namespace: NS, restartDelayMs: 50, log, ...opts.source });
  const dm = new Daemon({ source: src, node: '', mode: 'controller', allocator: createAllocator(), log, retryBaseMs: 20 });
  cleanup.push(async () => {
    await dm.stop();
    await api.stop();
  });
  return { api, src, dm, log };
}

describe('work-queue controller against a list/watch API server (real client-node)', () => {
  it('520 Services (a paginated list): every one assigned, no duplicate IP, one IPAllocated event each, bounded write concurrency', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.latencyMs = 2;
    let inFlight = 0;
    let maxInFlight = 0;
    const orig = api['handle'].bind(api);
    api['handle'] = async (req: never, res: { on: (e: string, f: () => void) => void }) => {
      const write = (req as { method?: string }).method !== 'GET';
      if (write) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        res.on('finish', () => inFlight--);
      }
      return orig(req, res as never);
    };
    const { dm } = await setup({ services: 520, api });
    await dm.start();
    expect(api.requests.some((r) => r.path.startsWith('/api/v1/services?') && r.path.includes('continue='))).toBe(true);
    const ips = await until(() => {
      const all = Array.from({ length: 520 }, (_, i) => ip(api, `s${i}`));
      return all.every(Boolean) ? all : undefined;
    });
    expect(new Set(ips).size).toBe(520);
    await until(() => api.list(CORE, 'events').filter((e) => e.reason === 'IPAllocated').length >= 520);
    // re-converging (our own writes come back through the watch) posts no second event
    await new Promise((r) => setTimeout(r, 300));
    const evs = api.list(CORE, 'events').filter((e) => e.reason === 'IPAllocated');
    expect(evs).toHaveLength(520);
    expect(new Set(evs.map((e) => (e.involvedObject as { name: string }).name)).size).toBe(520);
    // writes: 16 status/annotation + 4 events at most (the server was slowed down to make them pile up)
    expect(maxInFlight).toBeLessThanOrEqual(20);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(dm.health()).toMatchObject({ ready: true, reasons: [] });
  }, 60_000);

  it('status writes failing with 500 then 409 are retried with backoff, without any other change, and readiness says so meanwhile', async () => {
    const api = new FakeApiServer();
    await api.start();
    const f500 = api.addFault({ method: 'PATCH', path: '/status', status: 500 });
    const { dm, log } = await setup({ services: 3, api });
    await dm.start();
    await until(() => dm.loop!.stats.writeErrors >= 6, 10_000, 'failed writes');
    expect(ip(api, 's0')).toBeUndefined();
    expect(dm.health().ready).toBe(false);
    expect(dm.health().reasons.join()).toContain('status write failing');
    // logged with backoff: not once per attempt
    const failures = log.lines.filter((l) => l.msg === 'status update failed, retrying with backoff').length;
    expect(failures).toBeLessThan(dm.loop!.stats.writeErrors);
    api.removeFault(f500);
    api.addFault({ method: 'PATCH', path: '/status', status: 409, times: 3 });
    // nothing else changes in the cluster: the retries alone get the IPs written
    await until(() => ['s0', 's1', 's2'].every((n) => ip(api, n)), 20_000, 'retried writes');
    expect(new Set(['s0', 's1', 's2'].map((n) => ip(api, n))).size).toBe(3);
    await until(() => dm.health().ready);
  }, 40_000);

  it('410 Gone after compaction: the reflector re-lists and misses nothing', async () => {
    const { api, dm, src } = await setup({ services: 2 });
    await dm.start();
    await until(() => ip(api, 's1'));
    // a change the watches miss, then the history is compacted past it: re-watching from the last
    // seen resourceVersion gets 410 Gone and the reflector must re-list
    api.stallWatches();
    api.put(CORE, 'services', svc(7));
    api.compact();
    api.unstall();
    api.dropWatches();
    await until(() => ip(api, 's7'), 10_000, 'service created around the compaction');
    expect(api.counts.gone).toBeGreaterThanOrEqual(1);
    expect(src.reflectorStats().services!.gone).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('a stalled watch (open, silent) is detected and re-opened; the change made meanwhile arrives', async () => {
    const { api, dm, src } = await setup({ services: 1, source: { stallMs: 400 } });
    await dm.start();
    await until(() => ip(api, 's0'));
    api.stallWatches();
    api.put(CORE, 'services', svc(9));
    await new Promise((r) => setTimeout(r, 150));
    expect(ip(api, 's9')).toBeUndefined();
    api.unstall();
    await until(() => ip(api, 's9'), 10_000, 'service created during the stall');
    expect(src.reflectorStats().services!.stalls).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('periodic re-list: a change no watch delivered is picked up by the resync', async () => {
    const { api, dm, src } = await setup({ services: 1, source: { stallMs: 0, resyncMs: 400 } });
    await dm.start();
    await until(() => ip(api, 's0'));
    api.stallWatches();
    api.put(CORE, 'services', svc(11));
    await until(() => ip(api, 's11'), 10_000, 'service seen by the resync only');
    expect(src.reflectorStats().services!.stalls).toBe(0);
    expect(src.reflectorStats().services!.lists).toBeGreaterThanOrEqual(2);
    api.unstall();
  }, 30_000);

  it('a forbidden optional kind (bfdprofiles 403) is logged once and blocks nothing', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.addFault({ method: 'GET', path: '/bfdprofiles', status: 403 });
    const { dm, src, log } = await setup({ services: 2, api });
    await dm.start();
    await until(() => ip(api, 's1'));
    await new Promise((r) => setTimeout(r, 600));
    expect(log.lines.filter((l) => l.msg.startsWith('optional kind unavailable'))).toHaveLength(1);
    expect(src.health().unavailable).toEqual(['bfdProfiles']);
    expect(dm.health().ready).toBe(true);
  }, 30_000);

  it('a forbidden required kind keeps the daemon unready; stop() before the sync returns at once', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.addFault({ method: 'GET', path: '/ipaddresspools', status: 403 });
    const { dm, log } = await setup({ services: 1, api });
    let failed: unknown;
    const started = dm.start().catch((e) => (failed = e));
    await until(() => log.lines.some((l) => l.msg === 'list failed, retrying with backoff'));
    expect(dm.health().ready).toBe(false);
    expect(dm.health().reasons.join()).toContain('HTTP 403');
    await new Promise((r) => setTimeout(r, 500));
    // retried with backoff, and the error is not logged on every retry
    const lines = log.lines.filter((l) => l.msg === 'list failed, retrying with backoff' && String(l.f?.path).includes('ipaddresspools'));
    expect(lines.length).toBeLessThan(4);
    const t0 = Date.now();
    await dm.stop();
    await started;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(String(failed)).toContain('stopped before the initial sync');
    expect(ip(api, 's0')).toBeUndefined();
  }, 30_000);

  it('one Warning per change: a Service that cannot get an IP gets AllocationFailed once, not on every pass', async () => {
    const { api, dm } = await setup({ services: 2, pool: '10.10.0.0/32' });
    await dm.start();
    await until(() => api.list(CORE, 'events').some((e) => e.reason === 'AllocationFailed'));
    // several passes: other services come and go (freeing nothing useful), config re-applied
    for (let i = 10; i < 15; i++) api.put(CORE, 'services', { ...svc(i), spec: { ...svc(i).spec, type: 'ClusterIP' } });
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS, labels: { touched: 'yes' } }, spec: { addresses: ['10.10.0.0/32'] } });
    await new Promise((r) => setTimeout(r, 500));
    await dm.settled();
    expect(dm.loop!.stats.processed).toBeGreaterThan(8);
    expect(api.list(CORE, 'events').filter((e) => e.reason === 'AllocationFailed')).toHaveLength(1);
    // a real change (the holder is deleted) → the pending one is converged again and assigned
    const holder = ip(api, 's0') ? 's0' : 's1';
    const waiting = holder === 's0' ? 's1' : 's0';
    api.remove(CORE, 'services', 'default', holder);
    await until(() => ip(api, waiting) === '10.10.0.0');
  }, 30_000);
});
