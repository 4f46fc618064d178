/** MetalLB-compatible IP allocator (`internal/allocator` semantics), pure and enumeration-free. */
import { formatIP, isBuggy, tryParseIP } from './ip.js';
import { matchesSelector } from './labels.js';
import { parsePools, poolCapacity } from './pool.js';
import { RunSet } from './runs.js';
import type { Cidr, IPAddr, IPFamily, Pool, PoolSpec, PoolStats, ServiceDescriptor, ServicePort, SetPoolsResult } from './types.js';

/** An allocation error; `message` carries MetalLB's text. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocationError';
  }
}

interface SharingKey {
  sharing: string;
  backend: string;
}

interface IpEntry {
  family: IPFamily;
  value: bigint;
  pool: string;
  sk: SharingKey | undefined;
  /** `proto/port` → service key. */
  ports: Map<string, string>;
  /** Services on this IP, in arrival order. */
  services: Set<string>;
}

interface Alloc {
  key: string;
  pool: string;
  ips: IPAddr[];
  ports: ServicePort[];
  sk: SharingKey;
}

const portText = (p: ServicePort): string => `${p.protocol}/${p.port}`;
const skIndex = (sk: SharingKey): string => `${sk.sharing}\u0000${sk.backend}`;
const other = (f: IPFamily): IPFamily => (f === 'ipv4' ? 'ipv6' : 'ipv4');

function sharingOK(existing: SharingKey, next: SharingKey): string | undefined {
  if (existing.sharing === '') return 'existing service does not allow sharing';
  if (next.sharing === '') return 'new service does not allow sharing';
  if (existing.sharing !== next.sharing) return `sharing key ${JSON.stringify(next.sharing)} does not match ${JSON.stringify(existing.sharing)}`;
  if (existing.backend !== next.backend) return `backend key ${JSON.stringify(next.backend)} does not match ${JSON.stringify(existing.backend)}`;
  return undefined;
}

/** True when the pool may serve the service (namespaces AND service selectors; autoAssign is not considered). */
export function isPoolCompatible(pool: Pool, svc: Pick<ServiceDescriptor, 'namespace' | 'labels'>): boolean {
  const sa = pool.serviceAllocation;
  if (!sa) return true;
  if (sa.namespaces.size > 0 && !sa.namespaces.has(svc.namespace)) return false;
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => matchesSelector(s, svc.labels))) return false;
  return true;
}

/**
 * The allocator. It never enumerates a pool: held addresses live in per-family run sets and the
 * lowest free address of a CIDR is found by skipping runs; shared candidates come from an index by
 * sharing key. Memory grows with allocations only.
 *
 * Deterministic tie-breaks (MetalLB uses Go map order, i.e. random): pinned pools of equal priority
 * and generic autoAssign pools are tried in ascending pool-name order.
 */
export class Allocator {
  private pools: Pool[] = [];
  private byName = new Map<string, Pool>();
  private pinnedOrder: Pool[] = [];
  private genericOrder: Pool[] = [];
  private allocs = new Map<string, Alloc>();
  private entries: Record<IPFamily, Map<bigint, IpEntry>> = { ipv4: new Map(), ipv6: new Map() };
  private held: Record<IPFamily, RunSet> = { ipv4: new RunSet(), ipv6: new RunSet() };
  private shared = new Map<string, Set<IpEntry>>();
  private inUse = new Map<string, { ipv4: bigint; ipv6: bigint }>();

  /** Creates an allocator, optionally with pools (validated specs or parsed pools). */
  constructor(pools?: readonly (Pool | PoolSpec)[]) {
    if (pools) this.setPools(pools);
  }

  /**
   * Replaces the pools. Specs are validated with {@link parsePools} (throws IpamConfigError and keeps the old
   * config). Each allocation is re-homed to the pool now containing all its IPs (rename/split) or unassigned.
   */
  setPools(pools: readonly (Pool | PoolSpec)[]): SetPoolsResult {
    const parsed: Pool[] = pools.every((p) => 'cidrs' in p) ? [...(pools as Pool[])] : parsePools(pools as PoolSpec[]);
    this.pools = parsed;
    this.byName = new Map(parsed.map((p) => [p.name, p]));
    const byName = (a: Pool, b: Pool) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const rank = (p: Pool) => (p.serviceAllocation!.priority > 0 ? p.serviceAllocation!.priority : Number.POSITIVE_INFINITY);
    this.pinnedOrder = parsed.filter((p) => p.serviceAllocation && p.autoAssign).sort((a, b) => rank(a) - rank(b) || byName(a, b));
    this.genericOrder = parsed.filter((p) => p.autoAssign && !p.serviceAllocation).sort(byName);
    const evicted: string[] = [];
    const moved = new Map<string, string>();
    for (const a of [...this.allocs.values()]) {
      const p = this.poolFor(a.ips);
      if (!p) {
        this.unassign(a.key);
        evicted.push(a.key);
      } else if (p.name !== a.pool) {
        a.pool = p.name;
        moved.set(a.key, p.name);
        for (const ip of a.ips) {
          const e = this.entries[ip.family].get(ip.value);
          if (e) e.pool = p.name;
        }
      }
    }
    this.inUse = new Map();
    for (const m of [this.entries.ipv4, this.entries.ipv6]) for (const e of m.values()) this.bump(e, 1n);
    return { evicted, moved };
  }

  /** The current pools. */
  getPools(): readonly Pool[] {
    return this.pools;
  }

  /** The pool named `name`, if any. */
  getPool(name: string): Pool | undefined {
    return this.byName.get(name);
  }

  private bump(e: IpEntry, d: bigint): void {
    let c = this.inUse.get(e.pool);
    if (!c) this.inUse.set(e.pool, (c = { ipv4: 0n, ipv6: 0n }));
    c[e.family] += d;
  }

  private setKey(e: IpEntry, sk: SharingKey | undefined): void {
    if (e.sk && e.sk.sharing !== '') this.shared.get(skIndex(e.sk))?.delete(e);
    e.sk = sk;
    if (sk) {
      this.held[e.family].add(e.value);
      if (sk.sharing !== '') {
        let s = this.shared.get(skIndex(sk));
        if (!s) this.shared.set(skIndex(sk), (s = new Set()));
        s.add(e);
      }
    } else this.held[e.family].delete(e.value);
  }

  private contains(pool: Pool, ip: IPAddr): boolean {
    if (pool.avoidBuggyIPs && isBuggy(ip.family, ip.value)) return false;
    return pool.cidrs.some((c) => c.family === ip.family && c.first <= ip.value && ip.value <= c.last);
  }

  private poolFor(ips: IPAddr[]): Pool | undefined {
    return this.pools.find((p) => ips.every((ip) => this.contains(p, ip)));
  }

  private parseIPs(ips: readonly string[]): IPAddr[] {
    return ips.map((s) => {
      const ip = typeof s === 'string' ? tryParseIP(s) : undefined;
      if (!ip) throw new AllocationError(`invalid IP ${JSON.stringify(String(s))}`);
      return ip;
    });
  }

  /** Name of the pool that contains all these IPs (honouring avoidBuggyIPs), or undefined. */
  poolForIPs(ips: readonly string[]): string | undefined {
    try {
      return this.poolFor(this.parseIPs(ips))?.name;
    } catch {
      return undefined;
    }
  }

  private checkSharing(svc: string, e: IpEntry | undefined, ports: readonly ServicePort[], sk: SharingKey): string | undefined {
    if (!e || !e.sk) return undefined;
    if (sharingOK(e.sk, sk) !== undefined) {
      const others = [...e.services].filter((s) => s !== svc);
      if (others.length > 0) return `can't change sharing key for ${JSON.stringify(svc)}, address also in use by ${others.join(',')}`;
    }
    for (const p of ports) {
      const cur = e.ports.get(portText(p));
      if (cur !== undefined && cur !== svc) return `port ${portText(p)} is already in use on ${JSON.stringify(formatIP(e.family, e.value))}`;
    }
    return undefined;
  }

  private keyOf(svc: ServiceDescriptor): SharingKey {
    return { sharing: svc.sharingKey ?? '', backend: svc.backendKey ?? '' };
  }

  /**
   * Records exactly these IPs for the service (MetalLB `Assign`): 1 IP or 2 of different families, all in one
   * pool (buggy IPs excluded when avoidBuggyIPs), pool compatible with the service (autoAssign not checked),
   * sharing rules satisfied. Idempotent; moves the service when the IPs differ. A failure keeps the old allocation.
   */
  assign(svc: ServiceDescriptor, ips: readonly string[]): string[] {
    const parsed = this.parseIPs(ips);
    this.assignParsed(svc, parsed);
    return parsed.map((ip) => formatIP(ip.family, ip.value));
  }

  private assignParsed(svc: ServiceDescriptor, ips: IPAddr[]): void {
    if (ips.length === 0 || ips.length > 2) throw new AllocationError(`invalid number of IPs: ${ips.length}`);
    if (ips.length === 2 && ips[0]!.family === ips[1]!.family) throw new AllocationError(`same address family ${JSON.stringify(ips[0]!.family)}`);
    const pool = this.poolFor(ips);
    if (!pool) throw new AllocationError(`[${ips.map((ip) => JSON.stringify(formatIP(ip.family, ip.value))).join(' ')}] is not allowed in config`);
    if (!isPoolCompatible(pool, svc)) throw new AllocationError(`pool ${pool.name} not compatible for ip assignment`);
    const sk = this.keyOf(svc);
    const ports = svc.ports ?? [];
    for (const ip of ips) {
      const err = this.checkSharing(svc.key, this.entries[ip.family].get(ip.value), ports, sk);
      if (err) throw new AllocationError(err);
    }
    this.unassign(svc.key);
    for (const ip of ips) {
      let e = this.entries[ip.family].get(ip.value);
      if (!e) {
        e = { family: ip.family, value: ip.value, pool: pool.name, sk: undefined, ports: new Map(), services: new Set() };
        this.entries[ip.family].set(ip.value, e);
        this.bump(e, 1n);
      }
      for (const p of ports) e.ports.set(portText(p), svc.key);
      e.services.add(svc.key);
      this.setKey(e, sk);
    }
    const sorted = [...ips].sort((a, b) => (a.family === b.family ? 0 : a.family === 'ipv4' ? -1 : 1));
    this.allocs.set(svc.key, { key: svc.key, pool: pool.name, ips: sorted, ports: [...ports], sk });
  }

  /** Releases the service's allocation; returns whether it had one. */
  unassign(key: string): boolean {
    const a = this.allocs.get(key);
    if (!a) return false;
    this.allocs.delete(key);
    for (const ip of a.ips) {
      const e = this.entries[ip.family].get(ip.value);
      if (!e) continue;
      for (const p of a.ports) if (e.ports.get(portText(p)) === key) e.ports.delete(portText(p));
      e.services.delete(key);
      // MetalLB forgets the IP's sharing key once no ports are held on it (QUIRK kept on purpose).
      if (e.ports.size === 0) this.setKey(e, undefined);
      if (e.services.size === 0) {
        if (e.sk) this.setKey(e, undefined);
        this.entries[e.family].delete(e.value);
        this.bump(e, -1n);
      }
    }
    return true;
  }

  /** Lowest address of the CIDR that is not buggy (if avoided) and passes the sharing checks. */
  private lowest(c: Cidr, avoidBuggy: boolean, svc: ServiceDescriptor): bigint | undefined {
    const sk = this.keyOf(svc);
    const ports = svc.ports ?? [];
    const bugs = avoidBuggy && c.family === 'ipv4';
    let best: bigint | undefined;
    let x = c.first;
    for (;;) {
      x = this.held[c.family].nextFree(x);
      if (x > c.last) break;
      if (bugs && isBuggy('ipv4', x)) { x++; continue; }
      best = x;
      break;
    }
    if (sk.sharing !== '') {
      for (const e of this.shared.get(skIndex(sk)) ?? []) {
        if (e.family !== c.family || e.value < c.first || e.value > c.last) continue;
        if (best !== undefined && e.value >= best) continue;
        if (bugs && isBuggy('ipv4', e.value)) continue;
        if (this.checkSharing(svc.key, e, ports, sk) === undefined) best = e.value;
      }
    }
    return best;
  }

  private freeIPsFromPool(pool: Pool, svc: ServiceDescriptor, want: IPFamily[]): Partial<Record<IPFamily, IPAddr>> {
    const out: Partial<Record<IPFamily, IPAddr>> = {};
    for (const c of pool.cidrs) {
      if (!want.includes(c.family) || out[c.family]) continue;
      const v = this.lowest(c, pool.avoidBuggyIPs, svc);
      if (v !== undefined) out[c.family] = { family: c.family, value: v };
    }
    return out;
  }

  private findBest(pools: Pool[], svc: ServiceDescriptor): { pool: Pool; ips: IPAddr[] } | undefined {
    const fam = svc.family;
    const primary: IPFamily = svc.primaryFamily ?? 'ipv4';
    const prefer = svc.ipFamilyPolicy === 'PreferDualStack';
    let primaryOnly: { pool: Pool; ips: IPAddr[] } | undefined;
    let secondaryOnly: { pool: Pool; ips: IPAddr[] } | undefined;
    for (const pool of pools) {
      const want: IPFamily[] = fam === 'dual' ? ['ipv4', 'ipv6'] : [fam];
      const got = this.freeIPsFromPool(pool, svc, want);
      if (fam !== 'dual') {
        const ip = got[fam];
        if (ip) return { pool, ips: [ip] };
        continue;
      }
      if (got.ipv4 && got.ipv6) return { pool, ips: [got.ipv4, got.ipv6] };
      if (prefer) {
        if (got[primary] && !primaryOnly) primaryOnly = { pool, ips: [got[primary]!] };
        const sec = other(primary);
        if (got[sec] && !secondaryOnly) secondaryOnly = { pool, ips: [got[sec]!] };
      }
    }
    return primaryOnly ?? secondaryOnly;
  }

  private existing(svc: ServiceDescriptor): string[] | undefined {
    const a = this.allocs.get(svc.key);
    if (!a) return undefined;
    this.assignParsed(svc, a.ips);
    return a.ips.map((ip) => formatIP(ip.family, ip.value));
  }

  /** Pools tried by {@link allocate} before the generic ones: pinned by namespace or selector, autoAssign, compatible, by priority then name. */
  pinnedPoolsFor(svc: ServiceDescriptor): Pool[] {
    const list = this.pinnedOrder.filter((p) => (p.serviceAllocation!.namespaces.has(svc.namespace) || p.serviceAllocation!.serviceSelectors.length > 0) && isPoolCompatible(p, svc));
    return list;
  }

  /** Generic pools: autoAssign and no serviceAllocation, by name. */
  genericPools(): Pool[] {
    return [...this.genericOrder];
  }

  /** Automatic allocation (MetalLB `Allocate`): existing allocation re-assigned, else pinned pools, else generic pools. Throws "no available IPs". */
  allocate(svc: ServiceDescriptor): string[] {
    const ex = this.existing(svc);
    if (ex) return ex;
    const pinned = this.pinnedPoolsFor(svc);
    const found = (pinned.length ? this.findBest(pinned, svc) : undefined) ?? this.findBest(this.genericOrder, svc);
    if (!found) throw new AllocationError('no available IPs');
    this.assignParsed(svc, found.ips);
    return found.ips.map((ip) => formatIP(ip.family, ip.value));
  }

  /** Allocation from one named pool, ignoring autoAssign (MetalLB `AllocateFromPool`). */
  allocateFromPool(svc: ServiceDescriptor, poolName: string): string[] {
    const a = this.allocs.get(svc.key);
    if (a) {
      const fam = a.ips.length === 2 ? 'dual' : a.ips[0]!.family;
      if (fam !== svc.family && svc.ipFamilyPolicy !== 'PreferDualStack') {
        throw new AllocationError(`IP for wrong family assigned ${a.ips.map((ip) => formatIP(ip.family, ip.value)).join(',')}`);
      }
      return this.existing(svc)!;
    }
    const pool = this.byName.get(poolName);
    if (!pool) throw new AllocationError(`unknown pool ${JSON.stringify(poolName)}`);
    const found = this.findBest([pool], svc);
    if (!found) {
      if (svc.family === 'dual') throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)}`);
      throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)} for ${svc.family} IPFamily`);
    }
    this.assignParsed(svc, found.ips);
    return found.ips.map((ip) => formatIP(ip.family, ip.value));
  }

  /** Adds the other family to `existingIP` from the same pool and re-assigns both (IPv4 first). */
  allocateFromPoolForAdditionalFamily(svc: ServiceDescriptor, existingIP: string, poolName: string): string[] {
    const pool = this.byName.get(poolName);
    if (!pool) throw new AllocationError(`unknown pool ${JSON.stringify(poolName)}`);
    const [ex] = this.parseIPs([existingIP]);
    const fam = other(ex!.family);
    const got = this.freeIPsFromPool(pool, svc, [fam])[fam];
    if (!got) throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)} for ${fam} IPFamily`);
    const ips = ex!.family === 'ipv4' ? [ex!, got] : [got, ex!];
    this.assignParsed(svc, ips);
    return ips.map((ip) => formatIP(ip.family, ip.value));
  }

  /** IPs of the service (IPv4 first), or undefined. */
  ipsOf(key: string): string[] | undefined {
    return this.allocs.get(key)?.ips.map((ip) => formatIP(ip.family, ip.value));
  }

  /** Pool of the service's allocation, or undefined. */
  poolOf(key: string): string | undefined {
    return this.allocs.get(key)?.pool;
  }

  /** Sharing/backend keys recorded for the service, or undefined. */
  keysOf(key: string): { sharingKey: string; backendKey: string } | undefined {
    const a = this.allocs.get(key);
    return a ? { sharingKey: a.sk.sharing, backendKey: a.sk.backend } : undefined;
  }

  /** Services on an IP, in arrival order (empty when free or invalid). */
  servicesOn(ip: string): string[] {
    const p = tryParseIP(ip);
    return p ? [...(this.entries[p.family].get(p.value)?.services ?? [])] : [];
  }

  /** Keys of all services holding an allocation. */
  services(): string[] {
    return [...this.allocs.keys()];
  }

  /** Number of runs of held addresses per family (structural measure: grows with fragmentation, never with pool size). */
  heldRuns(): { ipv4: number; ipv6: number } {
    return { ipv4: this.held.ipv4.runCount, ipv6: this.held.ipv6.runCount };
  }

  /** Statistics of one pool, or undefined for an unknown pool. Available is computed arithmetically. */
  poolStats(name: string): PoolStats | undefined {
    const pool = this.byName.get(name);
    if (!pool) return undefined;
    const cap = poolCapacity(pool);
    const used = this.inUse.get(name) ?? { ipv4: 0n, ipv6: 0n };
    return {
      pool: name,
      capacityIPv4: cap.ipv4,
      capacityIPv6: cap.ipv6,
      assignedIPv4: used.ipv4,
      assignedIPv6: used.ipv6,
      availableIPv4: cap.ipv4 - used.ipv4,
      availableIPv6: cap.ipv6 - used.ipv6,
    };
  }

  /** Statistics of every pool, in config order. */
  stats(): PoolStats[] {
    return this.pools.map((p) => this.poolStats(p.name)!);
  }
}
