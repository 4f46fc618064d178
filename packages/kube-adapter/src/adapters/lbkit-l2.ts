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
  /** Called for every ARP request / neighbour solicitation for an owned VIP that was answered (metrics). */
  onReply?: (ip: string, count?: number) => void;
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
  /**
   * Drain window in ms (default {@link DEFAULT_DRAIN_MS}; 0 = withdraw at once, MetalLB's behaviour).
   * After `withdraw` the VIP stops its gratuitous packets at once and is answered only to unicast
   * ARP requests / NS sent to this node's MAC (clients with a stale cache that still send here), never
   * to broadcast ARP or multicast NS, until the window ends or the VIP is announced again.
   */
  drainMs?: number;
  /**
   * Coalesce announcements made in the same event-loop turn into one batch per interface (one table
   * and filter update, one burst of gratuitous packets, one repeat timer). Default true; false sends
   * at once per call (tests that inspect frames synchronously).
   */
  coalesce?: boolean;
}

/**
 * Default drain window: 3 minutes ("a few minutes", as MetalLB's docs put the time clients with a
 * stale ARP cache may keep sending to the old leader). A Linux client re-validates a REACHABLE entry
 * after 15-45 s (base_reachable_time 30 s, randomised) plus 5 s DELAY, by unicast, so 3 minutes
 * covers several refresh cycles; longer-lived caches are updated by the new owner's gratuitous packets.
 */
export const DEFAULT_DRAIN_MS = 180_000;

/** The @lbkit/arp + @lbkit/ndp L2 announcer. */
export class LbkitL2Announcer implements L2Announcer {
  private readonly ifaces = new Map<string, L2Interface>();
  private readonly active = new Map<string, string[]>();
  /** VIPs in their drain window: interfaces and the timer that withdraws them. */
  private readonly draining = new Map<string, { ifs: string[]; timer: NodeJS.Timeout }>();
  /** Announcements waiting for the end of this event-loop turn, per interface. */
  private readonly pending = new Map<string, Set<string>>();
  private flushScheduled = false;
  private closing = false;
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
        ...(this.opts.onReply ? { onReply: this.opts.onReply } : {}),
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
    return this.announceMany([ip], interfaces).length === 1;
  }

  /**
   * Announces every VIP of `ips` on `interfaces` (empty = every eligible interface) as one batch per
   * interface: one responder-table and kernel-filter update, one burst of gratuitous ARP / NA (a
   * native `sendmmsg`), one repeat timer. Returns the VIPs announced on at least one interface.
   * Throws for an invalid IP before announcing anything.
   */
  announceMany(ips: string[], interfaces: string[]): string[] {
    for (const ip of ips) if (!parseIP(ip)) throw new Error(`lbkit-l2: invalid IP ${JSON.stringify(ip)}`);
    const ifs = this.targets(interfaces);
    if (ifs.length === 0) {
      this.log.log('warn', 'no matching interface for the VIP', { ips: ips.length > 5 ? `${ips.length} VIPs` : ips, interfaces });
      return [];
    }
    for (const ip of ips) {
      // re-announce: interfaces no longer wanted are released now, kept ones are re-announced below
      const prev = this.active.get(ip);
      if (prev) for (const name of prev) if (!ifs.includes(name)) this.ifaces.get(name)?.withdraw(ip);
      this.endDrain(ip, ifs);
    }
    const ok: string[] = [];
    for (const name of ifs) {
      try {
        // answering starts now (opens the sockets; throws naming the interface); the gratuitous burst is batched
        this.iface(name).announceMany(ips, { gratuitous: this.opts.coalesce === false });
        ok.push(name);
      } catch (e) {
        this.log.log('error', 'cannot announce on interface', { ip: ips.length === 1 ? ips[0] : `${ips.length} VIPs`, interface: name, err: errMsg(e) });
      }
    }
    if (ok.length === 0) return [];
    for (const ip of ips) this.active.set(ip, ok);
    if (this.opts.coalesce !== false) {
      for (const name of ok) {
        let set = this.pending.get(name);
        if (!set) this.pending.set(name, (set = new Set()));
        for (const ip of ips) set.add(ip);
      }
    }
    if (this.opts.coalesce !== false && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (ips.length === 1) this.log.log('info', 'lbkit-l2 announce', { ip: ips[0], interfaces: ok, protocol: ips[0]!.includes(':') ? 'ndp' : 'arp' });
    else this.log.log('info', 'lbkit-l2 announce', { vips: ips.length, interfaces: ok });
    return ips;
  }

  /** Sends the gratuitous packets queued in this event-loop turn: one batch per interface. */
  flush(): void {
    this.flushScheduled = false;
    const work = [...this.pending];
    this.pending.clear();
    for (const [name, set] of work) {
      const ips = [...set].filter((ip) => this.active.get(ip)?.includes(name));
      if (ips.length === 0) continue;
      try {
        this.ifaces.get(name)?.announceMany(ips);
      } catch (e) {
        this.log.log('error', 'cannot announce on interface', { vips: ips.length, interface: name, err: errMsg(e) });
      }
    }
    if (work.length > 0) this.log.log('debug', 'lbkit-l2 batch sent', { interfaces: work.map(([n, s]) => `${n}:${s.size}`) });
  }

  /** A VIP taken back (or re-announced) during its drain window stops draining on `ifs`; other interfaces are withdrawn now. */
  private endDrain(ip: string, ifs: string[]): void {
    const d = this.draining.get(ip);
    if (!d) return;
    clearTimeout(d.timer);
    this.draining.delete(ip);
    for (const name of d.ifs) if (!ifs.includes(name)) this.ifaces.get(name)?.withdraw(ip);
  }

  /** Stops answering for `ip` at once (no drain window). */
  private withdrawNow(ip: string): void {
    const ifs = this.active.get(ip);
    if (!ifs) return;
    this.active.delete(ip);
    for (const name of ifs) {
      this.pending.get(name)?.delete(ip);
      try {
        this.ifaces.get(name)?.withdraw(ip);
      } catch (e) {
        this.log.log('warn', 'withdraw failed', { ip, interface: name, err: errMsg(e) });
      }
    }
  }

  /**
   * @inheritdoc
   * With a drain window (see {@link LbkitL2Options.drainMs}) the VIP is first drained: no more
   * gratuitous packets, unicast requests only; it is withdrawn when the window ends. `drain: false`
   * withdraws at once (e.g. the service was deleted: there is no new owner to hand clients over to).
   */
  withdraw(ip: string, opts: { drain?: boolean } = {}): void {
    const ifs = this.active.get(ip);
    if (!ifs) {
      if (opts.drain === false && this.draining.has(ip)) this.endDrain(ip, []); // end a running drain now
      return;
    }
    const ms = this.opts.drainMs ?? DEFAULT_DRAIN_MS;
    if (ms <= 0 || this.closing || opts.drain === false) {
      this.withdrawNow(ip);
      this.log.log('info', 'lbkit-l2 withdraw', { ip });
      return;
    }
    this.active.delete(ip);
    for (const name of ifs) {
      this.pending.get(name)?.delete(ip);
      try {
        this.ifaces.get(name)?.drain([ip]);
      } catch (e) {
        this.log.log('warn', 'drain failed', { ip, interface: name, err: errMsg(e) });
      }
    }
    const timer = setTimeout(() => {
      if (this.draining.get(ip)?.timer !== timer) return;
      this.draining.delete(ip);
      for (const name of ifs) this.ifaces.get(name)?.withdraw(ip);
      this.log.log('info', 'lbkit-l2 drain window over, withdrawn', { ip });
    }, ms);
    timer.unref();
    this.draining.set(ip, { ifs, timer });
    this.log.log('info', 'lbkit-l2 withdraw: draining (unicast requests only)', { ip, drainMs: ms });
  }

  /** VIPs in their drain window, with their interfaces. */
  drainingVips(): Map<string, string[]> {
    return new Map([...this.draining].map(([ip, d]) => [ip, d.ifs]));
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
    this.closing = true;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.draining.values()) clearTimeout(d.timer);
    this.draining.clear();
    this.pending.clear();
    for (const ip of [...this.active.keys()]) this.withdraw(ip);
    for (const i of this.ifaces.values()) i.close();
    this.ifaces.clear();
  }
}
