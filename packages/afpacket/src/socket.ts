import { EventEmitter } from 'eventemitter3';
import { assemble, type BpfInstruction } from './bpf.js';
import { parseMac } from './mac.js';
import { loadAddon, type NativeSocket } from './native.js';

/** Packet type of a received frame (`sll_pkttype`). */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;

/** Options of {@link PacketSocket.open}. */
export interface PacketSocketOptions {
  /** Interface name, e.g. `eth0`. */
  ifname: string;
  /** EtherType to bind to (host order, e.g. 0x0806); `ETH_P_ALL` (3) for everything. */
  protocol: number;
  /** Classic BPF program attached before bind (instructions or an assembled Buffer). */
  filter?: readonly BpfInstruction[] | Buffer;
  /** Do not keep the event loop alive for this socket. */
  unref?: boolean;
}

/** Events of {@link PacketSocket}. */
export interface PacketSocketEvents {
  /** A received frame (a private copy) and its `sll_pkttype` (see {@link PacketType}). */
  frame: (frame: Buffer, pkttype: number) => void;
  /** A receive error; the socket stays open. */
  error: (err: Error) => void;
  /** Emitted once by {@link PacketSocket.close}. */
  close: () => void;
}

/** The minimal transport that protocol code needs; {@link PacketSocket} implements it, tests use fakes. */
export interface L2Transport {
  send(frame: Buffer): void;
  on(event: 'frame', fn: (frame: Buffer, pkttype: number) => void): unknown;
  off(event: 'frame', fn: (frame: Buffer, pkttype: number) => void): unknown;
}

/**
 * A Linux `AF_PACKET`/`SOCK_RAW` socket bound to one interface and EtherType, with an optional
 * classic BPF filter attached before bind (so no unfiltered frame is ever queued). Reads are
 * non-blocking and driven by libuv; every readable event drains all queued frames.
 * Requires CAP_NET_RAW. Main thread only.
 */
export class PacketSocket extends EventEmitter<PacketSocketEvents> implements L2Transport {
  private native: NativeSocket | undefined;

  private constructor(readonly ifname: string, readonly protocol: number) {
    super();
  }

  /** Opens a socket; throws an Error naming the failing syscall (e.g. `bind(AF_PACKET): ...`). */
  static open(opts: PacketSocketOptions): PacketSocket {
    const { ifname, protocol } = opts;
    if (typeof ifname !== 'string' || ifname.length === 0 || ifname.length > 15) {
      throw new TypeError(`PacketSocket.open: invalid ifname "${String(ifname)}"`);
    }
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 0xffff) {
      throw new RangeError(`PacketSocket.open: protocol ${protocol} is not a uint16`);
    }
    const filter = opts.filter === undefined ? null : Buffer.isBuffer(opts.filter) ? opts.filter : assemble(opts.filter);
    const { Socket } = loadAddon();
    const s = new PacketSocket(ifname, protocol);
    s.native = new Socket(
      ifname,
      protocol,
      filter,
      (frame, pkttype) => {
        try {
          s.emit('frame', frame, pkttype);
        } catch (err) {
          s.emitError(err);
        }
      },
      (message) => s.emitError(new Error(`PacketSocket(${ifname}): ${message}`)),
    );
    if (opts.unref) s.native.unref();
    return s;
  }

  private emitError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** True until {@link close} is called. */
  get isOpen(): boolean {
    return this.native !== undefined;
  }

  /** Sends one complete Ethernet frame (destination MAC taken from bytes 0..5). */
  send(frame: Buffer): void {
    if (!this.native) throw new Error(`PacketSocket(${this.ifname}).send: socket is closed`);
    this.native.send(frame);
  }

  /** Joins a link-layer multicast group (`PACKET_ADD_MEMBERSHIP`, e.g. `33:33:ff:00:01:00`). */
  addMembership(mac: string): void {
    if (!this.native) throw new Error(`PacketSocket(${this.ifname}).addMembership: socket is closed`);
    this.native.membership(parseMac(mac), true);
  }

  /** Leaves a link-layer multicast group (`PACKET_DROP_MEMBERSHIP`). */
  dropMembership(mac: string): void {
    if (!this.native) throw new Error(`PacketSocket(${this.ifname}).dropMembership: socket is closed`);
    this.native.membership(parseMac(mac), false);
  }

  /** Lets the process exit while the socket is open. */
  unref(): this {
    this.native?.unref();
    return this;
  }

  /** Keeps the process alive while the socket is open (default). */
  ref(): this {
    this.native?.ref();
    return this;
  }

  /** Stops polling and closes the fd; idempotent. */
  close(): void {
    if (!this.native) return;
    this.native.close();
    this.native = undefined;
    this.emit('close');
  }
}

/**
 * True for a send error explained by the interface's state rather than by the frame: `ENETDOWN`
 * (link down), `ENXIO`/`ENODEV` (interface deleted). Speakers poll their watcher on such an error
 * and report it only if the interface still looks usable.
 */
export function isLinkStateError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /\(errno (100|6|19)\)|Network is down|No such device/.test(m);
}
