/**
 * A stop-gap AF_PACKET {@link NdpTransport} built on libc through koffi (FFI), used until
 * `@lbkit/afpacket`'s native PacketSocket is available. Non-blocking socket drained by a short timer.
 */
import { createRequire } from 'node:module';
import { parseMac } from './codec/addr.js';
import type { NdpTransport } from './transport.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_IPV6 = 0x86dd;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_DROP_MEMBERSHIP = 2;
const PACKET_MR_MULTICAST = 0;
const MSG_DONTWAIT = 0x40;

interface Libc {
  socket: (d: number, t: number, p: number) => number;
  bind: (fd: number, a: Buffer, l: number) => number;
  setsockopt: (fd: number, lvl: number, opt: number, v: Buffer, l: number) => number;
  recv: (fd: number, b: Buffer, n: number, f: number) => number;
  sendto: (fd: number, b: Buffer, n: number, f: number, a: Buffer, l: number) => number;
  close: (fd: number) => number;
  if_nametoindex: (n: string) => number;
  /** errno of the last call */
  errno: () => number;
}
let libc: Libc | undefined;
/** libc through koffi, loaded on first use: importing `@lbkit/ndp` does not load the FFI (about 20 ms). */
function lib(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const l = koffi.load('libc.so.6');
  libc = {
    socket: l.func('int socket(int, int, int)'),
    bind: l.func('int bind(int, const void *, uint32_t)'),
    setsockopt: l.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    recv: l.func('long recv(int, _Out_ void *, size_t, int)'),
    sendto: l.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    close: l.func('int close(int)'),
    if_nametoindex: l.func('uint32_t if_nametoindex(const char *)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** Options of {@link KoffiPacketTransport.open}. */
export interface PacketTransportOptions {
  /** Interface name, e.g. `eth0`. */
  ifname: string;
  /** Receive poll period in ms (default 2). */
  pollMs?: number;
}

/** AF_PACKET socket bound to one interface for EtherType IPv6. Needs CAP_NET_RAW. */
export class KoffiPacketTransport implements NdpTransport {
  private handler: ((f: Buffer) => void) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly rx = Buffer.alloc(9216);
  private closed = false;

  private constructor(private readonly fd: number, readonly ifindex: number, pollMs: number) {
    this.timer = setInterval(() => this.drain(), pollMs);
  }

  /** Opens the socket on `ifname`; throws if the interface does not exist or the socket fails. */
  static open(opts: PacketTransportOptions): KoffiPacketTransport {
    const c = lib();
    const ifindex = c.if_nametoindex(opts.ifname);
    if (!ifindex) throw new Error(`KoffiPacketTransport: interface ${opts.ifname} not found`);
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`KoffiPacketTransport: socket() failed (errno ${c.errno()})`);
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(ETH_P_IPV6, 2);
    sll.writeInt32LE(ifindex, 4);
    if (c.bind(fd, sll, 20) < 0) {
      const e = c.errno();
      c.close(fd);
      throw new Error(`KoffiPacketTransport: bind(${opts.ifname}) failed (errno ${e})`);
    }
    return new KoffiPacketTransport(fd, ifindex, opts.pollMs ?? 2);
  }

  private drain(): void {
    if (this.closed) return;
    for (let i = 0; i < 256; i++) {
      const n = lib().recv(this.fd, this.rx, this.rx.length, MSG_DONTWAIT);
      if (n <= 0) return;
      const f = Buffer.from(this.rx.subarray(0, n));
      try {
        this.handler?.(f);
      } catch {
        /* handlers must not kill the poll loop */
      }
    }
  }

  /** @inheritDoc */
  onFrame(handler: (frame: Buffer) => void): void {
    this.handler = handler;
  }

  /** @inheritDoc */
  send(frame: Buffer): void {
    if (this.closed) throw new Error('KoffiPacketTransport: closed');
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(ETH_P_IPV6, 2);
    sll.writeInt32LE(this.ifindex, 4);
    sll[11] = 6;
    frame.copy(sll, 12, 0, 6);
    if (lib().sendto(this.fd, frame, frame.length, 0, sll, 20) < 0) {
      throw new Error(`KoffiPacketTransport: sendto failed (errno ${lib().errno()})`);
    }
  }

  private membership(op: number, mac: string): void {
    const mr = Buffer.alloc(16);
    mr.writeInt32LE(this.ifindex, 0);
    mr.writeUInt16LE(PACKET_MR_MULTICAST, 4);
    mr.writeUInt16LE(6, 6);
    parseMac(mac).copy(mr, 8);
    if (lib().setsockopt(this.fd, SOL_PACKET, op, mr, 16) < 0) {
      throw new Error(`KoffiPacketTransport: membership ${mac} failed (errno ${lib().errno()})`);
    }
  }

  /** @inheritDoc */
  addMembership(mac: string): void {
    this.membership(PACKET_ADD_MEMBERSHIP, mac);
  }

  /** @inheritDoc */
  dropMembership(mac: string): void {
    if (!this.closed) this.membership(PACKET_DROP_MEMBERSHIP, mac);
  }

  /** Closes the socket (memberships go with it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    lib().close(this.fd);
  }
}
