/**
 * Test helper: writes TCP payloads into an Ethernet/IPv4 pcap, one segment per payload with
 * consistent sequence numbers, so tshark reassembles and dissects them like a captured session.
 * Addresses are documentation/lab addresses written into the file only; nothing is sent.
 */
import { writeFileSync } from 'node:fs';

/** One segment: payload and direction. */
export interface Segment {
  /** Flow key, e.g. `a` and `b` for the two directions of a connection; each flow has its own seq. */
  flow: { src: string; dst: string; sport: number; dport: number };
  payload: Buffer;
}

const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Writes `segments` (in order, one frame each) to the pcap file `path`. */
export function writePcap(path: string, segments: Segment[]): void {
  const parts: Buffer[] = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(262144, 16);
  g.writeUInt32LE(1, 20);
  parts.push(g);
  const seqs = new Map<string, number>();
  segments.forEach((s, i) => {
    const key = `${s.flow.src}:${s.flow.sport}>${s.flow.dst}:${s.flow.dport}`;
    const back = `${s.flow.dst}:${s.flow.dport}>${s.flow.src}:${s.flow.sport}`;
    const seq = seqs.get(key) ?? 1000;
    seqs.set(key, (seq + s.payload.length) >>> 0);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(s.flow.sport, 0);
    tcp.writeUInt16BE(s.flow.dport, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt32BE(seqs.get(back) ?? 1000, 8);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; // PSH, ACK
    tcp.writeUInt16BE(65535, 14);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + s.payload.length, 2);
    ip.writeUInt16BE(i + 1, 4);
    ip[8] = 64;
    ip[9] = 6;
    ip4(s.flow.src).copy(ip, 12);
    ip4(s.flow.dst).copy(ip, 16);
    ip.writeUInt16BE(checksum(ip), 10);
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, (20 + s.payload.length) >> 8, (20 + s.payload.length) & 255]), tcp, s.payload]);
    tcp.writeUInt16BE(checksum(pseudo), 16);
    const eth = Buffer.from('020000000001020000000002' + '0800', 'hex');
    const frame = Buffer.concat([eth, ip, tcp, s.payload]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  writeFileSync(path, Buffer.concat(parts));
}
