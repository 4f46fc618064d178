/**
 * AS_PATH and AS4_PATH segments (RFC 4271 §4.3, RFC 5065 confederation segments, RFC 6793
 * 4-octet ASes): encoding with 2- or 4-octet AS numbers, the RFC 7606 §7.2 validity rules, and the
 * RFC 6793 §4.2.3 reconstruction of the real path from AS_PATH (with AS_TRANS) and AS4_PATH.
 */
import { AS_TRANS } from './constants.js';
import { badField } from './errors.js';

/** Segment types by name. */
export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

/** One AS_PATH segment. */
export interface AsPathSegment {
  /** AS_SET (1), AS_SEQUENCE (2), AS_CONFED_SEQUENCE (3) or AS_CONFED_SET (4). */
  type: AsPathSegmentType;
  /** The AS numbers, in path order. */
  asns: number[];
}

const CODE: Record<AsPathSegmentType, number> = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 };
const NAME: Record<number, AsPathSegmentType> = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' };

/** Splits segments longer than 255 ASes into several of the same type (wire limit). */
function chunks(segments: readonly AsPathSegment[]): { code: number; asns: number[] }[] {
  const out: { code: number; asns: number[] }[] = [];
  for (const s of segments) {
    const code = CODE[s.type];
    if (code === undefined) badField(`AS_PATH segment type "${String(s.type)}" is unknown`);
    if (!s.asns.length) badField('AS_PATH: a segment must hold at least one AS');
    for (let i = 0; i < s.asns.length; i += 255) out.push({ code, asns: s.asns.slice(i, i + 255) });
  }
  return out;
}

/** Bytes of the encoded segments with `width` (2 or 4) octets per AS. */
export function encodingLength(segments: readonly AsPathSegment[], width: 2 | 4): number {
  let n = 0;
  for (const c of chunks(segments)) n += 2 + c.asns.length * width;
  return n;
}

/**
 * Writes the segments at `offset`; returns the offset after them. With `width` 2, ASes above
 * 65535 are written as AS_TRANS (the caller adds AS4_PATH, see {@link splitForTwoOctet}).
 */
export function encode(segments: readonly AsPathSegment[], width: 2 | 4, buf: Buffer, offset: number): number {
  let p = offset;
  for (const c of chunks(segments)) {
    buf[p++] = c.code;
    buf[p++] = c.asns.length;
    for (const a of c.asns) {
      if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) badField(`AS_PATH: ${a} is not an AS number`);
      if (width === 4) buf.writeUInt32BE(a, p);
      else buf.writeUInt16BE(a > 0xffff ? AS_TRANS : a, p);
      p += width;
    }
  }
  return p;
}

/**
 * Decodes segments in `buf[start, end)`; returns undefined when malformed (RFC 7606 §7.2: unknown
 * segment type, zero-length segment, or an overrun), so the caller picks the error handling.
 */
export function decode(buf: Buffer, start: number, end: number, width: 2 | 4): AsPathSegment[] | undefined {
  const out: AsPathSegment[] = [];
  let p = start;
  while (p < end) {
    if (p + 2 > end) return undefined;
    const type = NAME[buf[p]!];
    const n = buf[p + 1]!;
    if (!type || n === 0 || p + 2 + n * width > end) return undefined;
    const asns = new Array<number>(n);
    for (let i = 0; i < n; i++) asns[i] = width === 4 ? buf.readUInt32BE(p + 2 + i * 4) : buf.readUInt16BE(p + 2 + i * 2);
    out.push({ type, asns });
    p += 2 + n * width;
  }
  return out;
}

/** Path length for route selection (RFC 4271 §9.1.2.2): a set counts 1, confederation segments 0. */
export function pathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) n += s.type === 'sequence' ? s.asns.length : s.type === 'set' ? 1 : 0;
  return n;
}

/** Every AS of the path, in order (sets included). */
export function asns(segments: readonly AsPathSegment[]): number[] {
  return segments.flatMap((s) => s.asns);
}

/**
 * RFC 6793 §4.2.3: merges a 2-octet AS_PATH (ASes above 65535 replaced by AS_TRANS) with the
 * AS4_PATH a NEW speaker attached. When AS_PATH is shorter than AS4_PATH the AS4_PATH is ignored;
 * otherwise the leading ASes of AS_PATH that AS4_PATH lacks are kept and AS4_PATH follows.
 */
export function reconstruct(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const n1 = pathLength(asPath);
  const n2 = pathLength(as4Path);
  if (n1 < n2) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let keep = n1 - n2;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep === 0 && s.type !== 'confed-sequence' && s.type !== 'confed-set') break;
    if (s.type === 'sequence') {
      const take = Math.min(keep, s.asns.length);
      out.push({ type: 'sequence', asns: s.asns.slice(0, take) });
      keep -= take;
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
      if (s.type === 'set') keep -= 1;
    }
  }
  for (const s of as4Path) {
    const last = out[out.length - 1];
    if (last && last.type === 'sequence' && s.type === 'sequence') last.asns.push(...s.asns);
    else out.push({ type: s.type, asns: [...s.asns] });
  }
  return out.filter((s) => s.asns.length);
}

/**
 * For a session without 4-octet AS: the AS_PATH to send (ASes above 65535 become AS_TRANS on the
 * wire) and, when any AS needs 4 octets, the AS4_PATH (RFC 6793 §4.2.2, no confederation segments).
 */
export function splitForTwoOctet(segments: readonly AsPathSegment[]): { asPath: AsPathSegment[]; as4Path?: AsPathSegment[] } {
  const asPath = segments.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
  if (!segments.some((s) => s.asns.some((a) => a > 0xffff))) return { asPath };
  return { asPath, as4Path: segments.filter((s) => s.type === 'sequence' || s.type === 'set').map((s) => ({ type: s.type, asns: [...s.asns] })) };
}
