/**
 * MetalLB's controller (`controller/service.go`, `controller/main.go`): IP assignment for
 * LoadBalancer Services, following convergeBalancer's order of decisions exactly.
 */
import type { AllocRequest, IpAllocator } from './allocator.js';
import type { Config } from './config.js';
import type { EventRecorder } from './events.js';
import { errMsg } from './errors.js';
import {
  ANN_ALLOCATED_FROM_POOL,
  annotation,
  backendKey,
  clusterIPs,
  deprecatedAnnotation,
  desiredLbIPs,
  familyOfAddresses,
  goQuoteIPs,
  ingressIPs,
  ipFamilyPolicy,
  primaryFamily,
  serviceFamily,
  servicePorts,
  sharingKey,
  type ServiceFamily,
} from './service.js';
import { keyOf, type Service } from './types.js';

/** Result of a handler, as in MetalLB's `controllers.SyncState`. */
export type SyncState = 'Success' | 'Error' | 'ReprocessAll' | 'ErrorNoRetry';

/** Result of {@link Controller.setBalancer}. */
export interface BalancerResult {
  state: SyncState;
  /** The service with its new status/annotations when something changed (to be written). */
  update?: Service;
}

/** Options for the controller. */
export interface ControllerOptions {
  allocator: IpAllocator;
  events: EventRecorder;
  /** `--lb-class`: when empty only services without loadBalancerClass are handled. */
  loadBalancerClass?: string;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * The copy converge() works on: converge only ever rewrites `status` and
 * `metadata.annotations`, so those are copied deeply and the rest (spec, labels, managed fields)
 * is shared with the cached object instead of being cloned on every pass.
 */
function workingCopy(s: Service): Service {
  const c: Service = { ...s };
  if (s.metadata) c.metadata = { ...s.metadata, ...(s.metadata.annotations ? { annotations: { ...s.metadata.annotations } } : {}) };
  if (s.status !== undefined) c.status = clone(s.status);
  return c;
}

function normStatus(s: Service): string {
  const st = s.status;
  if (!st || typeof st !== 'object') return canonical(st ?? null);
  const lb = st.loadBalancer;
  if (!lb || typeof lb !== 'object') return canonical(st);
  const ing = lb.ingress;
  if (ing && ing.length > 0) return canonical(st);
  const { ingress: _drop, ...rest } = lb;
  void _drop;
  return canonical({ ...st, loadBalancer: rest });
}

function normAnnotations(s: Service): string {
  const a = s.metadata?.annotations;
  return a && Object.keys(a).length ? canonical(a) : '';
}

/**
 * Equality of what converge() can change (status and annotations); `{}` annotations and absent
 * ones are equal, as are an empty and an absent ingress list.
 */
function sameService(a: Service, b: Service): boolean {
  return normStatus(a) === normStatus(b) && normAnnotations(a) === normAnnotations(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Whether the controller handles this service given `--lb-class`. */
export function handlesClass(svc: Service, lbClass: string | undefined): boolean {
  const c = svc.spec?.loadBalancerClass;
  if (!lbClass) return c === undefined || c === null || c === '';
  return c === lbClass;
}

/** The MetalLB controller core. Pure apart from the allocator state and the events it emits. */
export class Controller {
  private config: Config | null = null;
  private readonly alloc: IpAllocator;
  private readonly events: EventRecorder;
  private readonly lbClass: string | undefined;

  /** @param opts allocator, event sink and class filter */
  constructor(opts: ControllerOptions) {
    this.alloc = opts.allocator;
    this.events = opts.events;
    this.lbClass = opts.loadBalancerClass;
  }

  /** The loaded configuration, or null before the first one. */
  get currentConfig(): Config | null {
    return this.config;
  }

  /** `SetPools`: null → ErrorNoRetry ("configuration is missing"); otherwise ReprocessAll. */
  setConfig(cfg: Config | null): SyncState {
    if (!cfg) return 'ErrorNoRetry';
    this.alloc.setPools([...cfg.pools.values()]);
    this.config = cfg;
    return 'ReprocessAll';
  }

  /** Whether this controller's class filter accepts the service. */
  handles(svc: Service): boolean {
    return handlesClass(svc, this.lbClass);
  }

  private request(key: string, svc: Service, family: ServiceFamily): AllocRequest {
    return {
      key,
      namespace: svc.metadata?.namespace ?? '',
      labels: svc.metadata?.labels ?? {},
      family,
      policy: ipFamilyPolicy(svc),
      primary: primaryFamily(svc),
      ports: servicePorts(svc),
      sharingKey: sharingKey(svc),
      backendKey: backendKey(svc),
    };
  }

  /**
   * `SetBalancer(name, svc)`. `svc` null means deleted. Returns the sync state and, when the
   * service's status or annotation changed, the object to write.
   */
  setBalancer(key: string, svcIn: Service | null): BalancerResult {
    if (!svcIn) {
      return { state: this.alloc.unassign(key) ? 'ReprocessAll' : 'Success' };
    }
    if (!this.config) return { state: 'Success' };
    const svc = workingCopy(svcIn);
    const prevKeys = this.alloc.keysOf(key);
    let state: SyncState = 'Success';
    let ok: boolean;
    try {
      ok = this.converge(key, svc);
    } catch (e) {
      // never let an unexpected input crash the controller
      this.events.event(svc, 'Warning', 'InternalError', `converge failed: ${errMsg(e)}`);
      ok = false;
    }
    if (!ok) state = 'ErrorNoRetry';
    const newKeys = this.alloc.keysOf(key);
    if (prevKeys && newKeys && (prevKeys.sharingKey !== newKeys.sharingKey || prevKeys.backendKey !== newKeys.backendKey)) state = 'ReprocessAll';
    if (sameService(svcIn, svc)) return { state };
    const dep = deprecatedAnnotation(svcIn);
    if (dep) this.events.event(svc, 'Warning', 'deprecatedAnnotation', `Service uses deprecated annotation ${dep}`);
    const before = ingressIPs(svcIn);
    if (before.length > 0 && ingressIPs(svc).length === 0 && before.some((ip) => this.alloc.poolForIPs([ip]) !== undefined)) state = 'ReprocessAll';
    return { state, update: svc };
  }

  private clear(key: string, svc: Service): void {
    this.alloc.unassign(key);
    if (svc.metadata?.annotations) delete svc.metadata.annotations[ANN_ALLOCATED_FROM_POOL];
    if (svc.status?.loadBalancer || svc.status) svc.status = { ...(svc.status ?? {}), loadBalancer: {} };
  }

  private warn(svc: Service, reason: string, msg: string): void {
    this.events.event(svc, 'Warning', reason, msg);
  }

  private info(svc: Service, reason: string, msg: string): void {
    this.events.event(svc, 'Normal', reason, msg);
  }

  /** convergeBalancer; returns false on failure (the mutation so far is still written). */
  private converge(key: string, svc: Service): boolean {
    if (svc.spec?.type !== 'LoadBalancer') {
      this.clear(key, svc);
      return true;
    }
    if (!this.config || this.config.pools.size === 0) {
      this.clear(key, svc);
      return false;
    }
    if (clusterIPs(svc).length === 0) {
      this.clear(key, svc);
      return false;
    }
    let lbIPs = ingressIPs(svc);
    const policy = ipFamilyPolicy(svc);
    if (policy === 'RequireDualStack' && clusterIPs(svc).length < 2) {
      this.warn(svc, 'not enough clusterips', `RequireDualStack requires 2 clusterIPs, got ${JSON.stringify(clusterIPs(svc))}`);
      this.clear(key, svc);
      return false;
    }
    if (lbIPs.length === 0) {
      this.clear(key, svc);
    } else {
      let lbFam: ServiceFamily | 'unknown' = 'unknown';
      try {
        lbFam = familyOfAddresses(lbIPs);
      } catch (e) {
        this.warn(svc, 'nolbIPsIPFamily', `Failed to retrieve lbIPs family: ${errMsg(e)}`);
      }
      let cFam: ServiceFamily;
      try {
        cFam = serviceFamily(svc);
      } catch (e) {
        this.warn(svc, 'noclusterIPsIPFamily', `Failed to retrieve clusterIPs family: ${errMsg(e)}`);
        return false;
      }
      const same = lbFam !== 'unknown' && (lbFam === cFam || (cFam === 'dual' && policy === 'PreferDualStack'));
      if (!same) {
        this.clear(key, svc);
        lbIPs = [];
      }
    }
    if (lbIPs.length > 0) {
      let fam: ServiceFamily;
      try {
        fam = serviceFamily(svc);
      } catch (e) {
        this.warn(svc, 'noclusterIPsIPFamily', `Failed to retrieve clusterIPs family: ${errMsg(e)}`);
        return false;
      }
      try {
        this.alloc.assign(this.request(key, svc, fam), lbIPs);
      } catch (e) {
        this.info(svc, 'ClearAssignment', `current IP for ${JSON.stringify(key)} not allowed by config, will attempt for new IP assignment: ${errMsg(e)}`);
        this.clear(key, svc);
        lbIPs = [];
      }
      const desiredPool = annotation(svc, 'address-pool');
      if (lbIPs.length > 0 && desiredPool && this.alloc.poolOf(key) !== desiredPool) {
        this.clear(key, svc);
        lbIPs = [];
      }
      let desired: string[];
      try {
        desired = desiredLbIPs(svc).ips;
      } catch (e) {
        this.warn(svc, 'LoadBalancerFailed', `invalid requested loadbalancer IPs: ${errMsg(e)}`);
        return false;
      }
      if (desired.length > 0 && [...desired].sort().join(',') !== [...lbIPs].sort().join(',')) {
        this.clear(key, svc);
        lbIPs = [];
      }
    }
    if (lbIPs.length === 1 && policy === 'PreferDualStack') {
      let fam: ServiceFamily | undefined;
      try {
        fam = serviceFamily(svc);
      } catch {
        fam = undefined;
      }
      const pool = this.alloc.poolOf(key);
      if (fam === 'dual' && pool) {
        try {
          lbIPs = this.alloc.allocateFromPoolForAdditionalFamily(this.request(key, svc, fam), lbIPs[0]!, pool);
          this.info(svc, 'IPAllocated', `Assigned additional IP ${goQuoteIPs(lbIPs)}`);
        } catch (e) {
          this.info(svc, 'AdditionalAssignFailed', `Failed to assign additional IP for ${JSON.stringify(key)}: ${errMsg(e)}`);
        }
      }
    }
    if (lbIPs.length === 0) {
      this.clear(key, svc);
      try {
        lbIPs = this.allocateIPs(key, svc);
      } catch (e) {
        this.warn(svc, 'AllocationFailed', `Failed to allocate IP for ${JSON.stringify(key)}: ${errMsg(e)}`);
        return false;
      }
      this.info(svc, 'IPAllocated', `Assigned IP ${goQuoteIPs(lbIPs)}`);
    }
    const pool = this.alloc.poolOf(key);
    if (!pool) {
      this.warn(svc, 'InternalError', `allocated an IP that has no pool`);
      this.clear(key, svc);
      return false;
    }
    svc.status = { ...(svc.status ?? {}), loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
    svc.metadata = svc.metadata ?? {};
    svc.metadata.annotations = { ...(svc.metadata.annotations ?? {}), [ANN_ALLOCATED_FROM_POOL]: pool };
    return true;
  }

  private allocateIPs(key: string, svc: Service): string[] {
    const fam = serviceFamily(svc);
    const req = this.request(key, svc, fam);
    const desired = desiredLbIPs(svc);
    const desiredPool = annotation(svc, 'address-pool');
    if (desired.ips.length > 0) {
      if (desired.family !== fam) throw new Error(`requested loadBalancer IP(s) ${goQuoteIPs(desired.ips)} does not match the ipFamily of the service`);
      this.alloc.assign(req, desired.ips);
      if (desiredPool && this.alloc.poolOf(key) !== desiredPool) {
        this.alloc.unassign(key);
        throw new Error(`requested loadBalancer IP(s) ${goQuoteIPs(desired.ips)} is not compatible with requested address pool ${desiredPool}`);
      }
      return desired.ips;
    }
    if (desiredPool) return this.alloc.allocateFromPool(req, desiredPool);
    return this.alloc.allocate(req);
  }

  /**
   * ReprocessAll: converges every service, those with the most ingress IPs first, so that services
   * already holding IPs re-claim them before pending ones get new ones (zero churn on restart).
   */
  reprocessAll(services: Service[]): Array<{ key: string } & BalancerResult> {
    const list = services
      .filter((s) => this.handles(s))
      .map((s, i) => ({ s, i, n: ingressIPs(s).length }))
      .sort((a, b) => b.n - a.n || (keyOf(a.s) < keyOf(b.s) ? -1 : keyOf(a.s) > keyOf(b.s) ? 1 : a.i - b.i));
    return list.map(({ s }) => ({ key: keyOf(s), ...this.setBalancer(keyOf(s), s) }));
  }
}
