/**
 * The IP allocator façade the controller needs (MetalLB's `internal/allocator` semantics). The
 * production implementation wraps `@lbkit/ipam` (see `ipam-allocator.ts`); tests may use it too.
 */
import type { Family } from './ip.js';
import type { PoolConfig } from './config.js';
import type { ServiceFamily } from './service.js';

/** Everything the allocator needs to know about a service. */
export interface AllocRequest {
  /** `namespace/name` */
  key: string;
  namespace: string;
  labels: Record<string, string>;
  family: ServiceFamily;
  policy: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  primary: Family;
  ports: Array<{ protocol: string; port: number }>;
  sharingKey: string;
  backendKey: string;
}

/** Per-pool counters for metrics. */
export interface PoolStats {
  pool: string;
  total: number;
  ipv4Total: number;
  ipv6Total: number;
  inUse: number;
  ipv4InUse: number;
  ipv6InUse: number;
  services: number;
}

/** MetalLB allocator operations. Errors are thrown as Error with MetalLB's texts. */
export interface IpAllocator {
  /** Replaces the pools; existing allocations move to the pool now containing them or are dropped. */
  setPools(pools: PoolConfig[]): void;
  /** Records exactly these IPs for the service (checks pool membership, compatibility, sharing). */
  assign(req: AllocRequest, ips: string[]): void;
  /** Automatic allocation over pinned then generic pools. */
  allocate(req: AllocRequest): string[];
  /** Allocation from one named pool (ignores autoAssign). */
  allocateFromPool(req: AllocRequest, pool: string): string[];
  /** Adds the missing family for a PreferDualStack service from the same pool. */
  allocateFromPoolForAdditionalFamily(req: AllocRequest, existingIP: string, pool: string): string[];
  /** Releases the service's allocation; returns whether it had one. */
  unassign(key: string): boolean;
  /** Pool of the service's allocation, or undefined. */
  poolOf(key: string): string | undefined;
  /** IPs of the service's allocation, or undefined. */
  ipsOf(key: string): string[] | undefined;
  /** Sharing/backend keys recorded for the service, or undefined. */
  keysOf(key: string): { sharingKey: string; backendKey: string } | undefined;
  /** Name of the pool that contains all these IPs (honouring avoidBuggyIPs), or undefined. */
  poolForIPs(ips: string[]): string | undefined;
  /** Counters per pool. */
  stats(): PoolStats[];
}
