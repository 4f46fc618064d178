/**
 * Plain structural types for the Kubernetes objects lbkit reads and writes. Only the fields the
 * controller and speaker use are typed; everything else passes through untouched.
 */
import type { KubeServiceLike } from '@lbkit/ipam';

/** Kubernetes object metadata (subset). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [k: string]: unknown;
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** A service port. */
export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

/**
 * core/v1 ServiceSpec (subset): the fields `@lbkit/ipam`'s `KubeServiceLike` reads (type, cluster
 * IPs, IP families and policy, loadBalancerIP, externalTrafficPolicy, selector), plus
 * loadBalancerClass and full ports.
 */
export interface ServiceSpec extends Omit<NonNullable<KubeServiceLike['spec']>, 'ports'> {
  /** `spec.loadBalancerClass`: only the controller for this class handles the service. */
  loadBalancerClass?: string;
  /** `spec.ports`. */
  ports?: ServicePort[];
}

/** core/v1 Service (subset). */
export interface Service extends KubeObject {
  kind?: 'Service';
  spec?: ServiceSpec;
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string; ipMode?: string }> } };
}

/** discovery.k8s.io/v1 EndpointSlice (subset). */
export interface EndpointSlice extends KubeObject {
  kind?: 'EndpointSlice';
  addressType?: string;
  endpoints?: Array<{
    addresses?: string[];
    nodeName?: string;
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  }>;
}

/** core/v1 Node (subset). */
export interface Node extends KubeObject {
  kind?: 'Node';
  status?: { conditions?: Array<{ type: string; status: string }>; addresses?: Array<{ type: string; address: string }> };
}

/** core/v1 Namespace. */
export interface Namespace extends KubeObject {
  kind?: 'Namespace';
}

/** metallb.io/v1beta1 IPAddressPool. */
export interface IPAddressPool extends KubeObject {
  kind?: 'IPAddressPool';
  spec?: {
    addresses?: string[];
    autoAssign?: boolean;
    avoidBuggyIPs?: boolean;
    serviceAllocation?: {
      priority?: number;
      namespaces?: string[];
      namespaceSelectors?: LabelSelector[];
      serviceSelectors?: LabelSelector[];
    };
  };
}

/** metallb.io/v1beta1 L2Advertisement. */
export interface L2Advertisement extends KubeObject {
  kind?: 'L2Advertisement';
  spec?: {
    ipAddressPools?: string[];
    ipAddressPoolSelectors?: LabelSelector[];
    nodeSelectors?: LabelSelector[];
    interfaces?: string[];
    serviceSelectors?: LabelSelector[];
    preferredNodeSelectors?: Array<{ weight: number; preference: LabelSelector }>;
  };
}

/** metallb.io/v1beta1 BGPAdvertisement. */
export interface BGPAdvertisement extends KubeObject {
  kind?: 'BGPAdvertisement';
  spec?: {
    aggregationLength?: number;
    aggregationLengthV6?: number;
    localPref?: number;
    communities?: string[];
    ipAddressPools?: string[];
    ipAddressPoolSelectors?: LabelSelector[];
    nodeSelectors?: LabelSelector[];
    peers?: string[];
    serviceSelectors?: LabelSelector[];
  };
}

/** metallb.io/v1beta2 BGPPeer. */
export interface BGPPeer extends KubeObject {
  kind?: 'BGPPeer';
  spec?: {
    myASN?: number;
    peerASN?: number;
    dynamicASN?: string;
    localASN?: number;
    peerAddress?: string;
    interface?: string;
    sourceAddress?: string;
    peerPort?: number;
    holdTime?: string;
    keepaliveTime?: string;
    connectTime?: string;
    routerID?: string;
    nodeSelectors?: LabelSelector[];
    password?: string;
    passwordSecret?: { name?: string; namespace?: string };
    bfdProfile?: string;
    enableGracefulRestart?: boolean;
    ebgpMultiHop?: boolean;
    vrf?: string;
    disableMP?: boolean;
    dualStackAddressFamily?: boolean;
  };
}

/** core/v1 Secret (subset): BGPPeer `spec.passwordSecret` points to one of type `kubernetes.io/basic-auth`. */
export interface Secret extends KubeObject {
  kind?: 'Secret';
  type?: string;
  /** base64-encoded values */
  data?: Record<string, string>;
  /** plain values (write-only in the API; accepted in YAML files) */
  stringData?: Record<string, string>;
}

/** metallb.io/v1beta1 Community. */
export interface Community extends KubeObject {
  kind?: 'Community';
  spec?: { communities?: Array<{ name?: string; value?: string }> };
}

/** metallb.io/v1beta1 BFDProfile. */
export interface BFDProfile extends KubeObject {
  kind?: 'BFDProfile';
  spec?: {
    receiveInterval?: number;
    transmitInterval?: number;
    detectMultiplier?: number;
    echoInterval?: number;
    echoMode?: boolean;
    passiveMode?: boolean;
    minimumTtl?: number;
  };
}

/** metallb.io/v1beta1 ServiceL2Status (written by the announcing speaker). */
export interface ServiceL2Status extends KubeObject {
  kind?: 'ServiceL2Status';
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; interfaces?: Array<{ name: string }> };
}

/** metallb.io/v1beta1 ServiceBGPStatus (one per advertising node and service). */
export interface ServiceBGPStatus extends KubeObject {
  kind?: 'ServiceBGPStatus';
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] };
}

/** Every input kind the adapter understands. */
export type InputKind =
  | 'Service'
  | 'EndpointSlice'
  | 'Node'
  | 'Namespace'
  | 'IPAddressPool'
  | 'L2Advertisement'
  | 'BGPAdvertisement'
  | 'BGPPeer'
  | 'Community'
  | 'BFDProfile'
  | 'Secret';

/** The kinds that make up the metallb.io configuration. */
export const CONFIG_KINDS: readonly InputKind[] = [
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'Community',
  'BFDProfile',
  'Namespace',
];

/** The {@link Snapshot} list each input kind goes to. */
export const FIELD_OF_KIND: Readonly<Record<InputKind, keyof Snapshot>> = {
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Node: 'nodes',
  Namespace: 'namespaces',
  IPAddressPool: 'pools',
  L2Advertisement: 'l2Advertisements',
  BGPAdvertisement: 'bgpAdvertisements',
  BGPPeer: 'bgpPeers',
  Community: 'communities',
  BFDProfile: 'bfdProfiles',
  Secret: 'secrets',
};

/** The metallb.io kinds lbkitd reads (validated by `parseConfig` and the webhook). */
export const METALLB_KINDS = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'Community', 'BFDProfile'] as const satisfies readonly InputKind[];

/** A full snapshot of the objects a source holds. */
export interface Snapshot {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  namespaces: Namespace[];
  pools: IPAddressPool[];
  l2Advertisements: L2Advertisement[];
  bgpAdvertisements: BGPAdvertisement[];
  bgpPeers: BGPPeer[];
  communities: Community[];
  bfdProfiles: BFDProfile[];
  /** Secrets of the metallb.io namespace (BGPPeer password Secrets); absent when the source does not read Secrets. */
  secrets?: Secret[];
}

/** An empty snapshot. */
export function emptySnapshot(): Snapshot {
  return {
    services: [],
    endpointSlices: [],
    nodes: [],
    namespaces: [],
    pools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    bgpPeers: [],
    communities: [],
    bfdProfiles: [],
    secrets: [],
  };
}

/** `namespace/name` key of an object (name only when cluster-scoped). */
export function keyOf(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${o.metadata?.name ?? ''}` : (o.metadata?.name ?? '');
}
