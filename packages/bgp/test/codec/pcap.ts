/**
 * Test helper: reads a little-endian Ethernet pcap and returns the TCP payload of every flow,
 * reassembled in sequence order (retransmissions dropped). Only what the fixtures need.
 */
import { readFileSync } from 'node:fs';

/** One direction of a TCP connection and its reassembled bytes. */
export interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  bytes: Buffer;
}

/** Every TCP flow of the pcap at `path` with its payload reassembled. */
export function readFlows(path: string): Flow[] {
  const f = readFileSync(path);
  if (f.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian pcap`);
  if (f.readUInt32LE(20) !== 1) throw new Error(`${path}: link type is not Ethernet`);
  const flows = new Map<string, Flow & { next?: number }>();
  for (let p = 24; p + 16 <= f.length; ) {
    const incl = f.readUInt32LE(p + 8);
    const pkt = f.subarray(p + 16, p + 16 + incl);
    p += 16 + incl;
    if (pkt.readUInt16BE(12) !== 0x0800) continue;
    const ip = pkt.subarray(14);
    const ihl = (ip[0]! & 15) * 4;
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
    const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const dst = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
    const sport = tcp.readUInt16BE(0);
    const dport = tcp.readUInt16BE(2);
    const seq = tcp.readUInt32BE(4);
    const data = tcp.subarray((tcp[12]! >> 4) * 4);
    const key = `${src}:${sport}>${dst}:${dport}`;
    let fl = flows.get(key);
    if (!fl) flows.set(key, (fl = { src, dst, sport, dport, bytes: Buffer.alloc(0) }));
    const syn = (tcp[13]! & 2) !== 0;
    if (syn) {
      fl.next = (seq + 1) >>> 0;
      continue;
    }
    if (!data.length || fl.next === undefined) continue;
    if (seq !== fl.next) continue; // retransmission or out of order: the fixtures have none we need
    fl.bytes = Buffer.concat([fl.bytes, data]);
    fl.next = (seq + data.length) >>> 0;
  }
  return [...flows.values()];
}

/** Splits a BGP byte stream into messages by the header length field (no validation). */
export function splitMessages(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p + 19 <= b.length; ) {
    const l = b.readUInt16BE(p + 16);
    if (l < 19 || p + l > b.length) break;
    out.push(b.subarray(p, p + l));
    p += l;
  }
  return out;
}

/** Bytes of an `od -Ax -tx1` dump (the lab's msg.hex / bad.hex). */
export function readHexDump(path: string): Buffer {
  const hex = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(1).join(''))
    .join('');
  return Buffer.from(hex, 'hex');
}
