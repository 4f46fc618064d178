/**
 * Decoding of the path attribute list with RFC 7606 error handling. Session resets throw a
 * NotificationError: duplicate MP_REACH/MP_UNREACH (3/1), an unrecognized well-known attribute
 * (3/2), broken MP attributes (3/4 flags, 3/9), and an MP_REACH/MP_UNREACH whose own length runs
 * past the attribute list (3/5: its NLRI cannot be located, so treat-as-withdraw is impossible).
 * Every other framing error (RFC 7606 §4: the last attribute's length runs past the list, or 1–3
 * stray bytes too short for an attribute header) is treat-as-withdraw; the NLRI field is found
 * through the Total Path Attribute Length. Everything else is collected as treat-as-withdraw or
 * attribute-discard errors. Each value is decoded from a view bounded by its declared length, and
 * the list from a view bounded by the Total Path Attribute Length, so nothing is read past them.
 */
import * as asPath from './as-path.js';
import { copyBytes } from './bytes.js';
import type { LargeCommunity } from './communities.js';
import { AttrFlag, AttrType } from './constants.js';
import { fail } from './errors.js';
import { ATTRIBUTES, attributeName, type PathAttribute } from './attributes.js';
import * as mp from './mp-nlri.js';
import { bytesToIp } from './ip.js';

/** What RFC 7606 does with an attribute error that does not reset the session. */
export type AttributeErrorAction = 'treat-as-withdraw' | 'attribute-discard';

/** An attribute error handled without a session reset (RFC 7606). */
export interface AttributeError {
  /** What RFC 7606 prescribes for this error. */
  action: AttributeErrorAction;
  /** The UPDATE Message Error subcode RFC 4271 would have sent (3/x). */
  subcode: number;
  /** Type code of the attribute concerned (0 when the attribute list itself was broken). */
  attribute: number;
  /** What was wrong, naming the attribute. */
  reason: string;
  /** The attribute's bytes, when one was isolated. */
  data?: Uint8Array;
}

/** Result of {@link decodeAttributes}. */
export interface DecodedAttributes {
  /** Attributes that decoded, in wire order (malformed and discarded ones left out). */
  attributes: PathAttribute[];
  /** Errors handled by treat-as-withdraw or attribute discard. */
  errors: AttributeError[];
}

class Problem {
  constructor(
    readonly action: AttributeErrorAction,
    readonly subcode: number,
    readonly reason: string,
  ) {}
}

const withdraw = (subcode: number, reason: string): never => {
  throw new Problem('treat-as-withdraw', subcode, reason);
};
const discard = (subcode: number, reason: string): never => {
  throw new Problem('attribute-discard', subcode, reason);
};

function aggregator(v: Buffer, len: number, width: 2 | 4, name: string): { asn: number; address: string } {
  if (len !== width + 4) discard(5, `${name}: length ${len}, expected ${width + 4}`);
  return { asn: width === 4 ? v.readUInt32BE(0) : v.readUInt16BE(0), address: bytesToIp(v.subarray(width, width + 4)) };
}

/** Decodes one known attribute's value; throws Problem or NotificationError. */
function value(code: number, v: Buffer, whole: Uint8Array, as4: boolean): PathAttribute | undefined {
  const len = v.length;
  switch (code) {
    case AttrType.ORIGIN:
      if (len !== 1) withdraw(5, `ORIGIN: length ${len}, expected 1`);
      if (v[0]! > 2) withdraw(6, `ORIGIN: value ${v[0]} is not IGP, EGP or INCOMPLETE`);
      return { type: 'origin', value: v[0]! };
    case AttrType.AS_PATH: {
      const segments = asPath.decode(v, 0, len, as4 ? 4 : 2);
      if (!segments) withdraw(11, `AS_PATH: malformed segments for ${as4 ? 4 : 2}-octet ASes`);
      return { type: 'as-path', segments: segments! };
    }
    case AttrType.NEXT_HOP: {
      if (len !== 4) withdraw(5, `NEXT_HOP: length ${len}, expected 4`);
      if (v[0] === 0 || v[0]! >= 224) withdraw(8, `NEXT_HOP: ${bytesToIp(v)} is not a unicast address`);
      return { type: 'next-hop', address: bytesToIp(v) };
    }
    case AttrType.MED:
    case AttrType.LOCAL_PREF:
      if (len !== 4) withdraw(5, `${attributeName(code)}: length ${len}, expected 4`);
      return { type: code === AttrType.MED ? 'med' : 'local-pref', value: v.readUInt32BE(0) };
    case AttrType.ATOMIC_AGGREGATE:
      if (len !== 0) discard(5, `ATOMIC_AGGREGATE: length ${len}, expected 0`);
      return { type: 'atomic-aggregate' };
    case AttrType.AGGREGATOR:
      return { type: 'aggregator', ...aggregator(v, len, as4 ? 4 : 2, 'AGGREGATOR') };
    case AttrType.AS4_AGGREGATOR:
      if (as4) discard(0, 'AS4_AGGREGATOR: received on a 4-octet AS session (RFC 6793 §4.1)');
      return { type: 'as4-aggregator', ...aggregator(v, len, 4, 'AS4_AGGREGATOR') };
    case AttrType.AS4_PATH: {
      if (as4) discard(0, 'AS4_PATH: received on a 4-octet AS session (RFC 6793 §4.1)');
      const segments = asPath.decode(v, 0, len, 4);
      if (!segments || segments.some((s) => s.type !== 'sequence' && s.type !== 'set')) discard(11, 'AS4_PATH: malformed (RFC 6793 §6)');
      return { type: 'as4-path', segments: segments! };
    }
    case AttrType.COMMUNITIES: {
      if (len === 0 || len % 4) withdraw(5, `COMMUNITIES: length ${len} is not a non-zero multiple of 4`);
      const communities = new Array<number>(len / 4);
      for (let i = 0; i < len; i += 4) communities[i / 4] = v.readUInt32BE(i);
      return { type: 'communities', communities };
    }
    case AttrType.EXTENDED_COMMUNITIES: {
      if (len === 0 || len % 8) withdraw(5, `EXTENDED_COMMUNITIES: length ${len} is not a non-zero multiple of 8`);
      const communities: Uint8Array[] = [];
      for (let i = 0; i < len; i += 8) communities.push(copyBytes(v, i, i + 8));
      return { type: 'extended-communities', communities };
    }
    case AttrType.LARGE_COMMUNITIES: {
      if (len === 0 || len % 12) withdraw(5, `LARGE_COMMUNITIES: length ${len} is not a non-zero multiple of 12`);
      const communities: LargeCommunity[] = [];
      for (let i = 0; i < len; i += 12) communities.push([v.readUInt32BE(i), v.readUInt32BE(i + 4), v.readUInt32BE(i + 8)]);
      return { type: 'large-communities', communities };
    }
    case AttrType.MP_REACH_NLRI:
      return mp.decodeReach(v, 0, len, whole);
    case AttrType.MP_UNREACH_NLRI:
      return mp.decodeUnreach(v, 0, len, whole);
  }
  return undefined;
}

/** Discard-on-error attributes (RFC 7606 §7.6/7.7, RFC 6793 §6): flag errors are discards too. */
const DISCARD_TYPES = new Set<number>([AttrType.ATOMIC_AGGREGATE, AttrType.AGGREGATOR, AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR]);
const KNOWN_FLAGS = new Map<number, number>(Object.values(ATTRIBUTES).map((a) => [a.code, a.flags]));

/**
 * Decodes the attributes in `list[start, end)`. `as4` says whether 4-octet AS numbers were
 * negotiated; `ibgp` whether the peer is internal (`false`: external, so LOCAL_PREF is discarded per
 * RFC 7606 §7.5; undefined: unknown, LOCAL_PREF is kept). Duplicates of attributes other than
 * MP_REACH/MP_UNREACH are discarded.
 */
export function decodeAttributes(list: Buffer, start: number, end: number, as4: boolean, ibgp?: boolean): DecodedAttributes {
  const attributes: PathAttribute[] = [];
  const errors: AttributeError[] = [];
  const seen = new Set<number>();
  // A view bounded by the declared list length: no read can reach the NLRI that follows.
  const buf = list.subarray(start, end);
  const n = buf.length;
  let p = 0;
  while (p < n) {
    const flags = buf[p]!;
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    const hl = ext ? 4 : 3;
    const code = n - p >= 2 ? buf[p + 1]! : 0;
    if (n - p < hl) {
      // RFC 7606 §4, second case: 1–3 stray bytes cannot hold an attribute (so no MP attribute is
      // hidden in them): treat-as-withdraw, the NLRI field is located by the total length.
      errors.push({ action: 'treat-as-withdraw', subcode: 1, attribute: 0, reason: `path attributes: ${n - p} stray byte(s) after the last attribute`, data: copyBytes(buf, p, n) });
      break;
    }
    const len = ext ? buf.readUInt16BE(p + 2) : buf[p + 2]!;
    if (p + hl + len > n) {
      const reason = `${attributeName(code)}: length ${len} runs past the path attributes by ${p + hl + len - n} byte(s)`;
      // An MP attribute cut short hides its own NLRI: treat-as-withdraw cannot locate them (RFC 7606
      // §3, last paragraph), so the session is reset with Attribute Length Error (RFC 4271 §6.3).
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI) fail(`UPDATE ${reason}`, 3, 5, copyBytes(buf, p, n));
      // RFC 7606 §4, first case: the last attribute overruns the list: treat-as-withdraw.
      errors.push({ action: 'treat-as-withdraw', subcode: 5, attribute: code, reason, data: copyBytes(buf, p, n) });
      break;
    }
    const vs = p + hl;
    const whole = buf.subarray(p, vs + len);
    const v = buf.subarray(vs, vs + len);
    p = vs + len;
    const isMp = code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI;
    if (seen.has(code)) {
      if (isMp) fail(`UPDATE: ${attributeName(code)} appears twice`, 3, 1);
      errors.push({ action: 'attribute-discard', subcode: 1, attribute: code, reason: `${attributeName(code)}: duplicate discarded` });
      continue;
    }
    seen.add(code);
    const expected = KNOWN_FLAGS.get(code);
    try {
      if (expected === undefined) {
        if (!(flags & AttrFlag.OPTIONAL)) fail(`UPDATE: unrecognized well-known attribute ${code}`, 3, 2, copyBytes(whole, 0, whole.length));
        const a: PathAttribute = { type: 'unknown', code, flags: flags & 0xf0, value: copyBytes(v, 0, v.length) };
        if (ext) a.extendedLength = true;
        attributes.push(a);
        continue;
      }
      if (code === AttrType.LOCAL_PREF && ibgp === false) {
        // RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded, malformed or not.
        const bad = len !== 4 ? `length ${len}, ` : '';
        throw new Problem('attribute-discard', len !== 4 ? 5 : 0, `LOCAL_PREF: ${bad}received from an external peer, discarded (RFC 7606 §7.5)`);
      }
      if ((flags & 0xc0) !== expected) {
        const reason = `${attributeName(code)}: flags 0x${flags.toString(16)} conflict with the required 0x${expected.toString(16)}`;
        if (isMp) fail(`UPDATE ${reason}`, 3, 4, copyBytes(whole, 0, whole.length));
        throw new Problem(DISCARD_TYPES.has(code) ? 'attribute-discard' : 'treat-as-withdraw', 4, reason);
      }
      const a = value(code, v, whole, as4);
      if (!a) {
        // MP attribute of a family the codec does not parse: keep it raw.
        attributes.push({ type: 'unknown', code, flags: flags & 0xf0, value: copyBytes(v, 0, v.length), ...(ext ? { extendedLength: true } : {}) });
        continue;
      }
      if (ext && len <= 255) a.extendedLength = true;
      if (flags & AttrFlag.PARTIAL && expected === 0xc0) a.partial = true;
      attributes.push(a);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      errors.push({ action: e.action, subcode: e.subcode, attribute: code, reason: e.reason, data: copyBytes(whole, 0, whole.length) });
    }
  }
  return { attributes, errors };
}

