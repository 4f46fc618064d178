/**
 * Cluster mode, end to end through a fake API server and the real @kubernetes/client-node:
 * BGPPeer `spec.passwordSecret` resolved from the Secrets KubeSource watches (its own namespace,
 * basic-auth only), the configuration re-applied when such a Secret changes, and MetalLB's
 * ConfigurationState objects written by the controller and the speaker. File mode: a Secret
 * edited in the YAML file re-applies the peer too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAllocator } from '../src/adapters/allocator.js';
import type { PeerConfig } from '../src/config.js';
import { Daemon } from '../src/daemon.js';
import type { BgpAnnouncer } from '../src/speaker.js';
import { KubeSource } from '../src/source/kube.js';
import { YamlFileSource } from '../src/source/yaml.js';
import { crdSchemas } from '../src/validation/crd-schema.js';
import type { KubeObject } from '../src/types.js';
import { FakeApiServer } from './fake-apiserver.js';
import { until as poll } from './helpers.js';
import { kubeconfigFor, tempDirs } from './config-helpers.js';

const NS = 'lbkit-system';
const CORE = '/api/v1';
const MLB = '/apis/metallb.io/v1beta1';
const MLB2 = '/apis/metallb.io/v1beta2';


/** Polls `fn` until it returns a value (see helpers.ts), naming `what` on timeout. */
const until = <T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> => poll(fn, ms, what);

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, password: string, type = 'kubernetes.io/basic-auth', ns = NS) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type, data: { password: b64(password) } });
const peer = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name, namespace: NS }, spec: { myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1', ...spec } });

/** A BGP backend that records what it is asked to do. */
function recordingBgp(): BgpAnnouncer & { sessions: PeerConfig[]; updates: number } {
  const r = {
    sessions: [] as PeerConfig[],
    updates: 0,
    update(s: PeerConfig[]) {
      r.sessions = s;
      r.updates++;
    },
    close() {},
  };
  return r;
}

describe('KubeSource: password Secrets of its own namespace, basic-auth only', () => {
  let api: FakeApiServer;
  let src: KubeSource;
  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    api.put(CORE, 'secrets', secret('bgp-pass', 'hunter2'));
    api.put(CORE, 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'memberlist', namespace: NS }, type: 'Opaque', data: { secretkey: b64('k') } });
    api.put(CORE, 'secrets', secret('elsewhere', 'x', 'kubernetes.io/basic-auth', 'default'));
    src = new KubeSource(kubeconfigFor(api.url), { namespace: NS, restartDelayMs: 50 });
  });
  afterEach(async () => {
    await src.stop();
    await api.stop();
  });

  it('lists and watches only its namespace, asks for basic-auth only and keeps only those even when the server ignores the selector', async () => {
    const events: string[] = [];
    src.onObject((kind, type, o) => kind === 'secrets' && events.push(`${type} ${o.metadata?.name}`));
    await src.start();
    expect(src.snapshot().secrets!.map((s) => s.metadata?.name)).toEqual(['bgp-pass']);
    const secretPaths = () => api.requests.filter((r) => r.path.includes('/secrets')).map((r) => r.path);
    // the list, then the watch
    const paths = await until('list and watch of Secrets', () => secretPaths().some((p) => /[?&]watch=true/.test(p)) && secretPaths());
    expect(paths.some((p) => !/[?&]watch=true/.test(p))).toBe(true);
    for (const p of paths) {
      expect(p.startsWith(`/api/v1/namespaces/${NS}/secrets?`), p).toBe(true);
      expect(new URL(p, 'http://x').searchParams.get('fieldSelector'), p).toBe('type=kubernetes.io/basic-auth');
    }
    // watch: a new password Secret arrives, an Opaque one never does, a changed one is MODIFIED, a deleted one goes
    api.put(CORE, 'secrets', secret('other', 'pw2'));
    api.put(CORE, 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: NS }, type: 'kubernetes.io/tls', data: { 'tls.key': b64('k') } });
    api.put(CORE, 'secrets', secret('bgp-pass', 'changed'));
    api.remove(CORE, 'secrets', NS, 'other');
    await until('watch events', () => events.includes('DELETED other'));
    expect(events).toEqual(['ADDED bgp-pass', 'ADDED other', 'MODIFIED bgp-pass', 'DELETED other']);
    const s = src.snapshot().secrets!;
    expect(s.map((x) => x.metadata?.name)).toEqual(['bgp-pass']);
    expect(Buffer.from(s[0]!.data!.password!, 'base64').toString()).toBe('changed');
    expect(src.get('secrets', `${NS}/tls`)).toBeUndefined();
  });

  it('Secrets forbidden by RBAC do not block the start (they count as empty and are reported)', async () => {
    api.addFault({ path: '/secrets', status: 403 });
    await src.start();
    expect(src.snapshot().secrets).toEqual([]);
    expect(src.health().unavailable).toEqual(['secrets']);
  });
});

describe('lbkitd in cluster mode: BGPPeer passwordSecret and ConfigurationState', () => {
  let api: FakeApiServer;
  let daemons: Daemon[];
  const cs = (name: string) => api.get(MLB, 'configurationstates', NS, name) as (KubeObject & { status?: Record<string, any> }) | undefined;

  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    daemons = [];
    api.put(CORE, 'nodes', { apiVersion: 'v1', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    api.put(CORE, 'namespaces', { apiVersion: 'v1', metadata: { name: NS } });
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS }, spec: { addresses: ['10.20.0.0/30'] } });
  });
  afterEach(async () => {
    for (const d of daemons) await d.stop();
    await api.stop();
  });

  const start = async (mode: 'controller' | 'speaker', bgp?: BgpAnnouncer) => {
    const source = new KubeSource(kubeconfigFor(api.url), { namespace: NS, podName: `lbkit-${mode}-x`, podUID: `uid-${mode}`, restartDelayMs: 50, configStateResyncMs: 300 });
    const d = new Daemon({ source, node: 'n1', mode, namespace: NS, debounceMs: 5, ...(mode === 'controller' ? { allocator: await createAllocator() } : { bgp }) });
    daemons.push(d);
    await d.start();
    return d;
  };

  it('the speaker takes the password from the Secret, re-applies it when the Secret changes, and reports the state per node', async () => {
    api.put(CORE, 'secrets', secret('bgp-pass', 'hunter2'));
    api.put(MLB2, 'bgppeers', peer('r1', { passwordSecret: { name: 'bgp-pass', namespace: NS } }));
    const bgp = recordingBgp();
    const d = await start('speaker', bgp);
    expect(d.lastConfigError).toBeUndefined();
    await until('peer with the password', () => bgp.sessions[0]?.password === 'hunter2');
    expect(bgp.sessions[0]).toMatchObject({ name: 'r1', passwordSecret: { name: 'bgp-pass', namespace: NS } });
    // MetalLB's speaker object: speaker-<node>, with its labels, owned by the pod, Valid
    const valid = await until('speaker ConfigurationState', () => cs('speaker-n1')?.status?.result === 'Valid' && cs('speaker-n1'));
    expect(valid.metadata?.labels).toEqual({ 'metallb.io/component-type': 'speaker', 'metallb.io/node-name': 'n1' });
    expect(valid.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'lbkit-speaker-x', uid: 'uid-speaker' }]);
    expect(valid.status).toMatchObject({ result: 'Valid', errorSummary: '', conditions: [{ type: 'configReconcilerValid', status: 'True', reason: 'Reconciled', message: '' }] });
    expect(crdSchemas().validate(valid, 'ConfigurationState')).toEqual([]);

    // the Secret's password changes: the peer is re-configured with the new one
    api.put(CORE, 'secrets', secret('bgp-pass', 'correct-horse'));
    await until('new password applied', () => bgp.sessions[0]?.password === 'correct-horse');

    // the Secret goes: the configuration is invalid (the last good one stays), and the state says why
    const updates = bgp.updates;
    api.remove(CORE, 'secrets', NS, 'bgp-pass');
    const bad = await until('Invalid state', () => cs('speaker-n1')?.status?.result === 'Invalid' && cs('speaker-n1'));
    expect(d.lastConfigError).toMatch(/BGPPeer lbkit-system\/r1: spec\.passwordSecret\.name: .*bgp-pass/);
    expect(bad.status!.errorSummary).toBe(`configuration error: ${d.lastConfigError}`);
    expect(bad.status!.conditions).toEqual([expect.objectContaining({ type: 'configReconcilerValid', status: 'False', reason: 'ConfigurationError', message: bad.status!.errorSummary })]);
    expect(crdSchemas().validate(bad, 'ConfigurationState')).toEqual([]);
    expect(bgp.sessions[0]?.password).toBe('correct-horse');
    expect(bgp.updates).toBe(updates);

    // a Secret of the wrong type does not satisfy the reference (and is never read); a basic-auth one does again
    api.put(CORE, 'secrets', { ...secret('bgp-pass', 'opaque-pw'), type: 'Opaque' });
    await new Promise((r) => setTimeout(r, 200));
    expect(cs('speaker-n1')?.status?.result).toBe('Invalid');
    expect(d.lastConfigError).toContain('no Secret "bgp-pass" of type kubernetes.io/basic-auth in namespace lbkit-system');
    api.remove(CORE, 'secrets', NS, 'bgp-pass');
    api.put(CORE, 'secrets', secret('bgp-pass', 'back-again'));
    await until('valid again', () => cs('speaker-n1')?.status?.result === 'Valid');
    await until('password from the new Secret', () => bgp.sessions[0]?.password === 'back-again');
  }, 30_000);

  it('the controller reads pools only (a peer without its Secret does not stop allocation), reports one object named controller, Invalid with the reason on a bad pool', async () => {
    api.put(MLB2, 'bgppeers', peer('r1', { passwordSecret: { name: 'not-there', namespace: NS } }));
    // left by an earlier controller pod: taken over (labels, owner), not duplicated
    api.put(MLB, 'configurationstates', { apiVersion: 'metallb.io/v1beta1', kind: 'ConfigurationState', metadata: { name: 'controller', namespace: NS, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'old-pod', uid: 'old-uid' }] }, status: { result: 'Invalid', errorSummary: 'old' } });
    api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, protocol: 'TCP' }] } });
    const d = await start('controller');
    await until('an address assigned', () => (api.get(CORE, 'services', 'default', 'web')?.status as any)?.loadBalancer?.ingress?.[0]?.ip);
    const ok = await until('controller ConfigurationState', () => cs('controller')?.status?.result === 'Valid' && cs('controller'));
    expect(ok.metadata?.labels).toEqual({ 'metallb.io/component-type': 'controller' });
    expect(ok.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'lbkit-controller-x', uid: 'uid-controller' }]);
    expect(ok.status?.errorSummary).toBe('');
    expect(ok.status!.conditions).toEqual([expect.objectContaining({ type: 'poolReconcilerValid', status: 'True', reason: 'Reconciled' })]);
    expect(api.list(MLB, 'configurationstates').map((o) => o.metadata.name)).toEqual(['controller']);
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'q', namespace: NS }, spec: { addresses: ['10.20.0.2/31'] } });
    const bad = await until('Invalid', () => cs('controller')?.status?.result === 'Invalid' && cs('controller'));
    expect(bad.status!.errorSummary).toMatch(/^configuration error: IPAddressPool lbkit-system\/q: spec\.addresses\[0\]: .*overlaps/);
    expect(d.lastConfigError).toBeDefined();
    api.remove(MLB, 'ipaddresspools', NS, 'q');
    await until('Valid again', () => cs('controller')?.status?.result === 'Valid');
    // deleted behind its back, no configuration change: the periodic re-write creates it again
    api.remove(MLB, 'configurationstates', NS, 'controller');
    expect(cs('controller')).toBeUndefined();
    const again = await until('re-created', () => cs('controller')?.status?.result === 'Valid' && cs('controller'));
    expect(again.metadata?.labels).toEqual({ 'metallb.io/component-type': 'controller' });
  }, 30_000);
});

describe('file mode: a changed password Secret in the YAML file re-applies the peer', () => {
  const tmp = tempDirs('lbkit-secret-');
  it('stringData, then data: the BGP backend gets each new password', async () => {
    const dir = tmp();
    const file = join(dir, 'cluster.yaml');
    const doc = (pw: string) => `apiVersion: v1
kind: Node
metadata: { name: n1 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: r1, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, passwordSecret: { name: bgp-pass } }
---
apiVersion: v1
kind: Secret
metadata: { name: bgp-pass, namespace: ${NS} }
type: kubernetes.io/basic-auth
${pw}
`;
    writeFileSync(file, doc('stringData: { password: first }'));
    const bgp = recordingBgp();
    const d = new Daemon({ source: new YamlFileSource(file, { namespace: NS, debounceMs: 10 }), node: 'n1', mode: 'speaker', namespace: NS, debounceMs: 5, bgp });
    try {
      await d.start();
      await until('first password', () => bgp.sessions[0]?.password === 'first');
      writeFileSync(file, doc(`data: { password: ${b64('second')} }`));
      await until('second password', () => bgp.sessions[0]?.password === 'second');
      expect(d.lastConfigError).toBeUndefined();
    } finally {
      await d.stop();
    }
  });
});
