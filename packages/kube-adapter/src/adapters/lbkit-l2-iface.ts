/**
 * One interface of the lbkit L2 backend: an `ArpSpeaker` (@lbkit/arp) for IPv4 VIPs and an
 * `NdpInterfaceSpeaker` (@lbkit/ndp) for IPv6 VIPs, each started on first use. Following the
 * interface (down/up, deletion, re-creation with a new ifindex or MAC, MAC change) is the
 * speakers' own job; this file only configures them, turns their events into log lines and
 * metrics, and merges their counters.
 */
import { ArpSpeaker } from '@lbkit/arp';
import type { InterfaceInfo, L2Transport } from '@lbkit/afpacket';
import { NdpInterfaceSpeaker, fromPacketSocket, type PacketSocketLike } from '@lbkit/ndp';
import { errMsg } from '../errors.js';
import type { Logger } from '../log.js';

/** Transport factories and interface reader (tests pass fakes; the default opens AF_PACKET sockets, CAP_NET_RAW). */
export interface L2Transports {
  /** ARP transport bound to `ifname` (default: ETH_P_ARP socket with an ARP-request filter). */
  arp?: (ifname: string) => L2Transport & { close(): void };
  /** IPv6 transport bound to `ifname` (default: ETH_P_IPV6 socket with an NS filter). */
  ndp?: (ifname: string) => PacketSocketLike & { close(): void };
  /**
   * MAC of `ifname`, asked again each time a socket is (re)opened, so a re-created interface is
   * announced with its new MAC (default: the interface's current MAC).
   */
  mac?: (ifname: string) => string | undefined;
  /** Reads the interface's state: ifindex, MAC, up/carrier (default `interfaceInfo` of @lbkit/afpacket, from /sys). */
  readInterface?: (ifname: string) => InterfaceInfo | undefined;
}

/** Options of {@link L2Interface}. */
export interface L2InterfaceOptions {
  /** Receives the interface's events (down, re-created, errors). */
  log: Logger;
  /** Called for every gratuitous ARP / unsolicited NA sent. */
  onGratuitous?: (ip: string) => void;
  /** Called for every ARP request / NS for an owned VIP that was answered (metrics). */
  onReply?: (ip: string, count?: number) => void;
  /** Socket factories and interface reader (tests). */
  transports?: L2Transports;
  /** Interface poll period in ms (default 500; 0 disables link/re-creation handling). */
  watchIntervalMs?: number;
  /** Gap between gratuitous repeats in ms (default 1100, MetalLB). */
  repeatIntervalMs?: number;
  /** How long gratuitous packets are repeated after a takeover, in ms (default 5000, MetalLB). */
  repeatForMs?: number;
}

/** Drop counters of one interface (cumulative over socket reopenings). */
export interface L2InterfaceStats {
  /** Interface name. */
  interface: string;
  /** ARP frames that failed to decode (counted and dropped). */
  arpMalformed: number;
  /** ARP requests answered. */
  arpReplied: number;
  /** NDP frames that failed validation (counted and dropped). */
  ndpMalformed: number;
  /** Neighbour solicitations answered. */
  ndpAnswered: number;
  /** Last NDP validation error, if any. */
  ndpLastError?: string;
}

/** ARP + NDP speakers of one interface. */
export class L2Interface {
  private arp: ArpSpeaker | undefined;
  private ndp: NdpInterfaceSpeaker | undefined;
  private ndpLastError: string | undefined;
  private closed = false;

  /** @param ifname interface name; @param opts logger, callbacks, transports and timing */
  constructor(readonly ifname: string, private readonly opts: L2InterfaceOptions) {}

  /** Options both speakers share: interface, watcher period, MAC source, interface reader. */
  private common() {
    const t = this.opts.transports;
    return {
      ifname: this.ifname,
      watchIntervalMs: this.opts.watchIntervalMs ?? 500,
      // a function (never a fixed string): the MAC is re-read whenever the socket is reopened
      ...(t?.mac ? { mac: t.mac } : {}),
      ...(t?.readInterface ? { readInterface: t.readInterface } : {}),
    };
  }

  private openArp(): ArpSpeaker {
    if (this.arp) return this.arp;
    const log = this.opts.log;
    const at = { interface: this.ifname, protocol: 'arp' };
    const open = this.opts.transports?.arp;
    const s = new ArpSpeaker({
      ...this.common(),
      repeatIntervalMs: this.opts.repeatIntervalMs ?? 1100,
      repeatForMs: this.opts.repeatForMs ?? 5000,
      ...(open ? { openTransport: open } : {}),
    });
    s.on('error', (e) => log.log('warn', 'ARP error', { ...at, err: errMsg(e) }));
    s.on('garp', (ip) => this.opts.onGratuitous?.(ip));
    s.on('reply', (ip) => this.opts.onReply?.(ip));
    // native fast path: per-VIP counts, reported once a second instead of a JavaScript call per reply
    s.on('replies', (ip, n) => this.opts.onReply?.(ip, n));
    s.on('down', () => log.log('warn', 'interface down, announcements paused', at));
    s.on('removed', () => log.log('warn', 'interface deleted, ARP socket closed', { ...at, ips: s.addresses() }));
    s.on('reopened', (mac) => log.log('info', 'interface re-created, ARP socket reopened', { ...at, mac, ips: s.addresses() }));
    s.on('reannounced', (ips) => log.log('info', 'interface back, IPv4 VIPs re-announced', { ...at, mac: s.currentMac(), ips }));
    s.start(); // throws (naming the interface) when it does not exist or the socket cannot be opened
    this.arp = s;
    return s;
  }

  private openNdp(): NdpInterfaceSpeaker {
    if (this.ndp) return this.ndp;
    const log = this.opts.log;
    const at = { interface: this.ifname, protocol: 'ndp' };
    const open = this.opts.transports?.ndp;
    const s = new NdpInterfaceSpeaker({
      ...this.common(),
      intervalMs: this.opts.repeatIntervalMs ?? 1100,
      burstMs: this.opts.repeatForMs ?? 5000,
      ...(open
        ? {
            openTransport: (i: string) => {
              const sock = open(i);
              return Object.assign(fromPacketSocket(sock), { close: () => sock.close() });
            },
          }
        : {}),
    });
    s.on('error', (e) => log.log('warn', 'NDP error', { ...at, err: errMsg(e) }));
    s.on('na', (ip) => this.opts.onGratuitous?.(ip));
    s.on('reply', (ip) => this.opts.onReply?.(ip));
    // native fast path: per-VIP counts, reported once a second (as for ARP)
    s.on('replies', (ip, n) => this.opts.onReply?.(ip, n));
    s.on('down', () => {
      this.rememberNdpError(); // before a deletion or re-creation replaces the inner responder
      log.log('warn', 'interface down, announcements paused', at);
    });
    s.on('removed', () => log.log('warn', 'interface deleted, NDP socket closed', { ...at, ips: s.addresses() }));
    s.on('reopened', (mac) => log.log('info', 'interface re-created, NDP socket reopened', { ...at, mac, ips: s.addresses() }));
    s.on('reannounced', (ips) => log.log('info', 'interface back, IPv6 VIPs re-announced', { ...at, mac: s.currentMac(), ips }));
    s.start();
    this.ndp = s;
    return s;
  }

  /** Keeps the last NDP decode error across socket reopenings (the inner responder is replaced). */
  private rememberNdpError(): void {
    const e = this.ndp?.speaker?.responder.lastError;
    if (e) this.ndpLastError = e.message;
  }

  /** Starts answering for `ip` here and sends gratuitous packets. Throws when the interface or its socket cannot be opened. */
  announce(ip: string): void {
    this.announceMany([ip]);
  }

  /** Opens the speakers the families of `ips` need (no announcement). Throws when the interface or its socket cannot be opened. */
  open(ips: readonly string[]): void {
    if (this.closed) throw new Error(`lbkit-l2: interface ${this.ifname} is closed`);
    if (ips.some((ip) => ip.includes(':'))) this.openNdp();
    if (ips.some((ip) => !ip.includes(':'))) this.openArp();
  }

  /**
   * Starts answering for every VIP of `ips` here and sends their gratuitous packets as one batch per
   * family (one table/filter update, one burst, one repeat timer); `gratuitous: false` starts only the
   * answering. Throws when a socket cannot be opened.
   */
  announceMany(ips: readonly string[], opts: { gratuitous?: boolean } = {}): void {
    this.open(ips);
    const v6 = ips.filter((ip) => ip.includes(':'));
    const v4 = ips.filter((ip) => !ip.includes(':'));
    if (v4.length > 0) this.openArp().announceMany(v4, opts);
    if (v6.length > 0) this.openNdp().announceMany(v6, opts);
  }

  /** Drain window for `ips`: gratuitous packets stop, only unicast ARP requests / NS are answered. */
  drain(ips: readonly string[]): void {
    this.arp?.drain(ips.filter((ip) => !ip.includes(':')));
    this.ndp?.drain(ips.filter((ip) => ip.includes(':')));
  }

  /** Stops answering for `ip` here (also ends its drain window). */
  withdraw(ip: string): void {
    if (ip.includes(':')) this.ndp?.withdraw(ip);
    else this.arp?.withdraw(ip);
  }

  /** VIPs announced here (kept while the interface is absent). */
  addresses(): string[] {
    return [...(this.arp?.addresses() ?? []), ...(this.ndp?.addresses() ?? [])];
  }

  /** Counters of dropped and answered frames, cumulative over socket reopenings. */
  stats(): L2InterfaceStats {
    const a = this.arp?.stats();
    const n = this.ndp?.stats();
    this.rememberNdpError();
    return {
      interface: this.ifname,
      arpMalformed: a?.malformed ?? 0,
      arpReplied: a?.replied ?? 0,
      ndpMalformed: n?.malformed ?? 0,
      ndpAnswered: n?.answered ?? 0,
      ...(this.ndpLastError ? { ndpLastError: this.ndpLastError } : {}),
    };
  }

  /** Stops both speakers (watchers, timers) and closes their sockets. */
  close(): void {
    this.closed = true;
    this.arp?.close();
    this.arp = undefined;
    this.ndp?.close();
    this.ndp = undefined;
  }
}
