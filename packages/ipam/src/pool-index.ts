/** Pools pre-digested for the allocator: numeric IPv4 bounds, clean-index bounds, and an address → pool lookup. */
import { cleanAtOrAbove, cleanAtOrBelow, cleanIndex, isBuggyV4 } from './v4.js';
import type { IPFamily, Pool } from './types.js';

/** An address in the allocator's internal form: IPv4 as a number, IPv6 as a bigint. */
export interface Addr {
  /** Family. */
  family: IPFamily;
  /** IPv4 value (0 for IPv6). */
  n: number;
  /** IPv6 value (0n for IPv4). */
  b: bigint;
}

/** An IPv4 CIDR with numeric bounds; `cf`/`cl` bound its clean indexes (cf > cl when it has no clean address). */
export interface Range4 {
  /** First address. */
  first: number;
  /** Last address. */
  last: number;
  /** Clean index of the lowest non-buggy address. */
  cf: number;
  /** Clean index of the highest non-buggy address. */
  cl: number;
}

/** An IPv6 CIDR's bounds. */
export interface Range6 {
  /** First address. */
  first: bigint;
  /** Last address. */
  last: bigint;
}

/** A pool with its CIDRs split by family, in declared order. */
export interface PoolInfo {
  /** The pool. */
  pool: Pool;
  /** IPv4 CIDRs. */
  v4: Range4[];
  /** IPv6 CIDRs. */
  v6: Range6[];
  /** avoidBuggyIPs. */
  buggy: boolean;
  /** Distinct IPv4 addresses in use (kept by the allocator). */
  used4: number;
  /** Distinct IPv6 addresses in use (kept by the allocator). */
  used6: number;
}

/** True when the pool contains the address (buggy IPv4 addresses excluded when avoidBuggyIPs). */
export function infoContains(info: PoolInfo, a: Addr): boolean {
  if (a.family === 'ipv4') {
    if (info.buggy && isBuggyV4(a.n)) return false;
    for (const r of info.v4) if (r.first <= a.n && a.n <= r.last) return true;
    return false;
  }
  for (const r of info.v6) if (r.first <= a.b && a.b <= r.last) return true;
  return false;
}

function digest(pool: Pool): PoolInfo {
  const v4: Range4[] = [];
  const v6: Range6[] = [];
  for (const c of pool.cidrs) {
    if (c.family === 'ipv4') {
      const first = Number(c.first);
      const last = Number(c.last);
      const lo = cleanAtOrAbove(first);
      const hi = cleanAtOrBelow(last);
      v4.push(lo <= hi ? { first, last, cf: cleanIndex(lo), cl: cleanIndex(hi) } : { first, last, cf: 1, cl: 0 });
    } else v6.push({ first: c.first, last: c.last });
  }
  return { pool, v4, v6, buggy: pool.avoidBuggyIPs, used4: 0, used6: 0 };
}

/**
 * All pools of a config with an O(log n) "which pool holds these addresses" lookup. Validated pools never
 * overlap, so an address sits in at most one CIDR; pre-parsed pools that do overlap fall back to a scan in
 * config order (the first pool containing all addresses wins, as before).
 */
export class PoolIndex {
  /** Pools in config order. */
  readonly infos: PoolInfo[];
  /** By name. */
  readonly byName = new Map<string, PoolInfo>();
  private s4: number[] = [];
  private e4: number[] = [];
  private p4: PoolInfo[] = [];
  private s6: bigint[] = [];
  private e6: bigint[] = [];
  private p6: PoolInfo[] = [];
  /** True when some CIDRs overlap (only possible with unvalidated, pre-parsed pools). */
  readonly overlapping: boolean = false;

  constructor(pools: readonly Pool[]) {
    this.infos = pools.map(digest);
    for (const i of this.infos) this.byName.set(i.pool.name, i);
    const r4 = this.infos.flatMap((i) => i.v4.map((r) => ({ s: r.first, e: r.last, i }))).sort((a, b) => a.s - b.s);
    const r6 = this.infos.flatMap((i) => i.v6.map((r) => ({ s: r.first, e: r.last, i }))).sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
    for (let k = 0; k < r4.length; k++) {
      if (k > 0 && r4[k]!.s <= this.e4[k - 1]!) this.overlapping = true;
      this.s4.push(r4[k]!.s); this.e4.push(r4[k]!.e); this.p4.push(r4[k]!.i);
    }
    for (let k = 0; k < r6.length; k++) {
      if (k > 0 && r6[k]!.s <= this.e6[k - 1]!) this.overlapping = true;
      this.s6.push(r6[k]!.s); this.e6.push(r6[k]!.e); this.p6.push(r6[k]!.i);
    }
  }

  private locate(a: Addr): PoolInfo | undefined {
    let lo = 0;
    let at = -1;
    if (a.family === 'ipv4') {
      const st = this.s4;
      let hi = st.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (st[mid]! <= a.n) { at = mid; lo = mid + 1; } else hi = mid - 1;
      }
      return at >= 0 && this.e4[at]! >= a.n ? this.p4[at] : undefined;
    }
    const st = this.s6;
    let hi = st.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (st[mid]! <= a.b) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return at >= 0 && this.e6[at]! >= a.b ? this.p6[at] : undefined;
  }

  /** The first pool (config order) that contains all the addresses, honouring avoidBuggyIPs, or undefined. */
  find(addrs: readonly Addr[]): PoolInfo | undefined {
    if (addrs.length === 0) return this.infos[0];
    if (this.overlapping) return this.infos.find((i) => addrs.every((a) => infoContains(i, a)));
    const cand = this.locate(addrs[0]!);
    if (!cand) return undefined;
    for (let k = 0; k < addrs.length; k++) if (!infoContains(cand, addrs[k]!)) return undefined;
    return cand;
  }
}
