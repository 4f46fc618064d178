/**
 * L2 backend on lbkit's own packages: the elected node answers ARP (@lbkit/arp `ArpSpeaker`) for
 * IPv4 VIPs and neighbour solicitations (@lbkit/ndp `NdpInterfaceSpeaker`) for IPv6 VIPs from user
 * space, over AF_PACKET sockets, and sends gratuitous ARP / unsolicited NA at MetalLB's timing (at
 * once, then every 1.1 s for 5 s). The VIP is never added to the NIC (like MetalLB). Needs
 * CAP_NET_RAW. Both speakers follow their interface: after a deletion and re-creation (new ifindex,
 * new MAC) or a MAC change they reopen their socket and re-announce with the current MAC.
 * Malformed frames are counted and dropped by the responders; the counts are logged per interface.
 */
import { errMsg } from '../errors.js';
import { parseIP } from '../ip.js';
import { nullLogger, type Logger } from '../log.js';
import type { L2Announcer } from '../speaker.js';
import { eligibleInterfaces } from './kernel-l2.js';
import { L2Interface, type L2InterfaceStats, type L2Transports } from './lbkit-l2-iface.js';

/** True: this backend is integrated. */
export const INTEGRATED = true;

/** Options of {@link LbkitL2Announcer}. */
export interface LbkitL2Options {
  /** Restrict announcements to these interfaces (`--interface`; empty = every eligible interface). */
  interfaces?: string[];
  /** Logger (default: discards). */
  log?: Logger;
  /** Called per gratuitous ARP / unsolicited NA sent (metrics). */
  onGratuitous?: (ip: string) => void;
  /** Lists the eligible interfaces (default {@link eligibleInterfaces}: up, ARP-capable, not enslaved). */
  listInterfaces?: () => string[];
  /** Socket factories and interface reader (tests); default AF_PACKET and /sys/class/net. */
  transports?: L2Transports;
  /** Interface poll period in ms (default 500; 0 disables following down/up, deletion and re-creation). */
  watchIntervalMs?: number;
  /** Gap between gratuitous ARP / unsolicited NA repeats in ms (default 1100, MetalLB). */
  repeatIntervalMs?: number;
  /** How long the repeats last after a takeover in ms (default 5000, MetalLB). */
  repeatForMs?: number;
  /** Period of the malformed-frame report in the log, ms (default 2000; logs only when counters grew; 0 disables). */
  reportIntervalMs?: number;
}

/** The @lbkit/arp + @lbkit/ndp L2 announcer. */
export class LbkitL2Announcer implements L2Announcer {
  private readonly ifaces = new Map<string, L2Interface>();
  private readonly active = new Map<string, string[]>();
  private readonly log: Logger;
  private readonly reported = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  /** @param opts interface restriction, logger, metrics callback */
  constructor(private readonly opts: LbkitL2Options = {}) {
    this.log = opts.log ?? nullLogger;
  }

  /** Starts the periodic malformed-frame report (sockets open on the first announcement). */
  async start(): Promise<void> {
    const ms = this.opts.reportIntervalMs ?? 2000;
    if (ms > 0 && !this.timer) {
      this.timer = setInterval(() => this.report(), ms);
      this.timer.unref();
    }
  }

  /** Logs interfaces whose malformed-frame counters grew since the last report. */
  report(): void {
    for (const s of this.stats()) {
      const n = s.arpMalformed + s.ndpMalformed;
      const before = this.reported.get(s.interface) ?? 0;
      if (n > before) this.log.log('warn', 'dropped malformed frames', { interface: s.interface, arp: s.arpMalformed, ndp: s.ndpMalformed, ...(s.ndpLastError ? { lastError: s.ndpLastError } : {}) });
      this.reported.set(s.interface, n);
    }
  }

  private targets(requested: string[]): string[] {
    const eligible = (this.opts.listInterfaces ?? eligibleInterfaces)();
    const allowed = this.opts.interfaces?.length ? eligible.filter((i) => this.opts.interfaces!.includes(i)) : eligible;
    return requested.length ? allowed.filter((i) => requested.includes(i)) : allowed;
  }

  private iface(name: string): L2Interface {
    let i = this.ifaces.get(name);
    if (!i) {
      i = new L2Interface(name, {
        log: this.log,
        ...(this.opts.onGratuitous ? { onGratuitous: this.opts.onGratuitous } : {}),
        ...(this.opts.transports ? { transports: this.opts.transports } : {}),
        ...(this.opts.watchIntervalMs !== undefined ? { watchIntervalMs: this.opts.watchIntervalMs } : {}),
        ...(this.opts.repeatIntervalMs !== undefined ? { repeatIntervalMs: this.opts.repeatIntervalMs } : {}),
        ...(this.opts.repeatForMs !== undefined ? { repeatForMs: this.opts.repeatForMs } : {}),
      });
      this.ifaces.set(name, i);
    }
    return i;
  }

  /** @inheritdoc */
  announce(ip: string, interfaces: string[]): boolean {
    const p = parseIP(ip);
    if (!p) throw new Error(`lbkit-l2: invalid IP ${JSON.stringify(ip)}`);
    if (this.active.has(ip)) this.withdraw(ip);
    const ifs = this.targets(interfaces);
    if (ifs.length === 0) {
      this.log.log('warn', 'no matching interface for the VIP', { ip, interfaces });
      return false;
    }
    const ok: string[] = [];
    for (const name of ifs) {
      try {
        this.iface(name).announce(ip);
        ok.push(name);
      } catch (e) {
        this.log.log('error', 'cannot announce on interface', { ip, interface: name, err: errMsg(e) });
      }
    }
    if (ok.length === 0) return false;
    this.active.set(ip, ok);
    this.log.log('info', 'lbkit-l2 announce', { ip, interfaces: ok, protocol: p.family === 'ipv6' ? 'ndp' : 'arp' });
    return true;
  }

  /** @inheritdoc */
  withdraw(ip: string): void {
    const ifs = this.active.get(ip);
    if (!ifs) return;
    this.active.delete(ip);
    for (const name of ifs) {
      try {
        this.ifaces.get(name)?.withdraw(ip);
      } catch (e) {
        this.log.log('warn', 'withdraw failed', { ip, interface: name, err: errMsg(e) });
      }
    }
    this.log.log('info', 'lbkit-l2 withdraw', { ip });
  }

  /** VIPs currently announced, with their interfaces. */
  announced(): Map<string, string[]> {
    return new Map(this.active);
  }

  /** Per-interface counters (malformed frames dropped, requests answered). */
  stats(): L2InterfaceStats[] {
    return [...this.ifaces.values()].map((i) => i.stats());
  }

  /** @inheritdoc */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const ip of [...this.active.keys()]) this.withdraw(ip);
    for (const i of this.ifaces.values()) i.close();
    this.ifaces.clear();
  }
}
