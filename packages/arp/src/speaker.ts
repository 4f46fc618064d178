import { EventEmitter } from 'eventemitter3';
import {
  InterfaceFollower,
  NativeResponder,
  PacketSocket,
  arpRequestFilter,
  ETH_P_ARP,
  type InterfaceInfo,
  type L2Transport,
} from '@lbkit/afpacket';
import { GratuitousAnnouncer, type GratuitousOptions } from './announcer.js';
import { parseIPv4 } from './codec.js';
import { ArpResponder, type ArpResponderStats } from './responder.js';

function zeroStats(): ArpResponderStats {
  return { received: 0, malformed: 0, replied: 0, ignored: 0, sendErrors: 0, drainReplied: 0, drainIgnored: 0 };
}

function addStats(a: ArpResponderStats, b: ArpResponderStats): ArpResponderStats {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof ArpResponderStats)[]) out[k] += b[k];
  return out;
}

/** Options of {@link ArpSpeaker}. */
export interface ArpSpeakerOptions extends GratuitousOptions {
  /** Interface to announce on. */
  ifname: string;
  /** Interface poll period for the watcher in ms (default 500); 0 disables the watcher. */
  watchIntervalMs?: number;
  /**
   * Custom transport factory (tests); the frames it emits are answered in JavaScript. Default: the
   * native fast path (afpacket's `NativeResponder`: BPF filter built from the announced addresses,
   * replies written by a native thread, gratuitous ARP sent in batches).
   */
  openTransport?: (ifname: string) => L2Transport & { close(): void };
  /** Without `openTransport`: false selects the JavaScript responder over a plain `PacketSocket` (default true: native). */
  native?: boolean;
  /** Period of the native `replies` report in ms (default 1000; only while someone listens to `replies`). */
  replyReportMs?: number;
  /**
   * MAC to use. A string is fixed for the speaker's lifetime (also after the interface is
   * re-created); a function is asked again each time the socket is (re)opened. Default: read from
   * the interface each time, so a re-created interface is announced with its new MAC.
   */
  mac?: string | ((ifname: string) => string | undefined);
  /** Reads the interface's state (default `interfaceInfo` of @lbkit/afpacket); tests pass a fake. */
  readInterface?: (ifname: string) => InterfaceInfo | undefined;
}

/** Events of {@link ArpSpeaker}. */
export interface ArpSpeakerEvents {
  /** `ip` was taken ({@link ArpSpeaker.announce}). */
  announced: (ip: string) => void;
  /** `ip` was released ({@link ArpSpeaker.withdraw}). */
  withdrawn: (ip: string) => void;
  /** A GARP frame went out. */
  garp: (ip: string) => void;
  /** A request was answered (JavaScript responder: custom transports or `native: false`). */
  reply: (ip: string, requester: string) => void;
  /** Native fast path: `count` requests for `ip` were answered since the last report (every `replyReportMs`). */
  replies: (ip: string, count: number) => void;
  /** Interface came (back) up or was re-created; all addresses were re-announced. */
  reannounced: (ips: string[]) => void;
  /** Interface went down. */
  down: () => void;
  /** The interface was deleted: its socket was closed; announcements resume when it reappears. */
  removed: () => void;
  /** The socket was (re)opened on a re-created interface (new ifindex) or after a MAC change. */
  reopened: (mac: string) => void;
  /** A send, receive or (re)open failed; never thrown from timers or watcher callbacks. */
  error: (err: Error) => void;
}

/**
 * MetalLB-style layer-2 announcement of IPv4 addresses on one interface: answers ARP requests for
 * announced addresses and sends gratuitous ARP when one is taken, and again whenever the
 * interface comes up. Follows the interface's life: when it is deleted the socket is closed
 * (addresses are kept), when an interface of the same name appears (new ifindex, maybe a new MAC)
 * or its MAC changes, the socket is reopened with the BPF filter and every address re-announced
 * with the current MAC.
 */
export class ArpSpeaker extends EventEmitter<ArpSpeakerEvents> {
  private transport: (L2Transport & { close(): void }) | undefined;
  private responder: ArpResponder | undefined;
  private announcer: GratuitousAnnouncer | undefined;
  private readonly follower: InterfaceFollower<L2Transport & { close(): void }>;
  private readonly ips = new Set<string>();
  private readonly draining = new Set<string>();
  private mac = '';
  private native: NativeResponder | undefined;
  private hitsTimer: NodeJS.Timeout | undefined;
  private base: ArpResponderStats | undefined;

  /** @param opts interface, GARP timing and optional overrides (MAC, transport, interface reader); call {@link start}. */
  constructor(private readonly opts: ArpSpeakerOptions) {
    super();
    this.follower = new InterfaceFollower({
      ifname: opts.ifname,
      name: 'ArpSpeaker',
      watchIntervalMs: opts.watchIntervalMs,
      mac: opts.mac,
      readInterface: opts.readInterface,
      open: (mac) => this.open(mac),
      close: () => this.closeTransport(),
    });
    this.follower.on('reopened', (mac) => {
      this.emit('reopened', mac);
      if (this.follower.usable) this.reannounce(); // else on `up`
    });
    this.follower.on('removed', () => this.emit('removed'));
    this.follower.on('up', () => this.reannounce());
    this.follower.on('down', () => {
      this.announcer?.stop(); // frames cannot leave a down link; 'up' restarts the burst
      this.emit('down');
    });
    this.follower.on('error', (e) => this.emit('error', e));
  }

  /** Opens the socket and starts the watcher. Throws if the interface cannot be opened. */
  start(): this {
    this.follower.start();
    return this;
  }

  /** Opens a socket (with the BPF filter) answering and announcing with `mac`; called by the follower. */
  private open(mac: string): L2Transport & { close(): void } {
    const ifname = this.opts.ifname;
    this.mac = mac;
    let t: L2Transport & { close(): void };
    if (this.opts.openTransport) t = this.opts.openTransport(ifname);
    else if (this.opts.native !== false) t = this.native = NativeResponder.open({ ifname, family: 4, mac });
    else t = PacketSocket.open({ ifname, protocol: ETH_P_ARP, filter: arpRequestFilter() });
    if (t instanceof PacketSocket) t.on('error', (e) => this.emit('error', e));
    this.transport = t;
    this.base ??= zeroStats();
    this.responder = new ArpResponder(t, this.mac, this.native).start();
    this.responder.on('reply', (ip, who) => this.emit('reply', ip, who));
    this.responder.on('error', (e) => this.sendFailed(e));
    this.announcer = new GratuitousAnnouncer(t, this.mac, this.opts);
    this.announcer.on('sent', (ip) => this.emit('garp', ip));
    this.announcer.on('error', (e) => this.sendFailed(e));
    this.responder.addMany(this.ips);
    this.responder.drainMany(this.draining);
    if (this.native) {
      const n = this.native;
      this.hitsTimer = setInterval(() => this.reportHits(n), this.opts.replyReportMs ?? 1000);
      this.hitsTimer.unref();
    }
    return t;
  }

  /** Emits `replies` per VIP from the native per-address counters. */
  private reportHits(n: NativeResponder): void {
    if (!n.isOpen || this.listenerCount('replies') === 0) return;
    for (const [b, count] of n.takeHits()) this.emit('replies', `${b[0]}.${b[1]}.${b[2]}.${b[3]}`, count);
  }

  /** Reports a send error, unless the link state explains it (see {@link InterfaceFollower.reportError}). */
  private sendFailed(err: Error): void {
    this.follower.reportError(err, (e) => this.emit('error', e));
  }

  /** Counters of the open session (JavaScript responder plus the native fast path). */
  private live(): ArpResponderStats {
    const out = { ...(this.responder?.stats ?? zeroStats()) };
    if (this.native?.isOpen) {
      const n = this.native.stats();
      out.received += n.received;
      out.malformed += n.malformed;
      out.replied += n.replied;
      out.ignored += n.ignored + n.notOwned + n.wrongGroup;
      out.sendErrors += n.sendErrors;
      out.drainReplied += n.drainReplied;
      out.drainIgnored += n.drainIgnored;
    }
    return out;
  }

  private closeTransport(): void {
    clearInterval(this.hitsTimer);
    this.hitsTimer = undefined;
    if (this.native) this.reportHits(this.native);
    if (this.responder && this.base) this.base = addStats(this.base, this.live()); // cumulative across reopenings
    this.announcer?.stop();
    this.responder?.stop();
    try {
      this.transport?.close();
    } catch {
      /* already closed */
    }
    this.transport = undefined;
    this.responder = undefined;
    this.announcer = undefined;
    this.native = undefined;
  }

  private reannounce(): void {
    if (!this.announcer) return;
    this.announcer.announceMany(this.ips);
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  /** Takes `ip`: answer ARP for it and send gratuitous ARP now (then the burst). While the interface is absent the address is kept and announced when it reappears. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /**
   * Takes every address of `ips` at once: one table (and kernel filter) update, one batch of
   * gratuitous ARP now and one per repeat. A draining address becomes owned again. With
   * `gratuitous: false` only the answering starts (the burst is sent by a later call). Throws for an
   * invalid address before changing anything.
   */
  announceMany(ips: Iterable<string>, opts: { gratuitous?: boolean } = {}): void {
    const list = [...new Set(ips)];
    for (const ip of list) parseIPv4(ip, 'announced address');
    for (const ip of list) this.draining.delete(ip);
    this.responder?.addMany(list);
    const fresh = list.filter((ip) => !this.ips.has(ip));
    for (const ip of list) this.ips.add(ip);
    if (opts.gratuitous !== false && this.follower.usable) this.announcer?.announceMany(list);
    for (const ip of opts.gratuitous === false ? list : fresh.length < list.length ? fresh : list) this.emit('announced', ip);
  }

  /**
   * Drain window: stop sending gratuitous ARP for `ips` at once and answer them only to unicast
   * requests (clients that still send to our MAC with a stale cache), never broadcast ones, until
   * {@link withdraw} (or {@link announce} takes them back). Addresses not announced are ignored.
   */
  drain(ips: Iterable<string>): void {
    const list = [...ips].filter((ip) => this.ips.has(ip));
    for (const ip of list) {
      this.ips.delete(ip);
      this.draining.add(ip);
      this.announcer?.cancel(ip);
    }
    this.responder?.drainMany(list);
  }

  /** Releases `ip`: stop answering and stop its GARPs. */
  withdraw(ip: string): void {
    this.withdrawMany([ip]);
  }

  /** Releases every address of `ips` (announced or draining): one table update. */
  withdrawMany(ips: Iterable<string>): void {
    const gone: string[] = [];
    for (const ip of ips) {
      const was = this.ips.delete(ip);
      if (this.draining.delete(ip) || was) gone.push(ip);
      if (was) this.announcer?.cancel(ip);
    }
    this.responder?.removeMany(gone);
    for (const ip of gone) this.emit('withdrawn', ip);
  }

  /** Announced addresses (not counting draining ones). */
  addresses(): string[] {
    return [...this.ips];
  }

  /** Addresses in their drain window. */
  drainingAddresses(): string[] {
    return [...this.draining];
  }

  /** The native fast path of the open session (undefined with a custom or JavaScript transport). */
  get fastPath(): NativeResponder | undefined {
    return this.native;
  }

  /** MAC the speaker currently answers and announces with ('' before start). */
  currentMac(): string {
    return this.mac;
  }

  /** True while a socket is open (false after the interface was deleted, until it reappears). */
  get isOpen(): boolean {
    return this.transport !== undefined;
  }

  /** Responder counters (native fast path included), cumulative over socket reopenings (undefined before start). */
  stats(): ArpResponderStats | undefined {
    if (!this.base) return undefined;
    return this.responder ? addStats(this.base, this.live()) : { ...this.base };
  }

  /** Stops everything and closes the socket. */
  close(): void {
    this.follower.close();
  }
}
