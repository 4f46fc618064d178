/**
 * IP helpers used by config parsing, the election hash and BGP aggregation. Parsing, formatting and
 * range summarization are `@lbkit/ipam`'s (one implementation); this module keeps kube-adapter's
 * shapes (`null` for invalid input, `Cidr` as network + prefix). IPv4 and IPv6 only; IPv4-mapped IPv6
 * is treated as IPv6.
 */
import {
  canonicalIP as ipamCanonicalIP,
  familyBits,
  formatAddr,
  parseCidr as ipamParseCidr,
  summarize,
  tryParseIP,
  type IPFamily,
} from '@lbkit/ipam';
import { boundedMemo } from './memo.js';

/** Address family tag as MetalLB names it. */
export type Family = IPFamily;

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
  return familyBits(f);
}

/** Parses an IPv4 or IPv6 literal (`@lbkit/ipam`'s `tryParseIP`); returns null when it is not one. */
export function parseIP(s: string): ParsedIP | null {
  return tryParseIP(s) ?? null;
}

/** Formats an address the way Go's net.IP.String() does (dotted quad, RFC 5952 compressed IPv6). */
export function formatIP(ip: ParsedIP): string {
  return formatAddr(ip);
}

/**
 * Memo of {@link canonicalIP} for IPv6 text (about 5 µs each): every election and decision
 * canonicalizes the same ingress IPs again. IPv4 text takes ipam's digit scan, cheaper than a lookup.
 */
const canonicalOf = boundedMemo(200_000, (s: string): string | null => ipamCanonicalIP(s) ?? null);

/** Canonical string of an address literal, or null when invalid (IPv6 memoised). */
export function canonicalIP(s: string): string | null {
  return s.includes(':') ? canonicalOf(s) : (ipamCanonicalIP(s) ?? null);
}

/** Mask for a prefix length. */
export function maskOf(f: Family, prefix: number): bigint {
  const b = bits(f);
  return prefix === 0 ? 0n : ((1n << BigInt(b)) - 1n) ^ ((1n << BigInt(b - prefix)) - 1n);
}

/** Parses `a.b.c.d/n` or `x::/n`; the host bits are masked off. Returns null when invalid. */
export function parseCidr(s: string): Cidr | null {
  let c;
  try {
    c = ipamParseCidr(s);
  } catch {
    return null;
  }
  return { family: c.family, network: c.first, prefix: c.prefix };
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

/** Minimal list of CIDRs covering the inclusive range [start, end] (same family; `@lbkit/ipam`'s `summarize`). */
export function summarizeRange(family: Family, start: bigint, end: bigint): Cidr[] {
  return summarize(family, start, end).map((c) => ({ family: c.family, network: c.first, prefix: c.prefix }));
}

/**
 * Parses a pool entry: a CIDR or an `a-b` range (spaces around `-` allowed). Throws a descriptive Error
 * (kube-adapter's texts, which name the failing part of a range).
 */
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
