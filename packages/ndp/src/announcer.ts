/** Sends unsolicited Neighbor Advertisements (O=1, S=0) to ff02::1 when an address is taken. */
import { networkInterfaces } from 'node:os';
import { ALL_NODES, ALL_NODES_MAC, canonicalIPv6 } from './codec/addr.js';
import { encode } from './codec/ndp.js';
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

interface Entry {
  burst?: ReturnType<typeof setInterval>;
  refresh?: ReturnType<typeof setInterval>;
  started: number;
}

/**
 * Unsolicited NA sender: {@link UnsolicitedAnnouncer.announce} sends one NA at once, repeats every
 * `intervalMs` while `burstMs` lasts, then optionally every `refreshMs` until withdrawn.
 */
export class UnsolicitedAnnouncer {
  private readonly entries = new Map<string, Entry>();
  /** Number of NAs sent. */
  sent = 0;
  private readonly intervalMs: number;
  private readonly burstMs: number;
  private readonly refreshMs: number;

  /** @param opts transport, MAC, link-local source and timing */
  constructor(private readonly opts: AnnouncerOptions) {
    this.intervalMs = opts.intervalMs ?? 1100;
    this.burstMs = opts.burstMs ?? 5000;
    this.refreshMs = opts.refreshMs ?? 0;
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

  /** Takes `ip`: sends at once and (re)starts the burst. Throws only for an invalid `ip`. */
  announce(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    this.stop(t);
    const e: Entry = { started: Date.now() };
    this.entries.set(t, e);
    this.sendOnce(t);
    const repeats = Math.floor(this.burstMs / this.intervalMs);
    let n = 0;
    if (repeats > 0) {
      e.burst = setInterval(() => {
        this.sendOnce(t);
        if (++n >= repeats) {
          clearInterval(e.burst);
          e.burst = undefined;
          this.startRefresh(t, e);
        }
      }, this.intervalMs);
    } else this.startRefresh(t, e);
  }

  private startRefresh(t: string, e: Entry): void {
    if (this.refreshMs > 0) e.refresh = setInterval(() => this.sendOnce(t), this.refreshMs);
  }

  /** Re-sends the burst for every announced address (e.g. after link up). */
  reannounceAll(): void {
    for (const t of [...this.entries.keys()]) this.announce(t);
  }

  /** Stops announcing `ip`. */
  withdraw(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    this.stop(t);
    this.entries.delete(t);
  }

  /** Addresses currently announced. */
  addresses(): string[] {
    return [...this.entries.keys()];
  }

  private stop(t: string): void {
    const e = this.entries.get(t);
    if (!e) return;
    if (e.burst) clearInterval(e.burst);
    if (e.refresh) clearInterval(e.refresh);
  }

  /** Stops every timer. */
  close(): void {
    for (const t of this.entries.keys()) this.stop(t);
    this.entries.clear();
  }
}
