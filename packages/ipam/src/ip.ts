/** IPv4/IPv6 parsing and formatting with bigint values. */
import { isIP } from 'node:net';
import { parseCidr as parseNetwork } from 'cidr-tools';
import type { Cidr, IPAddr, IPFamily } from './types.js';
import { parseV4Number } from './v4.js';

/**
 * Parses an IP address; returns undefined when invalid (no zones, no leading zeros in IPv4, as Go's
 * net.ParseIP). Validation is Node's own `net.isIP`; the value comes from cidr-tools (through ip-bigint), the
 * project's one IP library: this is the only IP text parser of lbkit (the BGP and NDP codecs convert through it).
 * Plain dotted-quad IPv4 first takes the allocator's own digit scan ({@link parseV4Number}, which accepts
 * exactly what `net.isIP` accepts as IPv4): a speaker's start parses every ingress IP, and the general path
 * costs about 5 µs an address.
 */
export function tryParseIP(text: string): IPAddr | undefined {
  const v4 = parseV4Number(text);
  if (v4 >= 0) return { family: 'ipv4', value: BigInt(v4) };
  const s = text.trim();
  const version = isIP(s);
  if (version === 0 || s.includes('%')) return undefined;
  return { family: version === 4 ? 'ipv4' : 'ipv6', value: parseNetwork(s).start };
}

/** Parses an IP address or throws `invalid IP address "x"`. */
export function parseIP(text: string): IPAddr {
  const ip = tryParseIP(text);
  if (!ip) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
  return ip;
}

/** Number of bits of a family. */
export function familyBits(f: IPFamily): number {
  return f === 'ipv4' ? 32 : 128;
}

const M32 = 0xffffffffn;

/** RFC 5952 text of eight 16-bit groups: lowercase hex, longest run (>= 2) of zero groups shortened to `::`, first run on ties. */
function formatGroups(g: readonly number[]): string {
  let bestS = -1;
  let bestL = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestL) { bestS = i; bestL = j - i; }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestS) {
      out += '::';
      i += bestL - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

/** Formats an address (IPv6 in RFC 5952 canonical form). */
export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 'ipv4') {
    const n = Number(value & M32);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const w0 = Number((value >> 96n) & M32);
  const w1 = Number((value >> 64n) & M32);
  const w2 = Number((value >> 32n) & M32);
  const w3 = Number(value & M32);
  return formatGroups([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff]);
}

/** Formats an {@link IPAddr}. */
export function formatAddr(ip: IPAddr): string {
  return formatIP(ip.family, ip.value);
}

/** Canonical text of an IP, or undefined when it does not parse. */
export function canonicalIP(text: string): string | undefined {
  // dotted-quad IPv4 as parseV4Number accepts it (no leading zeros) is its own canonical text
  if (parseV4Number(text) >= 0) return text.trim();
  const ip = tryParseIP(text);
  return ip ? formatAddr(ip) : undefined;
}

/** True for IPv4 addresses ending in `.0` or `.255` (MetalLB's "buggy" IPs). */
export function isBuggy(family: IPFamily, value: bigint): boolean {
  if (family !== 'ipv4') return false;
  const last = value & 255n;
  return last === 0n || last === 255n;
}

/** Parses `addr/len` (host bits are masked, as Go's net.ParseCIDR does). Throws on error. */
export function parseCidr(text: string): Cidr {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  const ip = tryParseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  const bits = familyBits(ip.family);
  const prefix = Number(lenText);
  if (prefix > bits) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  return makeCidr(ip.family, ip.value, prefix);
}

/** Builds a CIDR from any address inside it and a prefix length. */
export function makeCidr(family: IPFamily, value: bigint, prefix: number): Cidr {
  const host = familyBits(family) - prefix;
  const size = 1n << BigInt(host);
  const first = (value >> BigInt(host)) << BigInt(host);
  return { family, first, last: first + size - 1n, prefix, text: `${formatIP(family, first)}/${prefix}` };
}

/** Parses `start-end` (whitespace around `-` trimmed) and summarizes it into the minimal list of CIDRs. Throws on error. */
export function parseRange(text: string): Cidr[] {
  const parts = text.split('-');
  if (parts.length !== 2) throw new Error(`invalid IP range ${JSON.stringify(text)}`);
  const a = tryParseIP(parts[0]!);
  const b = tryParseIP(parts[1]!);
  if (!a) throw new Error(`invalid range start ${JSON.stringify(parts[0]!.trim())}`);
  if (!b) throw new Error(`invalid range end ${JSON.stringify(parts[1]!.trim())}`);
  if (a.family !== b.family) throw new Error(`range ${JSON.stringify(text)} mixes IPv4 and IPv6`);
  if (a.value > b.value) throw new Error(`range start ${formatAddr(a)} is after range end ${formatAddr(b)}`);
  return summarize(a.family, a.value, b.value);
}

/** Minimal list of CIDRs covering exactly [first, last]. */
export function summarize(family: IPFamily, first: bigint, last: bigint): Cidr[] {
  const bits = familyBits(family);
  const out: Cidr[] = [];
  let cur = first;
  while (cur <= last) {
    let host = 0;
    while (host < bits) {
      const size = 1n << BigInt(host + 1);
      if (cur % size !== 0n || cur + size - 1n > last) break;
      host++;
    }
    out.push(makeCidr(family, cur, bits - host));
    cur += 1n << BigInt(host);
  }
  return out;
}

/** Parses one `spec.addresses` entry: a CIDR or a range. */
export function parseAddressEntry(text: string): Cidr[] {
  return text.includes('-') ? parseRange(text) : [parseCidr(text)];
}

/** Number of usable addresses of a CIDR, honouring avoidBuggyIPs for IPv4. */
export function cidrCapacity(c: Cidr, avoidBuggyIPs: boolean): bigint {
  const size = c.last - c.first + 1n;
  if (!avoidBuggyIPs || c.family !== 'ipv4') return size;
  if (c.prefix <= 24) return size - 2n * (1n << BigInt(24 - c.prefix));
  let n = size;
  if (isBuggy('ipv4', c.first)) n--;
  if (c.last !== c.first && isBuggy('ipv4', c.last)) n--;
  else if (c.last === c.first) return isBuggy('ipv4', c.first) ? 0n : 1n;
  return n;
}

/** Clamp to Go's MaxInt64, as MetalLB's pool counters do. */
export function saturateInt64(v: bigint): bigint {
  const max = (1n << 63n) - 1n;
  return v > max ? max : v;
}

/** Network-order bytes of an address: 4 for IPv4, 16 for IPv6. */
export function addrBytes(ip: IPAddr): Buffer {
  if (ip.family === 'ipv4') {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(Number(ip.value & M32), 0);
    return b;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(ip.value >> 64n, 0);
  b.writeBigUInt64BE(ip.value & 0xffffffffffffffffn, 8);
  return b;
}

/** The address held in 4 (IPv4) or 16 (IPv6) network-order bytes; throws for any other length. */
export function addrFromBytes(b: Uint8Array): IPAddr {
  const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (v.length === 4) return { family: 'ipv4', value: BigInt(v.readUInt32BE(0)) };
  if (v.length === 16) return { family: 'ipv6', value: (v.readBigUInt64BE(0) << 64n) | v.readBigUInt64BE(8) };
  throw new Error(`an IP address is 4 or 16 bytes, not ${v.length}`);
}

/** Parses address text straight to its network-order bytes; undefined when invalid (see {@link tryParseIP}). */
export function tryParseIPBytes(text: string): Buffer | undefined {
  const ip = tryParseIP(text);
  return ip && addrBytes(ip);
}
