/**
 * NdpInterfaceSpeaker: an {@link NdpSpeaker} that owns its AF_PACKET socket and follows the
 * interface's life (down/up, deletion, re-creation with a new ifindex or MAC, MAC change).
 */
import { EventEmitter } from 'eventemitter3';
import { ETH_P_IPV6, InterfaceWatcher, PacketSocket, icmpv6NsFilter, interfaceInfo, isLinkStateError, type InterfaceInfo } from '@lbkit/afpacket';
import { canonicalIPv6, eui64LinkLocal } from './codec/addr.js';
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
  /** Transport factory (tests); default: `PacketSocket` for EtherType IPv6 with afpacket's NS filter. */
  openTransport?: (ifname: string) => NdpTransport & { close(): void };
  /** Reads the interface's state (default `interfaceInfo` of @lbkit/afpacket); tests pass a fake. */
  readInterface?: (ifname: string) => InterfaceInfo | undefined;
}

/** Events of {@link NdpInterfaceSpeaker}. */
export interface NdpInterfaceSpeakerEvents {
  /** `ip` was taken. */
  announced: (ip: string) => void;
  /** `ip` was given up. */
  withdrawn: (ip: string) => void;
  /** An unsolicited NA for `ip` went out. */
  na: (ip: string) => void;
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

const ZERO_STATS = (): NdpResponderStats => ({ answered: 0, ignored: 0, malformed: 0, other: 0 });

/**
 * IPv6 half of MetalLB's layer-2 mode on one interface, self-managing: opens an AF_PACKET socket
 * (BPF attached before bind), answers NS for the VIPs it owns (solicited-node groups joined,
 * refcounted) and sends unsolicited NAs when one is taken and whenever the interface comes back.
 * When the interface is deleted the socket is dropped; when one of the same name appears (new
 * ifindex, maybe a new MAC) or the MAC changes, a new socket is opened, every group re-joined and
 * every VIP re-announced with the current MAC.
 */
export class NdpInterfaceSpeaker extends EventEmitter<NdpInterfaceSpeakerEvents> {
  private cur: { speaker: NdpSpeaker; transport: NdpTransport & { close(): void }; mac: string } | undefined;
  private watcher: InterfaceWatcher | undefined;
  private readonly ips = new Set<string>();
  private readonly counters: NdpResponderStats = ZERO_STATS();
  private usable = true;
  private closed = false;
  private readonly linkErrors: Error[] = [];

  /** @param opts interface, timing, and optional overrides (MAC, link-local, transport) */
  constructor(private readonly opts: NdpInterfaceSpeakerOptions) {
    super();
  }

  private readIface(): InterfaceInfo | undefined {
    return (this.opts.readInterface ?? interfaceInfo)(this.opts.ifname);
  }

  /** Opens the socket and starts following the interface. Throws if the interface cannot be opened. */
  start(): this {
    if (this.closed) throw new Error(`NdpInterfaceSpeaker(${this.opts.ifname}).start: closed`);
    this.open();
    const ms = this.opts.watchIntervalMs ?? 500;
    if (ms > 0 && !this.watcher) {
      const w = new InterfaceWatcher(this.opts.ifname, { intervalMs: ms, read: () => this.readIface() });
      w.on('new', () => this.reopen());
      w.on('mac', () => {
        if (typeof this.opts.mac !== 'string') this.reopen();
      });
      w.on('removed', () => {
        this.drop();
        this.emit('removed');
      });
      w.on('up', () => {
        this.usable = true;
        this.reannounce();
      });
      w.on('down', () => {
        this.usable = false;
        this.cur?.speaker.announcer.close(); // NAs cannot leave a down link; 'up' restarts the bursts
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

  private linkLocal(mac: string): string {
    const ll = this.opts.linkLocal;
    const v = typeof ll === 'string' ? ll : typeof ll === 'function' ? ll(this.opts.ifname) : linkLocalOf(this.opts.ifname);
    return v ?? eui64LinkLocal(mac);
  }

  private open(): void {
    const ifname = this.opts.ifname;
    const found = this.resolveMac();
    if (!found) throw new Error(`NdpInterfaceSpeaker: interface ${ifname} not found`);
    const mac = found.toLowerCase();
    let transport: NdpTransport & { close(): void };
    if (this.opts.openTransport) transport = this.opts.openTransport(ifname);
    else {
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
      });
      this.cur = { speaker, transport, mac };
      for (const ip of this.ips) speaker.responder.add(ip); // joins the solicited-node groups on this socket
    } catch (err) {
      this.cur = undefined;
      transport.close();
      throw err;
    }
  }

  /** Closes the current socket, keeping the VIPs and the cumulative counters. */
  private drop(): void {
    const c = this.cur;
    if (!c) return;
    this.cur = undefined;
    for (const k of Object.keys(this.counters) as (keyof NdpResponderStats)[]) this.counters[k] += c.speaker.responder.stats[k];
    c.speaker.close();
    try {
      c.transport.close();
    } catch {
      /* already closed */
    }
  }

  private reopen(): void {
    if (this.closed) return;
    this.drop();
    try {
      this.open();
    } catch (err) {
      this.emitError(err);
      return;
    }
    this.emit('reopened', this.cur!.mac);
    if (this.usable) this.reannounce();
  }

  private reannounce(): void {
    const s = this.cur?.speaker;
    if (!s) return;
    for (const ip of this.ips) s.announce(ip); // responder.add is idempotent: no second join
    if (this.ips.size > 0) this.emit('reannounced', [...this.ips]);
  }

  private emitError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!this.watcher || !isLinkStateError(e)) {
      if (this.listenerCount('error') > 0) this.emit('error', e);
      return;
    }
    // ENETDOWN / ENXIO / ENODEV: the watcher has probably not noticed the link going down or the
    // interface being deleted yet. Poll now; report only if it still looks usable on the same socket.
    this.linkErrors.push(e);
    if (this.linkErrors.length > 1) return;
    const cur = this.cur;
    setImmediate(() => {
      const errs = this.linkErrors.splice(0);
      if (this.closed) return;
      this.watcher?.poll();
      if (this.usable && this.cur !== undefined && this.cur === cur && this.listenerCount('error') > 0) for (const x of errs) this.emit('error', x);
    }).unref();
  }

  /** Takes `ip`: answer its NS and send unsolicited NAs (now if the link is usable, else when it comes up). Throws only for an invalid address. */
  announce(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    this.ips.add(t);
    const s = this.cur?.speaker;
    if (s) {
      if (this.usable) s.announce(t);
      else s.responder.add(t);
    }
    this.emit('announced', t);
  }

  /** Gives `ip` up: stop answering and announcing (leaves its group when no other VIP needs it). */
  withdraw(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    if (!this.ips.delete(t)) return;
    this.cur?.speaker.withdraw(t);
    this.emit('withdrawn', t);
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
    if (s) for (const k of Object.keys(out) as (keyof NdpResponderStats)[]) out[k] += s[k];
    return out;
  }

  /** Stops the watcher and timers and closes the socket. */
  close(): void {
    this.closed = true;
    this.watcher?.stop();
    this.drop();
  }
}
