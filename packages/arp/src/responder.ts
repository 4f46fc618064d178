import { EventEmitter } from 'eventemitter3';
import type { L2Transport } from '@lbkit/afpacket';
import { ArpDecodeError, ArpOp, decode, encode, parseIPv4, type ArpFrame } from './codec.js';

/** Counters of an {@link ArpResponder}. */
export interface ArpResponderStats {
  /** Frames received (all). */
  received: number;
  /** Frames that failed to decode (counted and dropped). */
  malformed: number;
  /** Requests for an address we announce that were answered. */
  replied: number;
  /** Well-formed frames ignored (replies, our own frames, other targets). */
  ignored: number;
  /** Replies that failed to send. */
  sendErrors: number;
  /** Unicast requests answered for a draining address. */
  drainReplied: number;
  /** Broadcast requests for a draining address, not answered. */
  drainIgnored: number;
}

/** Where the responder mirrors its table for a native fast path (afpacket's `NativeResponder`). */
export interface ResponderTable {
  /** Sets the state of 4-byte addresses. */
  set(addrs: readonly Uint8Array[], state: 'active' | 'draining' | 'off'): void;
}

/** Events of {@link ArpResponder}. */
export interface ArpResponderEvents {
  /** A reply was sent for `ip` to `requester` (MAC). */
  reply: (ip: string, requester: string) => void;
  /** A malformed frame was dropped. */
  malformed: (err: ArpDecodeError) => void;
  /** Sending failed. */
  error: (err: Error) => void;
}

/**
 * Answers ARP requests for the addresses it announces on one interface: a unicast reply to the
 * requester's SHA with `SHA = our MAC`. Ignores replies, its own frames and requests for other
 * addresses; malformed frames are counted, never thrown.
 */
export class ArpResponder extends EventEmitter<ArpResponderEvents> {
  private readonly ips = new Map<string, 'active' | 'draining'>();
  private readonly onFrame = (frame: Buffer, pkttype?: number): void => this.handle(frame, pkttype);
  private started = false;
  /** Counters (see {@link ArpResponderStats}). */
  readonly stats: ArpResponderStats = { received: 0, malformed: 0, replied: 0, ignored: 0, sendErrors: 0, drainReplied: 0, drainIgnored: 0 };

  /**
   * @param transport link to answer on; @param mac our MAC; @param table optional native table
   * mirrored on every change (then the native side answers and `handle` is not fed)
   */
  constructor(private readonly transport: L2Transport, readonly mac: string, private readonly table?: ResponderTable) {
    super();
    this.mac = mac.toLowerCase();
  }

  /** Starts listening on the transport. */
  start(): this {
    if (!this.started) this.transport.on('frame', this.onFrame);
    this.started = true;
    return this;
  }

  /** Stops listening. */
  stop(): void {
    if (this.started) this.transport.off('frame', this.onFrame);
    this.started = false;
  }

  private setMany(ips: Iterable<string>, state: 'active' | 'draining' | 'off'): void {
    const bytes: Buffer[] = [];
    for (const ip of ips) {
      const b = parseIPv4(ip, 'responder address');
      if (state === 'off') {
        if (!this.ips.delete(ip)) continue;
      } else if (state === 'draining') {
        if (!this.ips.has(ip)) continue;
        this.ips.set(ip, state);
      } else this.ips.set(ip, state);
      bytes.push(b);
    }
    if (bytes.length > 0) this.table?.set(bytes, state);
  }

  /** Starts answering for `ip`. */
  add(ip: string): void {
    this.setMany([ip], 'active');
  }

  /** Starts answering for every address of `ips` (one native table update). */
  addMany(ips: Iterable<string>): void {
    this.setMany(ips, 'active');
  }

  /**
   * Drain: keep answering `ips` (already answered) only to unicast requests, i.e. from clients that
   * still send to our MAC; broadcast requests are left to the new owner.
   */
  drainMany(ips: Iterable<string>): void {
    this.setMany(ips, 'draining');
  }

  /** Stops answering for `ip`. */
  remove(ip: string): void {
    this.setMany([ip], 'off');
  }

  /** Stops answering for every address of `ips`. */
  removeMany(ips: Iterable<string>): void {
    this.setMany(ips, 'off');
  }

  /** Addresses currently answered (active or draining). */
  addresses(): string[] {
    return [...this.ips.keys()];
  }

  /** State of `ip`: answered, answered to unicast only, or not answered. */
  state(ip: string): 'active' | 'draining' | 'off' {
    return this.ips.get(ip) ?? 'off';
  }

  /** Processes one received frame (public for tests and custom transports); `pkttype` is `sll_pkttype` when known. Never throws. */
  handle(frame: Buffer, pkttype?: number): void {
    this.stats.received++;
    let req: ArpFrame;
    try {
      req = decode(frame);
    } catch (err) {
      this.stats.malformed++;
      if (err instanceof ArpDecodeError && this.listenerCount('malformed') > 0) this.emit('malformed', err);
      return;
    }
    if (req.op !== ArpOp.REQUEST || (req.dst !== 'ff:ff:ff:ff:ff:ff' && req.dst !== this.mac) || req.src === this.mac || req.sha === this.mac || !this.ips.has(req.tpa)) {
      this.stats.ignored++;
      return;
    }
    // A gratuitous request (SPA == TPA) from someone else claiming our address: not a question.
    if (req.spa === req.tpa || req.sha === '00:00:00:00:00:00' || (parseInt(req.sha.slice(0, 2), 16) & 1) === 1) {
      this.stats.ignored++;
      return;
    }
    if (this.ips.get(req.tpa) === 'draining') {
      // draining: only a client still sending to our MAC (a unicast refresh) is answered
      if (req.dst !== this.mac || (pkttype !== undefined && pkttype !== 0)) {
        this.stats.drainIgnored++;
        return;
      }
      this.stats.drainReplied++;
    }
    const reply = encode({ dst: req.sha, src: this.mac, op: ArpOp.REPLY, sha: this.mac, spa: req.tpa, tha: req.sha, tpa: req.spa });
    try {
      this.transport.send(reply);
      this.stats.replied++;
      this.emit('reply', req.tpa, req.sha);
    } catch (err) {
      this.stats.sendErrors++;
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }
}
