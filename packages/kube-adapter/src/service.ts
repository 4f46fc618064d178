/** Helpers that read MetalLB's inputs from a Service: annotations, families, ports and keys. */
import { canonicalIP, parseIP, type Family } from './ip.js';
import { labelsString } from './labels.js';
import type { Service } from './types.js';

/** Current annotation prefix. */
export const PREFIX = 'metallb.io/';
/** Deprecated prefix, still read (the new one wins when both are present). */
export const LEGACY_PREFIX = 'metallb.universe.tf/';
/** Annotation the controller writes with the pool name. */
export const ANN_ALLOCATED_FROM_POOL = 'metallb.io/ip-allocated-from-pool';
/** Label excluding a node from external load balancers. */
export const LABEL_EXCLUDE_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Service family: ipv4, ipv6 or dual. */
export type ServiceFamily = Family | 'dual';

/** Reads a MetalLB annotation (`metallb.io/<name>`, falling back to the legacy prefix). */
export function annotation(svc: Service, name: string): string | undefined {
  const a = svc.metadata?.annotations ?? {};
  return a[PREFIX + name] ?? a[LEGACY_PREFIX + name];
}

/** Whether the service uses a deprecated-prefix annotation; returns its name or undefined. */
export function deprecatedAnnotation(svc: Service): string | undefined {
  const a = svc.metadata?.annotations ?? {};
  return Object.keys(a).find((k) => k.startsWith(LEGACY_PREFIX));
}

/** Family of a set of addresses (Go's ipfamily.ForAddresses); throws on invalid combinations. */
export function familyOfAddresses(ips: string[]): ServiceFamily {
  if (ips.length === 1) {
    const p = parseIP(ips[0]!);
    if (!p) throw new Error(`invalid ip ${JSON.stringify(ips[0])}`);
    return p.family;
  }
  if (ips.length === 2) {
    const a = parseIP(ips[0]!);
    const b = parseIP(ips[1]!);
    if (!a || !b) throw new Error(`invalid ips ${JSON.stringify(ips)}`);
    if (a.family === b.family) throw new Error(`same address family ${JSON.stringify(ips)}`);
    return 'dual';
  }
  throw new Error(`invalid ips length ${ips.length} ${JSON.stringify(ips)}`);
}

/** Cluster IPs of a service (clusterIPs, else clusterIP), empty when none. */
export function clusterIPs(svc: Service): string[] {
  const s = svc.spec ?? {};
  if (Array.isArray(s.clusterIPs) && s.clusterIPs.length) return s.clusterIPs;
  return s.clusterIP ? [s.clusterIP] : [];
}

/** Family of the service from its cluster IPs; throws for headless or malformed services. */
export function serviceFamily(svc: Service): ServiceFamily {
  return familyOfAddresses(clusterIPs(svc));
}

/** `spec.ipFamilyPolicy`, defaulting to SingleStack. */
export function ipFamilyPolicy(svc: Service): 'SingleStack' | 'PreferDualStack' | 'RequireDualStack' {
  const p = svc.spec?.ipFamilyPolicy;
  return p === 'PreferDualStack' || p === 'RequireDualStack' ? p : 'SingleStack';
}

/** Primary family: IPv6 when `spec.ipFamilies[0] == IPv6`, else IPv4. */
export function primaryFamily(svc: Service): Family {
  return svc.spec?.ipFamilies?.[0] === 'IPv6' ? 'ipv6' : 'ipv4';
}

/** Non-empty `status.loadBalancer.ingress[].ip` values. */
export function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i?.ip ?? '').filter((ip) => ip !== '');
}

/** (protocol, port) pairs of the service; protocol defaults to TCP. */
export function servicePorts(svc: Service): Array<{ protocol: string; port: number }> {
  return (svc.spec?.ports ?? []).map((p) => ({ protocol: (p.protocol ?? 'TCP').toUpperCase(), port: Number(p.port) }));
}

/** Sharing key: the `allow-shared-ip` annotation, or "". */
export function sharingKey(svc: Service): string {
  return annotation(svc, 'allow-shared-ip') ?? '';
}

/** Backend key: `labels.Set(selector).String()` for eTP Local, "" otherwise. */
export function backendKey(svc: Service): string {
  return svc.spec?.externalTrafficPolicy === 'Local' ? labelsString(svc.spec?.selector) : '';
}

/**
 * Requested IPs: the `loadBalancerIPs` annotation or `spec.loadBalancerIP`. Returns the canonical
 * IPs and their family, or throws with MetalLB's messages.
 */
export function desiredLbIPs(svc: Service): { ips: string[]; family?: ServiceFamily } {
  const ann = annotation(svc, 'loadBalancerIPs') ?? '';
  const spec = svc.spec?.loadBalancerIP ?? '';
  if (ann === '' && spec === '') return { ips: [] };
  if (ann !== '' && spec !== '') throw new Error('service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP');
  if (ann !== '') {
    const ips: string[] = [];
    for (const part of ann.split(',')) {
      const c = canonicalIP(part.trim());
      if (!c) throw new Error(`invalid metallb.io/loadBalancerIPs annotation ${ann}`);
      ips.push(c);
    }
    return { ips, family: familyOfAddresses(ips) };
  }
  const c = canonicalIP(spec);
  if (!c) throw new Error(`invalid spec.loadBalancerIP ${spec}`);
  return { ips: [c], family: familyOfAddresses([c]) };
}

/** Formats IPs like Go's `%q` on a []net.IP: `["1.2.3.0" "1000::"]`. */
export function goQuoteIPs(ips: string[]): string {
  return `[${ips.map((i) => JSON.stringify(i)).join(' ')}]`;
}
