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
  private readonly ips = new Set<string>();
  private readonly onFrame = (frame: Buffer): void => this.handle(frame);
  private started = false;
  /** Counters (see {@link ArpResponderStats}). */
  readonly stats: ArpResponderStats = { received: 0, malformed: 0, replied: 0, ignored: 0, sendErrors: 0 };

  constructor(private readonly transport: L2Transport, readonly mac: string) {
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

  /** Starts answering for `ip`. */
  add(ip: string): void {
    parseIPv4(ip, 'responder address');
    this.ips.add(ip);
  }

  /** Stops answering for `ip`. */
  remove(ip: string): void {
    this.ips.delete(ip);
  }

  /** Addresses currently answered. */
  addresses(): string[] {
    return [...this.ips];
  }

  /** Processes one received frame (public for tests and custom transports). Never throws. */
  handle(frame: Buffer): void {
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
