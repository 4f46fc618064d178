import { EventEmitter } from 'eventemitter3';
import {
  InterfaceFollower,
  PacketSocket,
  arpRequestFilter,
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
  private readonly follower: InterfaceFollower<L2Transport & { close(): void }>;
  private readonly ips = new Set<string>();
  private mac = '';
  private counters: ArpResponderStats | undefined;

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
    return t;
  }

  /** Reports a send error, unless the link state explains it (see {@link InterfaceFollower.reportError}). */
  private sendFailed(err: Error): void {
    this.follower.reportError(err, (e) => this.emit('error', e));
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

  private reannounce(): void {
    if (!this.announcer) return;
    for (const ip of this.ips) this.announcer.announce(ip);
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  /** Takes `ip`: answer ARP for it and send gratuitous ARP now (then the burst). While the interface is absent the address is kept and announced when it reappears. */
  announce(ip: string): void {
    this.responder?.add(ip);
    this.ips.add(ip);
    if (this.follower.usable) this.announcer?.announce(ip);
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
    this.follower.close();
  }
}
