import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createAllocator } from '../src/adapters/allocator.js';
import { Daemon } from '../src/daemon.js';
import { KubeSource } from '../src/source/kube.js';
import type { L2Announcer } from '../src/speaker.js';
import { FakeApiServer } from './fake-apiserver.js';
import { kubeconfigFor } from './config-helpers.js';
import { renderChart } from './helm-render.js';
import { accessOf, checkRbacCoversCode, checkRequestsAllowed, checkWorkloads, rulesFor, type Obj } from './workload-checks.js';
import { readdirSync } from 'node:fs';

const dir = join(__dirname, '..', 'manifests');
const load = (f: string) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, any>);

describe('manifests', () => {
  it('CRDs define every metallb.io kind lbkitd reads or writes, in the versions KubeSource uses', () => {
    const crds = load('crds.yaml');
    const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
    const want: Record<string, string> = {
      IPAddressPool: 'v1beta1',
      L2Advertisement: 'v1beta1',
      BGPAdvertisement: 'v1beta1',
      BGPPeer: 'v1beta2',
      Community: 'v1beta1',
      BFDProfile: 'v1beta1',
      ServiceL2Status: 'v1beta1',
      ServiceBGPStatus: 'v1beta1',
      ConfigurationState: 'v1beta1',
    };
    for (const [kind, version] of Object.entries(want)) {
      const c = byKind.get(kind)!;
      expect(c, kind).toBeDefined();
      expect(c.spec.group).toBe('metallb.io');
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.metadata.name).toBe(`${c.spec.names.plural}.metallb.io`);
      expect(c.spec.versions.map((v: any) => v.name)).toContain(version);
    }
    // status subresources for the objects whose status lbkitd patches
    for (const k of ['ServiceL2Status', 'ServiceBGPStatus', 'IPAddressPool']) expect(byKind.get(k)!.spec.versions[0].subresources).toEqual({ status: {} });
  });

  it('CRDs are MetalLB\'s field for field: every upstream schema, printer column, version and rule (descriptions aside)', () => {
    const strip = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(strip);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'description' && typeof x === 'string')).map(([k, x]) => [k, strip(x)]));
      return v;
    };
    const ours = new Map(load('crds.yaml').map((c) => [c.metadata.name as string, c]));
    const fx = join(__dirname, 'fixtures', 'metallb-crds');
    const files = readdirSync(fx).filter((f) => f.endsWith('.yaml'));
    expect(files).toHaveLength(9);
    const seen: string[] = [];
    for (const f of files) {
      const up = parseAllDocuments(readFileSync(join(fx, f), 'utf8'))[0]!.toJS() as Record<string, any>;
      const mine = ours.get(up.metadata.name);
      expect(mine, `${up.metadata.name} missing from manifests/crds.yaml`).toBeDefined();
      expect(mine!.apiVersion).toBe(up.apiVersion);
      // the whole spec: group, names, scope, versions (schemas, printer columns, served/storage,
      // deprecation, subresources)
      expect(strip(mine!.spec), up.metadata.name).toEqual(strip(up.spec));
      seen.push(up.metadata.name);
    }
    expect([...ours.keys()].sort()).toEqual(seen.sort());
    // spot checks of what issue #12 listed as missing
    const peer = ours.get('bgppeers.metallb.io')!;
    expect(peer.spec.versions.map((v: any) => [v.name, v.served, v.storage])).toEqual([
      ['v1beta1', true, false],
      ['v1beta2', true, true],
    ]);
    const v2 = peer.spec.versions[1].schema.openAPIV3Schema.properties.spec.properties;
    for (const f of ['dynamicASN', 'localASN', 'interface', 'connectTime', 'passwordSecret', 'enableGracefulRestart', 'vrf', 'disableMP', 'dualStackAddressFamily']) expect(v2[f], f).toBeDefined();
    expect(peer.spec.versions[1].additionalPrinterColumns.map((c: any) => c.name)).toEqual(['Address', 'ASN', 'BFD Profile', 'Multi Hops']);
  });

  it('RBAC grants what KubeSource calls; workloads run lbkitd with the right modes', () => {
    const rbac = load('rbac.yaml');
    const ctrl = rbac.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'lbkit:controller')!;
    expect(ctrl.rules.some((r: any) => r.resources.includes('services/status') && r.verbs.includes('update'))).toBe(true);
    expect(ctrl.rules.some((r: any) => r.resources.includes('services') && r.verbs.includes('patch'))).toBe(true);
    const role = rbac.find((o) => o.kind === 'Role' && o.metadata.name === 'lbkit:speaker')!;
    expect(role.rules.some((r: any) => r.resources.includes('servicel2statuses/status') && r.verbs.includes('patch'))).toBe(true);
    const dep = load('controller.yaml')[0]!;
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--mode', 'controller']));
    const ds = load('speaker.yaml')[0]!;
    expect(ds.kind).toBe('DaemonSet');
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(ds.spec.template.spec.containers[0].securityContext.capabilities.add).toContain('NET_RAW');
    expect(ds.spec.template.spec.containers[0].args).toContain('--mode=speaker');
  });

  const all = () => [...load('rbac.yaml'), ...load('controller.yaml'), ...load('speaker.yaml')];
  const plurals = () => load('crds.yaml').map((c) => c.spec.names.plural as string);

  it('RBAC covers every Kubernetes call in src/ for the workload that makes it (ipaddresspools/status included)', () => {
    checkRbacCoversCode(all(), plurals());
    const ctrl = rulesFor(all(), 'lbkit-controller', 'metallb-system');
    expect(ctrl.some((r: any) => r.apiGroups.includes('metallb.io') && r.resources.includes('ipaddresspools/status') && r.verbs.includes('patch'))).toBe(true);
  });

  it('workloads: args parse with lbkitd on IPv4 and IPv6 nodes, probes on the metrics port, requests set, memberlist secret from a Secret', () => {
    const secrets = { 'lbkit-memberlist': { secretkey: 'k3y-from-secret' } };
    const { speaker, controller } = checkWorkloads(all(), secrets);
    expect(speaker.memberlistSecret).toBe('k3y-from-secret');
    expect(controller.memberlistBind).toBeUndefined();
    // without the Secret the speaker's env cannot be built: the key is required, not optional
    const ds = load('speaker.yaml')[0]!;
    const ref = ds.spec.template.spec.containers[0].env.find((e: any) => e.name === 'METALLB_ML_SECRET_KEY');
    expect(ref.valueFrom.secretKeyRef.optional ?? false).toBe(false);
  });

  it('the old `$(METALLB_HOST):7946` form also works on an IPv6 node (lbkitd brackets the address)', async () => {
    const { parseArgs } = await import('../src/cli/args.js');
    const { parseHostPort } = await import('../src/adapters/lbkit-membership.js');
    const a = parseArgs(['--in-cluster', '--mode=speaker', '--memberlist-bind=fd00::11:7946'], { METALLB_NODE_NAME: 'n' });
    expect(parseHostPort(a.memberlistBind!, 'bind')).toEqual({ addr: 'fd00::11', port: 7946 });
  });
});

/** Runs a Daemon in `mode` on KubeSource against a fake API server; returns the requests it made. */
async function recordRequests(mode: 'controller' | 'speaker'): Promise<Array<{ method: string; path: string }>> {
  const NS = 'metallb-system';
  const api = new FakeApiServer();
  await api.start();
  const kc = kubeconfigFor(api.url);
  api.put('/api/v1', 'nodes', { apiVersion: 'v1', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  api.put('/api/v1', 'namespaces', { apiVersion: 'v1', metadata: { name: 'default' } });
  api.put('/apis/metallb.io/v1beta1', 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: NS }, spec: { addresses: ['10.20.0.0/30'] } });
  api.put('/apis/metallb.io/v1beta1', 'l2advertisements', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'l2', namespace: NS }, spec: {} });
  const status = mode === 'speaker' ? { loadBalancer: { ingress: [{ ip: '10.20.0.0' }] } } : {};
  api.put('/api/v1', 'services', { apiVersion: 'v1', metadata: { name: 'web', namespace: 'default', ...(mode === 'speaker' ? { annotations: { 'metallb.io/ip-allocated-from-pool': 'p' } } : {}) }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 80, protocol: 'TCP' }] }, status });
  api.put('/apis/discovery.k8s.io/v1', 'endpointslices', { apiVersion: 'discovery.k8s.io/v1', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], nodeName: 'n1', conditions: { ready: true } }], ports: [{ port: 80, protocol: 'TCP' }] });
  const announced = new Set<string>();
  const l2: L2Announcer = { announce: (ip) => void announced.add(ip), withdraw: (ip) => void announced.delete(ip), close: () => {} };
  const source = new KubeSource(kc, { namespace: NS, podName: 'lbkit-pod', podUID: 'uid-1' });
  const daemon = new Daemon({ source, node: 'n1', mode, namespace: NS, ...(mode === 'controller' ? { allocator: await createAllocator() } : { l2 }) });
  const until = async (f: () => boolean) => {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > 15_000) throw new Error(`${mode}: timeout`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await daemon.start();
    if (mode === 'controller') {
      // the controller assigns, writes status + annotation, records an Event and the pool status
      await until(() => api.requests.some((r) => r.method === 'PATCH' && r.path.includes('/ipaddresspools/p/status')) && api.list('/api/v1', 'events').length > 0 && !!(api.get('/api/v1', 'services', 'default', 'web')?.status as Obj | undefined)?.loadBalancer?.ingress);
      await until(() => !!(api.get('/apis/metallb.io/v1beta1', 'configurationstates', NS, 'controller')?.status as Obj | undefined)?.result);
    } else {
      // the speaker announces, writes ServiceL2Status (create + status) and an Event; the service goes away: the status object is deleted
      await until(() => announced.has('10.20.0.0') && api.list('/apis/metallb.io/v1beta1', 'servicel2statuses').length === 1 && api.list('/api/v1', 'events').length > 0);
      api.remove('/api/v1', 'services', 'default', 'web');
      await until(() => api.list('/apis/metallb.io/v1beta1', 'servicel2statuses').length === 0);
      await until(() => !!(api.get('/apis/metallb.io/v1beta1', 'configurationstates', NS, 'speaker-n1')?.status as Obj | undefined)?.result);
    }
  } finally {
    await daemon.stop();
    await api.stop();
  }
  return api.requests.map((r) => ({ method: r.method, path: r.path }));
}

describe('RBAC from what lbkitd does (requests recorded against a fake API server)', () => {
  const chartDocs = () => {
    const files = renderChart({ chartDir: join(__dirname, '..', '..', '..', 'charts', 'lbkit'), release: { name: 'lbk', namespace: 'metallb-system' } });
    return [...files.entries()].filter(([f]) => f.endsWith('.yaml')).flatMap(([, t]) => parseAllDocuments(t).map((d) => d.toJS() as Obj)).filter(Boolean);
  };

  it('maps API requests to RBAC verbs and resources', () => {
    expect(accessOf('GET', '/api/v1/services?watch=true&resourceVersion=5')).toEqual({ group: '', resource: 'services', verb: 'watch' });
    expect(accessOf('GET', '/apis/metallb.io/v1beta1/namespaces/ns1/ipaddresspools?limit=500')).toEqual({ group: 'metallb.io', resource: 'ipaddresspools', verb: 'list', namespace: 'ns1' });
    expect(accessOf('PATCH', '/apis/metallb.io/v1beta1/namespaces/ns1/ipaddresspools/p/status')).toEqual({ group: 'metallb.io', resource: 'ipaddresspools/status', verb: 'patch', namespace: 'ns1' });
    expect(accessOf('GET', '/api/v1/namespaces')).toEqual({ group: '', resource: 'namespaces', verb: 'list' });
    expect(accessOf('GET', '/api/v1/namespaces/default')).toEqual({ group: '', resource: 'namespaces', verb: 'get' });
    expect(accessOf('DELETE', '/apis/metallb.io/v1beta1/namespaces/x/servicel2statuses/l2-abc')).toMatchObject({ resource: 'servicel2statuses', verb: 'delete' });
  });

  it('the controller and the speaker service accounts may make every request they make (manifests and chart)', async () => {
    const ctrl = await recordRequests('controller');
    const spk = await recordRequests('speaker');
    const ctrlNeeds = ctrl.map((r) => accessOf(r.method, r.path));
    // the run exercised the writes, not only the reads
    expect(ctrlNeeds).toEqual(expect.arrayContaining([
      expect.objectContaining({ resource: 'services/status', verb: 'patch' }),
      expect.objectContaining({ resource: 'ipaddresspools/status', verb: 'patch' }),
      expect.objectContaining({ resource: 'events', verb: 'create' }),
      expect.objectContaining({ resource: 'services', verb: 'watch' }),
    ]));
    expect(spk.map((r) => accessOf(r.method, r.path))).toEqual(expect.arrayContaining([
      expect.objectContaining({ resource: 'servicel2statuses', verb: 'create' }),
      expect.objectContaining({ resource: 'servicel2statuses', verb: 'delete' }),
    ]));
    // both: password Secrets read in the namespace only (list + watch), ConfigurationState created and its status patched
    for (const reqs of [ctrl, spk]) {
      const needs = reqs.map((r) => accessOf(r.method, r.path));
      expect(needs).toEqual(expect.arrayContaining([
        { group: '', resource: 'secrets', verb: 'list', namespace: 'metallb-system' },
        { group: '', resource: 'secrets', verb: 'watch', namespace: 'metallb-system' },
        { group: 'metallb.io', resource: 'configurationstates', verb: 'create', namespace: 'metallb-system' },
        { group: 'metallb.io', resource: 'configurationstates/status', verb: 'patch', namespace: 'metallb-system' },
      ]));
      expect(needs.filter((a) => a.resource === 'secrets' && a.namespace !== 'metallb-system')).toEqual([]);
    }
    // and the RBAC grants Secrets in that namespace only (a Role), never cluster-wide
    for (const docs of [[...load('rbac.yaml')], chartDocs()])
      for (const r of docs.filter((d) => d.kind === 'ClusterRole')) expect(r.rules.some((x: Obj) => x.resources.includes('secrets')), `${r.metadata.name}`).toBe(false);
    const manifests = [...load('rbac.yaml'), ...load('controller.yaml'), ...load('speaker.yaml')];
    checkRequestsAllowed(manifests, 'lbkit-controller', 'metallb-system', ctrl, 'manifests: controller');
    checkRequestsAllowed(manifests, 'lbkit-speaker', 'metallb-system', spk, 'manifests: speaker');
    const chart = chartDocs();
    checkRequestsAllowed(chart, 'lbk-controller', 'metallb-system', ctrl, 'chart: controller');
    checkRequestsAllowed(chart, 'lbk-speaker', 'metallb-system', spk, 'chart: speaker');
  }, 60_000);
});
