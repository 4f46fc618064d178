/**
 * `lbkitd --check` and the startup rule (issue #12): a config file is validated (YAML, CRD schemas,
 * MetalLB rules) with every problem naming the object and field; an invalid file at start makes
 * the daemon exit non-zero instead of running with no config. Also `--webhook-port` end to end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigText, formatCheck } from '../src/validation/check.js';
import { parseArgs } from '../src/cli/args.js';
import { ensureBuilt, LBKITD } from './interop/cluster.js';
import { LbkitMembership } from '../src/adapters/lbkit-membership.js';

const GOOD = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool1 }
spec: { addresses: ["192.168.10.0/24"] }
---
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: { name: old }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.0.0.1 }
`;
const TYPO = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool1 }
spec: { addresses: ["192.168.10.0/24"], autoAsign: false }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool2 }
spec: { addresses: ["192.168.10.128/25"] }
`;

describe('checkConfigText', () => {
  it('valid: counts objects and warns about the deprecated BGPPeer v1beta1', () => {
    const r = checkConfigText(GOOD, 'c.yaml');
    expect(r).toEqual({ ok: true, problems: [], warnings: ['BGPPeer metallb-system/old: apiVersion: v1beta1 is deprecated, please use v1beta2'], summary: '1 IPAddressPool, 1 BGPPeer' });
    expect(formatCheck('c.yaml', r)).toBe('c.yaml: OK (1 IPAddressPool, 1 BGPPeer)\n  warning: BGPPeer metallb-system/old: apiVersion: v1beta1 is deprecated, please use v1beta2\n');
  });
  it('invalid: every problem with object and field; YAML errors name the document', () => {
    const r = checkConfigText(TYPO, 'c.yaml');
    expect(r.ok).toBe(false);
    // pool1 fails its schema and is left out, so pool2 is valid on its own
    expect(r.problems).toEqual(['IPAddressPool metallb-system/pool1: spec.autoAsign: unknown field "autoAsign"']);
    const y = checkConfigText('kind: IPAddressPool\nmetadata: {name: x\n', 'c.yaml');
    expect(y.ok).toBe(false);
    expect(y.problems[0]).toMatch(/^c\.yaml: document 1: YAML syntax error/);
  });
});

describe('lbkitd --check / invalid config at start (built binary)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lbkit-check-'));
    writeFileSync(join(dir, 'good.yaml'), GOOD);
    writeFileSync(join(dir, 'typo.yaml'), TYPO);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--check exits 0 for a valid file and 1 naming object and field otherwise', () => {
    const ok = spawnSync(process.execPath, [LBKITD, '--check', '--config', join(dir, 'good.yaml')], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('good.yaml: OK (1 IPAddressPool, 1 BGPPeer)');
    const bad = spawnSync(process.execPath, [LBKITD, '--check', '--config', join(dir, 'typo.yaml')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('typo.yaml: 1 problem\n  IPAddressPool metallb-system/pool1: spec.autoAsign: unknown field "autoAsign"');
    expect(() => parseArgs(['--check'], {})).toThrow('--check needs --config FILE');
    expect(parseArgs(['--check', '--config', 'x.yaml'], {})).toMatchObject({ check: true, config: 'x.yaml' }); // no --node needed
  });

  it('the daemon refuses to start on an invalid file (exit 1, problems logged)', () => {
    const r = spawnSync(process.execPath, [LBKITD, '--config', join(dir, 'typo.yaml'), '--mode', 'controller', '--metrics-port', '0'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    // JSON log lines (pino: stderr; stdout too in case the destination changes)
    const line = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'invalid configuration, not starting');
    expect(line?.problems).toEqual(['IPAddressPool metallb-system/pool1: spec.autoAsign: unknown field "autoAsign"']);
  });

  it('a speaker boots memberlist while it reads its config but joins only once it can announce: refusing an invalid file, it never joined', async () => {
    const msgs: string[] = [];
    const log = { log: (_l: string, msg: string, f?: Record<string, unknown>) => msgs.push(`${msg} ${String(f?.member ?? '')}`), child: () => log };
    const peer = new LbkitMembership({ node: 'peer', bind: '127.0.0.1:0', join: [], timings: 'fast', reportIntervalMs: 0, log });
    await peer.start();
    try {
      const port = await new Promise<number>((res) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as AddressInfo).port;
          srv.close(() => res(p));
        });
      });
      const child = spawn(process.execPath, [LBKITD, '--config', join(dir, 'typo.yaml'), '--mode', 'speaker', '--node', 'spk1', '--metrics-port', '0', '--memberlist-bind', `127.0.0.1:${port}`, '--memberlist-join', `127.0.0.1:${peer.address!.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((res) => child.on('exit', res));
      expect(code).toBe(1);
      expect(out).toContain('invalid configuration, not starting');
      // the engine had been started (it is stopped on the way out) but never joined
      expect(out).toContain('"msg":"memberlist started"');
      await new Promise((r) => setTimeout(r, 300));
      expect(msgs.filter((m) => m.endsWith(' spk1'))).toEqual([]);
    } finally {
      await peer.close();
    }
  });

  it('file mode resolves a BGPPeer passwordSecret from a Secret in the same file (the daemon, not only --check)', () => {
    writeFileSync(
      join(dir, 'pw.yaml'),
      `${GOOD}---
apiVersion: v1
kind: Secret
metadata: { name: bgp-pw }
type: kubernetes.io/basic-auth
stringData: { password: s3cr3t }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.0.0.2, passwordSecret: { name: bgp-pw } }
`,
    );
    // the daemon runs until killed: stop it once the config is loaded (or after 8 s). A speaker (a
    // controller alone reads pools only, as MetalLB's); no Node object here, so no session is dialled
    const r = spawnSync(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ${JSON.stringify([LBKITD, '--config', join(dir, 'pw.yaml'), '--mode', 'speaker', '--node', 'n1', '--l2-startup-grace-ms', '0', '--metrics-port', '0'])}, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const on = (d) => { out += d; if (/config loaded|invalid configuration/.test(out)) c.kill('SIGTERM'); };
      c.stdout.on('data', on); c.stderr.on('data', on);
      const t = setTimeout(() => c.kill('SIGKILL'), 8000);
      c.on('exit', () => { clearTimeout(t); process.stdout.write(out); });
    `], { encoding: 'utf8', timeout: 15_000 });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'config loaded')).toMatchObject({ pools: ['pool1'], peers: 2 });
    expect(lines.some((l) => String(l.msg).includes('invalid configuration'))).toBe(false);
    expect(r.stdout).not.toContain('s3cr3t');
  });

  it('--webhook-port serves AdmissionReviews over HTTPS with the daemon\'s objects', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=lbkit', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    const free = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const child = spawn(process.execPath, [LBKITD, '--config', join(dir, 'good.yaml'), '--mode', 'controller', '--metrics-port', '0', '--webhook-port', String(free), '--webhook-cert-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let buf = '';
        const t = setTimeout(() => reject(new Error(`no webhook line: ${buf}`)), 20_000);
        const onData = (c: Buffer) => {
          buf += c.toString();
          const line = buf.split('\n').find((l) => l.includes('"msg":"webhook listening"'));
          if (line) {
            clearTimeout(t);
            resolve(Number((JSON.parse(line) as { port: number }).port));
            expect(Number((JSON.parse(line) as { port: number }).port)).toBe(free);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`lbkitd exited ${code}: ${buf}`)));
      });
      const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', operation: 'CREATE', object: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'clash', namespace: 'metallb-system' }, spec: { addresses: ['192.168.10.7/32'] } } } };
      const res = await new Promise<any>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/validate-metallb-io-v1beta1-ipaddresspool', method: 'POST', rejectUnauthorized: false }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c) => chunks.push(c));
          r.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
        });
        req.on('error', reject);
        req.end(JSON.stringify(review));
      });
      expect(res.response.uid).toBe('u1');
      expect(res.response.allowed).toBe(false);
      expect(res.response.status.message).toContain('CIDR "192.168.10.7/32" in pool "clash" overlaps with already defined CIDR "192.168.10.0/24"');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });
});
