/**
 * `lbkitd --leader-elect`: two controller processes (built dist) against test/fake-apiserver.ts,
 * each with its own bearer token so the server can tell who wrote. Only the Lease holder writes
 * Service status; after the leader is SIGKILLed (no release) the standby takes the Lease once it
 * expired and assigns a Service created meanwhile; a SIGTERMed leader releases the Lease at once.
 * Lease durations are shortened through LBKITD_LEADER_ELECT_*_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args.js';
import { FakeApiServer } from './fake-apiserver.js';
import { until } from './helpers.js';
import { ensureBuilt, LBKITD } from './interop/cluster.js';

const CORE = '/api/v1';
const LEASES = '/apis/coordination.k8s.io/v1';
const NS = 'metallb-system';
const dir = mkdtempSync(join(tmpdir(), 'lbkit-leader-'));
beforeAll(() => ensureBuilt(), 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function svc(name: string, ip: string) {
  return { apiVersion: 'v1', metadata: { name, namespace: 'default', uid: `u-${name}` }, spec: { type: 'LoadBalancer', clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80, protocol: 'TCP' }] } };
}

const ingress = (api: FakeApiServer, name: string) => (api.get(CORE, 'services', 'default', name)?.status as { loadBalancer?: { ingress?: Array<{ ip: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;
const holder = (api: FakeApiServer) => (api.get(LEASES, 'leases', NS, 'lbkit-controller')?.spec as { holderIdentity?: string | null } | undefined)?.holderIdentity ?? null;
const statusWriters = (api: FakeApiServer, from = 0) => new Set(api.requests.slice(from).filter((r) => r.method === 'PATCH' && r.path.endsWith('/status') && r.path.includes('/services/')).map((r) => r.auth));

describe('lbkitd --leader-elect (Lease)', () => {
  it('only the leader writes; the standby takes over after the leader is killed; SIGTERM releases the Lease', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.put('/apis/metallb.io/v1beta1', 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS }, spec: { addresses: ['10.30.0.0/24'] } });
    for (let i = 0; i < 5; i++) api.put(CORE, 'services', svc(`s${i}`, `10.96.0.${i + 1}`));
    const procs: Record<string, ChildProcess> = {};
    const logs: Record<string, string> = { a: '', b: '' };
    const start = (who: string) => {
      const kc = join(dir, `kc-${who}`);
      writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters: [{ name: fake, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: token-${who} } }]\ncontexts: [{ name: c, context: { cluster: fake, user: u } }]\ncurrent-context: c\n`);
      const p = spawn(process.execPath, [LBKITD, '--kubeconfig', kc, '--mode', 'controller', '--metrics-port', '0', '--leader-elect', '--log-level', 'info'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, METALLB_POD_NAME: `ctl-${who}`, LBKITD_LEADER_ELECT_LEASE_MS: '2000', LBKITD_LEADER_ELECT_RENEW_MS: '1500', LBKITD_LEADER_ELECT_RETRY_MS: '250' },
      });
      p.stdout!.on('data', (d: Buffer) => (logs[who] += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (logs[who] += d.toString()));
      procs[who] = p;
      return p;
    };
    try {
      start('a');
      await until(() => holder(api)?.startsWith('ctl-a_'), 20_000, 'a leads');
      start('b');
      await until(() => Array.from({ length: 5 }, (_, i) => ingress(api, `s${i}`)).every(Boolean), 20_000, 'all assigned');
      await until(() => logs.b.includes('waiting for the leader lease'), 20_000, 'b waits');
      // b stays a standby for a few lease periods: it writes nothing
      api.put(CORE, 'services', svc('late', '10.96.0.50'));
      await until(() => ingress(api, 'late'), 10_000, 'late assigned by the leader');
      await new Promise((r) => setTimeout(r, 1500));
      expect(statusWriters(api)).toEqual(new Set(['Bearer token-a']));
      expect(holder(api)).toMatch(/^ctl-a_/);
      // the leader dies without releasing: b takes over after the lease expired
      const mark = api.requests.length;
      procs.a!.kill('SIGKILL');
      const t0 = Date.now();
      await until(() => holder(api)?.startsWith('ctl-b_'), 20_000, 'b leads');
      const takeover = Date.now() - t0;
      expect(takeover).toBeGreaterThanOrEqual(1500);
      api.put(CORE, 'services', svc('after', '10.96.0.60'));
      await until(() => ingress(api, 'after'), 20_000, 'after assigned by the new leader');
      expect(statusWriters(api, mark)).toEqual(new Set(['Bearer token-b']));
      // the new leader kept every existing assignment
      for (let i = 0; i < 5; i++) expect(ingress(api, `s${i}`)).toMatch(/^10\.30\.0\./);
      expect(new Set([...Array.from({ length: 5 }, (_, i) => ingress(api, `s${i}`)), ingress(api, 'late'), ingress(api, 'after')]).size).toBe(7);
      const lease = api.get(LEASES, 'leases', NS, 'lbkit-controller')!.spec as { leaseTransitions: number };
      expect(lease.leaseTransitions).toBe(1);
      // a planned stop releases the Lease (no holder) before exiting 0
      const exited = new Promise<number | null>((r) => procs.b!.on('exit', (c) => r(c)));
      procs.b!.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(holder(api)).toBeNull();
    } finally {
      for (const p of Object.values(procs)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await api.stop();
      if (process.env.KUBE_DEBUG) console.log(logs);
    }
  }, 90_000);

  it('--leader-elect is refused without --mode controller and a Kubernetes source', async () => {
    expect(parseArgs(['--kubeconfig', 'k', '--node', 'n1', '--mode', 'controller', '--leader-elect'], {}).leaderElect).toBe(true);
    expect(parseArgs(['--kubeconfig', 'k', '--node', 'n1', '--mode', 'controller'], {}).leaderElect).toBeUndefined();
    const p = spawn(process.execPath, [LBKITD, '--config', join(dir, 'x.yaml'), '--node', 'n1', '--leader-elect'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('--leader-elect needs --mode controller');
  }, 30_000);
});
