/**
 * UPDATE message (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI; many prefixes per
 * message. Decoding follows RFC 7606: structural errors throw a NotificationError (3/1 when the
 * withdrawn or total attribute length overruns the message, 3/10 bad prefixes in the withdrawn/NLRI
 * fields, plus the session resets of the attribute list),
 * attribute errors come back as `errors` with `treatAsWithdraw` set when the announced routes must
 * be handled as withdrawn. Also: End-of-RIB (RFC 4724 §2) and the RFC 6793 AS path of an UPDATE.
 */
import * as asPath from './as-path.js';
import type { AsPathSegment } from './as-path.js';
import { decodeAttributes, type AttributeError } from './attribute-decode.js';
import { encodeAt as encodeAttribute, encodingLength as attributeLength, type AttributeOptions, type PathAttribute } from './attributes.js';
import { asBuffer } from './bytes.js';
import type { AfiSafi } from './capabilities.js';
import { AS_TRANS, AttrType, HEADER_LENGTH, MAX_MESSAGE, MessageType } from './constants.js';
import { badField, fail } from './errors.js';
import { bodyOf, startMessage } from './header.js';
import * as prefix from './prefix.js';

/** An UPDATE message. */
export interface UpdateMessage {
  type: 'update';
  /** Withdrawn IPv4 prefixes (`addr/len`). */
  withdrawn: string[];
  /** Path attributes in wire order. */
  attributes: PathAttribute[];
  /** Announced IPv4 prefixes. */
  nlri: string[];
  /** Decoding only: RFC 7606 says the announced prefixes (NLRI and MP_REACH) are to be treated as withdrawn. */
  treatAsWithdraw?: boolean;
  /** Decoding only: attribute errors handled without a session reset (treat-as-withdraw, attribute-discard). */
  errors?: AttributeError[];
}

/** Options of UPDATE encoding and decoding. */
export interface UpdateOptions extends AttributeOptions {
  /** Largest message (4096; 65535 with RFC 8654). Encoding fails beyond it. */
  maxLength?: number;
  /**
   * Decoding only: `true` — the session is iBGP, so LOCAL_PREF is mandatory (RFC 4271 §5.1.5);
   * `false` — eBGP, so a LOCAL_PREF is discarded (RFC 7606 §7.5); undefined — unknown, kept as sent.
   */
  ibgp?: boolean;
}

function listLength(ps: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < ps.length; i++) n += prefix.encodingLength(ps[i]!);
  return n;
}

/** Bytes of the path attributes of `m`. */
export function attributesLength(attributes: readonly PathAttribute[], opts: AttributeOptions = {}): number {
  let n = 0;
  for (const a of attributes) n += attributeLength(a, opts);
  return n;
}

/** Total bytes of the encoded message. */
export function encodingLength(m: UpdateMessage, opts: UpdateOptions = {}): number {
  return HEADER_LENGTH + 4 + listLength(m.withdrawn) + attributesLength(m.attributes, opts) + listLength(m.nlri);
}

/** Encodes the whole message at `offset`; returns the buffer. Throws an EncodeError naming a bad field. */
export function encode(m: UpdateMessage, buf?: Buffer, offset = 0, opts: UpdateOptions = {}): Buffer {
  const wl = listLength(m.withdrawn);
  const al = attributesLength(m.attributes, opts);
  const total = HEADER_LENGTH + 4 + wl + al + listLength(m.nlri);
  const max = opts.maxLength ?? MAX_MESSAGE;
  if (total > max) badField(`UPDATE: ${total} bytes exceeds the maximum message length ${max}`);
  const b = startMessage(MessageType.UPDATE, total, buf, offset);
  let p = offset + HEADER_LENGTH;
  b.writeUInt16BE(wl, p);
  p += 2;
  for (let i = 0; i < m.withdrawn.length; i++) p = prefix.encode(m.withdrawn[i]!, b, p, 1);
  b.writeUInt16BE(al, p);
  p += 2;
  for (const a of m.attributes) p = encodeAttribute(a, b, p, opts);
  for (let i = 0; i < m.nlri.length; i++) p = prefix.encode(m.nlri[i]!, b, p, 1);
  return b;
}

/** Decodes a whole UPDATE (header included) at `offset`. */
export function decode(buf: Uint8Array, offset = 0, opts: UpdateOptions = {}): UpdateMessage {
  return decodeBody(bodyOf(buf, offset, MessageType.UPDATE, { maxLength: opts.maxLength ?? MAX_MESSAGE }), opts);
}

/** Decodes an UPDATE body (RFC 7606 error handling, see the module comment). */
export function decodeBody(body: Uint8Array, opts: UpdateOptions = {}): UpdateMessage {
  const b = asBuffer(body);
  if (b.length < 4) fail(`UPDATE: body of ${b.length} bytes is shorter than 4`, 3, 1);
  const wl = b.readUInt16BE(0);
  if (2 + wl + 2 > b.length) fail(`UPDATE: withdrawn routes length ${wl} overruns the message`, 3, 1);
  const al = b.readUInt16BE(2 + wl);
  const aStart = 4 + wl;
  if (aStart + al > b.length) fail(`UPDATE: total path attribute length ${al} overruns the message`, 3, 1);
  // Each field is decoded from a view bounded by its declared length.
  const withdrawn = prefix.decodeList(b.subarray(2, 2 + wl), 0, wl, 1, 'UPDATE withdrawn routes', 3, 10, []);
  const nlri = prefix.decodeList(b.subarray(aStart + al), 0, b.length - aStart - al, 1, 'UPDATE NLRI', 3, 10, []);
  const { attributes, errors } = decodeAttributes(b, aStart, aStart + al, opts.as4 ?? true, opts.ibgp);
  const m: UpdateMessage = { type: 'update', withdrawn, attributes, nlri };
  const has = (t: PathAttribute['type']) => attributes.some((a) => a.type === t);
  const failed = (code: number) => errors.some((e) => e.attribute === code);
  const reach = has('mp-reach');
  if (nlri.length || reach) {
    const need: [PathAttribute['type'], number][] = [
      ['origin', AttrType.ORIGIN],
      ['as-path', AttrType.AS_PATH],
    ];
    if (nlri.length) need.push(['next-hop', AttrType.NEXT_HOP]);
    if (opts.ibgp) need.push(['local-pref', AttrType.LOCAL_PREF]);
    for (const [t, code] of need) {
      if (!has(t) && !failed(code)) {
        errors.push({ action: 'treat-as-withdraw', subcode: 3, attribute: code, reason: `missing well-known attribute ${t.toUpperCase()}`, data: Uint8Array.of(code) });
      }
    }
  }
  // RFC 7606 §3.j / RFC 4760 §3: NEXT_HOP is ignored in an UPDATE with no classic NLRI, so its errors only discard it.
  if (!nlri.length) for (const e of errors) if (e.attribute === AttrType.NEXT_HOP && e.action === 'treat-as-withdraw') e.action = 'attribute-discard';
  if (errors.length) m.errors = errors;
  if (errors.some((e) => e.action === 'treat-as-withdraw')) m.treatAsWithdraw = true;
  return m;
}

/** The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, else an empty MP_UNREACH. */
export function endOfRib(afi = 1, safi = 1): UpdateMessage {
  if (afi === 1 && safi === 1) return { type: 'update', withdrawn: [], attributes: [], nlri: [] };
  return { type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi, safi, withdrawn: [] }], nlri: [] };
}

/** The family whose End-of-RIB `m` is, or undefined when it is not one. */
export function endOfRibFamily(m: UpdateMessage): AfiSafi | undefined {
  if (m.withdrawn.length || m.nlri.length || m.attributes.length > 1) return undefined;
  const a = m.attributes[0];
  if (!a) return { afi: 1, safi: 1 };
  if (a.type === 'mp-unreach' && !a.withdrawn.length) return { afi: a.afi, safi: a.safi };
  if (a.type === 'unknown' && a.code === AttrType.MP_UNREACH_NLRI && a.value.length === 3) {
    return { afi: (a.value[0]! << 8) | a.value[1]!, safi: a.value[2]! };
  }
  return undefined;
}

/**
 * The AS path of an UPDATE. On a session without 4-octet AS (RFC 6793 §4.2.3) an AS4_PATH is merged
 * into the 2-octet AS_PATH, unless an AGGREGATOR with a real (non-AS_TRANS) AS says a 2-octet speaker
 * aggregated the route, in which case AS4_PATH is ignored.
 */
export function asPathOf(m: Pick<UpdateMessage, 'attributes'>): AsPathSegment[] {
  let path: AsPathSegment[] = [];
  let path4: AsPathSegment[] | undefined;
  let aggAsn: number | undefined;
  for (const a of m.attributes) {
    if (a.type === 'as-path') path = a.segments;
    else if (a.type === 'as4-path') path4 = a.segments;
    else if (a.type === 'aggregator') aggAsn = a.asn;
  }
  if (!path4 || (aggAsn !== undefined && aggAsn !== AS_TRANS)) return path.map((s) => ({ type: s.type, asns: [...s.asns] }));
  return asPath.reconstruct(path, path4);
}
