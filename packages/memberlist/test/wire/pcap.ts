/** Tiny pcap reader for tests: Ethernet / null / SLL link layers → IPv4 → UDP/TCP payloads. */
import { readFileSync } from 'node:fs';

export interface PcapPacket {
  proto: 'udp' | 'tcp';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Uint8Array;
  /** TCP flags byte (0 for UDP). */
  flags: number;
  seq: number;
}

export function readPcap(path: string): PcapPacket[] {
  const b = readFileSync(path);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20);
  const out: PcapPacket[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const incl = u32(off + 8);
    const data = b.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let ip: Buffer;
    if (link === 1) {
      if (data.readUInt16BE(12) !== 0x0800) continue;
      ip = data.subarray(14);
    } else if (link === 0) ip = data.subarray(4);
    else if (link === 113) ip = data.subarray(16);
    else if (link === 276) ip = data.subarray(20);
    else if (link === 101) ip = data;
    else throw new Error(`unsupported link type ${link}`);
    if (ip[0]! >> 4 !== 4) continue;
    const ihl = (ip[0]! & 15) * 4;
    const total = ip.readUInt16BE(2);
    const proto = ip[9];
    const src = Array.from(ip.subarray(12, 16)).join('.');
    const dst = Array.from(ip.subarray(16, 20)).join('.');
    const l4 = ip.subarray(ihl, total);
    if (proto === 17) {
      out.push({ proto: 'udp', src, dst, sport: l4.readUInt16BE(0), dport: l4.readUInt16BE(2), payload: new Uint8Array(l4.subarray(8)), flags: 0, seq: 0 });
    } else if (proto === 6) {
      const doff = (l4[12]! >> 4) * 4;
      out.push({
        proto: 'tcp', src, dst, sport: l4.readUInt16BE(0), dport: l4.readUInt16BE(2), payload: new Uint8Array(l4.subarray(doff)),
        flags: l4[13]!, seq: l4.readUInt32BE(4),
      });
    }
  }
  return out;
}

/** Concatenates TCP payloads per direction of each connection (loopback: no loss/reordering expected). */
export function tcpFlows(pkts: PcapPacket[]): Map<string, Uint8Array> {
  const flows = new Map<string, { seqs: Set<number>; chunks: Uint8Array[] }>();
  for (const p of pkts) {
    if (p.proto !== 'tcp' || p.payload.length === 0) continue;
    const k = `${p.src}:${p.sport}>${p.dst}:${p.dport}`;
    let f = flows.get(k);
    if (!f) flows.set(k, (f = { seqs: new Set(), chunks: [] }));
    if (f.seqs.has(p.seq)) continue; // retransmission
    f.seqs.add(p.seq);
    f.chunks.push(p.payload);
  }
  const out = new Map<string, Uint8Array>();
  for (const [k, f] of flows) out.set(k, new Uint8Array(Buffer.concat(f.chunks)));
  return out;
}
