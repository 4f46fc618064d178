import { EventEmitter } from 'eventemitter3';
import { BROADCAST_MAC, type L2Transport } from '@lbkit/afpacket';
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

interface Schedule {
  burst?: NodeJS.Timeout;
  refresh?: NodeJS.Timeout;
}

/**
 * Sends gratuitous ARP for announced addresses: once at once, then every `repeatIntervalMs` until
 * `repeatForMs` has elapsed, then optionally every `refreshIntervalMs`.
 */
export class GratuitousAnnouncer extends EventEmitter<GratuitousEvents> {
  private readonly schedules = new Map<string, Schedule>();
  private readonly o: Required<GratuitousOptions>;

  constructor(private readonly transport: L2Transport, readonly mac: string, opts: GratuitousOptions = {}) {
    super();
    this.o = { repeatIntervalMs: 1100, repeatForMs: 5000, refreshIntervalMs: 0, withReply: false, ...opts };
  }

  /** Sends one GARP for `ip` now; never throws (errors are emitted). */
  sendOnce(ip: string): boolean {
    try {
      this.transport.send(gratuitousRequest(this.mac, ip));
      if (this.o.withReply) this.transport.send(gratuitousReply(this.mac, ip));
      this.emit('sent', ip);
      return true;
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)), ip);
      return false;
    }
  }

  /** Starts (or restarts) the announcement of `ip`: immediate frame, burst, optional refresh. */
  announce(ip: string): void {
    parseIPv4(ip, 'announced address');
    this.cancel(ip);
    const sched: Schedule = {};
    this.schedules.set(ip, sched);
    this.sendOnce(ip);
    const repeats = Math.floor(this.o.repeatForMs / this.o.repeatIntervalMs);
    let n = 0;
    const startRefresh = (): void => {
      if (this.o.refreshIntervalMs > 0 && this.schedules.get(ip) === sched) {
        sched.refresh = setInterval(() => this.sendOnce(ip), this.o.refreshIntervalMs);
        sched.refresh.unref();
      }
    };
    if (repeats > 0) {
      sched.burst = setInterval(() => {
        this.sendOnce(ip);
        if (++n >= repeats) {
          clearInterval(sched.burst);
          sched.burst = undefined;
          startRefresh();
        }
      }, this.o.repeatIntervalMs);
      sched.burst.unref();
    } else {
      startRefresh();
    }
  }

  /** Stops announcing `ip` (no frame is sent: ARP has no withdrawal). */
  cancel(ip: string): void {
    const s = this.schedules.get(ip);
    if (!s) return;
    if (s.burst) clearInterval(s.burst);
    if (s.refresh) clearInterval(s.refresh);
    this.schedules.delete(ip);
  }

  /** Addresses being announced. */
  addresses(): string[] {
    return [...this.schedules.keys()];
  }

  /** Cancels everything. */
  stop(): void {
    for (const ip of [...this.schedules.keys()]) this.cancel(ip);
  }
}
