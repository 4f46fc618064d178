/**
 * Path attributes (RFC 4271 §4.3, §5): the attribute union, the flags each type must carry, and the
 * encoding/decoding of one attribute and of the whole attribute list with RFC 7606 error handling
 * (session reset, treat-as-withdraw, attribute discard). Unknown optional attributes are kept as
 * raw bytes with their flags (Partial bit included), so they round-trip.
 */
import * as asPath from './as-path.js';
import type { AsPathSegment } from './as-path.js';
import type { LargeCommunity } from './communities.js';
import { AttrFlag, AttrType } from './constants.js';
import { badField } from './errors.js';
import { ipBytes } from './ip.js';
import * as mp from './mp-nlri.js';
import type { MpReach, MpUnreach } from './mp-nlri.js';

/** Wire details a decoded attribute remembers (and the encoder honours). */
export interface AttributeWire {
  /** Partial bit (optional transitive attributes only). */
  partial?: boolean;
  /** Use a 2-byte length even when the value is shorter than 256 bytes. */
  extendedLength?: boolean;
}

/** One path attribute. */
export type PathAttribute = AttributeWire &
  (
    | { type: 'origin'; /** 0 IGP, 1 EGP, 2 INCOMPLETE. */ value: number }
    | { type: 'as-path'; segments: AsPathSegment[] }
    | { type: 'next-hop'; address: string }
    | { type: 'med'; value: number }
    | { type: 'local-pref'; value: number }
    | { type: 'atomic-aggregate' }
    | { type: 'aggregator'; asn: number; address: string }
    | { type: 'communities'; communities: number[] }
    | MpReach
    | MpUnreach
    | { type: 'extended-communities'; communities: Uint8Array[] }
    | { type: 'as4-path'; segments: AsPathSegment[] }
    | { type: 'as4-aggregator'; asn: number; address: string }
    | { type: 'large-communities'; communities: LargeCommunity[] }
    | { type: 'unknown'; /** Type code. */ code: number; /** Flags as received (the extended-length bit is recomputed). */ flags: number; value: Uint8Array }
  );

/** The `type` names of {@link PathAttribute}. */
export type PathAttributeType = PathAttribute['type'];

/** Type code and required optional/transitive flags of each known attribute. */
export const ATTRIBUTES: Readonly<Record<Exclude<PathAttributeType, 'unknown'>, { code: number; flags: number; name: string }>> = {
  origin: { code: AttrType.ORIGIN, flags: 0x40, name: 'ORIGIN' },
  'as-path': { code: AttrType.AS_PATH, flags: 0x40, name: 'AS_PATH' },
  'next-hop': { code: AttrType.NEXT_HOP, flags: 0x40, name: 'NEXT_HOP' },
  med: { code: AttrType.MED, flags: 0x80, name: 'MULTI_EXIT_DISC' },
  'local-pref': { code: AttrType.LOCAL_PREF, flags: 0x40, name: 'LOCAL_PREF' },
  'atomic-aggregate': { code: AttrType.ATOMIC_AGGREGATE, flags: 0x40, name: 'ATOMIC_AGGREGATE' },
  aggregator: { code: AttrType.AGGREGATOR, flags: 0xc0, name: 'AGGREGATOR' },
  communities: { code: AttrType.COMMUNITIES, flags: 0xc0, name: 'COMMUNITIES' },
  'mp-reach': { code: AttrType.MP_REACH_NLRI, flags: 0x80, name: 'MP_REACH_NLRI' },
  'mp-unreach': { code: AttrType.MP_UNREACH_NLRI, flags: 0x80, name: 'MP_UNREACH_NLRI' },
  'extended-communities': { code: AttrType.EXTENDED_COMMUNITIES, flags: 0xc0, name: 'EXTENDED_COMMUNITIES' },
  'as4-path': { code: AttrType.AS4_PATH, flags: 0xc0, name: 'AS4_PATH' },
  'as4-aggregator': { code: AttrType.AS4_AGGREGATOR, flags: 0xc0, name: 'AS4_AGGREGATOR' },
  'large-communities': { code: AttrType.LARGE_COMMUNITIES, flags: 0xc0, name: 'LARGE_COMMUNITIES' },
};

const BY_CODE = new Map(Object.entries(ATTRIBUTES).map(([type, v]) => [v.code, { type: type as Exclude<PathAttributeType, 'unknown'>, ...v }]));

/** Attribute name for a type code (`attribute 99` when unknown). */
export function attributeName(code: number): string {
  return BY_CODE.get(code)?.name ?? `attribute ${code}`;
}

/** Session facts the attribute encoding depends on. */
export interface AttributeOptions {
  /** 4-octet AS numbers negotiated (RFC 6793): AS_PATH and AGGREGATOR use 4-octet ASes. Default true. */
  as4?: boolean;
}

/** Type code of an attribute. */
export function codeOf(a: PathAttribute): number {
  return a.type === 'unknown' ? a.code : ATTRIBUTES[a.type].code;
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) badField(`${what}: ${v} is not a 32-bit unsigned integer`);
  return v;
}

/** Length of the attribute's value. */
export function valueLength(a: PathAttribute, opts: AttributeOptions = {}): number {
  const as4 = opts.as4 ?? true;
  switch (a.type) {
    case 'origin':
      return 1;
    case 'as-path':
      return asPath.encodingLength(a.segments, as4 ? 4 : 2);
    case 'as4-path':
      return asPath.encodingLength(a.segments, 4);
    case 'next-hop':
    case 'med':
    case 'local-pref':
      return 4;
    case 'atomic-aggregate':
      return 0;
    case 'aggregator':
      return as4 ? 8 : 6;
    case 'as4-aggregator':
      return 8;
    case 'communities':
      return 4 * a.communities.length;
    case 'extended-communities':
      return 8 * a.communities.length;
    case 'large-communities':
      return 12 * a.communities.length;
    case 'mp-reach':
      return mp.reachLength(a);
    case 'mp-unreach':
      return mp.unreachLength(a);
    case 'unknown':
      return a.value.length;
  }
}

/** Bytes the whole attribute takes (flags, type, 1- or 2-byte length, value). */
export function encodingLength(a: PathAttribute, opts: AttributeOptions = {}): number {
  const n = valueLength(a, opts);
  return (n > 255 || a.extendedLength ? 4 : 3) + n;
}

function v4(address: string, what: string): Buffer {
  const b = ipBytes(address);
  if (b.length !== 4) badField(`${what}: "${address}" is not an IPv4 address`);
  return b;
}

function writeValue(a: PathAttribute, b: Buffer, p: number, as4: boolean): number {
  switch (a.type) {
    case 'origin':
      if (!Number.isInteger(a.value) || a.value < 0 || a.value > 2) badField(`origin.value: ${a.value} is not 0, 1 or 2`);
      b[p] = a.value;
      return p + 1;
    case 'as-path':
      return asPath.encode(a.segments, as4 ? 4 : 2, b, p);
    case 'as4-path':
      return asPath.encode(a.segments, 4, b, p);
    case 'next-hop':
      v4(a.address, 'next-hop.address').copy(b, p);
      return p + 4;
    case 'med':
    case 'local-pref':
      b.writeUInt32BE(u32(a.value, `${a.type}.value`), p);
      return p + 4;
    case 'atomic-aggregate':
      return p;
    case 'aggregator':
    case 'as4-aggregator': {
      const w = a.type === 'aggregator' && !as4 ? 2 : 4;
      u32(a.asn, `${a.type}.asn`);
      if (w === 2) b.writeUInt16BE(a.asn > 0xffff ? 23456 : a.asn, p);
      else b.writeUInt32BE(a.asn, p);
      v4(a.address, `${a.type}.address`).copy(b, p + w);
      return p + w + 4;
    }
    case 'communities':
      for (const c of a.communities) {
        b.writeUInt32BE(u32(c, 'communities'), p);
        p += 4;
      }
      return p;
    case 'extended-communities':
      for (const c of a.communities) {
        if (c.length !== 8) badField(`extended-communities: ${c.length} bytes, expected 8`);
        b.set(c, p);
        p += 8;
      }
      return p;
    case 'large-communities':
      for (const c of a.communities) {
        for (let i = 0; i < 3; i++) b.writeUInt32BE(u32(c[i]!, 'large-communities'), p + 4 * i);
        p += 12;
      }
      return p;
    case 'mp-reach':
      return mp.encodeReach(a, b, p);
    case 'mp-unreach':
      return mp.encodeUnreach(a, b, p);
    case 'unknown':
      b.set(a.value, p);
      return p + a.value.length;
  }
}

/** Writes the whole attribute at `offset`; returns the offset after it. */
export function encodeAt(a: PathAttribute, b: Buffer, offset: number, opts: AttributeOptions = {}): number {
  const n = valueLength(a, opts);
  if (n > 0xffff) badField(`${a.type}: value of ${n} bytes exceeds 65535`);
  const ext = n > 255 || a.extendedLength === true;
  let flags: number;
  if (a.type === 'unknown') {
    if (!Number.isInteger(a.code) || a.code < 0 || a.code > 255) badField(`unknown.code: ${a.code} is not 0..255`);
    flags = a.flags & 0xe0;
  } else flags = ATTRIBUTES[a.type].flags | (a.partial ? AttrFlag.PARTIAL : 0);
  b[offset] = flags | (ext ? AttrFlag.EXTENDED_LENGTH : 0);
  b[offset + 1] = codeOf(a);
  let p = offset + 2;
  if (ext) {
    b.writeUInt16BE(n, p);
    p += 2;
  } else b[p++] = n;
  const end = writeValue(a, b, p, opts.as4 ?? true);
  if (end !== p + n) throw new Error(`${a.type}: encoder wrote ${end - p} bytes, expected ${n}`);
  return end;
}

/** Encodes one attribute into a new buffer (or `buf` at `offset`). */
export function encode(a: PathAttribute, buf?: Buffer, offset = 0, opts: AttributeOptions = {}): Buffer {
  const b = buf ?? Buffer.allocUnsafe(encodingLength(a, opts));
  encodeAt(a, b, offset, opts);
  return b;
}
