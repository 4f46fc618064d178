/**
 * In-memory network for simulations: packets are delivered through a {@link VirtualClock} with
 * configurable loss, latency and partitions; push/pull is a reliable exchange that fails on a
 * partition or a closed endpoint (like a TCP connect timeout).
 */
import type { Message, PingMsg, PushPull } from '../engine/messages.js';
import { addrKey, type Address, type EngineTransport } from '../engine/transport.js';
import type { Clock } from '../clock.js';

/** Network conditions. */
export interface SimNetworkOptions {
  /** Probability in [0,1] that a packet is lost (each direction independently). */
  loss?: number;
  /** One-way latency range in ms. */
  latencyMin?: number;
  latencyMax?: number;
  /** Random source (use a seeded one for reproducible runs). */
  random?: () => number;
}

/** One simulated node's attachment to the {@link SimNetwork}. */
export interface Endpoint {
  /** Its address. */
  addr: Address;
  packet?: (from: Address, msgs: Message[]) => void;
  pushPull?: (from: Address, req: PushPull) => PushPull;
  closed: boolean;
  group: number;
}

/** Counters of a {@link SimNetwork}. */
export interface SimNetworkStats {
  sent: number;
  delivered: number;
  lost: number;
}

/** The simulated network; create one {@link SimTransport} per node with {@link SimNetwork.transport}. */
export class SimNetwork {
  /** Loss probability (may be changed during a run). */
  loss: number;
  /** One-way latency range (ms). */
  latencyMin: number;
  latencyMax: number;
  /** Counters. */
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, lost: 0 };
  private readonly random: () => number;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(readonly clock: Clock, opts: SimNetworkOptions = {}) {
    this.loss = opts.loss ?? 0;
    this.latencyMin = opts.latencyMin ?? 0.2;
    this.latencyMax = opts.latencyMax ?? 1;
    this.random = opts.random ?? Math.random;
  }

  /** Creates the transport of a node listening on `addr`. */
  transport(addr: Address): SimTransport {
    const ep: Endpoint = { addr, closed: false, group: 0 };
    this.endpoints.set(addrKey(addr), ep);
    return new SimTransport(this, ep);
  }

  /** Puts nodes in partition groups: only nodes of the same group can talk (default group 0). */
  partition(groups: Address[][]): void {
    for (const ep of this.endpoints.values()) ep.group = 0;
    groups.forEach((g, i) => {
      for (const a of g) {
        const ep = this.endpoints.get(addrKey(a));
        if (ep) ep.group = i + 1;
      }
    });
  }

  /** Removes all partitions. */
  heal(): void {
    for (const ep of this.endpoints.values()) ep.group = 0;
  }

  private latency(): number {
    return this.latencyMin + this.random() * (this.latencyMax - this.latencyMin);
  }

  private reachable(a: Endpoint, b: Endpoint | undefined): b is Endpoint {
    return !!b && !b.closed && !a.closed && a.group === b.group;
  }

  /** @internal */
  deliver(from: Endpoint, to: Address, msgs: Message[]): void {
    this.stats.sent++;
    if (this.loss > 0 && this.random() < this.loss) {
      this.stats.lost++;
      return;
    }
    const dst = this.endpoints.get(addrKey(to));
    if (!this.reachable(from, dst)) {
      this.stats.lost++;
      return;
    }
    this.clock.setTimeout(() => {
      if (dst.closed || from.group !== dst.group) return;
      this.stats.delivered++;
      dst.packet?.(from.addr, msgs);
    }, this.latency());
  }

  /** @internal */
  exchange(from: Endpoint, to: Address, req: PushPull, timeoutMs: number, cb: (err: Error | null, res?: PushPull) => void): void {
    const dst = this.endpoints.get(addrKey(to));
    if (!this.reachable(from, dst) || !dst.pushPull) {
      this.clock.setTimeout(() => cb(new Error(`connect ${addrKey(to)}: timeout`)), timeoutMs);
      return;
    }
    const handler = dst.pushPull;
    this.clock.setTimeout(() => {
      if (dst.closed || from.closed) return cb(new Error(`connect ${addrKey(to)}: reset`));
      const res = handler(from.addr, req);
      this.clock.setTimeout(() => cb(null, res), this.latency());
    }, this.latency() * 2);
  }

  /** @internal */
  tcpPing(from: Endpoint, to: Address, ping: PingMsg, timeoutMs: number, cb: (ok: boolean) => void): void {
    const dst = this.endpoints.get(addrKey(to));
    const rtt = this.latency() * 4;
    const ok = this.reachable(from, dst) && rtt <= timeoutMs && !!ping.node;
    this.clock.setTimeout(() => cb(ok && !dst!.closed), ok ? rtt : timeoutMs);
  }
}

/** Transport of one simulated node. */
export class SimTransport implements EngineTransport {
  /** @internal */
  constructor(private readonly net: SimNetwork, private readonly ep: Endpoint) {}

  /** Our address. */
  get address(): Address {
    return this.ep.addr;
  }

  /** Sends one packet. */
  sendPacket(to: Address, msgs: Message[]): void {
    if (!this.ep.closed) this.net.deliver(this.ep, to, msgs);
  }

  /** Registers the packet handler. */
  onPacket(handler: (from: Address, msgs: Message[]) => void): void {
    this.ep.packet = handler;
  }

  /** Reliable push/pull exchange. */
  pushPull(to: Address, req: PushPull, timeoutMs: number, cb: (err: Error | null, res?: PushPull) => void): void {
    this.net.exchange(this.ep, to, req, timeoutMs, cb);
  }

  /** Registers the push/pull server. */
  onPushPull(handler: (from: Address, req: PushPull) => PushPull): void {
    this.ep.pushPull = handler;
  }

  /** TCP fallback ping (succeeds when the peer is reachable, independent of packet loss). */
  tcpPing(to: Address, ping: PingMsg, timeoutMs: number, cb: (ok: boolean) => void): void {
    this.net.tcpPing(this.ep, to, ping, timeoutMs, cb);
  }

  /** Simulates the process dying: nothing is sent or received any more. */
  close(): void {
    this.ep.closed = true;
  }
}
