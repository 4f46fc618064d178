/** NdpSpeaker: announce/withdraw IPv6 VIPs on one interface (responder + unsolicited announcer). */
import { canonicalIPv6 } from './codec/addr.js';
import { NdpResponder } from './responder.js';
import { UnsolicitedAnnouncer, type AnnouncerOptions } from './announcer.js';
import type { NdpTransport } from './transport.js';

/** Options of {@link NdpSpeaker}. */
export interface NdpSpeakerOptions extends Omit<AnnouncerOptions, 'transport' | 'mac' | 'linkLocal'> {
  /** Transport bound to the interface. */
  transport: NdpTransport;
  /** Interface MAC. */
  mac: string;
  /** Link-local source for unsolicited NAs (string or getter). */
  linkLocal: string | (() => string);
}

/** One interface's NDP speaker: answers NS for, and announces, the VIPs it owns. */
export class NdpSpeaker {
  /** The NS responder. */
  readonly responder: NdpResponder;
  /** The unsolicited NA announcer. */
  readonly announcer: UnsolicitedAnnouncer;
  private readonly owned = new Set<string>();

  /** @param opts transport, MAC, link-local address and announcer timing */
  constructor(opts: NdpSpeakerOptions) {
    this.responder = new NdpResponder({ transport: opts.transport, mac: opts.mac });
    this.announcer = new UnsolicitedAnnouncer(opts);
  }

  /** Takes `ip`: answer its NS and send unsolicited NAs. */
  announce(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    this.owned.add(t);
    this.responder.add(t);
    this.announcer.announce(t);
  }

  /** Gives `ip` up: stop answering and announcing. */
  withdraw(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    this.owned.delete(t);
    this.responder.remove(t);
    this.announcer.withdraw(t);
  }

  /**
   * Call when the interface comes (back) up: re-announces every VIP. Pass `rejoin = true` only when the
   * transport's socket is new (AF_PACKET memberships survive a down/up, and joining twice would leak a
   * kernel reference).
   */
  linkUp(rejoin = false): void {
    if (rejoin) this.responder.rejoin();
    this.announcer.reannounceAll();
  }

  /** Addresses owned. */
  addresses(): string[] {
    return [...this.owned];
  }

  /** Stops timers (the transport is the caller's to close). */
  close(): void {
    this.announcer.close();
  }
}

/** What {@link followInterface} needs from `@lbkit/afpacket`'s `InterfaceWatcher` (structural). */
export interface InterfaceEventsLike {
  /** Subscribes to the interface becoming usable (up, or re-created). */
  on(event: 'up', fn: (...args: unknown[]) => void): unknown;
}

/**
 * Re-announces every VIP of `speaker` each time `watcher` reports the interface up (after a down/up).
 * When the interface is re-created (watcher `'new'`), a caller-owned socket must be reopened (an
 * AF_PACKET socket stays bound to the old ifindex); {@link NdpInterfaceSpeaker} does all of this itself.
 */
export function followInterface(speaker: NdpSpeaker, watcher: InterfaceEventsLike): void {
  watcher.on('up', () => speaker.linkUp());
}
