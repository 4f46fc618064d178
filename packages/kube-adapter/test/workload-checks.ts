/**
 * Checks shared by the plain manifests test and the Helm chart test: RBAC derived from the
 * Kubernetes client calls in src/, and lbkitd workloads (args as kubelet expands them, probes,
 * resources, memberlist address and secret) — both run against lbkitd's own parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseHostPort } from '../src/adapters/lbkit-membership.js';
import { loadMemberlistSecret, parseArgs, type LbkitdArgs } from '../src/cli/args.js';
import { joinHostPort } from '../src/hostport.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

const SRC = join(__dirname, '..', 'src');

/** One permission lbkitd needs. */
export interface Need {
  group: string;
  resource: string;
  verbs: string[];
  /** Which workload needs it. */
  who: Array<'controller' | 'speaker'>;
}

const BOTH: Need['who'] = ['controller', 'speaker'];
const METALLB_READ = ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bgppeers', 'communities', 'bfdprofiles'];
const STATUS_KINDS = ['servicel2statuses', 'servicebgpstatuses'];

/**
 * What each client-node method lbkitd calls needs. Reflectors list and then watch, so every list
 * needs watch too. Custom-object methods list the metallb.io plurals they are called with in src/.
 */
export const CLIENT_CALLS: Record<string, Need[]> = {
  listServiceForAllNamespaces: [{ group: '', resource: 'services', verbs: ['list', 'watch'], who: BOTH }],
  listNode: [{ group: '', resource: 'nodes', verbs: ['list', 'watch'], who: BOTH }],
  listNamespace: [{ group: '', resource: 'namespaces', verbs: ['list', 'watch'], who: BOTH }],
  listEndpointSliceForAllNamespaces: [{ group: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list', 'watch'], who: BOTH }],
  listNamespacedSecret: [{ group: '', resource: 'secrets', verbs: ['list', 'watch'], who: BOTH }],
  readNamespacedSecret: [{ group: '', resource: 'secrets', verbs: ['get'], who: BOTH }],
  patchNamespacedService: [{ group: '', resource: 'services', verbs: ['patch'], who: ['controller'] }],
  patchNamespacedServiceStatus: [{ group: '', resource: 'services/status', verbs: ['patch'], who: ['controller'] }],
  replaceNamespacedServiceStatus: [{ group: '', resource: 'services/status', verbs: ['update'], who: ['controller'] }],
  createNamespacedEvent: [{ group: '', resource: 'events', verbs: ['create'], who: BOTH }],
  patchNamespacedEvent: [{ group: '', resource: 'events', verbs: ['patch'], who: BOTH }],
  listNamespacedCustomObject: [
    ...METALLB_READ.map((r) => ({ group: 'metallb.io', resource: r, verbs: ['list', 'watch'], who: BOTH })),
    ...STATUS_KINDS.map((r) => ({ group: 'metallb.io', resource: r, verbs: ['list'], who: ['speaker' as const] })),
  ],
  createNamespacedCustomObject: STATUS_KINDS.map((r) => ({ group: 'metallb.io', resource: r, verbs: ['create'], who: ['speaker' as const] })),
  deleteNamespacedCustomObject: STATUS_KINDS.map((r) => ({ group: 'metallb.io', resource: r, verbs: ['delete'], who: ['speaker' as const] })),
  patchNamespacedCustomObjectStatus: [
    { group: 'metallb.io', resource: 'ipaddresspools/status', verbs: ['patch'], who: ['controller'] },
    ...STATUS_KINDS.map((r) => ({ group: 'metallb.io', resource: `${r}/status`, verbs: ['patch'], who: ['speaker' as const] })),
  ],
};

function tsFiles(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Kubernetes client calls in src/ (files that use @kubernetes/client-node): method → files. */
export function clientCallsInSource(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of tsFiles(SRC)) {
    const text = readFileSync(f, 'utf8');
    if (!text.includes('@kubernetes/client-node')) continue;
    for (const m of text.matchAll(/\.((?:list|read|create|patch|replace|delete)(?:Namespaced|Cluster)?[A-Z]\w*)\(/g)) out.set(m[1]!, [...(out.get(m[1]!) ?? []), f.slice(SRC.length + 1)]);
  }
  return out;
}

/** metallb.io plurals (from the CRDs) named as string literals in src/. */
export function metallbPluralsInSource(plurals: string[]): Set<string> {
  const found = new Set<string>();
  for (const f of tsFiles(SRC)) {
    const text = readFileSync(f, 'utf8');
    for (const p of plurals) if (text.includes(`'${p}'`)) found.add(p);
  }
  return found;
}

/** The rules bound to a service account (ClusterRoles via ClusterRoleBindings, Roles via RoleBindings in `ns`). */
export function rulesFor(docs: Obj[], sa: string, ns: string): Obj[] {
  const rules: Obj[] = [];
  for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
    if (b.kind === 'RoleBinding' && b.metadata.namespace !== ns) continue;
    if (!(b.subjects ?? []).some((s: Obj) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === ns)) continue;
    const role = docs.find((d) => d.kind === b.roleRef.kind && d.metadata.name === b.roleRef.name && (d.kind === 'ClusterRole' || d.metadata.namespace === b.metadata.namespace));
    expect(role, `${b.kind} ${b.metadata.name} → ${b.roleRef.kind} ${b.roleRef.name}`).toBeDefined();
    rules.push(...role!.rules);
  }
  return rules;
}

function allows(rules: Obj[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => (r.apiGroups.includes(group) || r.apiGroups.includes('*')) && (r.resources.includes(resource) || r.resources.includes('*')) && (r.verbs.includes(verb) || r.verbs.includes('*')));
}

/** REST calls in src/ (`.request('METHOD', path` and `.mergePatch(path`) whose path is a template starting with /api. */
export function restCallsInSource(): Array<{ file: string; method: string; path: string }> {
  const out: Array<{ file: string; method: string; path: string }> = [];
  for (const f of tsFiles(SRC)) {
    const text = readFileSync(f, 'utf8');
    const rel = f.slice(SRC.length + 1);
    for (const m of text.matchAll(/\.request\('(GET|POST|PUT|PATCH|DELETE)',\s*`(\/apis?\/[^`]*)`/g)) out.push({ file: rel, method: m[1]!, path: m[2]! });
    for (const m of text.matchAll(/\.mergePatch\(`(\/apis?\/[^`]*)`/g)) out.push({ file: rel, method: 'PATCH', path: m[1]! });
  }
  // `${seg(x)}` and other substitutions become one path segment; the query is dropped
  return out.map((c) => ({ ...c, path: c.path.replace(/\$\{GROUP\}/g, 'metallb.io').replace(/\$\{[^}]*\}/g, 'x').split('?')[0]! }));
}

/** Collection paths written as literals in src/ (`'/api/v1/services'`): what the reflectors list and watch. */
export function listedPathsInSource(): string[] {
  const out = new Set<string>();
  for (const f of tsFiles(SRC)) for (const m of readFileSync(f, 'utf8').matchAll(/'(\/apis?\/[a-z0-9.]+(?:\/[a-z0-9.]+)?\/[a-z0-9]+)'/g)) out.add(m[1]!);
  return [...out];
}

/**
 * Static half of the RBAC check (the dynamic half records the requests of a running controller
 * and speaker): client-node calls in src/ are known to {@link CLIENT_CALLS} and granted to the
 * workload that needs them; REST calls with a literal path are granted to at least one of the two
 * service accounts; collection paths the reflectors list are listable and watchable by both; every
 * metallb.io plural named in src/ has a rule.
 */
export function checkRbacCoversCode(docs: Obj[], crdPlurals: string[]): void {
  const ctrl = workloads(docs).find((w) => w.kind === 'Deployment')!;
  const spk = workloads(docs).find((w) => w.kind === 'DaemonSet')!;
  const who = { controller: ctrl, speaker: spk };
  const rules = (w: Obj) => rulesFor(docs, w.spec.template.spec.serviceAccountName, w.metadata.namespace);
  const both = [...rules(ctrl), ...rules(spk)];
  let checked = 0;
  for (const [method, files] of clientCallsInSource()) {
    expect(CLIENT_CALLS[method], `client call ${method} in ${files.join(', ')}: add its RBAC to the manifests, the chart and CLIENT_CALLS`).toBeDefined();
    for (const need of CLIENT_CALLS[method]!)
      for (const w of need.who)
        for (const verb of need.verbs) {
          checked++;
          expect(allows(rules(who[w]), need.group, need.resource, verb), `${w} (${method}) needs ${verb} ${need.group || 'core'}/${need.resource}`).toBe(true);
        }
  }
  for (const c of restCallsInSource()) {
    const a = accessOf(c.method, c.path);
    checked++;
    expect(allows(both, a.group, a.resource, a.verb), `${c.file}: ${c.method} ${c.path} needs ${a.verb} ${a.group || 'core'}/${a.resource}`).toBe(true);
  }
  for (const p of listedPathsInSource()) {
    const a = accessOf('GET', p);
    for (const w of [ctrl, spk])
      for (const verb of ['list', 'watch']) {
        checked++;
        expect(allows(rules(w), a.group, a.resource, verb), `${w.kind}: reflector on ${p} needs ${verb} ${a.group || 'core'}/${a.resource}`).toBe(true);
      }
  }
  for (const p of metallbPluralsInSource(crdPlurals)) {
    checked++;
    expect(both.some((r) => r.apiGroups.includes('metallb.io') && r.resources.some((x: string) => x === p || x.startsWith(`${p}/`))), `metallb.io plural ${p} used in src/ but no rule grants it`).toBe(true);
  }
  expect(checked).toBeGreaterThan(10);
}

/** Deployments and DaemonSets among `docs`. */
export function workloads(docs: Obj[]): Obj[] {
  return docs.filter((d) => d?.kind === 'Deployment' || d?.kind === 'DaemonSet');
}

/** Expands `$(VAR)` in args as kubelet does (unknown references stay literal, `$$` escapes). */
export function expandArgs(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m)));
}

/** The container environment with downward-API fields and Secret references resolved to sample values. */
export function containerEnv(c: Obj, host: { ip: string; node: string; ns: string }, secrets: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandArgs([String(e.value)], env)[0]!;
    else if (e.valueFrom?.fieldRef) {
      const f = e.valueFrom.fieldRef.fieldPath as string;
      const v = { 'spec.nodeName': host.node, 'status.hostIP': host.ip, 'status.podIP': host.ip, 'metadata.namespace': host.ns, 'metadata.name': 'lbkit-pod-x', 'metadata.uid': '0000-uid' }[f];
      expect(v, `env ${e.name}: fieldRef ${f}`).toBeDefined();
      env[e.name] = v!;
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = secrets[name]?.[key];
      expect(v, `env ${e.name}: Secret ${name} key ${key}`).toBeDefined();
      env[e.name] = v!;
    }
  }
  return env;
}

/**
 * Parses each lbkitd container's args with lbkitd's parser as kubelet would run it, on an IPv4
 * and an IPv6 node, and checks probes, resources, the memberlist address and its secret.
 * @param secrets Secret name → data (plain text) the workloads may reference
 */
export function checkWorkloads(docs: Obj[], secrets: Record<string, Record<string, string>>, memberlistPort = 7946): { controller: LbkitdArgs; speaker: LbkitdArgs } {
  const wl = workloads(docs);
  expect(wl.map((w) => w.kind).sort()).toEqual(['DaemonSet', 'Deployment']);
  const parsed: Partial<Record<'controller' | 'speaker', LbkitdArgs>> = {};
  for (const w of wl) {
    const pod = w.spec.template.spec;
    for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) expect(w.spec.template.metadata.labels[k], `${w.kind} template label ${k}`).toBe(v);
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const where = `${w.kind} ${w.metadata.name} container ${c.name}`;
      expect(c.resources?.requests?.cpu, `${where}: resources.requests.cpu`).toBeTruthy();
      expect(c.resources?.requests?.memory, `${where}: resources.requests.memory`).toBeTruthy();
    }
    const c = pod.containers[0];
    const where = `${w.kind} ${w.metadata.name}`;
    for (const ip of ['10.0.0.11', 'fd00::11']) {
      const env = containerEnv(c, { ip, node: 'node-a', ns: w.metadata.namespace }, secrets);
      const argv = expandArgs((c.args ?? []).map(String), env);
      for (const a of argv) expect(a, `${where}: unexpanded reference in args`).not.toMatch(/\$\([A-Za-z_]/);
      const args = parseArgs(argv, env);
      loadMemberlistSecret(args);
      expect(args.inCluster, where).toBe(true);
      const ports = new Map<string, number>((c.ports ?? []).map((p: Obj) => [p.name, p.containerPort]));
      expect(args.metricsPort, `${where}: metrics port`).toBeGreaterThan(0);
      for (const probe of ['livenessProbe', 'readinessProbe']) {
        const h = c[probe]?.httpGet;
        expect(h, `${where}: ${probe}`).toBeDefined();
        expect(['/healthz', '/readyz'], `${where}: ${probe} path`).toContain(h.path);
        const port = typeof h.port === 'string' ? ports.get(h.port) : h.port;
        expect(port, `${where}: ${probe} port ${h.port} is lbkitd's metrics port`).toBe(args.metricsPort);
      }
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      if (w.kind === 'DaemonSet') {
        expect(args.mode, where).toBe('speaker');
        expect(pod.hostNetwork, `${where}: hostNetwork`).toBe(true);
        expect(c.securityContext.capabilities.add, `${where}: NET_RAW`).toContain('NET_RAW');
        // memberlist: on the node's address (bracketed on IPv6), encrypted with the Secret's key, which never appears in args
        expect(args.memberlistBind, `${where}: memberlist bind on ${ip}`).toBe(joinHostPort(ip, memberlistPort));
        expect(parseHostPort(args.memberlistBind!, 'bind')).toEqual({ addr: ip, port: memberlistPort });
        expect(args.memberlistSecret, `${where}: memberlist secret from a Secret`).toBeTruthy();
        expect(Object.values(secrets).some((d) => Object.values(d).includes(args.memberlistSecret!)), `${where}: memberlist secret comes from a Secret`).toBe(true);
        for (const a of argv) expect(a).not.toContain(args.memberlistSecret!);
        expect(ports.get('memberlist-tcp')).toBe(memberlistPort);
        expect(ports.get('memberlist-udp')).toBe(memberlistPort);
        parsed.speaker = args;
      } else {
        expect(args.mode, where).toBe('controller');
        parsed.controller = args;
      }
    }
  }
  return parsed as { controller: LbkitdArgs; speaker: LbkitdArgs };
}

/** One API request as RBAC sees it. */
export interface ApiAccess {
  group: string;
  resource: string;
  verb: string;
  namespace?: string;
}

/** Maps an API request (method, path with query) to the RBAC group/resource/verb it needs. */
export function accessOf(method: string, fullPath: string): ApiAccess {
  const [path, query = ''] = fullPath.split('?');
  const segs = path!.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    group = segs[1]!;
    rest = segs.slice(3);
  } else throw new Error(`not an API path: ${fullPath}`);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const [res, name, sub] = rest;
  const resource = sub ? `${res}/${sub}` : res!;
  const watch = /(^|&)watch=(true|1)(&|$)/.test(query);
  const verb = { GET: name ? 'get' : watch ? 'watch' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection' }[method];
  if (!verb) throw new Error(`unknown method ${method}`);
  return { group, resource, verb, ...(namespace !== undefined ? { namespace } : {}) };
}

/**
 * Asserts that the service account `sa` in `ns` may make every request in `reqs` (namespaced
 * requests: Roles bound in that namespace or ClusterRoles; cluster-wide ones: ClusterRoles only).
 */
export function checkRequestsAllowed(docs: Obj[], sa: string, ns: string, reqs: Array<{ method: string; path: string }>, who: string): ApiAccess[] {
  const seen = new Map<string, ApiAccess>();
  for (const r of reqs) {
    const a = accessOf(r.method, r.path);
    seen.set(`${a.group}/${a.resource}/${a.verb}/${a.namespace ?? '*'}`, a);
  }
  const clusterRules: Obj[] = [];
  const nsRules = new Map<string, Obj[]>();
  for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
    if (!(b.subjects ?? []).some((s: Obj) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === ns)) continue;
    const role = docs.find((d) => d.kind === b.roleRef.kind && d.metadata.name === b.roleRef.name && (d.kind === 'ClusterRole' || d.metadata.namespace === b.metadata.namespace));
    if (!role) continue;
    if (b.kind === 'ClusterRoleBinding') clusterRules.push(...role.rules);
    else nsRules.set(b.metadata.namespace, [...(nsRules.get(b.metadata.namespace) ?? []), ...role.rules]);
  }
  for (const a of seen.values()) {
    const rules = a.namespace !== undefined ? [...clusterRules, ...(nsRules.get(a.namespace) ?? [])] : clusterRules;
    expect(allows(rules, a.group, a.resource, a.verb), `${who} (${sa}) needs ${a.verb} ${a.group || 'core'}/${a.resource}${a.namespace !== undefined ? ` in namespace ${a.namespace}` : ' cluster-wide'}`).toBe(true);
  }
  return [...seen.values()];
}
