/**
 * One interface of the lbkit L2 backend: an `ArpSpeaker` (@lbkit/arp) for IPv4 VIPs and an
 * `NdpSpeaker` (@lbkit/ndp) over an AF_PACKET socket for IPv6 VIPs, each opened on first use.
 * The NDP socket is reopened when the interface is re-created (ifindex change) and every VIP is
 * re-announced when the link comes back; the ArpSpeaker does both itself.
 */
import { ArpSpeaker } from '@lbkit/arp';
import { ETH_P_IPV6, InterfaceWatcher, PacketSocket, icmpv6NsFilter, interfaceInfo, type L2Transport } from '@lbkit/afpacket';
import { NdpSpeaker, fromPacketSocket, linkLocalOf, tryDecode, type NdpTransport, type PacketSocketLike } from '@lbkit/ndp';
import { errMsg } from '../errors.js';
import type { Logger } from '../log.js';

/** Transport factories (tests pass fakes; the default opens AF_PACKET sockets, CAP_NET_RAW). */
export interface L2Transports {
  /** ARP transport bound to `ifname` (default: ETH_P_ARP socket with an ARP-request filter). */
  arp?: (ifname: string) => L2Transport & { close(): void };
  /** IPv6 transport bound to `ifname` (default: ETH_P_IPV6 socket with an NS filter). */
  ndp?: (ifname: string) => PacketSocketLike & { close(): void };
  /** MAC of `ifname` (default: read from /sys/class/net). */
  mac?: (ifname: string) => string | undefined;
}

/** Options of {@link L2Interface}. */
export interface L2InterfaceOptions {
  log: Logger;
  /** Called for every gratuitous ARP / unsolicited NA sent. */
  onGratuitous?: (ip: string) => void;
  transports?: L2Transports;
  /** Interface poll period in ms (default 500; 0 disables link/re-creation handling). */
  watchIntervalMs?: number;
  /** Gap between gratuitous repeats in ms (default 1100, MetalLB). */
  repeatIntervalMs?: number;
  /** How long gratuitous packets are repeated after a takeover, in ms (default 5000, MetalLB). */
  repeatForMs?: number;
}

/** Drop counters of one interface. */
export interface L2InterfaceStats {
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

/** EUI-64 link-local address from a MAC (fallback when the interface has none yet). */
function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const g = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `fe80::${g(b[0]! ^ 2, b[1]!)}:${g(b[2]!, 0xff)}:${g(0xfe, b[3]!)}:${g(b[4]!, b[5]!)}`;
}

/** ARP + NDP speakers of one interface. */
export class L2Interface {
  private arp: ArpSpeaker | undefined;
  private ndp: { sock: PacketSocketLike & { close(): void }; speaker: NdpSpeaker } | undefined;
  private ndpWatcher: InterfaceWatcher | undefined;
  private readonly v6 = new Set<string>();
  private closed = false;

  /** @param ifname interface name; @param opts logger, callbacks, transports and timing */
  constructor(readonly ifname: string, private readonly opts: L2InterfaceOptions) {}

  private mac(): string {
    const mac = this.opts.transports?.mac ? this.opts.transports.mac(this.ifname) : interfaceInfo(this.ifname)?.mac;
    if (!mac) throw new Error(`lbkit-l2: interface ${this.ifname} not found`);
    return mac;
  }

  private openArp(): ArpSpeaker {
    if (this.arp) return this.arp;
    const log = this.opts.log;
    const open = this.opts.transports?.arp;
    const mac = this.mac(); // fails early, naming the interface, when it does not exist
    const s = new ArpSpeaker({
      ifname: this.ifname,
      // a fixed MAC only for injected transports: otherwise ArpSpeaker re-reads it when the interface is re-created
      ...(this.opts.transports?.mac ? { mac } : {}),
      watchIntervalMs: this.opts.watchIntervalMs ?? 500,
      repeatIntervalMs: this.opts.repeatIntervalMs ?? 1100,
      repeatForMs: this.opts.repeatForMs ?? 5000,
      ...(open ? { openTransport: open } : {}),
    });
    s.on('error', (e) => log.log('warn', 'ARP error', { interface: this.ifname, err: errMsg(e) }));
    s.on('garp', (ip) => this.opts.onGratuitous?.(ip));
    s.on('down', () => log.log('warn', 'interface down, ARP announcements paused', { interface: this.ifname }));
    s.on('reannounced', (ips) => log.log('info', 'interface back, IPv4 VIPs re-announced', { interface: this.ifname, ips }));
    s.start();
    this.arp = s;
    return s;
  }

  private openNdp(): NdpSpeaker {
    if (this.ndp) return this.ndp.speaker;
    const mac = this.mac();
    const sock = this.opts.transports?.ndp ? this.opts.transports.ndp(this.ifname) : PacketSocket.open({ ifname: this.ifname, protocol: ETH_P_IPV6, filter: icmpv6NsFilter() });
    if (sock instanceof PacketSocket) sock.on('error', (e) => this.opts.log.log('warn', 'NDP socket error', { interface: this.ifname, err: errMsg(e) }));
    const inner = fromPacketSocket(sock);
    // count unsolicited NAs (the IPv6 gratuitous packets) for metrics
    const transport: NdpTransport = {
      ...inner,
      send: (frame) => {
        inner.send(frame);
        if (!this.opts.onGratuitous || frame[0] !== 0x33 || frame[1] !== 0x33) return;
        const r = tryDecode(frame);
        if (r.ok && r.msg.type === 'na' && !r.msg.solicited) this.opts.onGratuitous(r.msg.target);
      },
    };
    const speaker = new NdpSpeaker({
      transport,
      mac,
      linkLocal: () => linkLocalOf(this.ifname) ?? eui64LinkLocal(mac),
      intervalMs: this.opts.repeatIntervalMs ?? 1100,
      burstMs: this.opts.repeatForMs ?? 5000,
      onError: (e) => this.opts.log.log('warn', 'NDP send failed', { interface: this.ifname, err: errMsg(e) }),
    });
    this.ndp = { sock, speaker };
    const ms = this.opts.watchIntervalMs ?? 500;
    if (ms > 0 && !this.ndpWatcher) {
      const w = new InterfaceWatcher(this.ifname, { intervalMs: ms });
      w.on('new', () => this.reopenNdp());
      w.on('up', () => {
        this.ndp?.speaker.linkUp();
        if (this.v6.size) this.opts.log.log('info', 'interface back, IPv6 VIPs re-announced', { interface: this.ifname, ips: [...this.v6] });
      });
      w.on('down', () => this.opts.log.log('warn', 'interface down', { interface: this.ifname }));
      w.start();
      this.ndpWatcher = w;
    }
    return speaker;
  }

  private closeNdp(): void {
    if (!this.ndp) return;
    this.ndp.speaker.close();
    try {
      this.ndp.sock.close();
    } catch {
      /* already closed */
    }
    this.ndp = undefined;
  }

  /** The interface was re-created: the old socket is bound to a dead ifindex. */
  private reopenNdp(): void {
    if (this.closed || !this.ndp) return;
    this.closeNdp();
    try {
      const s = this.openNdp();
      for (const ip of this.v6) s.announce(ip);
      this.opts.log.log('info', 'interface re-created, NDP socket reopened', { interface: this.ifname, ips: [...this.v6] });
    } catch (e) {
      this.opts.log.log('error', 'cannot reopen the NDP socket', { interface: this.ifname, err: errMsg(e) });
    }
  }

  /** Starts answering for `ip` here and sends gratuitous packets. Throws when the socket cannot be opened. */
  announce(ip: string): void {
    if (this.closed) throw new Error(`lbkit-l2: interface ${this.ifname} is closed`);
    if (ip.includes(':')) {
      this.openNdp().announce(ip);
      this.v6.add(ip);
    } else this.openArp().announce(ip);
  }

  /** Stops answering for `ip` here. */
  withdraw(ip: string): void {
    if (ip.includes(':')) {
      if (this.v6.delete(ip)) this.ndp?.speaker.withdraw(ip);
    } else this.arp?.withdraw(ip);
  }

  /** VIPs announced here. */
  addresses(): string[] {
    return [...(this.arp?.addresses() ?? []), ...this.v6];
  }

  /** Counters of dropped and answered frames. */
  stats(): L2InterfaceStats {
    const a = this.arp?.stats();
    const n = this.ndp?.speaker.responder;
    return {
      interface: this.ifname,
      arpMalformed: a?.malformed ?? 0,
      arpReplied: a?.replied ?? 0,
      ndpMalformed: n?.stats.malformed ?? 0,
      ndpAnswered: n?.stats.answered ?? 0,
      ...(n?.lastError ? { ndpLastError: n.lastError.message } : {}),
    };
  }

  /** Closes sockets and timers. */
  close(): void {
    this.closed = true;
    this.ndpWatcher?.stop();
    this.arp?.close();
    this.arp = undefined;
    this.closeNdp();
  }
}
