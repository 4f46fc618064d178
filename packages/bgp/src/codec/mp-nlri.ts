/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI values (RFC 4760 §3–4) for IPv4/IPv6 unicast and multicast:
 * AFI, SAFI, next hop (4 bytes, 16, or 32 = global + link-local per RFC 2545; IPv6 next hops for
 * IPv4 NLRI per RFC 8950), a reserved byte, then prefixes. Errors are session resets (RFC 7606
 * §7.11, RFC 4760 §7): NOTIFICATION 3/9 with the attribute as data.
 */
import { AFI } from './constants.js';
import { badField, fail } from './errors.js';
import { bytesToIp, ipBytes } from './ip.js';
import * as prefix from './prefix.js';

/** MP_REACH_NLRI. */
export interface MpReach {
  type: 'mp-reach';
  /** Address family identifier (1 IPv4, 2 IPv6). */
  afi: number;
  /** Subsequent address family identifier (1 unicast, 2 multicast). */
  safi: number;
  /** Next hop (IPv4, or IPv6 global). */
  nextHop: string;
  /** RFC 2545 link-local next hop (32-byte next-hop field). */
  linkLocalNextHop?: string;
  /** Announced prefixes. */
  nlri: string[];
}

/** MP_UNREACH_NLRI (with no prefixes it is the End-of-RIB marker of its family). */
export interface MpUnreach {
  type: 'mp-unreach';
  /** Address family identifier (1 IPv4, 2 IPv6). */
  afi: number;
  /** Subsequent address family identifier (1 unicast, 2 multicast). */
  safi: number;
  /** Withdrawn prefixes. */
  withdrawn: string[];
}

/** Whether the codec decodes the prefixes of this family (IPv4/IPv6 unicast or multicast). */
export function supportedFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

function nextHopBytes(a: MpReach): Buffer {
  const g = ipBytes(a.nextHop);
  if (a.afi === AFI.IPV6 && g.length !== 16) badField(`mp-reach.nextHop: "${a.nextHop}" must be IPv6 for AFI 2`);
  if (a.linkLocalNextHop === undefined) return g;
  const l = ipBytes(a.linkLocalNextHop);
  if (g.length !== 16 || l.length !== 16) badField('mp-reach.linkLocalNextHop: needs IPv6 next hops');
  return Buffer.concat([g, l]);
}

function listLength(ps: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < ps.length; i++) n += prefix.encodingLength(ps[i]!);
  return n;
}

/** Value length of an MP_REACH_NLRI. */
export function reachLength(a: MpReach): number {
  return 4 + nextHopBytes(a).length + 1 + listLength(a.nlri);
}

/** Value length of an MP_UNREACH_NLRI. */
export function unreachLength(a: MpUnreach): number {
  return 3 + listLength(a.withdrawn);
}

function family(a: MpReach | MpUnreach, b: Buffer, p: number): void {
  if (!supportedFamily(a.afi, a.safi)) badField(`${a.type}: AFI/SAFI ${a.afi}/${a.safi} is not supported (use an unknown attribute)`);
  b.writeUInt16BE(a.afi, p);
  b[p + 2] = a.safi;
}

/** Writes an MP_REACH_NLRI value; returns the offset after it. */
export function encodeReach(a: MpReach, b: Buffer, offset: number): number {
  family(a, b, offset);
  const nh = nextHopBytes(a);
  b[offset + 3] = nh.length;
  nh.copy(b, offset + 4);
  let p = offset + 4 + nh.length;
  b[p++] = 0;
  for (let i = 0; i < a.nlri.length; i++) p = prefix.encode(a.nlri[i]!, b, p, a.afi);
  return p;
}

/** Writes an MP_UNREACH_NLRI value; returns the offset after it. */
export function encodeUnreach(a: MpUnreach, b: Buffer, offset: number): number {
  family(a, b, offset);
  let p = offset + 3;
  for (let i = 0; i < a.withdrawn.length; i++) p = prefix.encode(a.withdrawn[i]!, b, p, a.afi);
  return p;
}

/**
 * Decodes an MP_REACH_NLRI value in `b[start, end)`; `whole` is the attribute for the
 * NOTIFICATION data. Returns undefined for families the codec does not parse.
 */
export function decodeReach(b: Buffer, start: number, end: number, whole: Uint8Array): MpReach | undefined {
  const len = end - start;
  if (len < 5) fail(`MP_REACH_NLRI: length ${len} is shorter than 5`, 3, 9, whole);
  const afi = b.readUInt16BE(start);
  const safi = b[start + 2]!;
  const nhl = b[start + 3]!;
  if (!supportedFamily(afi, safi)) return undefined;
  if (start + 4 + nhl + 1 > end) fail(`MP_REACH_NLRI: next hop length ${nhl} overruns the attribute`, 3, 9, whole);
  const okLen = afi === AFI.IPV4 ? nhl === 4 || nhl === 16 || nhl === 32 : nhl === 16 || nhl === 32;
  if (!okLen) fail(`MP_REACH_NLRI: next hop length ${nhl} is invalid for AFI ${afi}`, 3, 9, whole);
  const a: MpReach = {
    type: 'mp-reach',
    afi,
    safi,
    nextHop: bytesToIp(b.subarray(start + 4, start + 4 + Math.min(nhl, 16))),
    nlri: [],
  };
  if (nhl === 32) a.linkLocalNextHop = bytesToIp(b.subarray(start + 20, start + 36));
  prefix.decodeList(b, start + 5 + nhl, end, afi, 'MP_REACH_NLRI', 3, 9, a.nlri);
  return a;
}

/** Decodes an MP_UNREACH_NLRI value; undefined for families the codec does not parse. */
export function decodeUnreach(b: Buffer, start: number, end: number, whole: Uint8Array): MpUnreach | undefined {
  if (end - start < 3) fail(`MP_UNREACH_NLRI: length ${end - start} is shorter than 3`, 3, 9, whole);
  const afi = b.readUInt16BE(start);
  const safi = b[start + 2]!;
  if (!supportedFamily(afi, safi)) return undefined;
  const a: MpUnreach = { type: 'mp-unreach', afi, safi, withdrawn: [] };
  prefix.decodeList(b, start + 3, end, afi, 'MP_UNREACH_NLRI', 3, 9, a.withdrawn);
  return a;
}
