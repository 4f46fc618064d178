/**
 * Session-layer UPDATE handling over the codec: turns {@link RouteAttributes} into codec path
 * attributes, packs announced host routes into as few UPDATEs as fit (one attribute set, many
 * prefixes), and turns decoded UPDATEs into {@link ReceivedUpdate} with RFC 7606 treat-as-withdraw
 * applied. The bytes are produced and parsed only by `../codec`.
 */
import { isIPv4 } from 'node:net';
import { asns } from '../codec/as-path.js';
import { attributeName, type PathAttribute } from '../codec/attributes.js';
import { formatLargeCommunity, parseCommunity, parseExtendedCommunity, parseLargeCommunity } from '../codec/communities.js';
import { HEADER_LENGTH, MAX_MESSAGE } from '../codec/constants.js';
import { bytesToIp, ipBytes } from '../codec/ip.js';
import * as prefix from '../codec/prefix.js';
import * as update from '../codec/update.js';

export { parseCommunity } from '../codec/communities.js';

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

/** Validates attributes early so announce() fails with a clear message instead of a bad UPDATE. */
export function checkAttributes(a: RouteAttributes): void {
  const field = (name: string, check: () => unknown) => {
    try {
      check();
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  };
  field('communities', () => (a.communities ?? []).forEach(parseCommunity));
  field('largeCommunities', () => (a.largeCommunities ?? []).forEach(parseLargeCommunity));
  field('extendedCommunities', () => (a.extendedCommunities ?? []).forEach(parseExtendedCommunity));
  if (a.nextHop !== undefined) field('nextHop', () => ipBytes(a.nextHop!));
  for (const [k, v] of [
    ['localPref', a.localPref],
    ['med', a.med],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new Error(`${k}: not a 32-bit value`);
  }
  if (a.asPathPrepend !== undefined && (!Number.isInteger(a.asPathPrepend) || a.asPathPrepend < 0 || a.asPathPrepend > 32)) {
    throw new Error('asPathPrepend: integer 0..32');
  }
  if (a.origin !== undefined && a.origin !== 0 && a.origin !== 1 && a.origin !== 2) throw new Error('origin: 0, 1 or 2');
}

/**
 * The path attributes of a route (everything but NEXT_HOP / MP_REACH), in type-code order. On a
 * 2-octet session a 4-octet local AS is sent as AS_TRANS plus AS4_PATH (RFC 6793).
 */
export function commonAttributes(a: RouteAttributes, ctx: EncodeContext): PathAttribute[] {
  const out: PathAttribute[] = [{ type: 'origin', value: a.origin ?? 0 }];
  const path4: PathAttribute[] = [];
  if (ctx.ibgp) out.push({ type: 'as-path', segments: [] });
  else {
    const segments = [{ type: 'sequence' as const, asns: new Array<number>(1 + (a.asPathPrepend ?? 0)).fill(ctx.localAsn >>> 0) }];
    out.push({ type: 'as-path', segments });
    if (!ctx.as4 && ctx.localAsn > 0xffff) path4.push({ type: 'as4-path', segments });
  }
  if (a.med !== undefined) out.push({ type: 'med', value: a.med });
  if (ctx.ibgp) out.push({ type: 'local-pref', value: a.localPref ?? 100 });
  if (a.communities?.length) {
    out.push({ type: 'communities', communities: [...new Set(a.communities.map(parseCommunity))].sort((x, y) => x - y) });
  }
  if (a.extendedCommunities?.length) out.push({ type: 'extended-communities', communities: a.extendedCommunities.map(parseExtendedCommunity) });
  out.push(...path4);
  if (a.largeCommunities?.length) out.push({ type: 'large-communities', communities: a.largeCommunities.map(parseLargeCommunity) });
  return out;
}

/** Normalizes `addr[/len]` to `canonical/len`. */
export const normalizePrefix = prefix.normalize;

/** True for IPv4 prefixes. */
export const isV4Prefix = prefix.isV4;

/**
 * Splits `prefixes` into runs whose NLRI fits `room` bytes; calls `emit(start, end)` per run. Only
 * prefix lengths are computed here: the prefixes are encoded once, by the codec.
 */
function pack(prefixes: string[], room: number, emit: (start: number, end: number) => void): void {
  let start = 0;
  let used = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const n = prefix.encodingLength(prefixes[i]!);
    if (used + n > room && i > start) {
      emit(start, i);
      start = i;
      used = 0;
    }
    used += n;
  }
  if (prefixes.length > start) emit(start, prefixes.length);
}

/** How announcements of one attribute set are laid out: the attributes around the NLRI and the NLRI room. */
interface AnnounceLayout {
  /** Classic NLRI (IPv4 with an IPv4 next hop) or MP_REACH_NLRI. */
  classic: boolean;
  /** Attributes of a classic UPDATE, or those following MP_REACH. */
  attributes: PathAttribute[];
  nextHop: string;
  afi: number;
  /** Bytes of NLRI one UPDATE holds. */
  room: number;
}

function layout(v4: boolean, a: RouteAttributes, ctx: EncodeContext, what: string): AnnounceLayout {
  const max = ctx.maxMessage ?? MAX_MESSAGE;
  const opts = { as4: ctx.as4, maxLength: max };
  const common = commonAttributes(a, ctx);
  const nh = a.nextHop ?? (v4 ? ctx.nextHop4 : ctx.nextHop6);
  if (!nh) throw new Error(`no next hop for ${what} (set attributes.nextHop or the peer's nextHop6)`);
  if (v4 && isIPv4(nh)) {
    const attributes: PathAttribute[] = [common[0]!, common[1]!, { type: 'next-hop', address: nh }, ...common.slice(2)];
    return { classic: true, attributes, nextHop: nh, afi: 1, room: max - HEADER_LENGTH - 4 - update.attributesLength(attributes, opts) };
  }
  // RFC 7606 §5.1: MP_REACH_NLRI first. Room: the MP attribute may need a 2-byte length.
  // MP_REACH: attribute header (2-byte length) 4, AFI 2, SAFI 1, next-hop length 1, next hop, reserved 1.
  const room = max - HEADER_LENGTH - 4 - update.attributesLength(common, opts) - (4 + 2 + 1 + 1 + ipBytes(nh).length + 1);
  return { classic: false, attributes: common, nextHop: nh, afi: v4 ? 1 : 2, room };
}

/** Bytes of NLRI that one UPDATE announcing routes of this family with these attributes holds. */
export function announceRoom(v4: boolean, a: RouteAttributes, ctx: EncodeContext): number {
  return layout(v4, a, ctx, v4 ? 'an IPv4 route' : 'an IPv6 route').room;
}

/** Bytes of withdrawn prefixes one UPDATE holds (classic withdrawn field for IPv4, MP_UNREACH for IPv6). */
export function withdrawRoom(v4: boolean, maxMessage = MAX_MESSAGE): number {
  return v4 ? maxMessage - HEADER_LENGTH - 4 : maxMessage - HEADER_LENGTH - 4 - (4 + 2 + 1);
}

/** Encodes announcements of `prefixes` (one family, identical attributes) into as few UPDATEs as fit. */
export function encodeAnnounce(prefixes: string[], a: RouteAttributes, ctx: EncodeContext): Buffer[] {
  if (!prefixes.length) return [];
  const opts = { as4: ctx.as4, maxLength: ctx.maxMessage ?? MAX_MESSAGE };
  const l = layout(isV4Prefix(prefixes[0]!), a, ctx, prefixes[0]!);
  const out: Buffer[] = [];
  pack(prefixes, l.room, (s, e) => {
    const nlri = prefixes.slice(s, e);
    if (l.classic) out.push(update.encode({ type: 'update', withdrawn: [], attributes: l.attributes, nlri }, undefined, 0, opts));
    else {
      const mp: PathAttribute = { type: 'mp-reach', afi: l.afi, safi: 1, nextHop: l.nextHop, nlri };
      out.push(update.encode({ type: 'update', withdrawn: [], attributes: [mp, ...l.attributes], nlri: [] }, undefined, 0, opts));
    }
  });
  return out;
}

/** Encodes withdrawals (one family) into as few UPDATEs as fit. */
export function encodeWithdraw(prefixes: string[], maxMessage = MAX_MESSAGE): Buffer[] {
  if (!prefixes.length) return [];
  const out: Buffer[] = [];
  const opts = { maxLength: maxMessage };
  if (isV4Prefix(prefixes[0]!)) {
    pack(prefixes, withdrawRoom(true, maxMessage), (s, e) =>
      out.push(update.encode({ type: 'update', withdrawn: prefixes.slice(s, e), attributes: [], nlri: [] }, undefined, 0, opts)),
    );
    return out;
  }
  pack(prefixes, withdrawRoom(false, maxMessage), (s, e) =>
    out.push(
      update.encode({ type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: prefixes.slice(s, e) }], nlri: [] }, undefined, 0, opts),
    ),
  );
  return out;
}

/** End-of-RIB marker for `afi/safi` (RFC 4724). */
export function encodeEndOfRib(family: string): Buffer {
  const [afi, safi] = family.split('/').map(Number) as [number, number];
  return update.encode(update.endOfRib(afi, safi));
}

/** One text form per address (IPv4-mapped IPv6 unmapped, IPv6 canonical). */
function canonicalIp(a: string): string {
  const u = a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
  try {
    return bytesToIp(ipBytes(u));
  } catch {
    return u;
  }
}

/** A route received from a peer. */
export interface ReceivedRoute {
  prefix: string;
  nextHop?: string;
  /** Every AS of the path in order (RFC 6793 reconstruction applied on 2-octet sessions). */
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
  /** RFC 7606: a malformed attribute turned the announcements into withdrawals (the reason). */
  treatAsWithdraw?: string;
  /** End-of-RIB for this family. */
  endOfRib?: string;
  /**
   * Routes ignored because their next hop is one of our own addresses (RFC 4271 §6.3: semantically
   * incorrect NEXT_HOP, logged and ignored, no NOTIFICATION). They are also listed in `withdrawn`, since
   * they replace any earlier path of the prefix.
   */
  ignored?: { prefix: string; reason: string }[];
}

/** Session facts the decoding of received UPDATEs depends on. */
export interface DecodeUpdateContext {
  /** The peer is internal (`true`) or external (`false`: LOCAL_PREF is discarded, RFC 7606 §7.5). */
  ibgp?: boolean;
  /** Our own addresses on this session (local TCP address, configured next hops): such next hops are ignored. */
  ownAddresses?: readonly string[];
}

/**
 * Decodes an UPDATE body. Throws a WireError only for the session resets (3/1, 3/2, 3/4 and 3/9 on
 * MP attributes, 3/10); malformed attributes make the update treat-as-withdraw (RFC 7606).
 */
export function decodeUpdate(body: Buffer, as4: boolean, ctx: DecodeUpdateContext = {}): ReceivedUpdate {
  const m = update.decodeBody(body, ctx.ibgp === undefined ? { as4 } : { as4, ibgp: ctx.ibgp });
  const u: ReceivedUpdate = { announced: [], withdrawn: m.withdrawn };
  const eor = update.endOfRibFamily(m);
  if (eor) {
    u.endOfRib = `${eor.afi}/${eor.safi}`;
    return u;
  }
  const base: Omit<ReceivedRoute, 'prefix'> = { asPath: asns(update.asPathOf(m)), communities: [], largeCommunities: [] };
  const reach: { nextHop: string; nlri: string[] }[] = [];
  for (const a of m.attributes) {
    switch (a.type) {
      case 'next-hop':
        base.nextHop = a.address;
        break;
      case 'med':
        base.med = a.value;
        break;
      case 'local-pref':
        base.localPref = a.value;
        break;
      case 'communities':
        base.communities = a.communities;
        break;
      case 'large-communities':
        base.largeCommunities = a.communities.map(formatLargeCommunity);
        break;
      case 'mp-reach':
        reach.push({ nextHop: a.nextHop, nlri: a.nlri });
        break;
      case 'mp-unreach':
        u.withdrawn.push(...a.withdrawn);
        break;
      default:
        break;
    }
  }
  const routes: ReceivedRoute[] = m.nlri.map((p) => ({ ...base, prefix: p }));
  for (const r of reach) for (const p of r.nlri) routes.push({ ...base, prefix: p, nextHop: r.nextHop });
  if (m.treatAsWithdraw) {
    const e = m.errors!.find((x) => x.action === 'treat-as-withdraw')!;
    u.treatAsWithdraw = `malformed ${e.attribute ? attributeName(e.attribute) : 'path attributes'} attribute: ${e.reason}`;
    for (const r of routes) u.withdrawn.push(r.prefix);
  } else if (ctx.ownAddresses?.length) {
    const own = new Set(ctx.ownAddresses.map(canonicalIp));
    for (const r of routes) {
      if (r.nextHop !== undefined && own.has(canonicalIp(r.nextHop))) {
        (u.ignored ??= []).push({ prefix: r.prefix, reason: `next hop ${r.nextHop} is our own address (RFC 4271 §6.3)` });
        u.withdrawn.push(r.prefix);
      } else u.announced.push(r);
    }
  } else {
    u.announced = routes;
  }
  return u;
}
