/** MetalLB-compatible IP allocator (`internal/allocator` semantics), pure and enumeration-free. */
import { formatIP, tryParseIP } from './ip.js';
import { matchesSelector } from './labels.js';
import { parsePools, poolCapacity } from './pool.js';
import { PoolIndex, type Addr, type PoolInfo, type Range4, type Range6 } from './pool-index.js';
import { NumberRunSet, RunSet } from './runs.js';
import {
  PortKeyer, SharedIndex, addService, distinctKeys, entriesOf, heldPortKeys, sameKey, othersOn, portHolder, portText, removeService, serviceCount, servicesOfEntry, sharingId, sharingOK,
  type Alloc, type IpEntry, type PortKeys, type SharingKey,
} from './sharing.js';
import { cleanIndex, formatV4, fromCleanIndex, isBuggyV4, parseV4Number } from './v4.js';
import type { IPFamily, Pool, PoolSpec, PoolStats, ServiceDescriptor, ServicePort, SetPoolsResult } from './types.js';

/** An allocation error; `message` carries MetalLB's text. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocationError';
  }
}

/** Per-call view of the service: its keys (it is a {@link SharingKey}) and ports, computed once. */
interface Ctx extends SharingKey {
  key: string;
  ports: readonly ServicePort[];
  portKeys: PortKeys;
  skId: string;
  /** The service holds no allocation (so every port holder on an IP is another service). */
  fresh: boolean;
}

/** Result of a pool search: the pool and the chosen IPs (IPv4 first). */
interface Found {
  info: PoolInfo;
  addrs: Addr[];
}

const textsOf = (a: Alloc): string[] => (a.e1 ? [a.e0.text, a.e1.text] : [a.e0.text]);
const other = (f: IPFamily): IPFamily => (f === 'ipv4' ? 'ipv6' : 'ipv4');
const addrText = (a: Addr): string => (a.family === 'ipv4' ? formatV4(a.n) : formatIP('ipv6', a.b));
const v4Addr = (n: number): Addr => ({ family: 'ipv4', n, b: 0n });
const v6Addr = (b: bigint): Addr => ({ family: 'ipv6', n: 0, b });

/** True when the pool may serve the service (namespaces AND service selectors; autoAssign is not considered). */
export function isPoolCompatible(pool: Pool, svc: Pick<ServiceDescriptor, 'namespace' | 'labels'>): boolean {
  const sa = pool.serviceAllocation;
  if (!sa) return true;
  if (sa.namespaces.size > 0 && !sa.namespaces.has(svc.namespace)) return false;
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => matchesSelector(s, svc.labels))) return false;
  return true;
}

/**
 * The allocator. It never enumerates a pool: held addresses live in per-family run sets (IPv4 as numbers,
 * plus a second IPv4 set over "clean" indexes that skip `.0`/`.255`, so avoidBuggyIPs pools need no walk),
 * the lowest free address of a CIDR is one binary search, and shared candidates come from a per-sharing-key
 * index sorted by address. Memory grows with allocations only.
 *
 * Deterministic tie-breaks (MetalLB uses Go map order, i.e. random): pinned pools of equal priority
 * and generic autoAssign pools are tried in ascending pool-name order.
 */
export class Allocator {
  private pools: Pool[] = [];
  private index = new PoolIndex([]);
  private pinnedOrder: PoolInfo[] = [];
  private genericOrder: PoolInfo[] = [];
  private allocs = new Map<string, Alloc>();
  private e4 = new Map<number, IpEntry>();
  private e6 = new Map<bigint, IpEntry>();
  private held4 = new NumberRunSet();
  private held4clean = new NumberRunSet();
  private held6 = new RunSet();
  private shared = new SharedIndex();
  private keyer = new PortKeyer();
  /** Records with services but no sharing key (MetalLB's forget-the-key quirk); usually 0. */
  private loose = 0;

  /** Creates an allocator, optionally with pools (validated specs or parsed pools). */
  constructor(pools?: readonly (Pool | PoolSpec)[]) {
    if (pools) this.setPools(pools);
  }

  /**
   * Replaces the pools. Specs are validated with {@link parsePools} (throws IpamConfigError and keeps the old
   * config). Each allocation is re-homed to the pool now containing all its IPs (rename/split) or unassigned;
   * allocations that still fit are kept untouched.
   */
  setPools(pools: readonly (Pool | PoolSpec)[]): SetPoolsResult {
    const parsed: Pool[] = pools.every((p) => 'cidrs' in p) ? [...(pools as Pool[])] : parsePools(pools as PoolSpec[]);
    this.pools = parsed;
    this.index = new PoolIndex(parsed);
    const byName = (a: PoolInfo, b: PoolInfo) => (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0);
    const rank = (p: PoolInfo) => (p.pool.serviceAllocation!.priority > 0 ? p.pool.serviceAllocation!.priority : Number.POSITIVE_INFINITY);
    this.pinnedOrder = this.index.infos.filter((p) => p.pool.serviceAllocation && p.pool.autoAssign).sort((a, b) => rank(a) - rank(b) || byName(a, b));
    this.genericOrder = this.index.infos.filter((p) => p.pool.autoAssign && !p.pool.serviceAllocation).sort(byName);
    const evicted: string[] = [];
    const moved = new Map<string, string>();
    for (const a of [...this.allocs.values()]) {
      const p = this.index.find(entriesOf(a));
      if (!p) {
        this.unassign(a.key);
        evicted.push(a.key);
      } else {
        if (p.pool.name !== a.pool) {
          a.pool = p.pool.name;
          moved.set(a.key, p.pool.name);
        }
        a.e0.info = p;
        if (a.e1) a.e1.info = p;
      }
    }
    for (const e of this.e4.values()) this.bump(e, 1);
    for (const e of this.e6.values()) this.bump(e, 1);
    return { evicted, moved };
  }

  /** The current pools. */
  getPools(): readonly Pool[] {
    return this.pools;
  }

  /** The pool named `name`, if any. */
  getPool(name: string): Pool | undefined {
    return this.index.byName.get(name)?.pool;
  }

  private bump(e: IpEntry, d: number): void {
    if (e.family === 'ipv4') e.info.used4 += d; else e.info.used6 += d;
  }

  private hold(e: IpEntry, on: boolean): void {
    if (e.family === 'ipv6') {
      if (on) this.held6.add(e.b); else this.held6.delete(e.b);
      return;
    }
    if (on) this.held4.add(e.n); else this.held4.delete(e.n);
    if (!isBuggyV4(e.n)) {
      if (on) this.held4clean.add(cleanIndex(e.n)); else this.held4clean.delete(cleanIndex(e.n));
    }
  }

  /** Records (or forgets, with `sk` undefined) the IP's sharing key; held run sets and the sharing index follow. */
  private setKey(e: IpEntry, sk: SharingKey | undefined, id: string): void {
    const had = e.sk !== undefined;
    if (had && e.sk!.sharing !== '') {
      if (sk && sameKey(sk, e.sk!)) { e.sk = sk; return; }
      this.shared.delete(sharingId(e.sk!), e, heldPortKeys(e));
    }
    e.sk = sk;
    if (sk) {
      if (!had) this.hold(e, true);
      if (sk.sharing !== '') this.shared.add(id, e, heldPortKeys(e));
    } else if (had) this.hold(e, false);
  }

  private entryOf(a: Addr): IpEntry | undefined {
    return a.family === 'ipv4' ? this.e4.get(a.n) : this.e6.get(a.b);
  }

  private parseIPs(ips: readonly string[]): Addr[] {
    return ips.map((s) => {
      if (typeof s === 'string') {
        const n = parseV4Number(s);
        if (n >= 0) return v4Addr(n);
        const ip = tryParseIP(s);
        if (ip) return ip.family === 'ipv4' ? v4Addr(Number(ip.value)) : v6Addr(ip.value);
      }
      throw new AllocationError(`invalid IP ${JSON.stringify(String(s))}`);
    });
  }

  /** Name of the pool that contains all these IPs (honouring avoidBuggyIPs), or undefined. */
  poolForIPs(ips: readonly string[]): string | undefined {
    try {
      return this.index.find(this.parseIPs(ips))?.pool.name;
    } catch {
      return undefined;
    }
  }

  private ctx(svc: ServiceDescriptor): Ctx {
    const sharing = svc.sharingKey ?? '';
    const backend = svc.backendKey ?? '';
    const ports = svc.ports ?? [];
    return { key: svc.key, sharing, backend, ports, portKeys: this.keyer.keys(ports), skId: sharing === '' ? '' : `${sharing}\u0000${backend}`, fresh: false };
  }

  /** MetalLB `checkSharing`: undefined when the service may use the IP. */
  private checkSharing(c: Ctx, e: IpEntry | undefined): string | undefined {
    if (!e || !e.sk) return undefined;
    if (sharingOK(e.sk, c) !== undefined) {
      const others = othersOn(e, c.key);
      if (others.length > 0) return `can't change sharing key for ${JSON.stringify(c.key)}, address also in use by ${others.join(',')}`;
    }
    const pks = c.portKeys;
    if (typeof pks !== 'object') {
      const cur = portHolder(e, pks);
      if (cur !== undefined && cur !== c.key) return `port ${portText(c.ports[0]!)} is already in use on ${JSON.stringify(e.text)}`;
      return undefined;
    }
    for (let i = 0; i < pks.length; i++) {
      const cur = portHolder(e, pks[i]!);
      if (cur !== undefined && cur !== c.key) return `port ${portText(c.ports[i]!)} is already in use on ${JSON.stringify(e.text)}`;
    }
    return undefined;
  }

  /**
   * Records exactly these IPs for the service (MetalLB `Assign`): 1 IP or 2 of different families, all in one
   * pool (buggy IPs excluded when avoidBuggyIPs), pool compatible with the service (autoAssign not checked),
   * sharing rules satisfied. Idempotent; moves the service when the IPs differ. A failure keeps the old allocation.
   */
  assign(svc: ServiceDescriptor, ips: readonly string[]): string[] {
    const parsed = this.parseIPs(ips);
    const a = this.assignAddrs(svc, this.ctx(svc), parsed);
    return parsed.map((ip) => (a.e1 && ip.family === 'ipv6' ? a.e1 : a.e0).text);
  }

  /**
   * MetalLB `Assign` on parsed addresses. `fresh` says the caller knows the service holds nothing (skips the
   * release lookup); `known` is the pool a search just took the addresses from (used when pools cannot overlap,
   * where it is the only pool containing them).
   */
  private assignAddrs(svc: ServiceDescriptor, c: Ctx, ips: Addr[], fresh = false, known?: PoolInfo): Alloc {
    if (ips.length === 0 || ips.length > 2) throw new AllocationError(`invalid number of IPs: ${ips.length}`);
    if (ips.length === 2 && ips[0]!.family === ips[1]!.family) throw new AllocationError(`same address family ${JSON.stringify(ips[0]!.family)}`);
    const info = known && !this.index.overlapping ? known : this.index.find(ips);
    if (!info) throw new AllocationError(`[${ips.map((ip) => JSON.stringify(addrText(ip))).join(' ')}] is not allowed in config`);
    const pool = info.pool;
    if (!isPoolCompatible(pool, svc)) throw new AllocationError(`pool ${pool.name} not compatible for ip assignment`);
    const ip0 = ips.length === 2 && ips[0]!.family === 'ipv6' ? ips[1]! : ips[0]!;
    const ip1 = ips.length === 1 ? undefined : ips[0] === ip0 ? ips[1]! : ips[0]!;
    let x0 = this.recordOf(ip0);
    let x1 = ip1 && this.recordOf(ip1);
    const err = this.checkSharing(c, ips[0] === ip0 ? x0 : x1) ?? (ip1 ? this.checkSharing(c, ips[0] === ip0 ? x1 : x0) : undefined);
    if (err) throw new AllocationError(err);
    if (!fresh && this.unassign(c.key)) {
      x0 = this.recordOf(ip0);
      x1 = ip1 && this.recordOf(ip1);
    }
    if (x0 && !x0.sk) this.loose--;
    if (x1 && !x1.sk) this.loose--;
    const e0 = x0 ?? this.newEntry(ip0, info);
    const e1 = ip1 ? x1 ?? this.newEntry(ip1, info) : undefined;
    const a: Alloc = { key: c.key, pool: pool.name, e0, e1, portKeys: c.portKeys, sharing: c.sharing, backend: c.backend };
    this.join(e0, a);
    this.setKey(e0, a, c.skId);
    if (e1) {
      this.join(e1, a);
      this.setKey(e1, a, c.skId);
    }
    this.allocs.set(c.key, a);
    return a;
  }

  /** Creates (and counts) the record of a free IP. */
  private newEntry(ip: Addr, info: PoolInfo): IpEntry {
    const e: IpEntry = { family: ip.family, n: ip.n, b: ip.b, text: addrText(ip), info, sk: undefined, solo: undefined, group: undefined };
    if (ip.family === 'ipv4') this.e4.set(ip.n, e); else this.e6.set(ip.b, e);
    this.bump(e, 1);
    return e;
  }

  /** Releases the service's allocation; returns whether it had one. */
  unassign(key: string): boolean {
    const a = this.allocs.get(key);
    if (!a) return false;
    this.allocs.delete(key);
    this.release(a, a.e0);
    if (a.e1) this.release(a, a.e1);
    return true;
  }

  private release(a: Alloc, e: IpEntry): void {
    const wasLoose = e.sk === undefined;
    // MetalLB forgets the IP's sharing key once no ports are held on it (QUIRK kept on purpose): the IP then
    // counts as free although services remain on it (a "loose" record).
    const noPorts = this.leave(e, a);
    if (serviceCount(e) === 0) {
      if (e.sk) this.setKey(e, undefined, '');
      else if (wasLoose) this.loose--;
      if (e.family === 'ipv4') this.e4.delete(e.n); else this.e6.delete(e.b);
      this.bump(e, -1);
    } else if (noPorts && e.sk) {
      this.setKey(e, undefined, '');
      this.loose++;
    }
  }

  /** addService, keeping the sharing index's port counts when the IP is indexed under a sharing key. */
  private join(e: IpEntry, a: Alloc): void {
    if (!e.sk || e.sk.sharing === '') { addService(e, a); return; }
    const fresh = distinctKeys(a.portKeys).filter((pk) => portHolder(e, pk) === undefined);
    addService(e, a);
    this.shared.ports(sharingId(e.sk), e.family, fresh, 1);
  }

  /** removeService, keeping the sharing index's port counts; returns true when no ports remain on the IP. */
  private leave(e: IpEntry, a: Alloc): boolean {
    if (!e.sk || e.sk.sharing === '') return removeService(e, a);
    const gone = distinctKeys(a.portKeys).filter((pk) => portHolder(e, pk) === a.key);
    const empty = removeService(e, a);
    this.shared.ports(sharingId(e.sk), e.family, gone, -1);
    return empty;
  }

  /**
   * The IP's record, if any. Records exist for held IPs and for "loose" ones (see {@link release}); while there
   * is no loose record, a free IP needs no Map lookup: one search in the held run set answers.
   */
  private recordOf(a: Addr): IpEntry | undefined {
    if (this.loose === 0 && !this.isHeld(a)) return undefined;
    return this.entryOf(a);
  }

  private isHeld(a: Addr): boolean {
    return a.family === 'ipv4' ? this.held4.has(a.n) : this.held6.has(a.b);
  }

  /** Lowest IPv4 address of the CIDR that is not buggy (if avoided) and passes the sharing checks, or -1. */
  private lowest4(r: Range4, avoidBuggy: boolean, c: Ctx): number {
    let best = -1;
    if (avoidBuggy) {
      if (r.cf <= r.cl) {
        const i = this.held4clean.nextFree(r.cf);
        if (i <= r.cl) best = fromCleanIndex(i);
      }
    } else {
      const x = this.held4.nextFree(r.first);
      if (x <= r.last) best = x;
    }
    if (c.skId !== '') {
      const list = this.shared.list(c.skId, 'ipv4');
      if (list && !(c.fresh && this.shared.saturated(c.skId, 'ipv4', c.portKeys))) {
        for (let i = SharedIndex.lowerBound4(list, r.first); i < list.length; i++) {
          const e = list[i]!;
          if (e.n > r.last || (best >= 0 && e.n >= best)) break;
          if (avoidBuggy && isBuggyV4(e.n)) continue;
          if (this.checkSharing(c, e) === undefined) return e.n;
        }
      }
    }
    return best;
  }

  /** Lowest IPv6 address of the CIDR that passes the sharing checks, or undefined. */
  private lowest6(r: Range6, c: Ctx): bigint | undefined {
    let best: bigint | undefined;
    const x = this.held6.nextFree(r.first);
    if (x <= r.last) best = x;
    if (c.skId !== '') {
      const list = this.shared.list(c.skId, 'ipv6');
      if (list && !(c.fresh && this.shared.saturated(c.skId, 'ipv6', c.portKeys))) {
        for (let i = SharedIndex.lowerBound6(list, r.first); i < list.length; i++) {
          const e = list[i]!;
          if (e.b > r.last || (best !== undefined && e.b >= best)) break;
          if (this.checkSharing(c, e) === undefined) return e.b;
        }
      }
    }
    return best;
  }

  /** MetalLB `getFreeIPsFromPool` for IPv4: the first CIDR (declared order) with a candidate decides. */
  private free4(info: PoolInfo, c: Ctx): number {
    for (const r of info.v4) {
      const v = this.lowest4(r, info.buggy, c);
      if (v >= 0) return v;
    }
    return -1;
  }

  private free6(info: PoolInfo, c: Ctx): bigint | undefined {
    for (const r of info.v6) {
      const v = this.lowest6(r, c);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  private findBest(pools: readonly PoolInfo[], svc: ServiceDescriptor, c: Ctx): Found | undefined {
    const fam = svc.family;
    if (fam === 'ipv4') {
      for (const info of pools) {
        if (info.v4.length === 0) continue;
        const v = this.free4(info, c);
        if (v >= 0) return { info, addrs: [v4Addr(v)] };
      }
      return undefined;
    }
    if (fam === 'ipv6') {
      for (const info of pools) {
        if (info.v6.length === 0) continue;
        const v = this.free6(info, c);
        if (v !== undefined) return { info, addrs: [v6Addr(v)] };
      }
      return undefined;
    }
    if (fam !== 'dual') return undefined;
    const primary: IPFamily = svc.primaryFamily ?? 'ipv4';
    const prefer = svc.ipFamilyPolicy === 'PreferDualStack';
    let primaryOnly: Found | undefined;
    let secondaryOnly: Found | undefined;
    for (const info of pools) {
      // Without PreferDualStack only a pool with both families can serve a dual service.
      if (!prefer && (info.v4.length === 0 || info.v6.length === 0)) continue;
      const v4 = info.v4.length ? this.free4(info, c) : -1;
      if (!prefer && v4 < 0) continue;
      const v6 = info.v6.length ? this.free6(info, c) : undefined;
      if (v4 >= 0 && v6 !== undefined) return { info, addrs: [v4Addr(v4), v6Addr(v6)] };
      if (prefer) {
        const got4 = v4 >= 0 ? v4Addr(v4) : undefined;
        const got6 = v6 !== undefined ? v6Addr(v6) : undefined;
        const p = primary === 'ipv4' ? got4 : got6;
        const s = primary === 'ipv4' ? got6 : got4;
        if (p && !primaryOnly) primaryOnly = { info, addrs: [p] };
        if (s && !secondaryOnly) secondaryOnly = { info, addrs: [s] };
      }
    }
    return primaryOnly ?? secondaryOnly;
  }

  private existing(svc: ServiceDescriptor, c: Ctx): string[] | undefined {
    const a = this.allocs.get(svc.key);
    if (!a) return undefined;
    return textsOf(this.assignAddrs(svc, c, entriesOf(a)));
  }

  private pinnedFor(svc: ServiceDescriptor): PoolInfo[] {
    if (this.pinnedOrder.length === 0) return this.pinnedOrder;
    return this.pinnedOrder.filter((p) => (p.pool.serviceAllocation!.namespaces.has(svc.namespace) || p.pool.serviceAllocation!.serviceSelectors.length > 0) && isPoolCompatible(p.pool, svc));
  }

  /** Pools tried by {@link allocate} before the generic ones: pinned by namespace or selector, autoAssign, compatible, by priority then name. */
  pinnedPoolsFor(svc: ServiceDescriptor): Pool[] {
    return this.pinnedFor(svc).map((i) => i.pool);
  }

  /** Generic pools: autoAssign and no serviceAllocation, by name. */
  genericPools(): Pool[] {
    return this.genericOrder.map((i) => i.pool);
  }

  /** Automatic allocation (MetalLB `Allocate`): existing allocation re-assigned, else pinned pools, else generic pools. Throws "no available IPs". */
  allocate(svc: ServiceDescriptor): string[] {
    const c = this.ctx(svc);
    const ex = this.existing(svc, c);
    if (ex) return ex;
    c.fresh = true;
    const pinned = this.pinnedFor(svc);
    const found = (pinned.length ? this.findBest(pinned, svc, c) : undefined) ?? this.findBest(this.genericOrder, svc, c);
    if (!found) throw new AllocationError('no available IPs');
    return textsOf(this.assignAddrs(svc, c, found.addrs, true, found.info));
  }

  /** Allocation from one named pool, ignoring autoAssign (MetalLB `AllocateFromPool`). */
  allocateFromPool(svc: ServiceDescriptor, poolName: string): string[] {
    const c = this.ctx(svc);
    const a = this.allocs.get(svc.key);
    if (a) {
      const fam = a.e1 ? 'dual' : a.e0.family;
      if (fam !== svc.family && svc.ipFamilyPolicy !== 'PreferDualStack') {
        throw new AllocationError(`IP for wrong family assigned ${textsOf(a).join(',')}`);
      }
      return this.existing(svc, c)!;
    }
    const info = this.index.byName.get(poolName);
    if (!info) throw new AllocationError(`unknown pool ${JSON.stringify(poolName)}`);
    c.fresh = true;
    const found = this.findBest([info], svc, c);
    if (!found) {
      if (svc.family === 'dual') throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)}`);
      throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)} for ${svc.family} IPFamily`);
    }
    return textsOf(this.assignAddrs(svc, c, found.addrs, true, found.info));
  }

  /** Adds the other family to `existingIP` from the same pool and re-assigns both (IPv4 first). */
  allocateFromPoolForAdditionalFamily(svc: ServiceDescriptor, existingIP: string, poolName: string): string[] {
    const info = this.index.byName.get(poolName);
    if (!info) throw new AllocationError(`unknown pool ${JSON.stringify(poolName)}`);
    const [ex] = this.parseIPs([existingIP]);
    const fam = other(ex!.family);
    const c = this.ctx(svc);
    let got: Addr | undefined;
    if (fam === 'ipv4') { const v = this.free4(info, c); if (v >= 0) got = v4Addr(v); }
    else { const v = this.free6(info, c); if (v !== undefined) got = v6Addr(v); }
    if (!got) throw new AllocationError(`no available IPs in pool ${JSON.stringify(poolName)} for ${fam} IPFamily`);
    const ips = ex!.family === 'ipv4' ? [ex!, got] : [got, ex!];
    return textsOf(this.assignAddrs(svc, c, ips));
  }

  /** IPs of the service (IPv4 first), or undefined. */
  ipsOf(key: string): string[] | undefined {
    const a = this.allocs.get(key);
    return a ? textsOf(a) : undefined;
  }

  /** Pool of the service's allocation, or undefined. */
  poolOf(key: string): string | undefined {
    return this.allocs.get(key)?.pool;
  }

  /** Sharing/backend keys recorded for the service, or undefined. */
  keysOf(key: string): { sharingKey: string; backendKey: string } | undefined {
    const a = this.allocs.get(key);
    return a ? { sharingKey: a.sharing, backendKey: a.backend } : undefined;
  }

  /** Services on an IP, in arrival order (empty when free or invalid). */
  servicesOn(ip: string): string[] {
    try {
      const [a] = this.parseIPs([ip]);
      const e = this.entryOf(a!);
      return e ? servicesOfEntry(e) : [];
    } catch {
      return [];
    }
  }

  /** Keys of all services holding an allocation. */
  services(): string[] {
    return [...this.allocs.keys()];
  }

  /** Number of runs of held addresses per family (structural measure: grows with fragmentation, never with pool size). */
  heldRuns(): { ipv4: number; ipv6: number } {
    return { ipv4: this.held4.runCount, ipv6: this.held6.runCount };
  }

  /** Statistics of one pool, or undefined for an unknown pool. Available is computed arithmetically. */
  poolStats(name: string): PoolStats | undefined {
    const info = this.index.byName.get(name);
    if (!info) return undefined;
    const cap = poolCapacity(info.pool);
    const u4 = BigInt(info.used4);
    const u6 = BigInt(info.used6);
    return {
      pool: name,
      capacityIPv4: cap.ipv4,
      capacityIPv6: cap.ipv6,
      assignedIPv4: u4,
      assignedIPv6: u6,
      availableIPv4: cap.ipv4 - u4,
      availableIPv6: cap.ipv6 - u6,
    };
  }

  /** Statistics of every pool, in config order. */
  stats(): PoolStats[] {
    return this.pools.map((p) => this.poolStats(p.name)!);
  }
}
