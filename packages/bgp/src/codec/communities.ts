/**
 * Community text forms and well-known values: RFC 1997 communities (`asn:value`, 32 bits), RFC
 * 8092 large communities (`global:local1:local2`, 3×32 bits) and RFC 4360 extended communities
 * (8 bytes, given as 16 hex digits or bytes).
 */
import { badField } from './errors.js';

/** Well-known communities (RFC 1997, 3765, 7999, 8326). */
export const WellKnownCommunity = {
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NOPEER: 0xffffff04,
  GRACEFUL_SHUTDOWN: 0xffff0000,
  BLACKHOLE: 0xffff029a,
} as const;

/** A large community: global administrator, local data 1, local data 2. */
export type LargeCommunity = [number, number, number];

/** Parses `asn:value` (16-bit parts) or a 32-bit number; throws naming the community. */
export function parseCommunity(c: string | number): number {
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0 || c > 0xffffffff) badField(`community ${c}: not a 32-bit value`);
    return c;
  }
  const m = /^(\d+):(\d+)$/.exec(c);
  if (!m || +m[1]! > 0xffff || +m[2]! > 0xffff) badField(`community "${c}": expected asn:value with 16-bit parts`);
  return ((+m[1]! << 16) | +m[2]!) >>> 0;
}

/** 32-bit community → `asn:value`. */
export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

/** Parses `a:b:c` with 32-bit parts; throws naming the community. */
export function parseLargeCommunity(s: string): LargeCommunity {
  const p = s.split(':');
  if (p.length !== 3 || p.some((x) => !/^\d{1,10}$/.test(x) || +x > 0xffffffff)) badField(`large community "${s}": expected a:b:c with 32-bit parts`);
  return [+p[0]!, +p[1]!, +p[2]!];
}

/** Large community → `a:b:c`. */
export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c[0]}:${c[1]}:${c[2]}`;
}

/** An extended community from 16 hex digits or 8 bytes; throws when it is neither. */
export function parseExtendedCommunity(e: string | Uint8Array): Uint8Array {
  if (typeof e === 'string') {
    if (!/^[0-9a-fA-F]{16}$/.test(e)) badField(`extended community "${e}": expected 16 hex digits`);
    return new Uint8Array(Buffer.from(e, 'hex'));
  }
  if (e.length !== 8) badField(`extended community: ${e.length} bytes, expected 8`);
  return e;
}
