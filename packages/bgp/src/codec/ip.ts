/** IP address text ⇄ bytes (IPv4 dotted quad, IPv6 with RFC 5952 canonical output). */
import { isIPv4 } from 'node:net';
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

/** Address text → 4 (IPv4) or 16 (IPv6) bytes; throws naming the text when it is neither. */
export function ipBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  let a = addr;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let tail: number[] = [];
  if (v4tail) {
    if (!isIPv4(v4tail[1]!)) badField(`not an IP address: "${addr}"`);
    const b = ipBytes(v4tail[1]!);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    a = a.slice(0, -v4tail[1]!.length);
    if (a.endsWith(':') && !a.endsWith('::')) a = a.slice(0, -1);
  }
  if (!/^[0-9a-fA-F:]*$/.test(a) || a.split('::').length > 2) badField(`not an IP address: "${addr}"`);
  const [h, t] = a.split('::') as [string, string | undefined];
  const hex = (s: string) => (s ? s.split(':').map((x) => (/^[0-9a-fA-F]{1,4}$/.test(x) ? parseInt(x, 16) : -1)) : []);
  const head = hex(h);
  const rest = t ? hex(t) : [];
  const fill = 8 - head.length - rest.length - tail.length;
  const groups = t === undefined ? [...head, ...tail] : fill >= 1 ? [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail] : [];
  if (groups.length !== 8 || groups.some((g) => g < 0)) badField(`not an IP address: "${addr}"`);
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(groups[i]!, i * 2);
  return b;
}

/** 4 or 16 bytes → canonical text (IPv6 compressed per RFC 5952). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let bs = -1;
  let bl = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bl && j - i > 1) {
      bs = i;
      bl = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bs < 0) return hex.join(':');
  return `${hex.slice(0, bs).join(':')}::${hex.slice(bs + bl).join(':')}`;
}
