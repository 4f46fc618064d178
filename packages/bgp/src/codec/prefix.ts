/**
 * Prefixes as NLRI (RFC 4271 §4.3, RFC 4760 §5): a length byte in bits followed by the fewest
 * bytes that hold it. Text form `addr/len` (a bare address means a host route). IPv4 takes an
 * allocation-free fast path, since the speaker encodes hundreds of thousands of them.
 */
import { bytesToIp, ipBytes } from './ip.js';
import { badField, fail } from './errors.js';

/** Parses a dotted quad at `s[0..end)`; returns -1 when it is not one. */
function fastV4(s: string, end: number): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (!digits || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || !digits || part > 255) return -1;
  return v * 256 + part;
}

/** Decimal prefix length at `s[start..)`, or -1 (at most 3 digits). */
function bits(s: string, start: number): number {
  const n = s.length - start;
  if (n < 1 || n > 3) return -1;
  let v = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Address and length of a prefix text; throws an EncodeError naming it when invalid. */
function parse(prefix: string): { raw: Buffer; len: number } {
  const slash = prefix.indexOf('/');
  const raw = ipBytes(slash < 0 ? prefix : prefix.slice(0, slash));
  const len = slash < 0 ? raw.length * 8 : bits(prefix, slash + 1);
  if (len < 0 || len > raw.length * 8) badField(`prefix "${prefix}": bad length`);
  return { raw, len };
}

/**
 * Bytes `prefix` takes as NLRI (1 + ⌈len/8⌉). Only the `/len` suffix is read when there is one
 * (the address is validated by {@link encode}); a bare address is parsed.
 */
export function encodingLength(prefix: string): number {
  const slash = prefix.indexOf('/');
  if (slash > 0) {
    const len = bits(prefix, slash + 1);
    if (len >= 0 && len <= 128) return 1 + ((len + 7) >> 3);
  }
  return 1 + ((parse(prefix).len + 7) >> 3);
}

/**
 * Writes `prefix` at `offset`; returns the offset after it. With `afi` (1 or 2) a prefix of the
 * other family is an error naming it.
 */
export function encode(prefix: string, buf: Buffer, offset: number, afi?: number): number {
  let off = offset;
  const slash = prefix.indexOf('/');
  if (slash > 0) {
    const len = bits(prefix, slash + 1);
    const v4 = len >= 0 && len <= 32 ? fastV4(prefix, slash) : -1;
    if (v4 >= 0) {
      if (afi === 2) badField(`prefix "${prefix}" is IPv4, expected IPv6`);
      buf[off++] = len;
      const n = (len + 7) >> 3;
      for (let k = 0; k < n; k++) buf[off++] = (v4 >>> (24 - 8 * k)) & 255;
      return off;
    }
  }
  const { raw, len } = parse(prefix);
  if (afi !== undefined && raw.length !== (afi === 1 ? 4 : 16)) badField(`prefix "${prefix}" is not of AFI ${afi}`);
  buf[off++] = len;
  const n = (len + 7) >> 3;
  raw.copy(buf, off, 0, n);
  return off + n;
}

/** True when the prefix text is IPv4. */
export function isV4(prefix: string): boolean {
  const slash = prefix.indexOf('/');
  return fastV4(prefix, slash < 0 ? prefix.length : slash) >= 0;
}

/** Normalizes `addr[/len]` to `canonical-address/len` with host bits cleared; throws when invalid. */
export function normalize(prefix: string): string {
  const slash = prefix.indexOf('/');
  if (slash > 0) {
    const len = bits(prefix, slash + 1);
    const v = len >= 0 && len <= 32 ? fastV4(prefix, slash) : -1;
    if (v >= 0) {
      const m = len === 0 ? 0 : v - (v % 2 ** (32 - len));
      return `${(m >>> 24) & 255}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${len}`;
    }
  }
  const { raw, len } = parse(prefix);
  for (let i = 0; i < raw.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    raw[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return `${bytesToIp(raw)}/${len}`;
}

const scratch = Buffer.alloc(16);

/**
 * Decodes the prefixes in `buf[start, end)` for `afi` (1 IPv4, 2 IPv6) into `out`, host bits
 * cleared. A length beyond the family's or a prefix overrunning `end` throws NotificationError
 * `code/subcode` (3/10 in the UPDATE's own fields, 3/9 inside MP_REACH/MP_UNREACH).
 */
export function decodeList(buf: Uint8Array, start: number, end: number, afi: number, what: string, code: number, subcode: number, out: string[]): string[] {
  const max = afi === 1 ? 32 : 128;
  let p = start;
  while (p < end) {
    const len = buf[p]!;
    const n = (len + 7) >> 3;
    if (len > max) fail(`${what}: prefix length ${len} exceeds ${max}`, code, subcode);
    if (p + 1 + n > end) fail(`${what}: prefix /${len} overruns the field`, code, subcode);
    const mask = len & 7 ? (0xff << (8 - (len & 7))) & 0xff : 0xff;
    if (afi === 1) {
      const a = n > 0 ? buf[p + 1]! & (n === 1 ? mask : 0xff) : 0;
      const b = n > 1 ? buf[p + 2]! & (n === 2 ? mask : 0xff) : 0;
      const c = n > 2 ? buf[p + 3]! & (n === 3 ? mask : 0xff) : 0;
      const d = n > 3 ? buf[p + 4]! & mask : 0;
      out.push(`${a}.${b}.${c}.${d}/${len}`);
    } else {
      scratch.fill(0);
      for (let i = 0; i < n; i++) scratch[i] = buf[p + 1 + i]!;
      if (n) scratch[n - 1]! &= mask;
      out.push(`${bytesToIp(scratch)}/${len}`);
    }
    p += 1 + n;
  }
  return out;
}
