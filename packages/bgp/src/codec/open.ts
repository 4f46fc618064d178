/**
 * OPEN message (RFC 4271 §4.2) with capabilities in optional parameter 2 (RFC 5492), either all in
 * one parameter (GoBGP, BIRD) or one parameter each (FRR), and RFC 9072 extended optional
 * parameters. Decoding applies the §6.2 checks the message alone allows: 2/1 version, 2/2 AS 0
 * (RFC 7607), 2/3 BGP identifier 0, 2/4 optional parameter other than capabilities, 2/6 hold time
 * 1 or 2, 2/0 for a broken structure. The peer-AS match is the session's job (`validateOpen`).
 */
import { asBuffer } from './bytes.js';
import * as capability from './capabilities.js';
import type { Capability } from './capabilities.js';
import { AS_TRANS, HEADER_LENGTH, MessageType } from './constants.js';
import { badField, fail } from './errors.js';
import { bodyOf, startMessage } from './header.js';
import { ipv4ToNumber, numberToIpv4 } from './ip.js';

/** An OPEN message. */
export interface OpenMessage {
  type: 'open';
  /** BGP version; 4 (the default when encoding). */
  version?: number;
  /** The 2-octet "My Autonomous System" field: AS_TRANS (23456) when the AS needs 4 octets. */
  myAsn: number;
  /** Proposed hold time in seconds (0 or ≥ 3). */
  holdTime: number;
  /** BGP identifier in dotted-quad notation. */
  bgpId: string;
  /** Capabilities, in wire order. */
  capabilities: Capability[];
  /** All capabilities in one optional parameter (`single`, default) or one parameter each. */
  capabilityLayout?: 'single' | 'per-capability';
  /** Use RFC 9072 extended optional parameters (chosen automatically when they exceed 255 bytes). */
  extendedParameters?: boolean;
}

/** The value for {@link OpenMessage.myAsn} for a local AS (AS_TRANS for 4-octet ASes). */
export function myAsnField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** The peer's AS: the 4-octet AS capability when present, else the 2-octet field. */
export function peerAsn(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.type === 'as4') return c.asn;
  return open.myAsn;
}

function params(m: OpenMessage): { groups: Capability[][]; ext: boolean; length: number } {
  const caps = m.capabilities;
  const groups = !caps.length ? [] : m.capabilityLayout === 'per-capability' ? caps.map((c) => [c]) : [caps];
  const sizes = groups.map((g) => g.reduce((s, c) => s + capability.encodingLength(c), 0));
  const plain = sizes.reduce((s, n) => s + 2 + n, 0);
  const ext = m.extendedParameters === true || plain > 255 || sizes.some((n) => n > 255);
  const length = ext ? sizes.reduce((s, n) => s + 3 + n, 0) : plain;
  return { groups, ext, length };
}

/** Total bytes of the encoded message (header included). */
export function encodingLength(m: OpenMessage): number {
  const p = params(m);
  return HEADER_LENGTH + 10 + (p.ext ? 3 : 0) + p.length;
}

/** Encodes the whole message (header included) at `offset`; returns the buffer. */
export function encode(m: OpenMessage, buf?: Buffer, offset = 0): Buffer {
  const p = params(m);
  const total = HEADER_LENGTH + 10 + (p.ext ? 3 : 0) + p.length;
  if (total > 4096) badField(`OPEN: ${total} bytes exceeds 4096`);
  if (!Number.isInteger(m.myAsn) || m.myAsn < 0 || m.myAsn > 0xffff) badField(`OPEN.myAsn: ${m.myAsn} is not a 2-octet AS (use AS_TRANS 23456)`);
  if (!Number.isInteger(m.holdTime) || m.holdTime < 0 || m.holdTime > 0xffff) badField(`OPEN.holdTime: ${m.holdTime} is not 0..65535`);
  const b = startMessage(MessageType.OPEN, total, buf, offset);
  let q = offset + HEADER_LENGTH;
  b[q] = m.version ?? 4;
  b.writeUInt16BE(m.myAsn, q + 1);
  b.writeUInt16BE(m.holdTime, q + 3);
  b.writeUInt32BE(ipv4ToNumber(m.bgpId), q + 5);
  if (p.ext) {
    b[q + 9] = 255;
    b[q + 10] = 255;
    b.writeUInt16BE(p.length, q + 11);
    q += 13;
  } else {
    b[q + 9] = p.length;
    q += 10;
  }
  for (const g of p.groups) {
    const n = g.reduce((s, c) => s + capability.encodingLength(c), 0);
    b[q++] = 2;
    if (p.ext) {
      b.writeUInt16BE(n, q);
      q += 2;
    } else b[q++] = n;
    for (const c of g) {
      capability.encode(c, b, q);
      q += capability.encodingLength(c);
    }
  }
  return b;
}

/** Decodes a whole OPEN message (header included) at `offset`. */
export function decode(buf: Uint8Array, offset = 0): OpenMessage {
  return decodeBody(bodyOf(buf, offset, MessageType.OPEN));
}

/** Decodes an OPEN body (the bytes after the header). Throws NotificationError 2/x. */
export function decodeBody(body: Uint8Array): OpenMessage {
  const b = asBuffer(body);
  if (b.length < 10) fail(`OPEN: body of ${b.length} bytes is shorter than 10`, 1, 2);
  const version = b[0]!;
  if (version !== 4) fail(`OPEN.version: ${version} is not supported (only 4)`, 2, 1, Uint8Array.of(0, 4));
  const myAsn = b.readUInt16BE(1);
  if (myAsn === 0) fail('OPEN.myAsn: AS 0 (RFC 7607)', 2, 2);
  const holdTime = b.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2) fail(`OPEN.holdTime: ${holdTime} s is unacceptable`, 2, 6);
  const id = b.readUInt32BE(5);
  if (id === 0) fail('OPEN.bgpId: 0.0.0.0 is not a valid BGP identifier', 2, 3, b.subarray(5, 9));
  let optLen = b[9]!;
  let p = 10;
  let ext = false;
  if (optLen === 255 && b.length >= 13 && b[10] === 255) {
    ext = true;
    optLen = b.readUInt16BE(11);
    p = 13;
  }
  const end = p + optLen;
  if (end !== b.length) fail(`OPEN: optional parameters length ${optLen} does not match the ${b.length - p} bytes present`, 2, 0);
  const capabilities: Capability[] = [];
  let paramCount = 0;
  let single = true;
  while (p < end) {
    const hl = ext ? 3 : 2;
    if (p + hl > end) fail('OPEN: truncated optional parameter', 2, 0);
    const t = b[p]!;
    const l = ext ? b.readUInt16BE(p + 1) : b[p + 1]!;
    const vs = p + hl;
    if (vs + l > end) fail(`OPEN: optional parameter ${t} of length ${l} overruns`, 2, 0);
    if (t !== 2) fail(`OPEN: optional parameter type ${t} is not supported (only capabilities)`, 2, 4);
    paramCount++;
    // Capabilities are decoded from a view bounded by the parameter's declared length.
    const pv = b.subarray(vs, vs + l);
    let q = 0;
    let inParam = 0;
    while (q < l) {
      const r = capability.decode(pv, q, l);
      capabilities.push(r.capability);
      q += r.bytes;
      inParam++;
    }
    if (inParam !== 1) single = false;
    p = vs + l;
  }
  const m: OpenMessage = { type: 'open', version, myAsn, holdTime, bgpId: numberToIpv4(id), capabilities };
  if (paramCount > 1 && single) m.capabilityLayout = 'per-capability';
  else if (paramCount === 1) m.capabilityLayout = 'single';
  if (ext) m.extendedParameters = true;
  return m;
}
