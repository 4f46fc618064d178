/**
 * Session-layer wire adapter: the few message encodings and decodings the FSM and the speaker need
 * (header framing, OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, and UPDATEs for host routes with
 * the attributes a load-balancer speaker announces). Every decoder is total: malformed input yields
 * a {@link WireError} carrying the NOTIFICATION to send, never an exception out of an event handler.
 */
import { isIPv4 } from 'node:net';
import type { NotificationInfo } from './fsm.js';
import type { OpenInfo } from './open-check.js';

/** BGP message types. */
export const MSG = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** Error raised by the decoders; `notification` is what RFC 4271 §6 says to send. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly notification: NotificationInfo,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const MARKER = Buffer.alloc(16, 0xff);

/** Wraps a body in the 19-byte BGP header. */
export function frame(type: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(19 + body.length);
  MARKER.copy(b, 0);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  b.set(body, 19);
  return b;
}

/** Stream framer: push TCP bytes, get whole messages (type + body) or a {@link WireError}. */
export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  /** Largest accepted message (4096, or 65535 with RFC 8654). */
  maxLength = 4096;

  /** Appends bytes and returns every complete message; throws WireError on a bad header. */
  push(chunk: Buffer): { type: number; body: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: { type: number; body: Buffer }[] = [];
    let off = 0;
    while (this.buf.length - off >= 19) {
      if (!this.buf.subarray(off, off + 16).equals(MARKER)) {
        throw new WireError('header marker is not all ones', { code: 1, subcode: 1 });
      }
      const len = this.buf.readUInt16BE(off + 16);
      const type = this.buf[off + 18]!;
      if (len < 19 || len > this.maxLength || !lengthOk(type, len)) {
        throw new WireError(`header length ${len} invalid for type ${type}`, {
          code: 1,
          subcode: 2,
          data: this.buf.subarray(off + 16, off + 18),
        });
      }
      if (type < 1 || type > 5) throw new WireError(`header type ${type} unknown`, { code: 1, subcode: 3, data: Uint8Array.of(type) });
      if (this.buf.length - off < len) break;
      out.push({ type, body: Buffer.from(this.buf.subarray(off + 19, off + len)) });
      off += len;
    }
    this.buf = this.buf.subarray(off);
    return out;
  }
}

function lengthOk(type: number, len: number): boolean {
  switch (type) {
    case MSG.OPEN:
      return len >= 29 && len <= 4096;
    case MSG.UPDATE:
      return len >= 23;
    case MSG.NOTIFICATION:
      return len >= 21;
    case MSG.KEEPALIVE:
      return len === 19;
    case MSG.ROUTE_REFRESH:
      return len === 23;
    default:
      return true;
  }
}

/** IPv4 dotted quad → unsigned 32-bit number. */
export function ipv4ToNumber(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Unsigned 32-bit number → dotted quad. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Address string → 4 or 16 bytes. */
export function ipBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  let a = addr;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let tail: number[] = [];
  if (v4tail) {
    const b = ipBytes(v4tail[1]!);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    a = a.slice(0, -v4tail[1]!.length).replace(/:$/, '') || ':';
    if (a.endsWith(':') && !a.endsWith('::')) a = a.slice(0, -1);
  }
  const [h, t] = a.split('::') as [string, string | undefined];
  const head = h ? h.split(':').filter(Boolean).map((x) => parseInt(x, 16)) : [];
  const rest = t !== undefined && t ? t.split(':').filter(Boolean).map((x) => parseInt(x, 16)) : [];
  const groups =
    t === undefined ? [...head, ...tail] : [...head, ...new Array(8 - head.length - rest.length - tail.length).fill(0), ...rest, ...tail];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    throw new Error(`not an IP address: ${addr}`);
  }
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** 4 or 16 bytes → canonical text (IPv6 compressed per RFC 5952). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
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

// ---------------------------------------------------------------- OPEN

/** Capabilities we send. */
export interface OpenParams {
  asn: number;
  holdTime: number;
  bgpId: number;
  /** `afi/safi` pairs, e.g. `1/1`, `2/1`. */
  families: string[];
  gracefulRestart?: { restartTime: number } | undefined;
}

function cap(code: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** Encodes an OPEN with MP, route-refresh, 4-octet AS (and optionally GR) in one optional parameter. */
export function encodeOpen(p: OpenParams): Buffer {
  const caps: Buffer[] = [];
  for (const f of p.families) {
    const [afi, safi] = f.split('/').map(Number) as [number, number];
    const v = Buffer.alloc(4);
    v.writeUInt16BE(afi, 0);
    v[3] = safi;
    caps.push(cap(1, v));
  }
  caps.push(cap(2, Buffer.alloc(0)));
  const as4 = Buffer.alloc(4);
  as4.writeUInt32BE(p.asn >>> 0);
  caps.push(cap(65, as4));
  if (p.gracefulRestart) {
    const v = Buffer.alloc(2 + 4 * p.families.length);
    v.writeUInt16BE(p.gracefulRestart.restartTime & 0x0fff, 0);
    p.families.forEach((f, i) => {
      const [afi, safi] = f.split('/').map(Number) as [number, number];
      v.writeUInt16BE(afi, 2 + i * 4);
      v[4 + i * 4] = safi;
      v[5 + i * 4] = 0;
    });
    caps.push(cap(64, v));
  }
  const capBytes = Buffer.concat(caps);
  const b = Buffer.alloc(10);
  b[0] = 4;
  b.writeUInt16BE(p.asn > 0xffff ? 23456 : p.asn, 1);
  b.writeUInt16BE(p.holdTime, 3);
  b.writeUInt32BE(p.bgpId >>> 0, 5);
  b[9] = capBytes.length + 2;
  return frame(MSG.OPEN, Buffer.concat([b, Buffer.from([2, capBytes.length]), capBytes]));
}

/** Decodes an OPEN body (both capability layouts and RFC 9072 extended parameters). */
export function decodeOpen(body: Buffer): OpenInfo {
  const bad = (m: string, sub = 0, data?: Uint8Array): never => {
    throw new WireError(`OPEN: ${m}`, data ? { code: 2, subcode: sub, data } : { code: 2, subcode: sub });
  };
  if (body.length < 10) bad('shorter than 10 bytes');
  const info: OpenInfo = {
    version: body[0]!,
    myAsn: body.readUInt16BE(1),
    holdTime: body.readUInt16BE(3),
    bgpId: body.readUInt32BE(5),
    capabilities: [],
    families: [],
  };
  if (info.version !== 4) bad(`version ${info.version}`, 1, Uint8Array.of(0, 4));
  let optLen = body[9]!;
  let p = 10;
  let ext = false;
  if (optLen === 255 && body.length > 12 && body[10] === 255) {
    ext = true;
    optLen = body.readUInt16BE(11);
    p = 13;
  }
  const end = p + optLen;
  if (end !== body.length) bad(`optional parameters length ${optLen} does not match message`);
  while (p < end) {
    const hl = ext ? 3 : 2;
    if (p + hl > end) bad('truncated optional parameter');
    const t = body[p]!;
    const l = ext ? body.readUInt16BE(p + 1) : body[p + 1]!;
    const vs = p + hl;
    if (vs + l > end) bad('optional parameter overruns');
    if (t !== 2) bad(`unsupported optional parameter ${t}`, 4);
    let q = vs;
    while (q < vs + l) {
      if (q + 2 > vs + l) bad('truncated capability');
      const c = body[q]!;
      const cl = body[q + 1]!;
      if (q + 2 + cl > vs + l) bad(`capability ${c} overruns`);
      info.capabilities.push(c);
      if (c === 65 && cl === 4) info.asn4 = body.readUInt32BE(q + 2);
      if (c === 1 && cl === 4) info.families.push(`${body.readUInt16BE(q + 2)}/${body[q + 5]}`);
      q += 2 + cl;
    }
    p = vs + l;
  }
  return info;
}

// ---------------------------------------------------------------- small messages

/** A KEEPALIVE. */
export const KEEPALIVE = frame(MSG.KEEPALIVE, Buffer.alloc(0));

/** Encodes a NOTIFICATION. */
export function encodeNotification(n: NotificationInfo): Buffer {
  return frame(MSG.NOTIFICATION, Buffer.concat([Buffer.from([n.code, n.subcode]), n.data ?? Buffer.alloc(0)]));
}

/** Decodes a NOTIFICATION body; `text` is the RFC 8203/9003 shutdown communication if any. */
export function decodeNotification(body: Buffer): NotificationInfo & { text?: string } {
  if (body.length < 2) throw new WireError('NOTIFICATION shorter than 2 bytes', { code: 1, subcode: 2 });
  const n: NotificationInfo & { text?: string } = { code: body[0]!, subcode: body[1]!, data: body.subarray(2) };
  if (n.code === 6 && (n.subcode === 2 || n.subcode === 4) && body.length > 2) {
    const l = body[2]!;
    if (3 + l <= body.length) n.text = body.subarray(3, 3 + l).toString('utf8');
  }
  return n;
}

/** Cease data for RFC 8203/9003: length byte + UTF-8 text (truncated to 255 bytes on a character boundary). */
export function shutdownData(text: string): Buffer {
  let t = Buffer.from(text, 'utf8');
  if (t.length > 255) {
    let cut = 255;
    while (cut > 0 && (t[cut]! & 0xc0) === 0x80) cut--;
    t = t.subarray(0, cut);
  }
  return Buffer.concat([Buffer.from([t.length]), t]);
}

/** Decodes a ROUTE-REFRESH body into `afi/safi`. */
export function decodeRouteRefresh(body: Buffer): string {
  if (body.length !== 4) throw new WireError('ROUTE-REFRESH length', { code: 7, subcode: 1, data: body });
  return `${body.readUInt16BE(0)}/${body[3]}`;
}

/** Encodes a ROUTE-REFRESH for `afi/safi`. */
export function encodeRouteRefresh(family: string): Buffer {
  const [afi, safi] = family.split('/').map(Number) as [number, number];
  const b = Buffer.alloc(4);
  b.writeUInt16BE(afi, 0);
  b[3] = safi;
  return frame(MSG.ROUTE_REFRESH, b);
}
