/** EndpointSlice helpers (`internal/k8s/epslices`). */
import type { EndpointSlice, Node, Service } from './types.js';
import { LABEL_EXCLUDE_LB } from './service.js';

/** Label tying an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/** EndpointSlices of a service (same namespace, `kubernetes.io/service-name` label). */
export function slicesFor(svc: Service, slices: EndpointSlice[]): EndpointSlice[] {
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  return slices.filter((s) => s?.metadata?.namespace === ns && s.metadata?.labels?.[LABEL_SERVICE_NAME] === name);
}

type Ep = NonNullable<EndpointSlice['endpoints']>[number];

/** Endpoints of a slice, tolerating malformed objects (not a list, null entries). */
function eps(s: EndpointSlice): Ep[] {
  return Array.isArray(s?.endpoints) ? s.endpoints.filter((e): e is Ep => !!e && typeof e === 'object') : [];
}

function addrs(ep: Ep): string[] {
  return Array.isArray(ep.addresses) ? ep.addresses : [];
}

/** An endpoint can serve when `ready` is nil or true, or `serving` is true. */
export function canServe(ep: Ep): boolean {
  const c = ep.conditions && typeof ep.conditions === 'object' ? ep.conditions : {};
  return c.ready === undefined || c.ready === null || c.ready === true || c.serving === true;
}

/** Whether any endpoint of these slices can serve. */
export function hasServingEndpoint(slices: EndpointSlice[]): boolean {
  return slices.some((s) => eps(s).some((ep) => canServe(ep) && addrs(ep).length > 0));
}

/** Node names hosting at least one serving endpoint. */
export function nodesWithServingEndpoints(slices: EndpointSlice[]): Set<string> {
  const out = new Set<string>();
  for (const s of slices) for (const ep of eps(s)) if (typeof ep.nodeName === 'string' && canServe(ep) && addrs(ep).length > 0) out.add(ep.nodeName);
  return out;
}

/** Node has condition NetworkUnavailable=True. */
export function networkUnavailable(n: Node | undefined): boolean {
  return (n?.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
}

/** Node carries the exclude-from-external-load-balancers label. */
export function excludedFromLB(n: Node | undefined): boolean {
  return n?.metadata?.labels?.[LABEL_EXCLUDE_LB] !== undefined;
}
