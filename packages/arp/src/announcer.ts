import { EventEmitter } from 'eventemitter3';
import { BROADCAST_MAC, RepeatSchedule, type L2Transport } from '@lbkit/afpacket';
import { ArpOp, encode, parseIPv4 } from './codec.js';

/** Timing of a {@link GratuitousAnnouncer} (defaults follow MetalLB: every 1.1 s for 5 s). */
export interface GratuitousOptions {
  /** Gap between repetitions in ms (default 1100). */
  repeatIntervalMs?: number;
  /** How long repetitions continue after the first frame, in ms (default 5000). */
  repeatForMs?: number;
  /** Periodic refresh after the burst, in ms (default 0 = none). */
  refreshIntervalMs?: number;
  /** Also send a reply with THA = SHA (a GARP for Linux, see l2 research) after each request (default false). */
  withReply?: boolean;
}

/** Events of {@link GratuitousAnnouncer}. */
export interface GratuitousEvents {
  /** A GARP was sent for `ip`. */
  sent: (ip: string) => void;
  /** Sending failed. */
  error: (err: Error, ip: string) => void;
}

/**
 * Builds the gratuitous ARP request Linux accepts for an existing entry: op 1, SHA = our MAC,
 * SPA = TPA = `ip`, THA = ff:ff:ff:ff:ff:ff, to Ethernet broadcast.
 */
export function gratuitousRequest(mac: string, ip: string): Buffer {
  return encode({ dst: BROADCAST_MAC, src: mac, op: ArpOp.REQUEST, sha: mac, spa: ip, tha: BROADCAST_MAC, tpa: ip });
}

/** Builds a gratuitous ARP reply with THA = SHA (the `arping -A` form, not subject to locktime). */
export function gratuitousReply(mac: string, ip: string): Buffer {
  return encode({ dst: BROADCAST_MAC, src: mac, op: ArpOp.REPLY, sha: mac, spa: ip, tha: mac, tpa: ip });
}

/** A transport that can send many equal-length frames in one call (e.g. afpacket's `NativeResponder`). */
export interface BatchTransport {
  /** Sends `frames.length / frameLen` frames laid out back to back; resolves with frames sent. */
  sendBatch(frames: Buffer, frameLen: number): Promise<number>;
}

function hasBatch(t: L2Transport): t is L2Transport & BatchTransport {
  return typeof (t as Partial<BatchTransport>).sendBatch === 'function';
}

/**
 * Sends gratuitous ARP for announced addresses: once at once, then every `repeatIntervalMs` until
 * `repeatForMs` has elapsed, then optionally every `refreshIntervalMs`. Addresses taken together
 * ({@link announceMany}) share one timer and go out as one batch (one `sendBatch` call on a
 * transport that has it, e.g. a native `sendmmsg`), so a hand-over of N addresses costs one timer
 * and one batch per repeat, not N.
 */
export class GratuitousAnnouncer extends EventEmitter<GratuitousEvents> {
  private readonly o: Required<GratuitousOptions>;
  private readonly schedule: RepeatSchedule;
  private template: Buffer | undefined;

  constructor(private readonly transport: L2Transport, readonly mac: string, opts: GratuitousOptions = {}) {
    super();
    this.o = { repeatIntervalMs: 1100, repeatForMs: 5000, refreshIntervalMs: 0, withReply: false, ...opts };
    this.schedule = new RepeatSchedule((ips) => this.sendRound(ips), { intervalMs: this.o.repeatIntervalMs, forMs: this.o.repeatForMs, refreshMs: this.o.refreshIntervalMs, unref: true });
  }

  private fail(err: unknown, ip: string): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)), ip);
  }

  /** Sends one GARP for `ip` now; never throws (errors are emitted). */
  sendOnce(ip: string): boolean {
    try {
      this.transport.send(gratuitousRequest(this.mac, ip));
      if (this.o.withReply) this.transport.send(gratuitousReply(this.mac, ip));
      this.emit('sent', ip);
      return true;
    } catch (err) {
      this.fail(err, ip);
      return false;
    }
  }

  /** Frames for `ips` back to back (request, and the reply when `withReply`), from a template. */
  private frames(ips: string[]): Buffer {
    this.template ??= Buffer.concat([gratuitousRequest(this.mac, '0.0.0.0'), ...(this.o.withReply ? [gratuitousReply(this.mac, '0.0.0.0')] : [])]);
    const t = this.template;
    const out = Buffer.allocUnsafe(t.length * ips.length);
    ips.forEach((ip, i) => {
      const o = i * t.length;
      t.copy(out, o);
      const b = parseIPv4(ip, 'announced address');
      for (let f = o; f < o + t.length; f += 42) {
        b.copy(out, f + 28);
        b.copy(out, f + 38);
      }
    });
    return out;
  }

  /** Sends one round for `ips`: one batch when the transport has `sendBatch`, else frame by frame. */
  private sendRound(ips: string[]): void {
    if (ips.length === 0) return;
    if (!hasBatch(this.transport)) {
      for (const ip of ips) this.sendOnce(ip);
      return;
    }
    let p: Promise<number>;
    try {
      p = this.transport.sendBatch(this.frames(ips), 42);
    } catch (err) {
      this.fail(err, ips[0]!);
      return;
    }
    p.then(
      (n) => {
        const per = this.o.withReply ? 2 : 1;
        for (let i = 0; i < Math.min(ips.length, Math.floor(n / per)); i++) this.emit('sent', ips[i]!);
        if (n < ips.length * per) this.fail(new Error(`gratuitous ARP batch: ${n} of ${ips.length * per} frames sent`), ips[0]!);
      },
      (err) => this.fail(err, ips[0]!),
    );
  }

  /** Starts (or restarts) the announcement of `ip`: immediate frame, burst, optional refresh. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /**
   * Starts (or restarts) the announcement of every address in `ips` together: one batch now, then
   * one batch per repeat from a single timer. Throws (before sending anything) for an invalid address.
   */
  announceMany(ips: Iterable<string>): void {
    const list = [...new Set(ips)];
    for (const ip of list) parseIPv4(ip, 'announced address');
    this.schedule.start(list);
  }

  /** Stops announcing `ip` (no frame is sent: ARP has no withdrawal). */
  cancel(ip: string): void {
    this.schedule.cancel(ip);
  }

  /** Addresses being announced. */
  addresses(): string[] {
    return this.schedule.keys();
  }

  /** Cancels everything. */
  stop(): void {
    this.schedule.stop();
  }
}
