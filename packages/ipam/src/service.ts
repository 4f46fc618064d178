/** Helpers deriving allocator inputs from a Kubernetes Service-shaped object (no client library needed). */
import { formatAddr, tryParseIP } from './ip.js';
import type { IPAddr, IPFamily, IPFamilyPolicy, ServiceDescriptor, ServiceFamily } from './types.js';

/** Minimal structural type of a Kubernetes Service, enough for MetalLB's controller. */
export interface KubeServiceLike {
  /** Object metadata. */
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Spec fields MetalLB reads. */
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    loadBalancerIP?: string;
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: Array<{ protocol?: string; port: number }>;
  };
}

/** New annotation prefix. */
export const ANNOTATION_PREFIX = 'metallb.io/';
/** Deprecated prefix, still read; the new one wins when both are present. */
export const LEGACY_ANNOTATION_PREFIX = 'metallb.universe.tf/';
/** Annotation names without prefix. */
export const Annotations = {
  loadBalancerIPs: 'loadBalancerIPs',
  addressPool: 'address-pool',
  allowSharedIP: 'allow-shared-ip',
  ipAllocatedFromPool: 'ip-allocated-from-pool',
} as const;

/** Value of a MetalLB annotation (new prefix wins over the legacy one), or undefined. */
export function metallbAnnotation(svc: KubeServiceLike, name: string): string | undefined {
  const a = svc.metadata?.annotations ?? {};
  if (Object.prototype.hasOwnProperty.call(a, ANNOTATION_PREFIX + name)) return a[ANNOTATION_PREFIX + name];
  if (Object.prototype.hasOwnProperty.call(a, LEGACY_ANNOTATION_PREFIX + name)) return a[LEGACY_ANNOTATION_PREFIX + name];
  return undefined;
}

/** Deprecated-prefix annotation keys present on the service (for the `deprecatedAnnotation` event). */
export function deprecatedAnnotationsOf(svc: KubeServiceLike): string[] {
  return Object.keys(svc.metadata?.annotations ?? {}).filter((k) => k.startsWith(LEGACY_ANNOTATION_PREFIX)).sort();
}

/** `namespace/name`. */
export function serviceKey(svc: KubeServiceLike): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

/** Sharing key: `allow-shared-ip` value, `''` when absent. */
export function sharingKeyOf(svc: KubeServiceLike): string {
  return metallbAnnotation(svc, Annotations.allowSharedIP) ?? '';
}

/** Backend key: for externalTrafficPolicy Local the sorted `k=v,k2=v2` of spec.selector, else `''`. */
export function backendKeyOf(svc: KubeServiceLike): string {
  if (svc.spec?.externalTrafficPolicy !== 'Local') return '';
  const sel = svc.spec.selector ?? {};
  return Object.keys(sel).sort().map((k) => `${k}=${sel[k]}`).join(',');
}

/** Requested pool (`address-pool` annotation) or undefined. */
export function poolAnnotationOf(svc: KubeServiceLike): string | undefined {
  const v = metallbAnnotation(svc, Annotations.addressPool);
  return v === undefined || v === '' ? undefined : v;
}

/** Family of a list of addresses: 1 → its family, 2 of different families → dual, otherwise throws. */
export function familyOfIPs(ips: readonly IPAddr[]): ServiceFamily {
  if (ips.length === 1) return ips[0]!.family;
  if (ips.length === 2) {
    if (ips[0]!.family === ips[1]!.family) throw new Error(`same address family ${JSON.stringify(ips[0]!.family)}`);
    return 'dual';
  }
  throw new Error(`IPFamilyForAddresses: invalid ips length ${ips.length}`);
}

/** Family of the service from its clusterIP(s); throws for `None`, invalid or same-family pairs. */
export function serviceFamilyOf(svc: KubeServiceLike): ServiceFamily {
  const raw = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  const ips = raw.map((s) => {
    const ip = tryParseIP(s);
    if (!ip) throw new Error(`invalid clusterIP ${JSON.stringify(s)}`);
    return ip;
  });
  return familyOfIPs(ips);
}

/**
 * Requested IPs (MetalLB `getDesiredLbIPs`): the `loadBalancerIPs` annotation (comma-separated, trimmed;
 * 1 IP or 2 of different families) or `spec.loadBalancerIP`. Both set → error. Returns `[]` when none.
 * The result is canonical text, in the given order.
 */
export function requestedIPsOf(svc: KubeServiceLike): string[] {
  const ann = metallbAnnotation(svc, Annotations.loadBalancerIPs) ?? '';
  const spec = svc.spec?.loadBalancerIP ?? '';
  if (ann === '' && spec === '') return [];
  if (ann !== '' && spec !== '') throw new Error('service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP');
  let ips: IPAddr[];
  if (ann !== '') {
    ips = ann.split(',').map((s) => {
      const ip = tryParseIP(s.trim());
      if (!ip) throw new Error(`invalid ${ANNOTATION_PREFIX}${Annotations.loadBalancerIPs} annotation ${ann}`);
      return ip;
    });
  } else {
    const ip = tryParseIP(spec);
    if (!ip) throw new Error(`invalid spec.loadBalancerIP ${spec}`);
    ips = [ip];
  }
  familyOfIPs(ips);
  return ips.map(formatAddr);
}

/** Family of requested IPs, or undefined when none are requested. Throws like {@link requestedIPsOf}. */
export function requestedFamilyOf(svc: KubeServiceLike): ServiceFamily | undefined {
  const ips = requestedIPsOf(svc);
  return ips.length ? familyOfIPs(ips.map((s) => tryParseIP(s)!)) : undefined;
}

/** ipFamilyPolicy (unset or unknown → SingleStack). */
export function ipFamilyPolicyOf(svc: KubeServiceLike): IPFamilyPolicy {
  const p = svc.spec?.ipFamilyPolicy;
  return p === 'PreferDualStack' || p === 'RequireDualStack' ? p : 'SingleStack';
}

/** Primary family: IPv6 only when `spec.ipFamilies[0] == "IPv6"`. */
export function primaryFamilyOf(svc: KubeServiceLike): IPFamily {
  return svc.spec?.ipFamilies?.[0] === 'IPv6' ? 'ipv6' : 'ipv4';
}

/** Builds the allocator's {@link ServiceDescriptor}. Throws when the clusterIP family cannot be determined. */
export function descriptorFromService(svc: KubeServiceLike): ServiceDescriptor {
  return {
    key: serviceKey(svc),
    namespace: svc.metadata?.namespace ?? '',
    labels: { ...(svc.metadata?.labels ?? {}) },
    family: serviceFamilyOf(svc),
    ipFamilyPolicy: ipFamilyPolicyOf(svc),
    primaryFamily: primaryFamilyOf(svc),
    ports: (svc.spec?.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })),
    sharingKey: sharingKeyOf(svc),
    backendKey: backendKeyOf(svc),
  };
}
