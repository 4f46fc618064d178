/**
 * Small self-contained IP helpers (bigint based) used by config parsing, the election hash and BGP
 * aggregation. IPv4 and IPv6 only; IPv4-mapped IPv6 is treated as IPv6.
 */
import { isIP } from 'node:net';

/** Address family tag as MetalLB names it. */
export type Family = 'ipv4' | 'ipv6';

/** A parsed address. */
export interface ParsedIP {
  family: Family;
  value: bigint;
}

/** A parsed CIDR: network address (masked) and prefix length. */
export interface Cidr {
  family: Family;
  network: bigint;
  prefix: number;
}

/** Bit width of a family. */
export function bits(f: Family): number {
  return f === 'ipv4' ? 32 : 128;
}

/** Parses an IPv4 or IPv6 literal; returns null when it is not one. */
export function parseIP(s: string): ParsedIP | null {
  const t = s.trim();
  const v = isIP(t);
  if (v === 4) {
    const parts = t.split('.').map(Number);
    return { family: 'ipv4', value: BigInt((((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0) };
  }
  if (v === 6) {
    let str = t.toLowerCase();
    if (str.includes('%')) return null;
    // embedded IPv4 tail
    const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(str);
    if (m) {
      const v4 = parseIP(m[2]!);
      if (!v4) return null;
      const n = Number(v4.value);
      str = `${m[1]}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
    }
    const [head, tail] = str.includes('::') ? str.split('::') as [string, string] : [str, undefined];
    const h = head ? head.split(':') : [];
    const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const fill = tail !== undefined ? 8 - h.length - tl.length : 0;
    const groups = [...h, ...Array<string>(fill).fill('0'), ...tl];
    if (groups.length !== 8) return null;
    let value = 0n;
    for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
    return { family: 'ipv6', value };
  }
  return null;
}

/** Formats an address the way Go's net.IP.String() does (dotted quad, RFC 5952 compressed IPv6). */
export function formatIP(ip: ParsedIP): string {
  if (ip.family === 'ipv4') {
    const n = Number(ip.value);
    return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // longest run of zeros (length >= 2), first one wins
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical string of an address literal, or null when invalid. */
export function canonicalIP(s: string): string | null {
  const p = parseIP(s);
  return p ? formatIP(p) : null;
}

/** Mask for a prefix length. */
export function maskOf(f: Family, prefix: number): bigint {
  const b = bits(f);
  return prefix === 0 ? 0n : ((1n << BigInt(b)) - 1n) ^ ((1n << BigInt(b - prefix)) - 1n);
}

/** Parses `a.b.c.d/n` or `x::/n`; the host bits are masked off. Returns null when invalid. */
export function parseCidr(s: string): Cidr | null {
  const t = s.trim();
  const i = t.indexOf('/');
  if (i < 0) return null;
  const ip = parseIP(t.slice(0, i));
  const ps = t.slice(i + 1);
  if (!ip || !/^\d{1,3}$/.test(ps)) return null;
  const prefix = Number(ps);
  if (prefix > bits(ip.family)) return null;
  return { family: ip.family, network: ip.value & maskOf(ip.family, prefix), prefix };
}

/** First address of a CIDR. */
export function cidrFirst(c: Cidr): bigint {
  return c.network;
}

/** Last address of a CIDR. */
export function cidrLast(c: Cidr): bigint {
  return c.network | ((1n << BigInt(bits(c.family) - c.prefix)) - 1n);
}

/** Whether `c` contains address `ip`. */
export function cidrContains(c: Cidr, ip: ParsedIP): boolean {
  return c.family === ip.family && (ip.value & maskOf(c.family, c.prefix)) === c.network;
}

/** Whether two CIDRs overlap (equal or one contains the other). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  const m = maskOf(a.family, p);
  return (a.network & m) === (b.network & m);
}

/** Formats a CIDR as `addr/len`. */
export function formatCidr(c: Cidr): string {
  return `${formatIP({ family: c.family, value: c.network })}/${c.prefix}`;
}

/** Minimal list of CIDRs covering the inclusive range [start, end] (same family). */
export function summarizeRange(family: Family, start: bigint, end: bigint): Cidr[] {
  const out: Cidr[] = [];
  const b = bits(family);
  let cur = start;
  while (cur <= end) {
    let size = 0;
    while (size < b) {
      const next = size + 1;
      const blk = 1n << BigInt(next);
      if (cur % blk !== 0n || cur + blk - 1n > end) break;
      size = next;
    }
    out.push({ family, network: cur, prefix: b - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/** Parses a pool entry: a CIDR or an `a-b` range (spaces around `-` allowed). Throws a descriptive Error. */
export function parsePoolEntry(s: string): Cidr[] {
  if (s.includes('/')) {
    const c = parseCidr(s);
    if (!c) throw new Error(`invalid CIDR ${JSON.stringify(s)}`);
    return [c];
  }
  const dash = s.indexOf('-');
  if (dash < 0) throw new Error(`invalid IP range ${JSON.stringify(s)}: expected a CIDR or "start-end"`);
  const a = parseIP(s.slice(0, dash));
  const b = parseIP(s.slice(dash + 1));
  if (!a) throw new Error(`invalid IP range ${JSON.stringify(s)}: invalid start IP`);
  if (!b) throw new Error(`invalid IP range ${JSON.stringify(s)}: invalid end IP`);
  if (a.family !== b.family) throw new Error(`invalid IP range ${JSON.stringify(s)}: start and end are of different families`);
  if (a.value > b.value) throw new Error(`invalid IP range ${JSON.stringify(s)}: start IP is after the end IP`);
  return summarizeRange(a.family, a.value, b.value);
}
