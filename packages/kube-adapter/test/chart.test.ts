/**
 * charts/lbkit, rendered by a test-side renderer of the Go-template subset the chart uses (Debian
 * ships no helm; see helm-render.ts for what that proves and what it does not). The rendered
 * objects are validated against Kubernetes' API models (client-node), their RBAC against the
 * client calls in src/, their workloads against lbkitd's own argument parser, and values against
 * values.schema.json with ajv (what `helm install` does with the schema).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { mergeValues, renderChart, renderTemplates } from './helm-render.js';
import { validateK8sObject } from './k8s-schema.js';
import { checkRbacCoversCode, checkWorkloads, type Obj } from './workload-checks.js';
import { WEBHOOK_PATHS } from '../src/webhook/server.js';
import { reviewAdmission } from '../src/webhook/admission.js';
import { emptySnapshot, type Snapshot } from '../src/types.js';

const ROOT = join(__dirname, '..', '..', '..');
const CHART = join(ROOT, 'charts', 'lbkit');
const MANIFESTS = join(__dirname, '..', 'manifests');
const NS = 'lb-system';

function render(values: Record<string, unknown> = {}, release = { name: 'lbk', namespace: NS }) {
  const files = renderChart({ chartDir: CHART, values, release });
  const docs: Obj[] = [];
  for (const [f, text] of files) {
    if (f.endsWith('.txt')) continue;
    for (const d of parseAllDocuments(text)) {
      expect(d.errors, `${f}: YAML errors`).toEqual([]);
      const o = d.toJS() as Obj | null;
      if (o) docs.push(o);
    }
  }
  return { docs, files };
}

const secretsOf = (docs: Obj[]) => Object.fromEntries(docs.filter((d) => d.kind === 'Secret').map((s) => [s.metadata.name, Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString()]))]));
const crdPlurals = () => parseAllDocuments(readFileSync(join(MANIFESTS, 'crds.yaml'), 'utf8')).map((d) => (d.toJS() as Obj).spec.names.plural as string);
const byKind = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);

describe('helm-render (the test-side template subset)', () => {
  const r = (src: string, root: Record<string, unknown> = {}, helpers = '') => renderTemplates(new Map([['_h.tpl', helpers], ['t', src]]), root).get('t');
  it("follows Go text/template's trimming, truthiness, scoping and pipelines", () => {
    expect(r('a  {{- 1 }}  b\n')).toBe('a1  b\n');
    expect(r('a\n  {{- 2 -}}\n  b')).toBe('a2b');
    expect(r('{{ if "" }}x{{ else if 0 }}y{{ else }}z{{ end }}|{{ if .l }}l{{ end }}|{{ if .m }}m{{ end }}|{{ if .n }}n{{ end }}', { l: [], m: {}, n: { a: 1 } })).toBe('z|||n');
    expect(r('{{ range .xs }}[{{ . }}{{ $.sep }}]{{ end }}', { xs: ['a', 'b'], sep: ';' })).toBe('[a;][b;]');
    expect(r('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: {} })).toBe('none');
    expect(r('{{ $x := printf "%s-%d" .n 3 }}{{ $x | quote }}', { n: 'a' })).toBe('"a-3"');
    expect(r('{{ default "d" .v }}/{{ default "d" .w }}', { v: '', w: 'w' })).toBe('d/w');
    expect(r('x:{{- include "h" .m | nindent 2 }}', { m: { a: 1 } }, '{{- define "h" -}}\na: {{ .a }}\nb: 2\n{{- end -}}')).toBe('x:\n  a: 1\n  b: 2');
    expect(r('{{ toYaml .m }}', { m: { a: [1, 'x'] } })).toBe('a:\n  - 1\n  - x');
    expect(() => r('{{ .a.b }}', {})).toThrow('nil pointer');
    expect(() => r('{{ tpl "x" . }}')).toThrow('outside the supported subset');
  });
});

describe('charts/lbkit', () => {
  it('values.yaml satisfies values.schema.json; typos and bad enums are rejected as helm would', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')));
    const defaults = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(mergeValues(defaults, { logLevel: 'trace' }))).toBe(false);
    expect(validate.errors?.[0]?.instancePath).toBe('/logLevel');
    expect(validate(mergeValues(defaults, { speaker: { memberlst: {} } }))).toBe(false);
    expect(validate(mergeValues(defaults, { speaker: { backends: { bgp: 'frr' } } }))).toBe(false);
    expect(validate({ ...defaults, controller: { ...(defaults.controller as Obj), resources: { limits: { memory: '1Gi' } } } })).toBe(false);
    expect(validate.errors?.[0]?.instancePath).toBe('/controller/resources');
  });

  it('default render: every object matches its Kubernetes API model and lives in the release namespace', () => {
    const { docs, files } = render();
    expect(byKind(docs, 'Deployment')).toHaveLength(1);
    expect(byKind(docs, 'DaemonSet')).toHaveLength(1);
    expect(byKind(docs, 'Secret')).toHaveLength(1);
    expect(byKind(docs, 'ValidatingWebhookConfiguration')).toHaveLength(0);
    for (const d of docs) {
      expect(validateK8sObject(d), `${d.kind} ${d.metadata?.name}`).toEqual([]);
      if (!['ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration'].includes(d.kind)) expect(d.metadata.namespace, `${d.kind} ${d.metadata.name}`).toBe(NS);
    }
    const names = docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(files.get('NOTES.txt')).toContain(`namespace ${NS}`);
    // the validator does catch a misspelt field
    const dep = structuredClone(byKind(docs, 'Deployment')[0]!);
    dep.spec.template.spec.containers[0].livenesProbe = {};
    expect(validateK8sObject(dep)).toEqual([expect.stringContaining('containers[0].livenesProbe: unknown field')]);
  });

  it('RBAC covers every Kubernetes call in src/, with the same rules as manifests/rbac.yaml', () => {
    const { docs } = render();
    checkRbacCoversCode(docs, crdPlurals());
    const plain = parseAllDocuments(readFileSync(join(MANIFESTS, 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
    const norm = (rules: Obj[]) => rules.flatMap((r) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}/${v}`)))).sort();
    for (const kind of ['ClusterRole', 'Role']) {
      const chartRoles = new Map(byKind(docs, kind).map((r) => [r.metadata.name.replace(/^lbk:/, ''), norm(r.rules)]));
      const plainRoles = new Map(byKind(plain, kind).map((r) => [r.metadata.name.replace(/^lbkit:/, ''), norm(r.rules)]));
      expect(chartRoles).toEqual(plainRoles);
    }
  });

  it('workloads: lbkitd parses their args on IPv4 and IPv6 nodes; probes, requests, memberlist on the node IP with the generated key', () => {
    const { docs } = render();
    const secrets = secretsOf(docs);
    expect(Object.keys(secrets)).toEqual(['lbk-memberlist']);
    expect(secrets['lbk-memberlist']!.secretkey).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(byKind(docs, 'Secret')[0]!.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    const { speaker, controller } = checkWorkloads(docs, secrets);
    expect(speaker).toMatchObject({ namespace: NS, drainMs: 1000, l2StartupGraceMs: 5000, memberlistTimings: 'fast', l2Backend: 'auto', memberlistSecret: secrets['lbk-memberlist']!.secretkey });
    expect(controller).toMatchObject({ namespace: NS, mode: 'controller', metricsPort: 7472 });
  });

  it('values reach lbkitd: class, interfaces, timings, backends, ports, an existing memberlist Secret', () => {
    const { docs } = render({
      loadBalancerClass: 'lbkit',
      metricsPort: 9100,
      logLevel: 'debug',
      image: { repository: 'registry.local/lbkitd', tag: 'dev' },
      speaker: { interfaces: ['eth1', 'bond0'], ignoreExcludeLB: true, backends: { l2: 'lbkit' }, memberlist: { timings: 'lan', port: 7947, existingSecret: 'my-ml' } },
    });
    expect(byKind(docs, 'Secret')).toHaveLength(0);
    const { speaker, controller } = checkWorkloads(docs, { 'my-ml': { secretkey: 'mine' } }, 7947);
    expect(speaker).toMatchObject({ lbClass: 'lbkit', interfaces: ['eth1', 'bond0'], ignoreExcludeLB: true, l2Backend: 'lbkit', memberlistTimings: 'lan', memberlistBind: '[fd00::11]:7947', memberlistSecret: 'mine', metricsPort: 9100, logLevel: 'debug' });
    expect(controller).toMatchObject({ lbClass: 'lbkit', metricsPort: 9100 });
    for (const w of [...byKind(docs, 'Deployment'), ...byKind(docs, 'DaemonSet')]) expect(w.spec.template.spec.containers[0].image).toBe('registry.local/lbkitd:dev');
  });

  it('leader election: replicas > 1 only with controller.leaderElect, which passes --leader-elect and is covered by RBAC', () => {
    expect(() => render({ controller: { replicas: 2 } })).toThrow(/leaderElect/);
    const { docs } = render({ controller: { replicas: 2, leaderElect: true } });
    expect(checkWorkloads(docs, secretsOf(docs)).controller).toBeDefined();
    const dep = byKind(docs, 'Deployment')[0]!;
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.containers[0].args).toContain('--leader-elect');
    expect(byKind(render().docs, 'Deployment')[0]!.spec.template.spec.containers[0].args).not.toContain('--leader-elect');
    const leaseRules = byKind(docs, 'Role').flatMap((r) => (r.rules as Obj[]).filter((x) => (x.resources as string[]).includes('leases')));
    expect(leaseRules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  });

  it('memberlist off: no bind, no key; speaker and controller can be disabled', () => {
    const off = render({ speaker: { memberlist: { enabled: false } } }).docs;
    const env = byKind(off, 'DaemonSet')[0]!.spec.template.spec.containers[0].env.map((e: Obj) => e.name);
    expect(env).not.toContain('METALLB_ML_BIND_ADDR');
    expect(byKind(off, 'Secret')).toHaveLength(0);
    expect(byKind(render({ speaker: { enabled: false } }).docs, 'DaemonSet')).toHaveLength(0);
    expect(byKind(render({ controller: { enabled: false } }).docs, 'Deployment')).toHaveLength(0);
  });

  it("webhook: lbkitd serves it on the Service's target port with the mounted certificate, at MetalLB's names and paths", () => {
    expect(() => render({ webhook: { enabled: true } })).toThrow('webhook.certSecret is required');
    const { docs } = render({ webhook: { enabled: true, certSecret: 'lbk-webhook-cert', caBundle: 'Q0E=', args: ['--log-level=warn'] } });
    for (const d of docs) expect(validateK8sObject(d), `${d.kind} ${d.metadata?.name}`).toEqual([]);
    const [svc] = byKind(docs, 'Service');
    const dep = byKind(docs, 'Deployment')[0]!;
    const c = dep.spec.template.spec.containers[0];
    expect(svc!.spec.selector).toEqual(dep.spec.selector.matchLabels);
    const { controller } = checkWorkloads(docs, secretsOf(docs));
    const port = c.ports.find((p: Obj) => p.name === svc!.spec.ports[0].targetPort);
    expect(port.containerPort).toBe(controller.webhookPort);
    expect(controller.webhookPort).toBe(9443);
    expect(controller.logLevel).toBe('warn');
    const mount = c.volumeMounts.find((m: Obj) => m.mountPath === controller.webhookCertDir);
    expect(mount, 'certificate mounted where lbkitd reads it').toBeDefined();
    expect(dep.spec.template.spec.volumes.find((v: Obj) => v.name === mount.name).secret.secretName).toBe('lbk-webhook-cert');
    const [vwc] = byKind(docs, 'ValidatingWebhookConfiguration');
    const hooks = vwc!.webhooks.map((w: Obj) => [w.name, w.clientConfig.service.path, w.rules[0].resources[0], w.rules[0].apiVersions[0], w.rules[0].operations.join(',')]);
    // operations: MetalLB's (bfdprofiles CREATE+DELETE, the others CREATE+UPDATE), plus UPDATE on bfdprofiles
    expect(hooks).toEqual([
      ['ipaddresspoolvalidationwebhook.metallb.io', '/validate-metallb-io-v1beta1-ipaddresspool', 'ipaddresspools', 'v1beta1', 'CREATE,UPDATE'],
      ['l2advertisementvalidationwebhook.metallb.io', '/validate-metallb-io-v1beta1-l2advertisement', 'l2advertisements', 'v1beta1', 'CREATE,UPDATE'],
      ['bgpadvertisementvalidationwebhook.metallb.io', '/validate-metallb-io-v1beta1-bgpadvertisement', 'bgpadvertisements', 'v1beta1', 'CREATE,UPDATE'],
      ['bgppeervalidationwebhook.metallb.io', '/validate-metallb-io-v1beta2-bgppeer', 'bgppeers', 'v1beta2', 'CREATE,UPDATE'],
      ['communityvalidationwebhook.metallb.io', '/validate-metallb-io-v1beta1-community', 'communities', 'v1beta1', 'CREATE,UPDATE'],
      ['bfdprofilevalidationwebhook.metallb.io', '/validate-metallb-io-v1beta1-bfdprofile', 'bfdprofiles', 'v1beta1', 'CREATE,UPDATE,DELETE'],
    ]);
    // every kind whose rules send DELETE has a delete check in lbkitd's admission (a BFDProfile a BGPPeer uses stays);
    // the kinds without DELETE in the rules have none (a rule would only add a round trip)
    const snapshot = (): Snapshot => ({ ...emptySnapshot(), bgpPeers: [{ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'r1', namespace: NS }, spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', bfdProfile: 'in-use' } }] });
    const kinds: Record<string, string> = { ipaddresspools: 'IPAddressPool', l2advertisements: 'L2Advertisement', bgpadvertisements: 'BGPAdvertisement', bgppeers: 'BGPPeer', communities: 'Community', bfdprofiles: 'BFDProfile' };
    for (const [, , res, version, ops] of hooks) {
      const del = reviewAdmission({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'DELETE', kind: { group: 'metallb.io', version, kind: kinds[res] }, name: 'in-use', namespace: NS, oldObject: { apiVersion: `metallb.io/${version}`, kind: kinds[res], metadata: { name: 'in-use', namespace: NS }, spec: {} } } }, { namespace: NS, snapshot });
      expect(del.response.allowed, `${res}: DELETE of an object in use`).toBe(!ops.includes('DELETE'));
    }
    // the paths are exactly MetalLB's per-kind paths lbkitd's webhook server answers; every resource is a CRD the chart installs
    expect(hooks.map((h: string[]) => h[1]).sort()).toEqual(WEBHOOK_PATHS.filter((p) => p.startsWith('/validate-metallb-io-')).sort());
    for (const [, , res] of hooks) expect(crdPlurals()).toContain(res);
    for (const w of vwc!.webhooks) expect(w.clientConfig).toMatchObject({ service: { name: svc!.metadata.name, namespace: NS }, caBundle: 'Q0E=' });
  });

  it('webhook with cert-manager: a self-signed Issuer and a Certificate for the Service name, CA injected', () => {
    const { docs } = render({ webhook: { enabled: true, certManager: { enabled: true } } });
    const [cert] = byKind(docs, 'Certificate');
    expect(cert!.apiVersion).toBe('cert-manager.io/v1');
    const svc = byKind(docs, 'Service')[0]!;
    expect(cert!.spec.dnsNames).toContain(`${svc.metadata.name}.${NS}.svc`);
    expect(cert!.spec.issuerRef).toEqual({ name: byKind(docs, 'Issuer')[0]!.metadata.name, kind: 'Issuer' });
    const dep = byKind(docs, 'Deployment')[0]!;
    expect(dep.spec.template.spec.volumes[0].secret.secretName).toBe(cert!.spec.secretName);
    expect(byKind(docs, 'ValidatingWebhookConfiguration')[0]!.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(`${NS}/${cert!.metadata.name}`);
    for (const d of docs.filter((x) => !x.apiVersion.startsWith('cert-manager.io/'))) expect(validateK8sObject(d), `${d.kind} ${d.metadata?.name}`).toEqual([]);
  });

  it('crds/ is the package CRD file (symlink), and every values.yaml key is used by a template', () => {
    expect(realpathSync(join(CHART, 'crds', 'crds.yaml'))).toBe(realpathSync(join(MANIFESTS, 'crds.yaml')));
    const templates = ['_helpers.tpl', 'controller.yaml', 'speaker.yaml', 'memberlist-secret.yaml', 'rbac.yaml', 'serviceaccounts.yaml', 'webhook.yaml'].map((f) => readFileSync(join(CHART, 'templates', f), 'utf8')).join('\n');
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
    // leaves, except inside maps handed to toYaml whole (resources, tolerations, ...)
    const leaves = (o: Obj, p: string[]): string[][] =>
      Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length && k !== 'resources' ? leaves(v, [...p, k]) : [[...p, k]]));
    for (const path of leaves(values, [])) {
      expect(templates.includes(`.Values.${path.join('.')}`), `value ${path.join('.')} is not used by any template`).toBe(true);
    }
  });
});
