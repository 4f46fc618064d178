/** IP address text ⇄ bytes (IPv4 dotted quad, IPv6 with RFC 5952 canonical output). */
import { addrFromBytes, formatAddr, tryParseIPBytes } from '@lbkit/ipam';
import { badField } from './errors.js';

/** IPv4 dotted quad → unsigned 32-bit number; throws naming the text when it is not one. */
export function ipv4ToNumber(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) badField(`not an IPv4 address: "${s}"`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Unsigned 32-bit number → dotted quad. */
export function numberToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Address text → 4 (IPv4) or 16 (IPv6) bytes; throws naming the text when it is neither. Parsed by @lbkit/ipam. */
export function ipBytes(addr: string): Buffer {
  const b = typeof addr === 'string' ? tryParseIPBytes(addr) : undefined;
  if (!b) badField(`not an IP address: "${addr}"`);
  return b;
}

/** 4 or 16 bytes → canonical text (IPv6 compressed per RFC 5952). */
export function bytesToIp(b: Uint8Array): string {
  return formatAddr(addrFromBytes(b));
}
