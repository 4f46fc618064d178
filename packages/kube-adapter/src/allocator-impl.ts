/**
 * MetalLB's allocator semantics (`internal/allocator/allocator.go`): Assign with pool membership,
 * compatibility and IP sharing checks; automatic allocation over pinned pools by priority, then
 * generic pools; allocation from a named pool; PreferDualStack additional family; pool reloads.
 */
import type { AllocRequest, IpAllocator, PoolStats } from './allocator.js';
import type { PoolConfig } from './config.js';
import { bits, cidrContains, formatIP, parseIP, type Cidr, type Family, type ParsedIP } from './ip.js';
import { matchAny } from './labels.js';
import { goQuoteIPs } from './service.js';

interface Alloc {
  pool: string;
  ips: string[];
  ports: Array<{ protocol: string; port: number }>;
  sharingKey: string;
  backendKey: string;
  family: Family | 'dual';
}

interface IpUse {
  sharingKey: string;
  backendKey: string;
  /** service key → ports */
  ports: Map<string, Array<{ protocol: string; port: number }>>;
}

function isBuggy(ip: ParsedIP): boolean {
  if (ip.family !== 'ipv4') return false;
  const last = Number(ip.value & 255n);
  return last === 0 || last === 255;
}

function famOf(ip: string): Family {
  return parseIP(ip)!.family;
}

/** The MetalLB-compatible allocator used by the controller. */
export class MetalLbAllocator implements IpAllocator {
  private pools: PoolConfig[] = [];
  private readonly allocated = new Map<string, Alloc>();
  private readonly ipUse = new Map<string, IpUse>();

  /** @inheritdoc */
  setPools(pools: PoolConfig[]): void {
    this.pools = [...pools];
    this.cursor.clear();
    for (const [key, a] of [...this.allocated]) {
      const p = this.poolForIPs(a.ips);
      if (!p) this.unassign(key);
      else a.pool = p;
    }
  }

  private pool(name: string): PoolConfig | undefined {
    return this.pools.find((p) => p.name === name);
  }

  private contains(p: PoolConfig, ip: ParsedIP): boolean {
    if (p.avoidBuggyIPs && isBuggy(ip)) return false;
    return p.cidrs.some((c) => cidrContains(c, ip));
  }

  /** @inheritdoc */
  poolForIPs(ips: string[]): string | undefined {
    const parsed = ips.map((i) => parseIP(i));
    if (parsed.some((p) => !p)) return undefined;
    return this.pools.find((p) => parsed.every((ip) => this.contains(p, ip!)))?.name;
  }

  private compatible(p: PoolConfig, req: AllocRequest): boolean {
    const sa = p.serviceAllocation;
    if (!sa) return true;
    if (sa.namespaces.length > 0 && !sa.namespaces.includes(req.namespace)) return false;
    if (sa.serviceSelectors.length > 0 && !matchAny(sa.serviceSelectors, req.labels)) return false;
    return true;
  }

  /** Sharing check for one IP; returns an error text or null. */
  private checkSharing(key: string, ip: string, ports: AllocRequest['ports'], sharingKey: string, backendKey: string): string | null {
    const use = this.ipUse.get(ip);
    if (!use) return null;
    const others = [...use.ports.keys()].filter((k) => k !== key);
    if (others.length > 0) {
      const otherList = others.sort().join(',');
      if (use.sharingKey === '') return `can't change sharing key for ${JSON.stringify(key)}, address also in use by ${otherList}: existing service does not allow sharing`;
      if (sharingKey === '') return `can't change sharing key for ${JSON.stringify(key)}, address also in use by ${otherList}: new service does not allow sharing`;
      if (use.sharingKey !== sharingKey) return `can't change sharing key for ${JSON.stringify(key)}, address also in use by ${otherList}: sharing key ${JSON.stringify(sharingKey)} does not match existing ${JSON.stringify(use.sharingKey)}`;
      if (use.backendKey !== backendKey) return `can't change sharing key for ${JSON.stringify(key)}, address also in use by ${otherList}: backend key ${JSON.stringify(backendKey)} does not match existing ${JSON.stringify(use.backendKey)}`;
    }
    for (const [svc, ps] of use.ports) {
      if (svc === key) continue;
      for (const p of ports) if (ps.some((q) => q.port === p.port && q.protocol === p.protocol)) return `port ${p.port}/${p.protocol} is already in use on ${JSON.stringify(ip)}`;
    }
    return null;
  }

  /** @inheritdoc */
  assign(req: AllocRequest, ips: string[]): void {
    const parsed = ips.map((i) => parseIP(i));
    if (parsed.some((p) => !p)) throw new Error(`invalid IPs ${goQuoteIPs(ips)}`);
    if (ips.length > 2 || (ips.length === 2 && parsed[0]!.family === parsed[1]!.family)) throw new Error(`invalid IPs ${goQuoteIPs(ips)}: more than one IP per family`);
    if (ips.length === 0) throw new Error('no IPs to assign');
    const canon = parsed.map((p) => formatIP(p!));
    const poolName = this.poolForIPs(canon);
    if (!poolName) throw new Error(`${goQuoteIPs(canon)} is not allowed in config`);
    const pool = this.pool(poolName)!;
    if (!this.compatible(pool, req)) throw new Error(`pool ${poolName} not compatible for ip assignment`);
    for (const ip of canon) {
      const bad = this.checkSharing(req.key, ip, req.ports, req.sharingKey, req.backendKey);
      if (bad) throw new Error(bad);
    }
    this.unassign(req.key);
    const fam = canon.length === 2 ? 'dual' : famOf(canon[0]!);
    this.allocated.set(req.key, { pool: poolName, ips: canon, ports: req.ports, sharingKey: req.sharingKey, backendKey: req.backendKey, family: fam });
    for (const ip of canon) {
      const use = this.ipUse.get(ip) ?? { sharingKey: req.sharingKey, backendKey: req.backendKey, ports: new Map() };
      use.sharingKey = req.sharingKey;
      use.backendKey = req.backendKey;
      use.ports.set(req.key, req.ports);
      this.ipUse.set(ip, use);
    }
  }

  /** @inheritdoc */
  unassign(key: string): boolean {
    const a = this.allocated.get(key);
    if (!a) return false;
    this.allocated.delete(key);
    for (const ip of a.ips) {
      const use = this.ipUse.get(ip);
      if (!use) continue;
      use.ports.delete(key);
      if (use.ports.size === 0) {
        this.ipUse.delete(ip);
        this.freed(ip);
      }
    }
    return true;
  }

  /**
   * Per-CIDR cursor: every address below it is in use by some service. Only valid for requests
   * without a sharing key (a used IP can never be given to them); reset by unassign.
   */
  private readonly cursor = new Map<string, bigint>();

  private cidrKey(c: Cidr): string {
    return `${c.family}/${c.network}/${c.prefix}`;
  }

  /** Lowest usable address in the CIDR that passes the sharing check (MetalLB scans from the start). */
  private freeIn(c: Cidr, pool: PoolConfig, req: AllocRequest): string | undefined {
    const size = 1n << BigInt(bits(c.family) - c.prefix);
    const key = this.cidrKey(c);
    const start = req.sharingKey === '' ? (this.cursor.get(key) ?? 0n) : 0n;
    // bounded scan: every used IP blocks at most one step (buggy .0/.255 at most 2 per /24)
    const limit = start + BigInt(this.ipUse.size) + 2n + 2n * (size >> 8n);
    for (let i = start; i < size && i <= limit; i++) {
      const ip: ParsedIP = { family: c.family, value: c.network + i };
      if (pool.avoidBuggyIPs && isBuggy(ip)) continue;
      const s = formatIP(ip);
      if (this.checkSharing(req.key, s, req.ports, req.sharingKey, req.backendKey) === null) return s;
      if (req.sharingKey === '' && i === (this.cursor.get(key) ?? 0n) && this.ipUse.has(s)) this.cursor.set(key, i + 1n);
    }
    return undefined;
  }

  /** Moves cursors back when an address is freed. */
  private freed(ip: string): void {
    const p = parseIP(ip);
    if (!p) return;
    for (const pool of this.pools)
      for (const c of pool.cidrs)
        if (cidrContains(c, p)) {
          const k = this.cidrKey(c);
          const off = p.value - c.network;
          if ((this.cursor.get(k) ?? 0n) > off) this.cursor.set(k, off);
        }
  }

  private freeFromPool(pool: PoolConfig, req: AllocRequest): { ipv4?: string; ipv6?: string } {
    const out: { ipv4?: string; ipv6?: string } = {};
    for (const c of pool.cidrs) {
      if (out[c.family]) continue;
      const ip = this.freeIn(c, pool, req);
      if (ip) out[c.family] = ip;
    }
    return out;
  }

  private select(free: { ipv4?: string; ipv6?: string }, req: AllocRequest): string[] | undefined {
    if (req.family === 'ipv4') return free.ipv4 ? [free.ipv4] : undefined;
    if (req.family === 'ipv6') return free.ipv6 ? [free.ipv6] : undefined;
    if (free.ipv4 && free.ipv6) return [free.ipv4, free.ipv6];
    if (req.policy === 'PreferDualStack') {
      if (free.ipv4) return [free.ipv4];
      if (free.ipv6) return [free.ipv6];
    }
    return undefined;
  }

  private bestPool(pools: PoolConfig[], req: AllocRequest): { pool: PoolConfig; ips: string[] } | undefined {
    let primaryOnly: { pool: PoolConfig; ips: string[] } | undefined;
    let secondaryOnly: { pool: PoolConfig; ips: string[] } | undefined;
    for (const p of pools) {
      const free = this.freeFromPool(p, req);
      if (req.family !== 'dual') {
        if (free[req.family]) return { pool: p, ips: [free[req.family]!] };
        continue;
      }
      if (free.ipv4 && free.ipv6) return { pool: p, ips: [free.ipv4, free.ipv6] };
      if (req.policy === 'PreferDualStack') {
        const prim = req.primary;
        const sec: Family = prim === 'ipv4' ? 'ipv6' : 'ipv4';
        if (free[prim] && !primaryOnly) primaryOnly = { pool: p, ips: [free[prim]!] };
        if (free[sec] && !secondaryOnly) secondaryOnly = { pool: p, ips: [free[sec]!] };
      }
    }
    return primaryOnly ?? secondaryOnly;
  }

  /** @inheritdoc */
  allocate(req: AllocRequest): string[] {
    const cur = this.allocated.get(req.key);
    if (cur) {
      this.assign(req, cur.ips);
      return cur.ips;
    }
    const pinned = this.pools
      .filter((p) => p.serviceAllocation && p.autoAssign && this.compatible(p, req))
      .sort((a, b) => {
        const pa = a.serviceAllocation!.priority;
        const pb = b.serviceAllocation!.priority;
        if (pa === pb) return 0;
        if (pa === 0) return 1;
        if (pb === 0) return -1;
        return pa - pb;
      });
    const generic = this.pools.filter((p) => !p.serviceAllocation && p.autoAssign);
    for (const set of [pinned, generic]) {
      const best = this.bestPool(set, req);
      if (best) {
        this.assign(req, best.ips);
        return best.ips;
      }
    }
    throw new Error('no available IPs');
  }

  /** @inheritdoc */
  allocateFromPool(req: AllocRequest, poolName: string): string[] {
    const cur = this.allocated.get(req.key);
    if (cur) {
      if (cur.family !== req.family && req.policy !== 'PreferDualStack') throw new Error(`IP for wrong family assigned ${goQuoteIPs(cur.ips)}`);
      this.assign(req, cur.ips);
      return cur.ips;
    }
    const pool = this.pool(poolName);
    if (!pool) throw new Error(`unknown pool ${JSON.stringify(poolName)}`);
    const ips = this.select(this.freeFromPool(pool, req), req);
    if (!ips) throw new Error(req.family === 'dual' ? `no available IPs in pool ${JSON.stringify(poolName)} for ${req.family} IPFamily` : `no available IPs in pool ${JSON.stringify(poolName)} for ${req.family} IPFamily`);
    this.assign(req, ips);
    return ips;
  }

  /** @inheritdoc */
  allocateFromPoolForAdditionalFamily(req: AllocRequest, existingIP: string, poolName: string): string[] {
    const pool = this.pool(poolName);
    if (!pool) throw new Error(`unknown pool ${JSON.stringify(poolName)}`);
    const fam = famOf(existingIP);
    const other: Family = fam === 'ipv4' ? 'ipv6' : 'ipv4';
    const free = this.freeFromPool(pool, req)[other];
    if (!free) throw new Error(`no available ${other} IPs in pool ${JSON.stringify(poolName)}`);
    const ips = fam === 'ipv4' ? [existingIP, free] : [free, existingIP];
    this.assign(req, ips);
    return ips;
  }

  /** @inheritdoc */
  poolOf(key: string): string | undefined {
    return this.allocated.get(key)?.pool;
  }

  /** @inheritdoc */
  ipsOf(key: string): string[] | undefined {
    return this.allocated.get(key)?.ips;
  }

  /** @inheritdoc */
  keysOf(key: string): { sharingKey: string; backendKey: string } | undefined {
    const a = this.allocated.get(key);
    return a ? { sharingKey: a.sharingKey, backendKey: a.backendKey } : undefined;
  }

  /** @inheritdoc */
  stats(): PoolStats[] {
    const MAX = 2 ** 63 - 1;
    return this.pools.map((p) => {
      let v4 = 0n;
      let v6 = 0n;
      for (const c of p.cidrs) {
        let n = 1n << BigInt(bits(c.family) - c.prefix);
        if (p.avoidBuggyIPs && c.family === 'ipv4') {
          if (c.prefix <= 24) n -= 2n * (1n << BigInt(24 - c.prefix));
          else {
            if (isBuggy({ family: 'ipv4', value: c.network })) n -= 1n;
            if (isBuggy({ family: 'ipv4', value: c.network + (1n << BigInt(32 - c.prefix)) - 1n })) n -= 1n;
          }
        }
        if (c.family === 'ipv4') v4 += n;
        else v6 += n;
      }
      const inUse = new Set<string>();
      let services = 0;
      for (const a of this.allocated.values()) {
        if (a.pool !== p.name) continue;
        services++;
        for (const ip of a.ips) inUse.add(ip);
      }
      const u4 = [...inUse].filter((i) => famOf(i) === 'ipv4').length;
      const sat = (x: bigint) => (x >= BigInt(MAX) ? MAX : Number(x));
      return { pool: p.name, total: sat(v4 + v6), ipv4Total: sat(v4), ipv6Total: sat(v6), inUse: inUse.size, ipv4InUse: u4, ipv6InUse: inUse.size - u4, services };
    });
  }
}
