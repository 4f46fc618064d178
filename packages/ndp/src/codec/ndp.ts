/**
 * Ethernet + IPv6 + ICMPv6 Neighbor Solicitation / Advertisement codec (RFC 4861 §4.3, §4.4) with
 * the receive-side validation of §7.1.1 / §7.1.2. Pure: no I/O.
 */
import { formatIPv6, formatMac, isMulticastIPv6, isUnspecifiedIPv6, parseIPv6, parseMac, solicitedNodeBytes } from './addr.js';
import { icmpv6Checksum } from './checksum.js';

/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** ICMPv6 type of a Neighbor Solicitation. */
export const ICMPV6_NS = 135;
/** ICMPv6 type of a Neighbor Advertisement. */
export const ICMPV6_NA = 136;
/** NDP option: source link-layer address. */
export const OPT_SLLA = 1;
/** NDP option: target link-layer address. */
export const OPT_TLLA = 2;

const ETH = 14;
const IP6 = 40;
const ICMP_FIXED = 24;

/** A decoded or to-be-encoded NS/NA frame. Addresses are canonical strings. */
export interface NdpMessage {
  /** `ns` (135) or `na` (136). */
  type: 'ns' | 'na';
  /** Ethernet destination MAC. */
  ethDst: string;
  /** Ethernet source MAC. */
  ethSrc: string;
  /** IPv6 source address. */
  src: string;
  /** IPv6 destination address. */
  dst: string;
  /** IPv6 hop limit (must be 255 on receive; encoders default to 255). */
  hopLimit?: number;
  /** Target address of the NS/NA. */
  target: string;
  /** NA flags (ignored for NS). */
  router?: boolean;
  /** NA Solicited flag. */
  solicited?: boolean;
  /** NA Override flag. */
  override?: boolean;
  /** Source link-layer address option (NS). */
  sourceLinkLayer?: string;
  /** Target link-layer address option (NA). */
  targetLinkLayer?: string;
}

/** Why a frame was rejected: `field` names the packet field. */
export class NdpDecodeError extends Error {
  /**
   * @param field packet field at fault, e.g. `ipv6.hopLimit`
   * @param message human-readable reason
   */
  constructor(readonly field: string, message: string) {
    super(`NDP frame ${field}: ${message}`);
    this.name = 'NdpDecodeError';
  }
}

/** Number of bytes `encode(msg)` will produce. */
export function encodingLength(msg: NdpMessage): number {
  const ll = msg.type === 'ns' ? msg.sourceLinkLayer : msg.targetLinkLayer;
  return ETH + IP6 + ICMP_FIXED + (ll ? 8 : 0);
}

/** Encodes an NS or NA into a complete Ethernet frame with a correct ICMPv6 checksum. */
export function encode(msg: NdpMessage): Buffer {
  const len = encodingLength(msg);
  const buf = Buffer.alloc(len);
  parseMac(msg.ethDst, 'ethDst').copy(buf, 0);
  parseMac(msg.ethSrc, 'ethSrc').copy(buf, 6);
  buf.writeUInt16BE(ETHERTYPE_IPV6, 12);
  buf.writeUInt32BE(0x60000000, ETH);
  const icmpLen = len - ETH - IP6;
  buf.writeUInt16BE(icmpLen, ETH + 4);
  buf[ETH + 6] = 58;
  buf[ETH + 7] = msg.hopLimit ?? 255;
  const src = parseIPv6(msg.src, 'src');
  const dst = parseIPv6(msg.dst, 'dst');
  src.copy(buf, ETH + 8);
  dst.copy(buf, ETH + 24);
  const o = ETH + IP6;
  buf[o] = msg.type === 'ns' ? ICMPV6_NS : ICMPV6_NA;
  buf[o + 1] = 0;
  if (msg.type === 'na') {
    buf[o + 4] = (msg.router ? 0x80 : 0) | (msg.solicited ? 0x40 : 0) | (msg.override ? 0x20 : 0);
  }
  parseIPv6(msg.target, 'target').copy(buf, o + 8);
  const ll = msg.type === 'ns' ? msg.sourceLinkLayer : msg.targetLinkLayer;
  if (ll) {
    buf[o + 24] = msg.type === 'ns' ? OPT_SLLA : OPT_TLLA;
    buf[o + 25] = 1;
    parseMac(ll, msg.type === 'ns' ? 'sourceLinkLayer' : 'targetLinkLayer').copy(buf, o + 26);
  }
  buf.writeUInt16BE(icmpv6Checksum(src, dst, buf.subarray(o)), o + 2);
  return buf;
}

/**
 * Decodes and validates an Ethernet frame carrying an NS or NA. Throws {@link NdpDecodeError}
 * for anything that is not a valid NS/NA (wrong EtherType, extension headers, bad checksum, hop
 * limit != 255, code != 0, short ICMP, multicast target, zero-length option, DAD rules, …).
 */
export function decode(frame: Uint8Array): NdpMessage {
  const b = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < ETH + IP6) throw new NdpDecodeError('frame', `too short (${b.length} bytes)`);
  const etherType = b.readUInt16BE(12);
  if (etherType !== ETHERTYPE_IPV6) throw new NdpDecodeError('eth.type', `0x${etherType.toString(16)} is not IPv6`);
  if (b[ETH]! >> 4 !== 6) throw new NdpDecodeError('ipv6.version', `${b[ETH]! >> 4} is not 6`);
  const payloadLen = b.readUInt16BE(ETH + 4);
  if (b[ETH + 6] !== 58) throw new NdpDecodeError('ipv6.nextHeader', `${b[ETH + 6]} is not ICMPv6 (58); extension headers are not supported`);
  if (ETH + IP6 + payloadLen > b.length) throw new NdpDecodeError('ipv6.payloadLength', `${payloadLen} exceeds the frame`);
  const hopLimit = b[ETH + 7]!;
  const srcB = b.subarray(ETH + 8, ETH + 24);
  const dstB = b.subarray(ETH + 24, ETH + 40);
  const icmp = b.subarray(ETH + IP6, ETH + IP6 + payloadLen);
  if (icmp.length < 4) throw new NdpDecodeError('icmpv6', `message too short (${icmp.length} bytes)`);
  const type = icmp[0]!;
  if (type !== ICMPV6_NS && type !== ICMPV6_NA) throw new NdpDecodeError('icmpv6.type', `${type} is not NS (135) or NA (136)`);
  if (hopLimit !== 255) throw new NdpDecodeError('ipv6.hopLimit', `${hopLimit} is not 255`);
  if (icmp[1] !== 0) throw new NdpDecodeError('icmpv6.code', `${icmp[1]} is not 0`);
  if (icmp.length < ICMP_FIXED) throw new NdpDecodeError('icmpv6.length', `${icmp.length} is shorter than 24`);
  const sum = icmpv6Checksum(srcB, dstB, icmp, 2);
  if (sum !== icmp.readUInt16BE(2)) {
    throw new NdpDecodeError('icmpv6.checksum', `0x${icmp.readUInt16BE(2).toString(16)} should be 0x${sum.toString(16)}`);
  }
  const targetB = icmp.subarray(8, 24);
  if (isMulticastIPv6(targetB)) throw new NdpDecodeError('icmpv6.target', `${formatIPv6(targetB)} is multicast`);
  const msg: NdpMessage = {
    type: type === ICMPV6_NS ? 'ns' : 'na',
    ethDst: formatMac(b.subarray(0, 6)),
    ethSrc: formatMac(b.subarray(6, 12)),
    src: formatIPv6(srcB),
    dst: formatIPv6(dstB),
    hopLimit,
    target: formatIPv6(targetB),
  };
  for (let p = ICMP_FIXED; p < icmp.length; ) {
    if (p + 2 > icmp.length) throw new NdpDecodeError('icmpv6.option', `truncated option header at offset ${p}`);
    const oType = icmp[p]!;
    const oLen = icmp[p + 1]! * 8;
    if (oLen === 0) throw new NdpDecodeError('icmpv6.option.length', `option type ${oType} has length 0`);
    if (p + oLen > icmp.length) throw new NdpDecodeError('icmpv6.option.length', `option type ${oType} overruns the message`);
    if ((oType === OPT_SLLA || oType === OPT_TLLA) && oLen >= 8) {
      const mac = formatMac(icmp.subarray(p + 2, p + 8));
      if (oType === OPT_SLLA) msg.sourceLinkLayer = mac;
      else msg.targetLinkLayer = mac;
    }
    p += oLen; // unknown options are skipped (RFC 4861 §4.6)
  }
  if (msg.type === 'ns') {
    if (isUnspecifiedIPv6(srcB)) {
      if (msg.sourceLinkLayer) throw new NdpDecodeError('icmpv6.option.slla', 'DAD NS (source ::) must not carry a source link-layer address');
      if (!solicitedNodeBytes(targetB).equals(dstB)) {
        throw new NdpDecodeError('ipv6.dst', `DAD NS must go to the solicited-node group of the target, not ${msg.dst}`);
      }
    }
  } else {
    const f = icmp[4]!;
    msg.router = (f & 0x80) !== 0;
    msg.solicited = (f & 0x40) !== 0;
    msg.override = (f & 0x20) !== 0;
    if (msg.solicited && isMulticastIPv6(dstB)) throw new NdpDecodeError('icmpv6.flags', 'solicited NA sent to a multicast address');
  }
  return msg;
}

/** Like {@link decode} but returns the error instead of throwing. */
export function tryDecode(frame: Uint8Array): { ok: true; msg: NdpMessage } | { ok: false; error: NdpDecodeError } {
  try {
    return { ok: true, msg: decode(frame) };
  } catch (e) {
    return { ok: false, error: e instanceof NdpDecodeError ? e : new NdpDecodeError('frame', String((e as Error)?.message ?? e)) };
  }
}
