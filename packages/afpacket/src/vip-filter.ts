/**
 * Classic BPF filters built from a set of owned addresses, so that ARP requests and neighbour
 * solicitations for addresses this node does not answer are dropped in the kernel.
 *
 * Design: the owned addresses are reduced to 32-bit keys (the IPv4 target address; for IPv6 the
 * low 32 bits of the NS target), sorted and merged into ranges, and compiled into a binary search
 * tree (`jge` + `ja` per inner node, short `jeq`/`jge`+`jgt` chains in the leaves). A pool of
 * consecutive VIPs is one range, so 5000 VIPs from one pool cost a handful of instructions. When the
 * ranges do not fit the instruction budget (classic BPF allows 4096), the ranges separated by the
 * smallest gaps are merged until they fit: the filter then accepts a superset (some addresses we do
 * not own pass), and the exact check is the native responder's table lookup behind it. The result
 * says whether the filter is exact.
 */
import { ja, jeq, jge, jgt, ld, ret, type BpfInstruction } from './bpf.js';
import { ETH_P_ARP, ETH_P_IPV6 } from './filters.js';

/** An inclusive range of 32-bit keys. */
export type KeyRange = readonly [lo: number, hi: number];

/** A compiled VIP filter. */
export interface VipFilter {
  /** The program (prefix checks + key tree). */
  program: BpfInstruction[];
  /** Ranges compiled into the tree (after merging). */
  ranges: number;
  /** True when the program accepts exactly the given keys (no range had to be widened). */
  exact: boolean;
}

/** Default instruction budget (the kernel's limit is 4096). */
export const DEFAULT_MAX_INSNS = 4000;
const LEAF = 16;
const ACCEPT = 0x40000;

/** Sorts 32-bit keys and merges consecutive ones into inclusive ranges. */
export function keyRanges(keys: Iterable<number>): KeyRange[] {
  const sorted = [...new Set(keys)].map((k) => k >>> 0).sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const k of sorted) {
    const last = out[out.length - 1];
    if (last && k === last[1] + 1) last[1] = k;
    else out.push([k, k]);
  }
  return out;
}

/** Merges the ranges separated by the smallest gaps until at most `max` remain (a superset). */
export function coarsen(ranges: readonly KeyRange[], max: number): KeyRange[] {
  if (ranges.length <= max) return [...ranges];
  const gaps = ranges.slice(1).map((r, i) => ({ i, gap: r[0] - ranges[i]![1] }));
  gaps.sort((a, b) => a.gap - b.gap || a.i - b.i);
  const join = new Set(gaps.slice(0, ranges.length - Math.max(1, max)).map((g) => g.i));
  const out: [number, number][] = [];
  ranges.forEach((r, i) => {
    if (i > 0 && join.has(i - 1)) out[out.length - 1]![1] = r[1];
    else out.push([r[0], r[1]]);
  });
  return out;
}

function leafSize(rs: readonly KeyRange[]): number {
  return rs.reduce((n, r) => n + (r[0] === r[1] ? 1 : 2), 0) + 2;
}

/** Instructions {@link keyTree} emits for `rs`. */
function treeSize(rs: readonly KeyRange[]): number {
  if (rs.length <= LEAF) return rs.length === 0 ? 1 : leafSize(rs);
  const mid = rs.length >> 1;
  return 2 + treeSize(rs.slice(0, mid)) + treeSize(rs.slice(mid));
}

/**
 * Code that, with the key in A, returns `accept` when A lies in one of the sorted disjoint `rs`,
 * else 0. Inner node: `jge mid.lo` → right subtree (via `ja`), else left subtree.
 */
export function keyTree(rs: readonly KeyRange[], accept = ACCEPT): BpfInstruction[] {
  if (rs.length === 0) return [ret(0)];
  if (rs.length <= LEAF) {
    const body = leafSize(rs) - 2; // index of `ret 0`; `ret accept` follows it
    const out: BpfInstruction[] = [];
    for (const [lo, hi] of rs) {
      const p = out.length;
      if (lo === hi) out.push(jeq(lo, body + 1 - p - 1, 0));
      else {
        out.push(jge(lo, 0, 1)); // below lo: skip the upper check, try the next range
        out.push(jgt(hi, 0, body + 1 - (p + 1) - 1)); // above hi: next range; else accept
      }
    }
    out.push(ret(0), ret(accept));
    return out;
  }
  const mid = rs.length >> 1;
  const left = keyTree(rs.slice(0, mid), accept);
  const right = keyTree(rs.slice(mid), accept);
  return [jge(rs[mid]![0], 0, 1), ja(left.length), ...left, ...right];
}

function build(prefix: BpfInstruction[], keys: Iterable<number>, maxInsns: number): VipFilter {
  const all = keyRanges(keys);
  let rs = all;
  let cap = rs.length;
  while (prefix.length + treeSize(rs) > maxInsns) {
    cap = Math.max(1, Math.floor(cap * 0.8));
    rs = coarsen(all, cap);
  }
  return { program: [...prefix, ...keyTree(rs)], ranges: rs.length, exact: rs.length === all.length };
}

/** IPv4 address (dotted quad) to its 32-bit key. */
export function ipv4Key(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new TypeError(`ipv4Key: invalid IPv4 address "${ip}"`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Low 32 bits of a 16-byte IPv6 address, the key of {@link nsTargetFilter}. */
export function ipv6LowKey(addr: Uint8Array): number {
  if (addr.length !== 16) throw new RangeError(`ipv6LowKey: ${addr.length} bytes, expected 16`);
  return ((addr[12]! << 24) | (addr[13]! << 16) | (addr[14]! << 8) | addr[15]!) >>> 0;
}

/**
 * ARP requests (EtherType 0x0806, opcode 1) whose target protocol address is one of `keys`
 * (see {@link ipv4Key}).
 */
export function arpTargetFilter(keys: Iterable<number>, maxInsns = DEFAULT_MAX_INSNS): VipFilter {
  const prefix = [ld(2, 12), jeq(ETH_P_ARP, 1, 0), ret(0), ld(2, 20), jeq(1, 1, 0), ret(0), ld(4, 38)];
  return build(prefix, keys, maxInsns);
}

/**
 * ICMPv6 neighbour solicitations (EtherType 0x86dd, next header 58, type 135) whose target's low
 * 32 bits are one of `keys` (see {@link ipv6LowKey}); the exact 128-bit check is done behind it.
 */
export function nsTargetFilter(keys: Iterable<number>, maxInsns = DEFAULT_MAX_INSNS): VipFilter {
  const prefix = [ld(2, 12), jeq(ETH_P_IPV6, 1, 0), ret(0), ld(1, 20), jeq(58, 1, 0), ret(0), ld(1, 54), jeq(135, 1, 0), ret(0), ld(4, 74)];
  const f = build(prefix, keys, maxInsns);
  return { ...f, exact: false }; // only 32 of 128 bits are compared
}
