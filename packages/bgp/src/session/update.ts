/**
 * UPDATE encoding for announced host routes (many prefixes per message, grouped by identical
 * attributes) and a tolerant UPDATE decoder for received routes (RFC 7606: attribute errors are
 * "treat-as-withdraw", only framing errors reset the session).
 */
import { isIPv4 } from 'node:net';
import { bytesToIp, frame, ipBytes, MSG, WireError } from './wire.js';

/** Path attributes a user attaches to an announced prefix. */
export interface RouteAttributes {
  /** Next hop; default: the session's local address (IPv4 routes) or the peer's `nextHop6`/IPv6 local address. */
  nextHop?: string;
  /** LOCAL_PREF, sent to iBGP peers only (default 100 there). */
  localPref?: number;
  /** MULTI_EXIT_DISC. */
  med?: number;
  /** RFC 1997 communities as `asn:value` or a 32-bit number. */
  communities?: (string | number)[];
  /** RFC 8092 large communities as `global:local1:local2`. */
  largeCommunities?: string[];
  /** RFC 4360 extended communities, each 8 bytes (hex string of 16 digits or bytes). */
  extendedCommunities?: (string | Uint8Array)[];
  /** Extra copies of our AS prepended on eBGP sessions. */
  asPathPrepend?: number;
  /** ORIGIN: 0 IGP (default), 1 EGP, 2 INCOMPLETE. */
  origin?: 0 | 1 | 2;
}

/** Per-session context for attribute encoding. */
export interface EncodeContext {
  localAsn: number;
  ibgp: boolean;
  /** The peer negotiated 4-octet AS (capability 65). */
  as4: boolean;
  /** Default IPv4 next hop (session local address when IPv4). */
  nextHop4?: string | undefined;
  /** Default IPv6 next hop. */
  nextHop6?: string | undefined;
  /** Largest message to emit (4096). */
  maxMessage?: number;
}

function attr(flags: number, type: number, v: Uint8Array): Buffer {
  if (v.length > 255) {
    const h = Buffer.alloc(4);
    h[0] = flags | 0x10;
    h[1] = type;
    h.writeUInt16BE(v.length, 2);
    return Buffer.concat([h, v]);
  }
  return Buffer.concat([Buffer.from([flags, type, v.length]), v]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Parses a community `a:b` or number into a 32-bit value; throws a clear error. */
export function parseCommunity(c: string | number): number {
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0 || c > 0xffffffff) throw new Error(`community ${c}: not a 32-bit value`);
    return c;
  }
  const m = /^(\d+):(\d+)$/.exec(c);
  if (!m || +m[1]! > 0xffff || +m[2]! > 0xffff) throw new Error(`community "${c}": expected asn:value with 16-bit parts`);
  return ((+m[1]! << 16) | +m[2]!) >>> 0;
}

/** Validates attributes early so announce() fails with a clear message instead of a bad UPDATE. */
export function checkAttributes(a: RouteAttributes): void {
  (a.communities ?? []).forEach(parseCommunity);
  for (const l of a.largeCommunities ?? []) {
    const p = l.split(':');
    if (p.length !== 3 || p.some((x) => !/^\d+$/.test(x) || +x > 0xffffffff)) {
      throw new Error(`largeCommunities "${l}": expected a:b:c with 32-bit parts`);
    }
  }
  for (const e of a.extendedCommunities ?? []) {
    const len = typeof e === 'string' ? (/^[0-9a-fA-F]{16}$/.test(e) ? 8 : -1) : e.length;
    if (len !== 8) throw new Error('extendedCommunities: each must be 8 bytes (16 hex digits)');
  }
  if (a.nextHop !== undefined) ipBytes(a.nextHop);
  for (const [k, v] of [
    ['localPref', a.localPref],
    ['med', a.med],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new Error(`${k}: not a 32-bit value`);
  }
  if (a.asPathPrepend !== undefined && (!Number.isInteger(a.asPathPrepend) || a.asPathPrepend < 0 || a.asPathPrepend > 32)) {
    throw new Error('asPathPrepend: integer 0..32');
  }
}

/** Encodes the attributes shared by both families (everything but NEXT_HOP / MP_REACH). */
export function commonAttributes(a: RouteAttributes, ctx: EncodeContext): Buffer[] {
  const out: Buffer[] = [attr(0x40, 1, Uint8Array.of(a.origin ?? 0))];
  if (ctx.ibgp) {
    out.push(attr(0x40, 2, Buffer.alloc(0)));
  } else {
    const n = 1 + (a.asPathPrepend ?? 0);
    const w = ctx.as4 ? 4 : 2;
    const seg = Buffer.alloc(2 + n * w);
    seg[0] = 2;
    seg[1] = n;
    for (let i = 0; i < n; i++) {
      if (w === 4) seg.writeUInt32BE(ctx.localAsn >>> 0, 2 + i * 4);
      else seg.writeUInt16BE(ctx.localAsn > 0xffff ? 23456 : ctx.localAsn, 2 + i * 2);
    }
    out.push(attr(0x40, 2, seg));
  }
  if (a.med !== undefined) out.push(attr(0x80, 4, u32(a.med)));
  if (ctx.ibgp) out.push(attr(0x40, 5, u32(a.localPref ?? 100)));
  if (a.communities?.length) out.push(attr(0xc0, 8, Buffer.concat([...new Set(a.communities.map(parseCommunity))].sort((x, y) => x - y).map(u32))));
  if (a.extendedCommunities?.length) {
    out.push(attr(0xc0, 16, Buffer.concat(a.extendedCommunities.map((e) => (typeof e === 'string' ? Buffer.from(e, 'hex') : Buffer.from(e))))));
  }
  if (a.largeCommunities?.length) {
    out.push(attr(0xc0, 32, Buffer.concat(a.largeCommunities.flatMap((l) => l.split(':').map((x) => u32(+x))))));
  }
  return out;
}

/** Encodes one prefix (`addr/len`) as NLRI bytes. */
export function encodePrefix(prefix: string): Buffer {
  const [addr, lenS] = prefix.split('/') as [string, string | undefined];
  const raw = ipBytes(addr);
  const len = lenS === undefined ? raw.length * 8 : Number(lenS);
  if (!Number.isInteger(len) || len < 0 || len > raw.length * 8) throw new Error(`prefix "${prefix}": bad length`);
  return Buffer.concat([Buffer.from([len]), raw.subarray(0, Math.ceil(len / 8))]);
}

/** Normalizes `addr[/len]` to `canonical/len`. */
export function normalizePrefix(prefix: string): string {
  const slash = prefix.indexOf('/');
  if (slash > 0 && prefix.indexOf('/', slash + 1) < 0) {
    const v = fastV4(prefix, slash);
    const lenS = prefix.slice(slash + 1);
    const len = Number(lenS);
    if (v >= 0 && /^\d{1,2}$/.test(lenS) && len <= 32) {
      const m = len === 0 ? 0 : (v - (v % 2 ** (32 - len)));
      return `${m >>> 24 & 255}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${len}`;
    }
  }
  const [addr, lenS] = prefix.split('/') as [string, string | undefined];
  const raw = ipBytes(addr);
  const len = lenS === undefined ? raw.length * 8 : Number(lenS);
  if (!/^\d+$/.test(String(lenS ?? len)) || len > raw.length * 8) throw new Error(`prefix "${prefix}": bad length`);
  for (let i = 0; i < raw.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    raw[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return `${bytesToIp(raw)}/${len}`;
}

/** True for IPv4 prefixes. */
export function isV4Prefix(prefix: string): boolean {
  return isIPv4(prefix.split('/')[0]!);
}

/** Parses a dotted quad at `s[0..end)` quickly; returns -1 when it is not one. */
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

/** Encodes many prefixes into one buffer; returns it with the end offset of every prefix. */
function encodePrefixes(prefixes: string[]): { buf: Buffer; ends: number[] } {
  const buf = Buffer.allocUnsafe(prefixes.length * 17);
  const ends: number[] = new Array(prefixes.length);
  let off = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    const slash = p.indexOf('/');
    const v4 = slash > 0 ? fastV4(p, slash) : -1;
    const len = slash > 0 ? Number(p.slice(slash + 1)) : -1;
    if (v4 >= 0 && Number.isInteger(len) && len >= 0 && len <= 32) {
      buf[off++] = len;
      const n = (len + 7) >> 3;
      for (let k = 0; k < n; k++) buf[off++] = (v4 >>> (24 - 8 * k)) & 255;
    } else {
      const e = encodePrefix(p);
      e.copy(buf, off);
      off += e.length;
    }
    ends[i] = off;
  }
  return { buf, ends };
}

/** Splits encoded prefixes into chunks of at most `room` bytes. */
function packNlri(prefixes: string[], room: number): Buffer[] {
  const { buf, ends } = encodePrefixes(prefixes);
  const out: Buffer[] = [];
  let start = 0;
  let prev = 0;
  for (const end of ends) {
    if (end - start > room && prev > start) {
      out.push(buf.subarray(start, prev));
      start = prev;
    }
    prev = end;
  }
  if (prev > start) out.push(buf.subarray(start, prev));
  return out;
}

function update(withdrawn: Buffer, attrs: Buffer, nlri: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(withdrawn.length);
  const a = Buffer.alloc(2);
  a.writeUInt16BE(attrs.length);
  return frame(MSG.UPDATE, Buffer.concat([h, withdrawn, a, attrs, nlri]));
}

/** Encodes announcements of `prefixes` (one family, identical attributes) into as few UPDATEs as fit. */
export function encodeAnnounce(prefixes: string[], a: RouteAttributes, ctx: EncodeContext): Buffer[] {
  if (!prefixes.length) return [];
  const max = ctx.maxMessage ?? 4096;
  const common = commonAttributes(a, ctx);
  const v4 = isV4Prefix(prefixes[0]!);
  const nh = a.nextHop ?? (v4 ? ctx.nextHop4 : ctx.nextHop6);
  if (!nh) throw new Error(`no next hop for ${prefixes[0]} (set attributes.nextHop or the peer's nextHop6)`);
  const out: Buffer[] = [];
  if (v4 && isIPv4(nh)) {
    const attrs = Buffer.concat([...common.slice(0, 2), attr(0x40, 3, ipBytes(nh)), ...common.slice(2)]);
    for (const g of packNlri(prefixes, max - 23 - attrs.length)) out.push(update(Buffer.alloc(0), attrs, g));
    return out;
  }
  const nhb = ipBytes(nh);
  const afi = v4 ? 1 : 2;
  const fixed = 3 + 1 + nhb.length + 1;
  const commonLen = common.reduce((s, b) => s + b.length, 0);
  for (const g of packNlri(prefixes, max - 23 - commonLen - 4 - fixed)) {
    const mp = Buffer.concat([Buffer.from([0, afi, 1, nhb.length]), nhb, Buffer.from([0]), g]);
    out.push(update(Buffer.alloc(0), Buffer.concat([common[0]!, attr(0x80, 14, mp), ...common.slice(1)]), Buffer.alloc(0)));
  }
  return out;
}

/** Encodes withdrawals (one family) into as few UPDATEs as fit. */
export function encodeWithdraw(prefixes: string[], maxMessage = 4096): Buffer[] {
  if (!prefixes.length) return [];
  if (isV4Prefix(prefixes[0]!)) {
    return packNlri(prefixes, maxMessage - 23).map((g) => update(g, Buffer.alloc(0), Buffer.alloc(0)));
  }
  return packNlri(prefixes, maxMessage - 23 - 4 - 3).map((g) =>
    update(Buffer.alloc(0), attr(0x80, 15, Buffer.concat([Buffer.from([0, 2, 1]), g])), Buffer.alloc(0)),
  );
}

/** End-of-RIB marker for `afi/safi` (RFC 4724). */
export function encodeEndOfRib(family: string): Buffer {
  if (family === '1/1') return update(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0));
  const [afi, safi] = family.split('/').map(Number) as [number, number];
  const v = Buffer.alloc(3);
  v.writeUInt16BE(afi);
  v[2] = safi;
  return update(Buffer.alloc(0), attr(0x80, 15, v), Buffer.alloc(0));
}

/** A route received from a peer. */
export interface ReceivedRoute {
  prefix: string;
  nextHop?: string;
  asPath: number[];
  localPref?: number;
  med?: number;
  communities: number[];
  largeCommunities: string[];
}

/** Decoded UPDATE content. */
export interface ReceivedUpdate {
  announced: ReceivedRoute[];
  withdrawn: string[];
  /** RFC 7606: a malformed attribute turned the announcements into withdrawals. */
  treatAsWithdraw?: string;
  /** End-of-RIB for this family. */
  endOfRib?: string;
}

function decodePrefixes(b: Buffer, afi: number, what: string): string[] {
  const out: string[] = [];
  const size = afi === 1 ? 4 : 16;
  let p = 0;
  while (p < b.length) {
    const len = b[p]!;
    const n = Math.ceil(len / 8);
    if (len > size * 8 || p + 1 + n > b.length) throw new Error(`${what}: bad prefix length ${len}`);
    const raw = Buffer.alloc(size);
    b.copy(raw, 0, p + 1, p + 1 + n);
    out.push(`${bytesToIp(raw)}/${len}`);
    p += 1 + n;
  }
  return out;
}

/**
 * Decodes an UPDATE body. Throws {@link WireError} (3/1, 3/10) only when the message structure is
 * broken; malformed attributes make the update "treat-as-withdraw" (RFC 7606).
 */
export function decodeUpdate(body: Buffer, as4: boolean): ReceivedUpdate {
  const malformed = (m: string, sub = 1): never => {
    throw new WireError(`UPDATE: ${m}`, { code: 3, subcode: sub });
  };
  if (body.length < 4) malformed('shorter than 4 bytes');
  const wl = body.readUInt16BE(0);
  if (2 + wl + 2 > body.length) malformed(`withdrawn routes length ${wl} overruns`);
  const al = body.readUInt16BE(2 + wl);
  const aStart = 4 + wl;
  if (aStart + al > body.length) malformed(`path attribute length ${al} overruns`);
  const u: ReceivedUpdate = { announced: [], withdrawn: [] };
  try {
    u.withdrawn.push(...decodePrefixes(body.subarray(2, 2 + wl), 1, 'withdrawn routes'));
  } catch (e) {
    malformed((e as Error).message, 10);
  }
  let nlri: string[] = [];
  try {
    nlri = decodePrefixes(body.subarray(aStart + al), 1, 'NLRI');
  } catch (e) {
    malformed((e as Error).message, 10);
  }
  const base: Omit<ReceivedRoute, 'prefix'> = { asPath: [], communities: [], largeCommunities: [] };
  const mpReach: { prefixes: string[]; nextHop: string }[] = [];
  let p = aStart;
  const end = aStart + al;
  let twa: string | undefined;
  const seen = new Set<number>();
  while (p < end) {
    if (p + 3 > end) malformed('truncated attribute header');
    const flags = body[p]!;
    const type = body[p + 1]!;
    const ext = (flags & 0x10) !== 0;
    if (ext && p + 4 > end) malformed('truncated attribute header');
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    if (vs + len > end) malformed(`attribute ${type} overruns`);
    const v = body.subarray(vs, vs + len);
    p = vs + len;
    if (seen.has(type) && (type === 14 || type === 15)) malformed(`duplicate MP attribute ${type}`);
    seen.add(type);
    try {
      switch (type) {
        case 1:
          if (len !== 1 || v[0]! > 2) throw new Error('ORIGIN');
          break;
        case 2: {
          const w = as4 ? 4 : 2;
          let q = 0;
          const path: number[] = [];
          while (q < v.length) {
            if (q + 2 > v.length) throw new Error('AS_PATH');
            const n = v[q + 1]!;
            if (q + 2 + n * w > v.length) throw new Error('AS_PATH');
            for (let i = 0; i < n; i++) path.push(w === 4 ? v.readUInt32BE(q + 2 + i * 4) : v.readUInt16BE(q + 2 + i * 2));
            q += 2 + n * w;
          }
          base.asPath = path;
          break;
        }
        case 3:
          if (len !== 4) throw new Error('NEXT_HOP');
          base.nextHop = bytesToIp(v);
          break;
        case 4:
          if (len !== 4) throw new Error('MED');
          base.med = v.readUInt32BE(0);
          break;
        case 5:
          if (len !== 4) throw new Error('LOCAL_PREF');
          base.localPref = v.readUInt32BE(0);
          break;
        case 8:
          if (len === 0 || len % 4) throw new Error('COMMUNITIES');
          for (let i = 0; i < len; i += 4) base.communities.push(v.readUInt32BE(i));
          break;
        case 32:
          if (len === 0 || len % 12) throw new Error('LARGE_COMMUNITIES');
          for (let i = 0; i < len; i += 12) base.largeCommunities.push(`${v.readUInt32BE(i)}:${v.readUInt32BE(i + 4)}:${v.readUInt32BE(i + 8)}`);
          break;
        case 14: {
          if (len < 5) malformed('MP_REACH_NLRI too short');
          const afi = v.readUInt16BE(0);
          const nhl = v[3]!;
          if (5 + nhl > len) malformed('MP_REACH_NLRI next hop overruns');
          if (afi !== 1 && afi !== 2) break;
          const nh = nhl >= 16 ? bytesToIp(v.subarray(4, 20)) : nhl === 4 ? bytesToIp(v.subarray(4, 8)) : '';
          try {
            mpReach.push({ nextHop: nh, prefixes: decodePrefixes(v.subarray(5 + nhl), afi, 'MP_REACH_NLRI') });
          } catch (e) {
            malformed((e as Error).message, 10);
          }
          break;
        }
        case 15: {
          if (len < 3) malformed('MP_UNREACH_NLRI too short');
          const afi = v.readUInt16BE(0);
          if (afi !== 1 && afi !== 2) break;
          if (len === 3 && al === len + 3 + (ext ? 1 : 0)) u.endOfRib = `${afi}/${v[2]}`;
          try {
            u.withdrawn.push(...decodePrefixes(v.subarray(3), afi, 'MP_UNREACH_NLRI'));
          } catch (e) {
            malformed((e as Error).message, 10);
          }
          break;
        }
        default:
          break;
      }
    } catch (e) {
      if (e instanceof WireError) throw e;
      twa = `malformed ${(e as Error).message} attribute`;
    }
  }
  if (wl === 0 && al === 0 && nlri.length === 0) u.endOfRib = '1/1';
  const routes: ReceivedRoute[] = [
    ...nlri.map((prefix) => ({ ...base, prefix })),
    ...mpReach.flatMap((m) => m.prefixes.map((prefix) => ({ ...base, prefix, nextHop: m.nextHop }))),
  ];
  if (twa) {
    u.treatAsWithdraw = twa;
    u.withdrawn.push(...routes.map((r) => r.prefix));
  } else {
    u.announced = routes;
  }
  return u;
}
