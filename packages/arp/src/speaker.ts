import { EventEmitter } from 'eventemitter3';
import { InterfaceWatcher, PacketSocket, arpRequestFilter, interfaceInfo, ETH_P_ARP, type L2Transport } from '@lbkit/afpacket';
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
  /** MAC to use; default read from the interface. */
  mac?: string;
}

/** Events of {@link ArpSpeaker}. */
export interface ArpSpeakerEvents {
  announced: (ip: string) => void;
  withdrawn: (ip: string) => void;
  /** A GARP frame went out. */
  garp: (ip: string) => void;
  /** A request was answered. */
  reply: (ip: string, requester: string) => void;
  /** Interface came (back) up or was re-created; all addresses were re-announced. */
  reannounced: (ips: string[]) => void;
  /** Interface went down. */
  down: () => void;
  error: (err: Error) => void;
}

/**
 * MetalLB-style layer-2 announcement of IPv4 addresses on one interface: answers ARP requests for
 * announced addresses and sends gratuitous ARP when one is taken, and again whenever the
 * interface comes up or is re-created (socket reopened on a new ifindex).
 */
export class ArpSpeaker extends EventEmitter<ArpSpeakerEvents> {
  private transport: (L2Transport & { close(): void }) | undefined;
  private responder: ArpResponder | undefined;
  private announcer: GratuitousAnnouncer | undefined;
  private watcher: InterfaceWatcher | undefined;
  private readonly ips = new Set<string>();
  private mac = '';

  constructor(private readonly opts: ArpSpeakerOptions) {
    super();
  }

  /** Opens the socket and starts the watcher. Throws if the interface cannot be opened. */
  start(): this {
    this.open();
    const ms = this.opts.watchIntervalMs ?? 500;
    if (ms > 0) {
      this.watcher = new InterfaceWatcher(this.opts.ifname, { intervalMs: ms });
      this.watcher.on('new', () => this.reopen());
      this.watcher.on('up', () => this.reannounce());
      this.watcher.on('down', () => {
        this.announcer?.stop(); // frames cannot leave a down link; 'up' restarts the burst
        this.emit('down');
      });
      this.watcher.start();
    }
    return this;
  }

  private open(): void {
    const ifname = this.opts.ifname;
    const mac = this.opts.mac ?? interfaceInfo(ifname)?.mac;
    if (!mac) throw new Error(`ArpSpeaker: interface ${ifname} not found`);
    this.mac = mac;
    const t = this.opts.openTransport
      ? this.opts.openTransport(ifname)
      : PacketSocket.open({ ifname, protocol: ETH_P_ARP, filter: arpRequestFilter() });
    if (t instanceof PacketSocket) t.on('error', (e) => this.emit('error', e));
    this.transport = t;
    this.responder = new ArpResponder(t, mac).start();
    this.responder.on('reply', (ip, who) => this.emit('reply', ip, who));
    this.responder.on('error', (e) => this.emit('error', e));
    this.announcer = new GratuitousAnnouncer(t, mac, this.opts);
    this.announcer.on('sent', (ip) => this.emit('garp', ip));
    this.announcer.on('error', (e) => this.emit('error', e));
    for (const ip of this.ips) this.responder.add(ip);
  }

  private closeTransport(): void {
    this.announcer?.stop();
    this.responder?.stop();
    try {
      this.transport?.close();
    } catch {
      /* already closed */
    }
    this.transport = undefined;
  }

  private reopen(): void {
    this.closeTransport();
    try {
      this.open();
      this.reannounce();
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private reannounce(): void {
    for (const ip of this.ips) this.announcer?.announce(ip);
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  /** Takes `ip`: answer ARP for it and send gratuitous ARP now (then the burst). */
  announce(ip: string): void {
    this.responder?.add(ip);
    this.ips.add(ip);
    this.announcer?.announce(ip);
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

  /** Responder counters (undefined before start). */
  stats(): ArpResponderStats | undefined {
    return this.responder?.stats;
  }

  /** Stops everything and closes the socket. */
  close(): void {
    this.watcher?.stop();
    this.closeTransport();
  }
}
