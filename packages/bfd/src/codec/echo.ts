/**
 * Pure codec of the BFD echo function (RFC 5880 §6.4, RFC 5881 §4): the echo payload (its
 * contents are a local matter; ours carries the session's discriminator and a sequence number)
 * and the complete Ethernet + IPv4 + UDP frame a node sends on a packet socket so that the peer
 * router's forwarding plane loops it back: source and destination IP = our own address, UDP 3785
 * both ways, TTL 255, destination MAC = the router's. The looped frame comes back with TTL 254.
 * No I/O.
 */
import { PORT_ECHO } from './constants.js';

/** Length of our echo payload. */
export const ECHO_PAYLOAD_LENGTH = 16;
/** Version byte of our echo payload. */
export const ECHO_VERSION = 1;
const ETH = 14;
const IP = 20;
const UDP = 8;
/** Length of a complete echo frame. */
export const ECHO_FRAME_LENGTH = ETH + IP + UDP + ECHO_PAYLOAD_LENGTH;

/** What our echo payload carries. */
export interface EchoPayload {
  /** Local discriminator of the session that sent it. */
  discriminator: number;
  /** Per-session sequence number (64-bit). */
  sequence: bigint;
}

/** Encodes our echo payload: version, length, 2 reserved bytes, discriminator, 64-bit sequence. */
export function encodeEchoPayload(p: EchoPayload, buf: Buffer = Buffer.alloc(ECHO_PAYLOAD_LENGTH), offset = 0): Buffer {
  buf[offset] = ECHO_VERSION;
  buf[offset + 1] = ECHO_PAYLOAD_LENGTH;
  buf.writeUInt16BE(0, offset + 2);
  buf.writeUInt32BE(p.discriminator >>> 0, offset + 4);
  buf.writeBigUInt64BE(BigInt.asUintN(64, p.sequence), offset + 8);
  return buf;
}

/** Decodes our echo payload; undefined for anything else (another system's echo format). */
export function decodeEchoPayload(b: Uint8Array): EchoPayload | undefined {
  if (b.length < ECHO_PAYLOAD_LENGTH || b[0] !== ECHO_VERSION || b[1] !== ECHO_PAYLOAD_LENGTH) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const discriminator = v.getUint32(4);
  if (discriminator === 0) return undefined;
  return { discriminator, sequence: v.getBigUint64(8) };
}

/** One's-complement sum of 16-bit words (RFC 1071), folded. */
function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  for (let i = start; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) s += b[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Parses a dotted IPv4 address into 4 bytes; throws naming the value. */
export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) throw new Error(`BFD echo: ${JSON.stringify(ip)} is not an IPv4 address`);
  return Buffer.from(parts.map(Number));
}

/** What {@link buildEchoFrame} needs. */
export interface EchoFrameSpec {
  /** Our interface's MAC (6 bytes). */
  srcMac: Uint8Array;
  /** The router's MAC (6 bytes). */
  dstMac: Uint8Array;
  /** Our IPv4 address: source and destination of the echo packet. */
  ip: string;
  payload: Uint8Array;
  /** TTL (default 255). */
  ttl?: number;
}

/** Builds a complete echo frame (IPv4 header and UDP checksums computed). */
export function buildEchoFrame(s: EchoFrameSpec): Buffer {
  if (s.srcMac.length !== 6 || s.dstMac.length !== 6) throw new Error('BFD echo: MAC addresses must be 6 bytes');
  const ip = ipv4Bytes(s.ip);
  const udpLen = UDP + s.payload.length;
  const f = Buffer.alloc(ETH + IP + udpLen);
  f.set(s.dstMac, 0);
  f.set(s.srcMac, 6);
  f.writeUInt16BE(0x0800, 12);
  const h = ETH;
  f[h] = 0x45;
  f[h + 1] = 0xc0; // DSCP CS6 (network control), as for control packets
  f.writeUInt16BE(IP + udpLen, h + 2);
  f.writeUInt16BE(0x4000, h + 6); // DF, no fragments
  f[h + 8] = s.ttl ?? 255;
  f[h + 9] = 17;
  ip.copy(f, h + 12);
  ip.copy(f, h + 16);
  f.writeUInt16BE(~sum16(f, h, h + IP) & 0xffff, h + 10);
  const u = h + IP;
  f.writeUInt16BE(PORT_ECHO, u);
  f.writeUInt16BE(PORT_ECHO, u + 2);
  f.writeUInt16BE(udpLen, u + 4);
  f.set(s.payload, u + UDP);
  // pseudo-header: source, destination, protocol, UDP length
  let acc = sum16(f, h + 12, h + 20);
  acc += 17 + udpLen;
  const c = ~sum16(f, u, u + udpLen, acc) & 0xffff;
  f.writeUInt16BE(c === 0 ? 0xffff : c, u + 6);
  return f;
}

/** An IPv4/UDP frame as {@link parseEchoFrame} reads it. */
export interface ParsedEchoFrame {
  srcIp: string;
  dstIp: string;
  ttl: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/**
 * Reads an Ethernet frame carrying IPv4 + UDP to port 3785; undefined when it is anything else or
 * truncated (never throws: packet sockets see whatever the wire carries).
 */
export function parseEchoFrame(f: Buffer): ParsedEchoFrame | undefined {
  if (f.length < ETH + IP + UDP || f.readUInt16BE(12) !== 0x0800) return undefined;
  const h = ETH;
  if (f[h]! >> 4 !== 4) return undefined;
  const ihl = (f[h]! & 0x0f) * 4;
  if (ihl < IP || f[h + 9] !== 17) return undefined;
  const total = f.readUInt16BE(h + 2);
  if (total < ihl + UDP || h + total > f.length) return undefined;
  if ((f.readUInt16BE(h + 6) & 0x3fff) !== 0) return undefined; // fragments
  const u = h + ihl;
  const dstPort = f.readUInt16BE(u + 2);
  if (dstPort !== PORT_ECHO) return undefined;
  const udpLen = f.readUInt16BE(u + 4);
  if (udpLen < UDP || u + udpLen > h + total) return undefined;
  const ip = (o: number) => `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
  return { srcIp: ip(h + 12), dstIp: ip(h + 16), ttl: f[h + 8]!, srcPort: f.readUInt16BE(u), dstPort, payload: f.subarray(u + UDP, u + udpLen) };
}
