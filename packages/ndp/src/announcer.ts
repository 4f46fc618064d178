/** Sends unsolicited Neighbor Advertisements (O=1, S=0) to ff02::1 when an address is taken. */
import { networkInterfaces } from 'node:os';
import { ALL_NODES, ALL_NODES_MAC, canonicalIPv6, parseIPv6 } from './codec/addr.js';
import { icmpv6Checksum } from './codec/checksum.js';
import { encode } from './codec/ndp.js';
import { RepeatSchedule } from '@lbkit/afpacket';
import type { NdpTransport } from './transport.js';

/** Options of {@link UnsolicitedAnnouncer}. */
export interface AnnouncerOptions {
  /** Transport bound to the interface. */
  transport: NdpTransport;
  /** Interface MAC (Ethernet source and TLLA). */
  mac: string;
  /** IPv6 source: the interface's link-local address (RFC 4861 §7.2.6), or a function returning it. */
  linkLocal: string | (() => string);
  /** Gap between repeats, ms (MetalLB: 1100). */
  intervalMs?: number;
  /** How long to repeat after taking an address, ms (MetalLB: 5000). */
  burstMs?: number;
  /** Optional periodic refresh after the burst, ms (0 = none). */
  refreshMs?: number;
  /** Called when a send fails (the announcer never throws from timers). */
  onError?: (err: Error) => void;
  /** Called after each unsolicited NA for `ip` went out. */
  onSent?: (ip: string) => void;
}

/** Returns the link-local (fe80::/10) IPv6 address of `ifname` as seen by this process, or undefined. */
export function linkLocalOf(ifname: string): string | undefined {
  const a = networkInterfaces()[ifname]?.find((x) => x.family === 'IPv6' && /^fe[89ab]/i.test(x.address));
  return a?.address.split('%')[0];
}

/** A transport that can send many equal-length frames in one call (afpacket's `NativeResponder`). */
interface BatchSender {
  sendBatch(frames: Buffer, frameLen: number): Promise<number>;
}

/**
 * Unsolicited NA sender: {@link UnsolicitedAnnouncer.announce} sends one NA at once, repeats every
 * `intervalMs` while `burstMs` lasts, then optionally every `refreshMs` until withdrawn. Addresses
 * taken together ({@link UnsolicitedAnnouncer.announceMany}) share one timer and go out as one
 * batch when the transport has `sendBatch`.
 */
export class UnsolicitedAnnouncer {
  private readonly schedule: RepeatSchedule;
  /** Number of NAs sent. */
  sent = 0;

  /** @param opts transport, MAC, link-local source and timing */
  constructor(private readonly opts: AnnouncerOptions) {
    this.schedule = new RepeatSchedule((ips) => this.sendRound(ips), { intervalMs: opts.intervalMs ?? 1100, forMs: opts.burstMs ?? 5000, refreshMs: opts.refreshMs ?? 0 });
  }

  /** Builds the unsolicited NA frame for `ip`. */
  frame(ip: string): Buffer {
    const ll = typeof this.opts.linkLocal === 'function' ? this.opts.linkLocal() : this.opts.linkLocal;
    return encode({
      type: 'na',
      ethSrc: this.opts.mac,
      ethDst: ALL_NODES_MAC,
      src: ll,
      dst: ALL_NODES,
      target: canonicalIPv6(ip, 'ip'),
      router: false,
      solicited: false,
      override: true,
      targetLinkLayer: this.opts.mac,
    });
  }

  /** Frames for `ips` back to back: one encoded template, target and checksum patched per address. */
  private frames(ips: string[]): Buffer {
    const t = this.frame('::');
    const len = t.length;
    const out = Buffer.allocUnsafe(len * ips.length);
    const src = t.subarray(22, 38);
    const dst = t.subarray(38, 54);
    ips.forEach((ip, i) => {
      const o = i * len;
      t.copy(out, o);
      parseIPv6(ip, 'ip').copy(out, o + 62);
      const icmp = out.subarray(o + 54, o + len);
      icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp, 2), 2);
    });
    return out;
  }

  /** Sends one NA for `ip` now (no timers). */
  sendOnce(ip: string): void {
    try {
      this.opts.transport.send(this.frame(ip));
      this.sent++;
      this.opts.onSent?.(canonicalIPv6(ip, 'ip'));
    } catch (e) {
      this.opts.onError?.(e as Error);
    }
  }

  /** One round for `ips` (canonical): one batch when the transport has `sendBatch`, else NA by NA. */
  private sendRound(ips: string[]): void {
    if (ips.length === 0) return;
    const tr = this.opts.transport as Partial<BatchSender>;
    if (typeof tr.sendBatch !== 'function') {
      for (const ip of ips) this.sendOnce(ip);
      return;
    }
    let p: Promise<number>;
    try {
      const frames = this.frames(ips);
      p = tr.sendBatch(frames, frames.length / ips.length);
    } catch (e) {
      this.opts.onError?.(e as Error);
      return;
    }
    p.then(
      (n) => {
        this.sent += n;
        for (let i = 0; i < Math.min(n, ips.length); i++) this.opts.onSent?.(ips[i]!);
        if (n < ips.length) this.opts.onError?.(new Error(`unsolicited NA batch: ${n} of ${ips.length} frames sent`));
      },
      (e: Error) => this.opts.onError?.(e),
    );
  }

  /** Takes `ip`: sends at once and (re)starts the burst. Throws only for an invalid `ip`. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /** Takes every address of `ips` together: one batch now, one per repeat from a single timer. Throws (before sending) for an invalid address. */
  announceMany(ips: Iterable<string>): void {
    this.schedule.start([...ips].map((ip) => canonicalIPv6(ip, 'ip')));
  }

  /** Re-sends the burst for every announced address (e.g. after link up), as one group. */
  reannounceAll(): void {
    this.announceMany(this.schedule.keys());
  }

  /** Stops announcing `ip`. */
  withdraw(ip: string): void {
    this.schedule.cancel(canonicalIPv6(ip, 'ip'));
  }

  /** Addresses currently announced. */
  addresses(): string[] {
    return this.schedule.keys();
  }

  /** Stops every timer. */
  close(): void {
    this.schedule.stop();
  }
}
