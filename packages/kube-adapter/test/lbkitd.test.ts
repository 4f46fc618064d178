/** The lbkitd binary (built dist) in controller mode on loopback: CLI errors, metrics, reloads, SIGTERM. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/cli/args.js';
import { ensureBuilt, LBKITD } from './interop/cluster.js';
import { FakeApiServer } from './fake-apiserver.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-lbkitd-'));
beforeAll(() => ensureBuilt(), 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('parseArgs', () => {
  it('parses flags and rejects bad ones with a clear message', () => {
    const a = parseArgs(['--config', 'x.yaml', '--node', 'n1', '--memberlist-bind', '10.0.0.1:7946', '--memberlist-join', '10.0.0.2:7946,10.0.0.3:7946', '--metrics-port=9999', '--drain-ms', '500'], {});
    expect(a).toMatchObject({ config: 'x.yaml', node: 'n1', memberlistJoin: ['10.0.0.2:7946', '10.0.0.3:7946'], metricsPort: 9999, drainMs: 500, mode: 'all' });
    expect(() => parseArgs(['--config', 'x', '--node', 'n', '--mode', 'both'], {})).toThrow(new UsageError('--mode: expected controller, speaker or all, got "both"'));
    expect(() => parseArgs(['--node', 'n'], {})).toThrow('one of --config, --kubeconfig or --in-cluster is required');
    expect(() => parseArgs(['--config', 'x'], {})).toThrow('--node is required');
    expect(() => parseArgs(['--config', 'x', '--node', 'n', '--metrics-port', '70000'], {})).toThrow('--metrics-port: expected an integer 0..65535');
    expect(parseArgs(['--mode', 'speaker'], { KUBERNETES_SERVICE_HOST: '10.0.0.1', METALLB_NODE_NAME: 'k1' })).toMatchObject({ inCluster: true, node: 'k1' });
  });

  it('memberlist timings and backends: lan + auto by default, fast on request, bad values named', () => {
    expect(parseArgs(['--config', 'x', '--node', 'n'], {})).toMatchObject({ memberlistTimings: 'fast', l2Backend: 'auto', membershipBackend: 'auto', bgpBackend: 'auto' });
    expect(parseArgs(['--config', 'x', '--node', 'n', '--memberlist-timings', 'fast', '--l2-backend=kernel'], {})).toMatchObject({ memberlistTimings: 'fast', l2Backend: 'kernel' });
    expect(() => parseArgs(['--config', 'x', '--node', 'n', '--memberlist-timings', 'wan'], {})).toThrow(new UsageError('--memberlist-timings: expected lan or fast, got "wan"'));
  });

  it('--l2-startup-grace-ms: 5000 by default, 0 turns the hold off, bad values named', () => {
    expect(parseArgs(['--config', 'x', '--node', 'n'], {}).l2StartupGraceMs).toBe(5000);
    expect(parseArgs(['--config', 'x', '--node', 'n', '--l2-startup-grace-ms', '0'], {}).l2StartupGraceMs).toBe(0);
    expect(parseArgs(['--config', 'x', '--node', 'n', '--l2-startup-grace-ms=1500'], {}).l2StartupGraceMs).toBe(1500);
    expect(() => parseArgs(['--config', 'x', '--node', 'n', '--l2-startup-grace-ms', '-1'], {})).toThrow(new UsageError('--l2-startup-grace-ms: expected an integer 0..600000, got "-1"'));
    expect(() => parseArgs(['--config', 'x', '--node', 'n', '--l2-startup-grace-ms', 'soon'], {})).toThrow(new UsageError('--l2-startup-grace-ms: expected an integer 0..600000, got "soon"'));
  });

  it('reports the lbkit L2 and membership backends as integrated (auto picks them)', async () => {
    const { availableBackends } = await import('../src/adapters/index.js');
    expect(await availableBackends()).toEqual({ l2: true, bgp: true, membership: true });
  });
});

describe('lbkitd process', () => {
  it('exits 2 with usage on bad arguments', () => {
    const r = spawnSync(process.execPath, [LBKITD, '--bogus'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('lbkitd: unknown option "--bogus"');
  });

  it('serves MetalLB metrics, keeps running on a broken file, exits 0 on SIGTERM', async () => {
    const f = join(dir, 'c.yaml');
    const state = join(dir, 'state.json');
    writeFileSync(f, 'kind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ["10.1.0.0/30"]}\n---\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, clusterIP: 10.96.0.9, ports: [{port: 80}]}\n');
    const port = await freePort();
    const p = spawn(process.execPath, [LBKITD, '--config', f, '--mode', 'controller', '--metrics-port', String(port), '--metrics-host', '127.0.0.1', '--state-file', state], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    try {
      const text = await until(async () => {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/metrics`);
          const t = await r.text();
          return t.includes('metallb_allocator_addresses_in_use_total{pool="p"} 1') ? t : undefined;
        } catch {
          return undefined;
        }
      });
      expect(text).toContain('metallb_allocator_addresses_total{pool="p"} 4');
      expect(text).toContain('# TYPE metallb_k8s_client_config_loaded_bool gauge');
      const st = JSON.parse(readFileSync(state, 'utf8'));
      expect(st.services).toEqual([{ service: 'default/s', ingress: ['10.1.0.0'], pool: 'p' }]);
      // JSON logs
      const lines = log.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
      expect(lines.some((l) => l.msg === 'service updated')).toBe(true);
      // broken file: logged, process alive, stale=1
      writeFileSync(f, 'kind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: ["nonsense"]}\n');
      await until(async () => ((await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes('metallb_k8s_client_config_stale_bool 1') ? true : undefined));
      await until(() => (log.includes('IPAddressPool metallb-system/p: spec.addresses[0]: invalid IP range \\"nonsense\\"') ? true : undefined));
      expect(p.exitCode).toBeNull();
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }, 60_000);

  it('--kubeconfig: a controller process assigns IPs through a Kubernetes API server', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.put('/apis/metallb.io/v1beta1', 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['10.20.0.0/31'] } });
    api.put('/api/v1', 'services', { apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 80, protocol: 'TCP' }] } });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{ name: fake, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: c, context: { cluster: fake, user: u } }]\ncurrent-context: c\n`,
    );
    const p = spawn(process.execPath, [LBKITD, '--kubeconfig', kubeconfig, '--mode', 'controller', '--metrics-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    try {
      const svc = await until(() => {
        const s = api.get('/api/v1', 'services', 'default', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip: string }> } } } | undefined;
        return s?.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
      });
      expect(svc.status!.loadBalancer!.ingress).toEqual([{ ip: '10.20.0.0' }]);
      await until(() => (api.list('/api/v1', 'events').some((e) => e.reason === 'IPAllocated') ? true : undefined));
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      await api.stop();
      if (process.env.KUBE_DEBUG) console.log(log);
    }
  }, 60_000);
  it('SIGTERM before the Kubernetes source synced (a required kind is forbidden): /readyz 503, /healthz 200, exits 0 at once', async () => {
    const api = new FakeApiServer();
    await api.start();
    api.addFault({ method: 'GET', path: '/ipaddresspools', status: 403 });
    const kubeconfig = join(dir, 'kubeconfig-403');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{ name: fake, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: c, context: { cluster: fake, user: u } }]\ncurrent-context: c\n`,
    );
    const port = await freePort();
    const p = spawn(process.execPath, [LBKITD, '--kubeconfig', kubeconfig, '--mode', 'controller', '--metrics-port', String(port), '--metrics-host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    try {
      await until(() => (log.includes('list failed, retrying with backoff') && log.includes('ipaddresspools') ? true : undefined));
      const code = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      expect(await code('/readyz')).toBe(503);
      expect(await code('/healthz')).toBe(200);
      const t0 = Date.now();
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(log).toContain('stopped before the source synced');
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      await api.stop();
    }
  }, 60_000);
});
