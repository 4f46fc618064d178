/** The controller's IpAllocator façade over `@lbkit/ipam`'s MetalLB-compatible Allocator. */
import { Allocator, makeCidr, type LabelSelector as IpamSelector, type Pool, type ServiceDescriptor } from '@lbkit/ipam';
import type { AllocRequest, IpAllocator, PoolStats } from '../allocator.js';
import type { PoolConfig } from '../config.js';

function toPool(p: PoolConfig): Pool {
  const pool: Pool = {
    name: p.name,
    cidrs: p.cidrs.map((c) => makeCidr(c.family, c.network, c.prefix)),
    autoAssign: p.autoAssign,
    avoidBuggyIPs: p.avoidBuggyIPs,
  };
  if (p.serviceAllocation)
    pool.serviceAllocation = {
      priority: p.serviceAllocation.priority,
      namespaces: new Set(p.serviceAllocation.namespaces),
      serviceSelectors: p.serviceAllocation.serviceSelectors as IpamSelector[],
    };
  return pool;
}

function toDesc(r: AllocRequest): ServiceDescriptor {
  return { key: r.key, namespace: r.namespace, labels: r.labels, family: r.family, ipFamilyPolicy: r.policy, primaryFamily: r.primary, ports: r.ports, sharingKey: r.sharingKey, backendKey: r.backendKey };
}

const sat = (x: bigint): number => (x >= 2n ** 63n - 1n ? 2 ** 63 - 1 : Number(x));

/** IpAllocator backed by `@lbkit/ipam`. */
export class IpamAllocator implements IpAllocator {
  private readonly a = new Allocator();
  /** @inheritdoc */
  setPools(pools: PoolConfig[]): void {
    this.a.setPools(pools.map(toPool));
  }
  /** @inheritdoc */
  assign(req: AllocRequest, ips: string[]): void {
    this.a.assign(toDesc(req), ips);
  }
  /** @inheritdoc */
  allocate(req: AllocRequest): string[] {
    return this.a.allocate(toDesc(req));
  }
  /** @inheritdoc */
  allocateFromPool(req: AllocRequest, pool: string): string[] {
    return this.a.allocateFromPool(toDesc(req), pool);
  }
  /** @inheritdoc */
  allocateFromPoolForAdditionalFamily(req: AllocRequest, existingIP: string, pool: string): string[] {
    return this.a.allocateFromPoolForAdditionalFamily(toDesc(req), existingIP, pool);
  }
  /** @inheritdoc */
  unassign(key: string): boolean {
    return this.a.unassign(key);
  }
  /** @inheritdoc */
  poolOf(key: string): string | undefined {
    return this.a.poolOf(key);
  }
  /** @inheritdoc */
  ipsOf(key: string): string[] | undefined {
    return this.a.ipsOf(key);
  }
  /** @inheritdoc */
  keysOf(key: string): { sharingKey: string; backendKey: string } | undefined {
    return this.a.keysOf(key);
  }
  /** @inheritdoc */
  poolForIPs(ips: string[]): string | undefined {
    return this.a.poolForIPs(ips);
  }
  /** @inheritdoc */
  stats(): PoolStats[] {
    return this.a.stats().map((s) => {
      const services = this.a.services().filter((k) => this.a.poolOf(k) === s.pool).length;
      return {
        pool: s.pool,
        total: sat(s.capacityIPv4 + s.capacityIPv6),
        ipv4Total: sat(s.capacityIPv4),
        ipv6Total: sat(s.capacityIPv6),
        inUse: sat(s.assignedIPv4 + s.assignedIPv6),
        ipv4InUse: sat(s.assignedIPv4),
        ipv6InUse: sat(s.assignedIPv6),
        services,
      };
    });
  }
}
