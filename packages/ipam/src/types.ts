/** Shared public types of `@lbkit/ipam`. */

/** An IP address family. */
export type IPFamily = 'ipv4' | 'ipv6';

/** The family of a Service: from its clusterIPs (one IP → that family, two of different families → dual). */
export type ServiceFamily = IPFamily | 'dual';

/** Kubernetes `spec.ipFamilyPolicy`; unset is treated as SingleStack (MetalLB). */
export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** A parsed IP address: family plus its numeric value. */
export interface IPAddr {
  /** Address family. */
  family: IPFamily;
  /** Numeric value (32 or 128 bits). */
  value: bigint;
}

/** A parsed CIDR block. */
export interface Cidr {
  /** Address family. */
  family: IPFamily;
  /** First (network) address. */
  first: bigint;
  /** Last address of the block. */
  last: bigint;
  /** Prefix length. */
  prefix: number;
  /** Canonical text, e.g. `10.0.0.0/24`. */
  text: string;
}

/** Kubernetes label-selector requirement. */
export interface LabelSelectorRequirement {
  /** Label key. */
  key: string;
  /** One of In, NotIn, Exists, DoesNotExist. */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Values for In/NotIn. */
  values?: string[];
}

/** Kubernetes LabelSelector (matchLabels AND matchExpressions). An empty selector matches everything. */
export interface LabelSelector {
  /** Exact key=value pairs. */
  matchLabels?: Record<string, string>;
  /** Set-based requirements. */
  matchExpressions?: LabelSelectorRequirement[];
}

/** `spec.serviceAllocation` of an IPAddressPool. */
export interface ServiceAllocationSpec {
  /** Lower value = higher priority; 0/unset = lowest. */
  priority?: number;
  /** Allowed namespaces. */
  namespaces?: string[];
  /** Namespace label selectors; resolved to names with {@link ParsePoolsOptions.namespaceLabels}. */
  namespaceSelectors?: LabelSelector[];
  /** Service label selectors (ORed). */
  serviceSelectors?: LabelSelector[];
}

/** IPAddressPool-like input spec. */
export interface PoolSpec {
  /** Pool name (unique). */
  name: string;
  /** CIDRs (`10.0.0.0/24`) or ranges (`10.0.0.1 - 10.0.0.9`). */
  addresses: string[];
  /** Used for automatic allocation (default true). */
  autoAssign?: boolean;
  /** Never hand out IPv4 `.0` / `.255`. */
  avoidBuggyIPs?: boolean;
  /** Restricts which services may use the pool. */
  serviceAllocation?: ServiceAllocationSpec;
}

/** A validated pool as used by the {@link Allocator}. */
export interface Pool {
  /** Pool name. */
  name: string;
  /** CIDRs in declared order (ranges already summarized). */
  cidrs: Cidr[];
  /** Used for automatic allocation. */
  autoAssign: boolean;
  /** IPv4 `.0`/`.255` excluded. */
  avoidBuggyIPs: boolean;
  /** Present when the spec had a serviceAllocation. */
  serviceAllocation?: {
    /** Priority (0 = lowest). */
    priority: number;
    /** Allowed namespaces (explicit plus resolved selectors); empty = any (MetalLB semantics). */
    namespaces: Set<string>;
    /** Service selectors (ORed); an empty serviceAllocation gets one match-all selector. */
    serviceSelectors: LabelSelector[];
  };
}

/** A (protocol, port) pair of a Service. */
export interface ServicePort {
  /** TCP, UDP or SCTP (compared case-sensitively, as Kubernetes does). */
  protocol: string;
  /** Port number. */
  port: number;
}

/** Everything the allocator needs to know about a service. */
export interface ServiceDescriptor {
  /** `namespace/name`. */
  key: string;
  /** Namespace (for pool compatibility). */
  namespace: string;
  /** Service labels (for serviceSelectors). */
  labels?: Record<string, string>;
  /** Family from clusterIPs. */
  family: ServiceFamily;
  /** ipFamilyPolicy (default SingleStack). */
  ipFamilyPolicy?: IPFamilyPolicy;
  /** `spec.ipFamilies[0]` (default ipv4). */
  primaryFamily?: IPFamily;
  /** Ports. */
  ports?: ServicePort[];
  /** `metallb.io/allow-shared-ip` value, `''` when absent. */
  sharingKey?: string;
  /** Backend key (see {@link backendKeyOf}). */
  backendKey?: string;
}

/** Per-pool statistics (exact bigints; MetalLB saturates at MaxInt64, see {@link saturateInt64}). */
export interface PoolStats {
  /** Pool name. */
  pool: string;
  /** Usable IPv4 addresses (avoidBuggyIPs honoured). */
  capacityIPv4: bigint;
  /** Usable IPv6 addresses. */
  capacityIPv6: bigint;
  /** Distinct IPv4 addresses in use. */
  assignedIPv4: bigint;
  /** Distinct IPv6 addresses in use. */
  assignedIPv6: bigint;
  /** capacityIPv4 - assignedIPv4. */
  availableIPv4: bigint;
  /** capacityIPv6 - assignedIPv6. */
  availableIPv6: bigint;
}

/** Result of {@link Allocator.setPools}. */
export interface SetPoolsResult {
  /** Services whose allocation no longer fits any pool (unassigned). */
  evicted: string[];
  /** Services whose pool name changed (rename/split): key → new pool. */
  moved: Map<string, string>;
}
