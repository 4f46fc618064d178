/** NdpSpeaker: announce/withdraw IPv6 VIPs on one interface (responder + unsolicited announcer). */
import { canonicalIPv6 } from './codec/addr.js';
import { NdpResponder, type NdpResponderOptions } from './responder.js';
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
  /** Native fast path the responder mirrors its table to (see {@link NdpResponderOptions.table}). */
  table?: NdpResponderOptions['table'];
  /** Called with the target of every NS answered in JavaScript (see {@link NdpResponderOptions.onAnswer}). */
  onAnswer?: NdpResponderOptions['onAnswer'];
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
    this.responder = new NdpResponder({ transport: opts.transport, mac: opts.mac, ...(opts.table ? { table: opts.table } : {}), ...(opts.onAnswer ? { onAnswer: opts.onAnswer } : {}) });
    this.announcer = new UnsolicitedAnnouncer(opts);
  }

  /** Takes `ip`: answer its NS and send unsolicited NAs. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /** Takes every address of `ips`: one table update, one batch of NAs now and per repeat. */
  announceMany(ips: Iterable<string>): void {
    const list = [...ips].map((ip) => canonicalIPv6(ip, 'ip'));
    for (const t of list) this.owned.add(t);
    this.responder.addMany(list);
    this.announcer.announceMany(list);
  }

  /** Drain window for `ips`: no more unsolicited NAs; answer unicast (NUD) NS only. */
  drain(ips: Iterable<string>): void {
    const list = [...ips].map((ip) => canonicalIPv6(ip, 'ip')).filter((t) => this.owned.has(t));
    for (const t of list) {
      this.owned.delete(t);
      this.announcer.withdraw(t);
    }
    this.responder.drainMany(list);
  }

  /** Gives `ip` up: stop answering and announcing. */
  withdraw(ip: string): void {
    this.withdrawMany([ip]);
  }

  /** Gives every address of `ips` up (owned or draining). */
  withdrawMany(ips: Iterable<string>): void {
    const list = [...ips].map((ip) => canonicalIPv6(ip, 'ip'));
    for (const t of list) {
      this.owned.delete(t);
      this.announcer.withdraw(t);
    }
    this.responder.removeMany(list);
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
