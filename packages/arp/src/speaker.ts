import { EventEmitter } from 'eventemitter3';
import {
  InterfaceWatcher,
  PacketSocket,
  arpRequestFilter,
  interfaceInfo,
  isLinkStateError,
  ETH_P_ARP,
  type InterfaceInfo,
  type L2Transport,
} from '@lbkit/afpacket';
import { GratuitousAnnouncer, type GratuitousOptions } from './announcer.js';
import { ArpResponder, type ArpResponderStats } from './responder.js';

/** Options of {@link ArpSpeaker}. */
export interface ArpSpeakerOptions extends GratuitousOptions {
  /** Interface to announce on. */
  ifname: string;
  /** Interface poll period for the watcher in ms (default 500); 0 disables the watcher. */
  watchIntervalMs?: number;
  /** Custom transport factory (tests); default opens an AF_PACKET socket with an ARP-request filter. */
  openTransport?: (ifname: string) => L2Transport & { close(): void };
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
  /** A request was answered. */
  reply: (ip: string, requester: string) => void;
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
  private watcher: InterfaceWatcher | undefined;
  private readonly ips = new Set<string>();
  private mac = '';
  private usable = true;
  private closed = false;
  private counters: ArpResponderStats | undefined;
  private readonly linkErrors: Error[] = [];

  /** @param opts interface, GARP timing and optional overrides (MAC, transport, interface reader); call {@link start}. */
  constructor(private readonly opts: ArpSpeakerOptions) {
    super();
  }

  private readIface(): InterfaceInfo | undefined {
    return (this.opts.readInterface ?? interfaceInfo)(this.opts.ifname);
  }

  /** Opens the socket and starts the watcher. Throws if the interface cannot be opened. */
  start(): this {
    this.open();
    const ms = this.opts.watchIntervalMs ?? 500;
    if (ms > 0) {
      const w = new InterfaceWatcher(this.opts.ifname, { intervalMs: ms, read: () => this.readIface() });
      w.on('new', () => this.reopen());
      w.on('mac', () => {
        if (typeof this.opts.mac !== 'string') this.reopen(); // a fixed MAC does not follow the interface
      });
      w.on('removed', () => {
        this.closeTransport();
        this.emit('removed');
      });
      w.on('up', () => {
        this.usable = true;
        this.reannounce();
      });
      w.on('down', () => {
        this.usable = false;
        this.announcer?.stop(); // frames cannot leave a down link; 'up' restarts the burst
        this.emit('down');
      });
      w.start();
      const info = this.readIface();
      this.usable = info ? info.up && info.carrier : true;
      this.watcher = w;
    }
    return this;
  }

  private resolveMac(): string | undefined {
    const m = this.opts.mac;
    if (typeof m === 'string') return m;
    if (typeof m === 'function') return m(this.opts.ifname);
    return this.readIface()?.mac;
  }

  private open(): void {
    const ifname = this.opts.ifname;
    const mac = this.resolveMac();
    if (!mac) throw new Error(`ArpSpeaker: interface ${ifname} not found`);
    this.mac = mac.toLowerCase();
    const t = this.opts.openTransport
      ? this.opts.openTransport(ifname)
      : PacketSocket.open({ ifname, protocol: ETH_P_ARP, filter: arpRequestFilter() });
    if (t instanceof PacketSocket) t.on('error', (e) => this.emit('error', e));
    this.transport = t;
    this.responder = new ArpResponder(t, this.mac).start();
    Object.assign(this.responder.stats, this.counters); // counters stay cumulative across reopenings
    this.responder.on('reply', (ip, who) => this.emit('reply', ip, who));
    this.responder.on('error', (e) => this.sendFailed(e));
    this.announcer = new GratuitousAnnouncer(t, this.mac, this.opts);
    this.announcer.on('sent', (ip) => this.emit('garp', ip));
    this.announcer.on('error', (e) => this.sendFailed(e));
    for (const ip of this.ips) this.responder.add(ip);
  }

  /**
   * Reports a send error. A link-state error (ENETDOWN, ENXIO/ENODEV) usually means the watcher has
   * not noticed yet that the link went down or the interface was deleted: poll it now, and report the
   * error only if the interface still looks usable on the same socket afterwards.
   */
  private sendFailed(err: Error): void {
    if (!this.watcher || !isLinkStateError(err)) {
      this.emit('error', err);
      return;
    }
    this.linkErrors.push(err);
    if (this.linkErrors.length > 1) return; // a poll is already queued
    const transport = this.transport;
    setImmediate(() => {
      const errs = this.linkErrors.splice(0);
      if (this.closed) return;
      this.watcher?.poll();
      if (this.usable && this.transport !== undefined && this.transport === transport) for (const e of errs) this.emit('error', e);
    }).unref();
  }

  private closeTransport(): void {
    if (this.responder) this.counters = { ...this.responder.stats };
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
  }

  /** New ifindex or new MAC: fresh socket + BPF; re-announce now if the link is usable, else on `up`. */
  private reopen(): void {
    if (this.closed) return;
    this.closeTransport();
    try {
      this.open();
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.emit('reopened', this.mac);
    if (this.usable) this.reannounce();
  }

  private reannounce(): void {
    if (!this.announcer) return;
    for (const ip of this.ips) this.announcer.announce(ip);
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  /** Takes `ip`: answer ARP for it and send gratuitous ARP now (then the burst). While the interface is absent the address is kept and announced when it reappears. */
  announce(ip: string): void {
    this.responder?.add(ip);
    this.ips.add(ip);
    if (this.usable) this.announcer?.announce(ip);
    this.emit('announced', ip);
  }

  /** Releases `ip`: stop answering and stop its GARPs. */
  withdraw(ip: string): void {
    if (!this.ips.delete(ip)) return;
    this.responder?.remove(ip);
    this.announcer?.cancel(ip);
    this.emit('withdrawn', ip);
  }

  /** Announced addresses. */
  addresses(): string[] {
    return [...this.ips];
  }

  /** MAC the speaker currently answers and announces with ('' before start). */
  currentMac(): string {
    return this.mac;
  }

  /** True while a socket is open (false after the interface was deleted, until it reappears). */
  get isOpen(): boolean {
    return this.transport !== undefined;
  }

  /** Responder counters, cumulative over socket reopenings (undefined before start). */
  stats(): ArpResponderStats | undefined {
    return this.responder?.stats ?? (this.counters ? { ...this.counters } : undefined);
  }

  /** Stops everything and closes the socket. */
  close(): void {
    this.closed = true;
    this.watcher?.stop();
    this.closeTransport();
  }
}
