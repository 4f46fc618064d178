/** lbkitd's command line (util.parseArgs), environment, memberlist addresses and secrets, kubeconfig errors, --version. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinHostPort, loadMemberlistSecret, normalizeHostPort, parseArgs, UsageError } from '../src/cli/args.js';
import { KubeConfigError, loadKubeConfig } from '../src/cli/kubeconfig.js';
import { LbkitMembership, parseHostPort } from '../src/adapters/lbkit-membership.js';
import { ensureBuilt, LBKITD } from './interop/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-lbkitd-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = ['--config', 'x.yaml', '--node', 'n1'];

describe('lbkitd parseArgs (util.parseArgs)', () => {
  it('every flag, in both --flag value and --flag=value forms', () => {
    const a = parseArgs(
      [
        '--config=c.yaml', '--node', 'n1', '--mode', 'speaker', '--interface', 'eth0', '--interface=eth1',
        '--memberlist-bind', '10.0.0.1:7946', '--memberlist-join', '10.0.0.2:7946,10.0.0.3:7946', '--memberlist-join=10.0.0.4:1',
        '--memberlist-secret', 's3cret', '--memberlist-timings', 'fast', '--metrics-port', '9000', '--metrics-host', '127.0.0.1',
        '--namespace', 'lb', '--lb-class', 'cls', '--drain-ms', '250', '--l2-startup-grace-ms', '0', '--state-file', '/tmp/s.json',
        '--l2-backend', 'kernel', '--membership-backend', 'serf', '--bgp-backend', 'gobgp', '--ignore-exclude-lb', '--log-level', 'debug',
      ],
      {},
    );
    expect(a).toEqual({
      config: 'c.yaml', node: 'n1', inCluster: false, mode: 'speaker', interfaces: ['eth0', 'eth1'],
      memberlistBind: '10.0.0.1:7946', memberlistJoin: ['10.0.0.2:7946', '10.0.0.3:7946', '10.0.0.4:1'], memberlistSecret: 's3cret',
      memberlistTimings: 'fast', metricsPort: 9000, metricsHost: '127.0.0.1', namespace: 'lb', lbClass: 'cls', drainMs: 250,
      l2StartupGraceMs: 0, stateFile: '/tmp/s.json', l2Backend: 'kernel', membershipBackend: 'serf', bgpBackend: 'gobgp',
      ignoreExcludeLB: true, logLevel: 'debug', help: false, version: false,
    });
  });

  it('rejects unknown flags, missing values, stray arguments and values on switches, naming them', () => {
    expect(() => parseArgs([...base, '--bogus'], {})).toThrow(new UsageError('unknown option "--bogus"'));
    expect(() => parseArgs(['--config', '--node', 'n'], {})).toThrow(new UsageError('--config needs a value'));
    expect(() => parseArgs([...base, '--drain-ms'], {})).toThrow(new UsageError('--drain-ms needs a value'));
    expect(() => parseArgs([...base, 'extra'], {})).toThrow(new UsageError('unexpected argument "extra"'));
    expect(() => parseArgs([...base, '--in-cluster=yes'], {})).toThrow(new UsageError('--in-cluster takes no value'));
    expect(() => parseArgs([...base, '--log-level', 'trace'], {})).toThrow(new UsageError('--log-level: unknown level "trace"'));
    expect(() => parseArgs([...base, '--bgp-backend', 'frr'], {})).toThrow(new UsageError('--bgp-backend: expected auto, lbkit or gobgp, got "frr"'));
    expect(() => parseArgs(['--config', 'x', '--kubeconfig', 'y', '--node', 'n'], {})).toThrow('mutually exclusive');
    // an inline value may start with dashes
    expect(parseArgs([...base, '--lb-class=--odd'], {}).lbClass).toBe('--odd');
  });

  it('--l2-drain-ms: the L2 drain window after a hand-over (unset = the backend default), separate from --drain-ms', () => {
    expect(parseArgs(base, {}).l2DrainMs).toBeUndefined();
    expect(parseArgs([...base, '--l2-drain-ms', '0'], {})).toMatchObject({ l2DrainMs: 0, drainMs: 0 });
    expect(parseArgs([...base, '--l2-drain-ms=60000', '--drain-ms', '2000'], {})).toMatchObject({ l2DrainMs: 60_000, drainMs: 2000 });
    expect(() => parseArgs([...base, '--l2-drain-ms', '-1'], {})).toThrow(new UsageError('--l2-drain-ms: expected an integer 0..3600000, got "-1"'));
  });

  it('--help and --version need no source', () => {
    expect(parseArgs(['--version'], {})).toMatchObject({ version: true, help: false });
    expect(parseArgs(['-h'], {})).toMatchObject({ help: true });
  });

  it('memberlist addresses: an unbracketed IPv6 HOST:PORT (what $(HOST_IP):7946 gives on an IPv6 node) is accepted and bracketed', () => {
    expect(parseArgs([...base, '--memberlist-bind=fd00::11:7946'], {}).memberlistBind).toBe('[fd00::11]:7946');
    expect(parseArgs([...base, '--memberlist-bind', '[fd00::11]:7946'], {}).memberlistBind).toBe('[fd00::11]:7946');
    expect(parseArgs([...base, '--memberlist-join', 'fd00::12:7946,[fd00::13]:7946,10.0.0.1:7946'], {}).memberlistJoin).toEqual(['[fd00::12]:7946', '[fd00::13]:7946', '10.0.0.1:7946']);
    // the form the memberlist adapter parses: the bracketed address round-trips to the same IP and port
    expect(parseHostPort(normalizeHostPort('fd00::11:7946', 'x'), 'bind')).toEqual({ addr: 'fd00::11', port: 7946 });
    expect(() => parseHostPort('fd00::11:7946', 'bind')).toThrow('expected IP:PORT or [IPv6]:PORT');
    for (const bad of ['10.0.0.1', 'fd00::zz:7946', '[10.0.0.1]:7946', '10.0.0.1:99999', ':7946', '[fd00::1]'])
      expect(() => parseArgs([...base, '--memberlist-bind', bad], {}), bad).toThrow(new UsageError(`--memberlist-bind: expected HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(bad)}`));
    expect(joinHostPort('fd00::1', 7946)).toBe('[fd00::1]:7946');
    expect(joinHostPort('10.0.0.1', '7946')).toBe('10.0.0.1:7946');
  });

  it("memberlist from MetalLB's environment: bind address/port, secret value, secret path; flags win", () => {
    const env = { METALLB_ML_BIND_ADDR: 'fd00::11', METALLB_ML_SECRET_KEY: 'from-env' };
    expect(parseArgs(base, env)).toMatchObject({ memberlistBind: '[fd00::11]:7946', memberlistSecret: 'from-env' });
    expect(parseArgs(base, { METALLB_ML_BIND_ADDR: '10.1.1.1', METALLB_ML_BIND_PORT: '8000' }).memberlistBind).toBe('10.1.1.1:8000');
    expect(parseArgs([...base, '--memberlist-bind', '10.0.0.9:7946', '--memberlist-secret', 'flag'], env)).toMatchObject({ memberlistBind: '10.0.0.9:7946', memberlistSecret: 'flag' });
    expect(() => parseArgs(base, { METALLB_ML_BIND_ADDR: 'nonsense::' })).toThrow('$METALLB_ML_BIND_ADDR/$METALLB_ML_BIND_PORT');
    // MetalLB mounts the Secret as a directory holding "secretkey"
    const d = join(dir, 'mlsecret');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'secretkey'), 'dir-secret\n');
    const a = parseArgs(base, { METALLB_ML_SECRET_KEY_PATH: d });
    expect(a.memberlistSecret).toBeUndefined();
    loadMemberlistSecret(a);
    expect(a.memberlistSecret).toBe('dir-secret');
    writeFileSync(join(dir, 'plain'), 'file-secret');
    const b = parseArgs([...base, '--memberlist-secret-file', join(dir, 'plain')], {});
    loadMemberlistSecret(b);
    expect(b.memberlistSecret).toBe('file-secret');
    const c = parseArgs([...base, '--memberlist-secret-file', join(dir, 'absent')], {});
    expect(() => loadMemberlistSecret(c)).toThrow(`memberlist secret: cannot read ${join(dir, 'absent')}`);
  });
});

describe('loadKubeConfig', () => {
  it('--in-cluster outside a pod: one clear error, no client built', () => {
    expect(() => loadKubeConfig(undefined, {})).toThrow(new KubeConfigError('--in-cluster: not running in a Kubernetes pod ($KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT not set); use --kubeconfig PATH or --config FILE outside a cluster'));
    expect(() => loadKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, () => false)).toThrow('no service-account token');
    // in a pod (client-node reads process.env itself): the service address becomes the server URL
    const saved = { h: process.env.KUBERNETES_SERVICE_HOST, p: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    try {
      expect(loadKubeConfig(undefined, process.env, () => true).getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.h], ['KUBERNETES_SERVICE_PORT', saved.p]] as const) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('kubeconfig: missing file, no context, bad server URL are named', () => {
    expect(() => loadKubeConfig(join(dir, 'nope'))).toThrow(new KubeConfigError(`--kubeconfig: ${join(dir, 'nope')}: no such file`));
    const f = join(dir, 'kc-noctx');
    writeFileSync(f, 'apiVersion: v1\nkind: Config\nclusters: [{ name: a, cluster: { server: "https://127.0.0.1:6443" } }]\nusers: []\ncontexts: []\n');
    expect(() => loadKubeConfig(f)).toThrow(`--kubeconfig: ${f}: no current-context`);
    const g = join(dir, 'kc-badurl');
    writeFileSync(g, 'apiVersion: v1\nkind: Config\nclusters: [{ name: a, cluster: { server: "not a url" } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: c, context: { cluster: a, user: u } }]\ncurrent-context: c\n');
    expect(() => loadKubeConfig(g)).toThrow(`cluster "a": invalid server URL "not a url"`);
  });
});

describe('lbkitd process: startup errors and --version', () => {
  beforeAll(() => ensureBuilt(), 300_000);
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [LBKITD, ...args], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH, ...env } });

  it('--version prints the package version', () => {
    const r = run(['--version']);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`lbkitd ${pkg.version}\n`);
  });

  it('--in-cluster outside a pod and a missing kubeconfig exit 1 with one line, no stack trace, no retry loop', () => {
    const a = run(['--in-cluster', '--mode', 'controller', '--metrics-port', '0']);
    expect(a.status).toBe(1);
    expect(a.stderr).toBe('lbkitd: --in-cluster: not running in a Kubernetes pod ($KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT not set); use --kubeconfig PATH or --config FILE outside a cluster\n');
    const b = run(['--kubeconfig', join(dir, 'missing'), '--mode', 'controller', '--metrics-port', '0']);
    expect(b.status).toBe(1);
    expect(b.stderr).toBe(`lbkitd: --kubeconfig: ${join(dir, 'missing')}: no such file\n`);
  });
});

describe('memberlist on an IPv6 node, configured as the speaker manifest does (environment only)', () => {
  beforeAll(() => ensureBuilt(), 300_000);
  it('METALLB_ML_BIND_ADDR=::1 binds [::1], a second speaker joins it there (both keyed from the env Secret value)', async () => {
    const env = (port: string) => ({ METALLB_NODE_NAME: '', METALLB_ML_BIND_ADDR: '::1', METALLB_ML_BIND_PORT: port, METALLB_ML_SECRET_KEY: 'k8s-secret-value' });
    const a1 = parseArgs(['--in-cluster', '--mode=speaker', '--node', 'v6-a'], env('0'));
    expect(a1.memberlistBind).toBe('[::1]:0');
    const ms: LbkitMembership[] = [];
    try {
      const a = new LbkitMembership({ node: 'v6-a', bind: a1.memberlistBind!, join: [], secret: a1.memberlistSecret, timings: 'fast', reportIntervalMs: 0 });
      ms.push(a);
      await a.start();
      expect(a.address).toMatchObject({ addr: '::1' });
      const a2 = parseArgs(['--in-cluster', '--mode=speaker', '--node', 'v6-b', `--memberlist-join=::1:${a.address!.port}`], env('0'));
      expect(a2.memberlistJoin).toEqual([`[::1]:${a.address!.port}`]);
      const b = new LbkitMembership({ node: 'v6-b', bind: a2.memberlistBind!, join: a2.memberlistJoin, secret: a2.memberlistSecret, timings: 'fast', reportIntervalMs: 0 });
      ms.push(b);
      await b.start();
      const t0 = Date.now();
      while (!(a.members().length === 2 && b.members().length === 2) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      expect(a.members()).toEqual(['v6-a', 'v6-b']);
      expect(b.members()).toEqual(['v6-a', 'v6-b']);
    } finally {
      for (const m of ms) await m.close();
    }
  }, 30_000);
});
