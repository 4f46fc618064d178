/** Test helpers: object builders, and polling. */
import type { EndpointSlice, IPAddressPool, L2Advertisement, Node, Service, Snapshot } from '../src/types.js';
import { emptySnapshot } from '../src/types.js';
import { until as poll, type NotYet } from '../../../test-utils/wait.js';

/**
 * Polls `fn` every 20 ms until it returns a value other than undefined, null or false and resolves
 * with it; rejects after `ms` (20 s unless told) naming `what`.
 */
export function until<T>(fn: () => T | NotYet | Promise<T | NotYet>, ms = 20_000, what = 'condition'): Promise<T> {
  return poll(fn, ms, what, 20);
}

export const NS = 'metallb-system';

export function pool(name: string, addresses: string[], spec: IPAddressPool['spec'] = {}, labels?: Record<string, string>): IPAddressPool {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec: { addresses, ...spec } };
}

export function l2ad(name: string, spec: L2Advertisement['spec'] = {}): L2Advertisement {
  return { kind: 'L2Advertisement', metadata: { name, namespace: NS }, spec };
}

export function node(name: string, labels: Record<string, string> = {}, conditions: Array<{ type: string; status: string }> = []): Node {
  return { kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, status: { conditions } };
}

export function svc(name: string, opts: {
  ns?: string;
  clusterIPs?: string[];
  ingress?: string[];
  etp?: 'Local' | 'Cluster';
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  type?: string;
  policy?: string;
  lbIP?: string;
  ports?: Array<{ port: number; protocol?: string }>;
  selector?: Record<string, string>;
  ipFamilies?: string[];
} = {}): Service {
  const s: Service = {
    kind: 'Service',
    metadata: { name, namespace: opts.ns ?? 'default' },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      ports: opts.ports ?? [{ port: 80, protocol: 'TCP' }],
    },
  };
  if (opts.clusterIPs !== undefined) {
    s.spec!.clusterIPs = opts.clusterIPs;
    if (opts.clusterIPs.length) s.spec!.clusterIP = opts.clusterIPs[0];
  } else {
    s.spec!.clusterIP = '10.96.0.1';
    s.spec!.clusterIPs = ['10.96.0.1'];
  }
  if (opts.etp) s.spec!.externalTrafficPolicy = opts.etp;
  if (opts.annotations) s.metadata!.annotations = { ...opts.annotations };
  if (opts.labels) s.metadata!.labels = { ...opts.labels };
  if (opts.policy) s.spec!.ipFamilyPolicy = opts.policy;
  if (opts.ipFamilies) s.spec!.ipFamilies = opts.ipFamilies;
  if (opts.lbIP) s.spec!.loadBalancerIP = opts.lbIP;
  if (opts.selector) s.spec!.selector = opts.selector;
  if (opts.ingress) s.status = { loadBalancer: { ingress: opts.ingress.map((ip) => (ip.startsWith('host:') ? { hostname: ip.slice(5) } : { ip })) } };
  return s;
}

export function slice(svcName: string, eps: Array<{ node: string; ready?: boolean; serving?: boolean; addr?: string }>, ns = 'default'): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    metadata: { name: `${svcName}-${Math.random().toString(36).slice(2, 7)}`, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    endpoints: eps.map((e, i) => ({ addresses: [e.addr ?? `10.244.0.${i + 1}`], nodeName: e.node, conditions: { ready: e.ready ?? true, ...(e.serving !== undefined ? { serving: e.serving } : {}) } })),
  };
}

export function snap(parts: Partial<Snapshot>): Snapshot {
  return { ...emptySnapshot(), ...parts };
}

/**
 * The keys a JSON object text repeats at its top level (JSON.parse keeps only the last of them, so
 * the parsed object cannot show it). For log lines: a field written twice is a bug for log shippers.
 */
export function duplicateTopLevelKeys(json: string): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const isKey = depth === 1 && /^\s*:/.test(json.slice(j + 1, j + 3));
      if (isKey) {
        const k = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(k)) dup.push(k);
        seen.add(k);
      }
      i = j;
    }
  }
  return dup;
}
