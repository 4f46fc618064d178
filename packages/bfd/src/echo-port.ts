/**
 * I/O of the echo function (RFC 5880 §6.4): one AF_PACKET socket per interface, through
 * `@lbkit/afpacket` (an optional peer dependency, loaded only when a session enables echo), that
 * sends our echo frames to the router's MAC and reads them back after the router's forwarding
 * plane looped them. Reading the looped frames from the packet socket (with TTL 254 required) means
 * the node needs no `accept_local`: the kernel itself drops them afterwards as martians (source =
 * a local address). The router's own echo packets are looped by this node's kernel when
 * `net.ipv4.ip_forward` is 1 (set `send_redirects` to 0 on that interface).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { decodeEchoPayload, parseEchoFrame, type EchoPayload } from './codec/echo.js';

/** The part of `@lbkit/afpacket`'s PacketSocket used here. */
interface RawSocket {
  send(frame: Buffer): void;
  on(ev: 'frame', cb: (frame: Buffer, pkttype: number) => void): unknown;
  on(ev: 'error', cb: (err: Error) => void): unknown;
  close(): void;
}
interface AfPacket {
  PacketSocket: { open(o: { ifname: string; protocol: number; filter?: ReadonlyArray<{ code: number; jt: number; jf: number; k: number }> }): RawSocket };
}

const ETH_P_IP = 0x0800;
const PACKET_HOST = 0;

/** Classic BPF: IPv4 (the socket's protocol), UDP, not a fragment, destination port 3785. */
export const ECHO_FILTER = [
  { code: 0x30, jt: 0, jf: 0, k: 23 }, // ldb [23]            IP protocol
  { code: 0x15, jt: 0, jf: 6, k: 17 }, // jeq #17             UDP, else drop
  { code: 0x28, jt: 0, jf: 0, k: 20 }, // ldh [20]            flags + fragment offset
  { code: 0x45, jt: 4, jf: 0, k: 0x3fff }, // jset #0x3fff    MF or an offset: a fragment, drop
  { code: 0xb1, jt: 0, jf: 0, k: 14 }, // ldxb 4*([14]&0xf)   IP header length
  { code: 0x48, jt: 0, jf: 0, k: 16 }, // ldh [x+16]          UDP destination port
  { code: 0x15, jt: 0, jf: 1, k: 3785 }, // jeq #3785
  { code: 0x06, jt: 0, jf: 0, k: 0xffff }, // accept
  { code: 0x06, jt: 0, jf: 0, k: 0 }, // drop
] as const;

let afpacket: Promise<AfPacket> | undefined;
function loadAfPacket(): Promise<AfPacket> {
  const spec = '@lbkit/afpacket';
  afpacket ??= (import(spec) as Promise<AfPacket>).catch((e: unknown) => {
    afpacket = undefined;
    throw new Error(`BFD echo needs the optional package @lbkit/afpacket (AF_PACKET sockets, CAP_NET_RAW): ${(e as Error).message}`);
  });
  return afpacket;
}

/** Where a session's echo packets go out: interface, its MAC and our address on it. */
export interface EchoRoute {
  ifname: string;
  /** Our IPv4 address (source and destination of our echo packets). */
  ip: string;
  mac: Buffer;
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

function v4Number(ip: string): number {
  return ip.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);
}

/**
 * The interface and address for a single-hop IPv4 session: the interface holding `local`, or the
 * one whose subnet contains `peer`. Undefined when none does (then echo cannot run).
 */
export function echoRoute(peer: string, local?: string): EchoRoute | undefined {
  if (!net.isIPv4(peer)) return undefined;
  for (const [ifname, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const mask = v4Number(a.netmask);
      const hit = local ? a.address === local : (v4Number(a.address) & mask) === (v4Number(peer) & mask);
      if (hit) return { ifname, ip: a.address, mac: macBytes(a.mac) };
    }
  }
  return undefined;
}

/** The peer's MAC from the kernel's neighbour table (/proc/net/arp, complete entries only). */
export function neighbourMac(ip: string, ifname: string, arpTable?: string): Buffer | undefined {
  let text = arpTable;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/arp', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // IP address, HW type, Flags, HW address, Mask, Device
    if (f.length >= 6 && f[0] === ip && f[5] === ifname && (parseInt(f[2]!, 16) & 0x2) !== 0 && f[3] !== '00:00:00:00:00:00') return macBytes(f[3]!);
  }
  return undefined;
}

/** A looped echo packet of ours, as received. */
export interface EchoArrival {
  payload: EchoPayload;
  /** Source (= destination) IPv4 address. */
  ip: string;
  ttl: number;
}

/** One packet socket sending and receiving echo frames on one interface. */
export class EchoPort {
  private constructor(
    readonly ifname: string,
    private readonly sock: RawSocket,
  ) {}

  /** Opens the packet socket on `ifname`; `onEcho` gets our looped echo packets (TTL 254, source = destination). */
  static async open(ifname: string, onEcho: (a: EchoArrival) => void, onError: (e: Error) => void): Promise<EchoPort> {
    const { PacketSocket } = await loadAfPacket();
    const sock = PacketSocket.open({ ifname, protocol: ETH_P_IP, filter: ECHO_FILTER });
    sock.on('error', onError);
    sock.on('frame', (frame, pkttype) => {
      if (pkttype !== PACKET_HOST) return; // our own outgoing copies, and others' traffic
      const p = parseEchoFrame(frame);
      if (!p || p.srcIp !== p.dstIp || p.ttl !== 254) return; // the router's echo packets (we only forward them), or not looped once
      const payload = decodeEchoPayload(p.payload);
      if (payload) onEcho({ payload, ip: p.srcIp, ttl: p.ttl });
    });
    return new EchoPort(ifname, sock);
  }

  /** Sends one complete frame. */
  send(frame: Buffer): void {
    this.sock.send(frame);
  }

  close(): void {
    this.sock.close();
  }
}
