/**
 * NdpInterfaceSpeaker: an {@link NdpSpeaker} that owns its AF_PACKET socket and follows the
 * interface's life (down/up, deletion, re-creation with a new ifindex or MAC, MAC change).
 */
import { EventEmitter } from 'eventemitter3';
import { ETH_P_IPV6, InterfaceFollower, NativeResponder, PacketSocket, icmpv6NsFilter, type InterfaceInfo } from '@lbkit/afpacket';
import { canonicalIPv6, eui64LinkLocal, formatIPv6 } from './codec/addr.js';
import { fromPacketSocket } from './afpacket-adapter.js';
import { linkLocalOf, type AnnouncerOptions } from './announcer.js';
import type { NdpResponderStats } from './responder.js';
import { NdpSpeaker } from './speaker.js';
import type { NdpTransport } from './transport.js';

/** Options of {@link NdpInterfaceSpeaker}. */
export interface NdpInterfaceSpeakerOptions extends Pick<AnnouncerOptions, 'intervalMs' | 'burstMs' | 'refreshMs'> {
  /** Interface to announce on. */
  ifname: string;
  /** Interface poll period in ms (default 500); 0 disables following the interface. */
  watchIntervalMs?: number;
  /**
   * MAC to use: a string is fixed for the speaker's lifetime; a function is asked each time the
   * socket is (re)opened. Default: the interface's current MAC, re-read on every reopening.
   */
  mac?: string | ((ifname: string) => string | undefined);
  /** IPv6 source of unsolicited NAs. Default: the interface's link-local address, else the EUI-64 one of the MAC. */
  linkLocal?: string | ((ifname: string) => string | undefined);
  /**
   * Transport factory (tests); its frames are answered in JavaScript. Default: the native fast path
   * (afpacket's `NativeResponder`: BPF filter built from the owned targets, NAs written by a native
   * thread, unsolicited NAs sent in batches).
   */
  openTransport?: (ifname: string) => NdpTransport & { close(): void };
  /** Without `openTransport`: false selects the JavaScript responder over a plain `PacketSocket` (default true: native). */
  native?: boolean;
  /** Reads the interface's state (default `interfaceInfo` of @lbkit/afpacket); tests pass a fake. */
  readInterface?: (ifname: string) => InterfaceInfo | undefined;
  /** Period of the native `replies` report in ms (default 1000; only while someone listens to `replies`). */
  replyReportMs?: number;
}

/** Events of {@link NdpInterfaceSpeaker}. */
export interface NdpInterfaceSpeakerEvents {
  /** `ip` was taken. */
  announced: (ip: string) => void;
  /** `ip` was given up. */
  withdrawn: (ip: string) => void;
  /** An unsolicited NA for `ip` went out. */
  na: (ip: string) => void;
  /** An NS for `ip` was answered (JavaScript responder: custom transports or `native: false`). */
  reply: (ip: string) => void;
  /** Native fast path: `count` NS for `ip` were answered since the last report (every `replyReportMs`). */
  replies: (ip: string, count: number) => void;
  /** The interface came (back) up, was re-created or changed MAC: every VIP was re-announced. */
  reannounced: (ips: string[]) => void;
  /** A new socket was opened (interface re-created or MAC changed); groups re-joined with `mac`. */
  reopened: (mac: string) => void;
  /** The interface went down (bursts paused until `up`). */
  down: () => void;
  /** The interface was deleted: its socket was closed; VIPs are kept and announced when it reappears. */
  removed: () => void;
  /** A send or (re)open failed; never thrown from timers or watcher callbacks. */
  error: (err: Error) => void;
}

const ZERO_STATS = (): NdpResponderStats => ({ answered: 0, ignored: 0, malformed: 0, other: 0, wrongGroup: 0, drainReplied: 0, drainIgnored: 0 });

/** What is opened per socket: the transport, the inner speaker on it and the MAC it uses. */
interface Session {
  speaker: NdpSpeaker;
  transport: NdpTransport & { close(): void };
  mac: string;
  native?: NativeResponder;
}

/** Native counters in the shape of {@link NdpResponderStats}. */
function nativeStats(n: NativeResponder): NdpResponderStats {
  const s = n.stats();
  return { answered: s.replied, ignored: s.ignored + s.notOwned, malformed: s.malformed, other: 0, wrongGroup: s.wrongGroup, drainReplied: s.drainReplied, drainIgnored: s.drainIgnored };
}

/**
 * IPv6 half of MetalLB's layer-2 mode on one interface, self-managing: opens an AF_PACKET socket
 * (BPF attached before bind), answers NS for the VIPs it owns (solicited-node groups joined,
 * refcounted) and sends unsolicited NAs when one is taken and whenever the interface comes back.
 * When the interface is deleted the socket is dropped; when one of the same name appears (new
 * ifindex, maybe a new MAC) or the MAC changes, a new socket is opened, every group re-joined and
 * every VIP re-announced with the current MAC.
 */
export class NdpInterfaceSpeaker extends EventEmitter<NdpInterfaceSpeakerEvents> {
  private readonly follower: InterfaceFollower<Session>;
  private readonly ips = new Set<string>();
  private readonly draining = new Set<string>();
  private readonly counters: NdpResponderStats = ZERO_STATS();
  private closed = false;
  private hitsTimer: NodeJS.Timeout | undefined;

  /** @param opts interface, timing, and optional overrides (MAC, link-local, transport) */
  constructor(private readonly opts: NdpInterfaceSpeakerOptions) {
    super();
    this.follower = new InterfaceFollower<Session>({
      ifname: opts.ifname,
      name: 'NdpInterfaceSpeaker',
      watchIntervalMs: opts.watchIntervalMs,
      mac: opts.mac,
      readInterface: opts.readInterface,
      open: (mac) => this.open(mac),
      close: (session) => this.drop(session),
    });
    this.follower.on('reopened', (mac) => {
      this.emit('reopened', mac);
      if (this.follower.usable) this.reannounce();
    });
    this.follower.on('removed', () => this.emit('removed'));
    this.follower.on('up', () => this.reannounce());
    this.follower.on('down', () => {
      this.cur?.speaker.announcer.close(); // NAs cannot leave a down link; 'up' restarts the bursts
      this.emit('down');
    });
    this.follower.on('error', (e) => this.emitError(e));
  }

  /** The current socket and inner speaker (undefined while the interface is absent). */
  private get cur(): Session | undefined {
    return this.follower.session;
  }

  /** Opens the socket and starts following the interface. Throws if the interface cannot be opened. */
  start(): this {
    if (this.closed) throw new Error(`NdpInterfaceSpeaker(${this.opts.ifname}).start: closed`);
    this.follower.start();
    return this;
  }

  private linkLocal(mac: string): string {
    const ll = this.opts.linkLocal;
    const v = typeof ll === 'string' ? ll : typeof ll === 'function' ? ll(this.opts.ifname) : linkLocalOf(this.opts.ifname);
    return v ?? eui64LinkLocal(mac);
  }

  /** Opens a socket and an inner speaker for `mac`, joining every VIP's group; called by the follower. */
  private open(mac: string): Session {
    const ifname = this.opts.ifname;
    let transport: NdpTransport & { close(): void };
    let native: NativeResponder | undefined;
    if (this.opts.openTransport) transport = this.opts.openTransport(ifname);
    else if (this.opts.native !== false) {
      const r = (native = NativeResponder.open({ ifname, family: 6, mac }));
      transport = {
        send: (f) => r.send(f),
        sendBatch: (f: Buffer, len: number) => r.sendBatch(f, len),
        onFrame: () => {}, // answering is native
        addMembership: (m) => r.addMembership(m),
        dropMembership: (m) => r.dropMembership(m),
        close: () => r.close(),
      } as NdpTransport & { close(): void };
    } else {
      const sock = PacketSocket.open({ ifname, protocol: ETH_P_IPV6, filter: icmpv6NsFilter() });
      sock.on('error', (e) => this.emitError(e));
      transport = Object.assign(fromPacketSocket(sock), { close: () => sock.close() });
    }
    try {
      const speaker = new NdpSpeaker({
        transport,
        mac,
        linkLocal: () => this.linkLocal(mac),
        ...(this.opts.intervalMs !== undefined ? { intervalMs: this.opts.intervalMs } : {}),
        ...(this.opts.burstMs !== undefined ? { burstMs: this.opts.burstMs } : {}),
        ...(this.opts.refreshMs !== undefined ? { refreshMs: this.opts.refreshMs } : {}),
        onError: (e) => this.emitError(e),
        onSent: (ip) => this.emit('na', ip),
        onAnswer: (ip) => this.emit('reply', ip),
        ...(native ? { table: native } : {}),
      });
      if (native) {
        clearInterval(this.hitsTimer);
        this.hitsTimer = setInterval(() => this.reportHits(native), this.opts.replyReportMs ?? 1000);
        this.hitsTimer.unref();
      }
      speaker.responder.addMany([...this.ips, ...this.draining]); // joins the solicited-node groups on this socket
      speaker.responder.drainMany(this.draining);
      return { speaker, transport, mac, ...(native ? { native } : {}) };
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  /** Emits `replies` per VIP from the native per-target counters. */
  private reportHits(n: NativeResponder): void {
    if (!n.isOpen || this.listenerCount('replies') === 0) return;
    for (const [b, count] of n.takeHits()) this.emit('replies', formatIPv6(b), count);
  }

  /** Closes the current socket, keeping the VIPs and the cumulative counters. */
  private drop(c: Session | undefined): void {
    if (!c) return;
    clearInterval(this.hitsTimer);
    this.hitsTimer = undefined;
    if (c.native) this.reportHits(c.native);
    const n = c.native?.isOpen ? nativeStats(c.native) : undefined;
    for (const k of Object.keys(this.counters) as (keyof NdpResponderStats)[]) this.counters[k] += c.speaker.responder.stats[k] + (n?.[k] ?? 0);
    c.speaker.close();
    try {
      c.transport.close();
    } catch {
      /* already closed */
    }
  }

  private reannounce(): void {
    const s = this.cur?.speaker;
    if (!s) return;
    s.announceMany(this.ips); // responder.add is idempotent: no second join
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  /** Reports an error, unless the link state explains it (see {@link InterfaceFollower.reportError}). */
  private emitError(err: unknown): void {
    this.follower.reportError(err, (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  /** Takes `ip`: answer its NS and send unsolicited NAs (now if the link is usable, else when it comes up). Throws only for an invalid address. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /**
   * Takes every address of `ips` at once: one table (and kernel filter) update and one batch of
   * unsolicited NAs now and per repeat. A draining address becomes owned again. With
   * `gratuitous: false` only the answering starts. Throws for an invalid address before changing anything.
   */
  announceMany(ips: Iterable<string>, opts: { gratuitous?: boolean } = {}): void {
    const list = [...new Set([...ips].map((ip) => canonicalIPv6(ip, 'ip')))];
    const fresh = list.filter((t) => !this.ips.has(t));
    for (const t of list) {
      this.ips.add(t);
      this.draining.delete(t);
    }
    const s = this.cur?.speaker;
    if (s) {
      if (this.follower.usable && opts.gratuitous !== false) s.announceMany(list);
      else s.responder.addMany(list);
    }
    for (const t of opts.gratuitous === false ? list : fresh.length < list.length ? fresh : list) this.emit('announced', t);
  }

  /**
   * Drain window: stop the unsolicited NAs for `ips` and answer them only to unicast NS (NUD probes
   * from clients that still send to our MAC), never on the solicited-node group, until
   * {@link withdraw}. Addresses not owned are ignored.
   */
  drain(ips: Iterable<string>): void {
    const list = [...ips].map((ip) => canonicalIPv6(ip, 'ip')).filter((t) => this.ips.has(t));
    for (const t of list) {
      this.ips.delete(t);
      this.draining.add(t);
    }
    this.cur?.speaker.drain(list);
  }

  /** Gives `ip` up: stop answering and announcing (leaves its group when no other VIP needs it). */
  withdraw(ip: string): void {
    this.withdrawMany([ip]);
  }

  /** Gives every address of `ips` up (owned or draining). */
  withdrawMany(ips: Iterable<string>): void {
    const gone: string[] = [];
    for (const ip of ips) {
      const t = canonicalIPv6(ip, 'ip');
      const was = this.ips.delete(t);
      if (this.draining.delete(t) || was) gone.push(t);
    }
    this.cur?.speaker.withdrawMany(gone);
    for (const t of gone) this.emit('withdrawn', t);
  }

  /** Addresses in their drain window. */
  drainingAddresses(): string[] {
    return [...this.draining];
  }

  /** The native fast path of the open session (undefined with a custom or JavaScript transport). */
  get fastPath(): NativeResponder | undefined {
    return this.cur?.native;
  }

  /** VIPs owned (kept while the interface is absent). */
  addresses(): string[] {
    return [...this.ips];
  }

  /** MAC currently used ('' while no socket is open). */
  currentMac(): string {
    return this.cur?.mac ?? '';
  }

  /** True while a socket is open. */
  get isOpen(): boolean {
    return this.cur !== undefined;
  }

  /** The current inner speaker (undefined while the interface is absent); replaced on every reopening. */
  get speaker(): NdpSpeaker | undefined {
    return this.cur?.speaker;
  }

  /** Solicited-node MACs joined on the current socket, with their reference counts. */
  memberships(): Map<string, number> {
    return this.cur?.speaker.responder.memberships() ?? new Map();
  }

  /** Responder counters, cumulative over socket reopenings. */
  stats(): NdpResponderStats {
    const out = { ...this.counters };
    const s = this.cur?.speaker.responder.stats;
    const n = this.cur?.native?.isOpen ? nativeStats(this.cur.native) : undefined;
    if (s) for (const k of Object.keys(out) as (keyof NdpResponderStats)[]) out[k] += s[k] + (n?.[k] ?? 0);
    return out;
  }

  /** Stops the watcher and timers and closes the socket. */
  close(): void {
    this.closed = true;
    this.follower.close();
  }
}
