/**
 * Membership backend on @lbkit/memberlist: a `Memberlist` (SWIM + Lifeguard) over a UDP + TCP
 * `NetTransport`, with MetalLB's speaker settings: member name = node name, version vector of
 * MetalLB's speakers (`metallbProfile()`), AES-256 key derived from the memberlist secret exactly as
 * MetalLB does, memberlist `DefaultLANConfig` timings (or the fast-LAN profile for sub-second
 * failover). `members()` is MetalLB's UsableSpeakers: alive and suspect members.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Keyring, Memberlist, NetTransport, defaultLANTimings, fastLANTimings, metallbProfile, type Address, type Member, type Timings } from '@lbkit/memberlist';
import { errMsg } from '../errors.js';
import { nullLogger, type Logger } from '../log.js';
import type { Membership } from '../speaker.js';
import { metallbMemberlistKey } from './serf-membership.js';

/** True: this backend is integrated. */
export const INTEGRATED = true;

/** Timing profiles: memberlist `DefaultLANConfig` (MetalLB) or the fast LAN profile (sub-second detection). */
export type MembershipTimings = 'lan' | 'fast';

/** Options of {@link LbkitMembership}. */
export interface LbkitMembershipOptions {
  /** Member name (the node name). */
  node: string;
  /** `HOST:PORT` or `[v6]:PORT` to bind UDP and TCP on (port 0 = any free port). */
  bind: string;
  /** Address peers reach us at (`HOST` or `HOST:PORT`); default the bound address, or the first global address for a wildcard bind. */
  advertise?: string;
  /** Seeds `HOST:PORT`, retried in the background until one answers. */
  join: string[];
  /** memberlist secret (MetalLB key derivation; empty = no encryption). */
  secret?: string;
  /** Timing profile (default `lan`) or explicit overrides of the LAN timings. */
  timings?: MembershipTimings | Partial<Timings>;
  /** Retry period for seeds that did not answer, ms (default 1000). */
  retryJoinMs?: number;
  /** How long start() waits for the first join attempt, ms (default 3000). */
  firstJoinWaitMs?: number;
  /** Period of the dropped-packet report in the log, ms (default 10000; 0 disables). */
  reportIntervalMs?: number;
  log?: Logger;
}

/** Parses `HOST:PORT` / `[v6]:PORT`; throws an error naming `field`. */
export function parseHostPort(s: string, field: string, defaultPort?: number): Address {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  const host = m?.[1];
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!host || !isIP(host) || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`lbkit membership: ${field}: expected IP:PORT or [IPv6]:PORT, got ${JSON.stringify(s)}`);
  return { addr: host, port };
}

function firstGlobal(v6: boolean): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && (a.family === 'IPv6') === v6 && !/^fe80/i.test(a.address)) return a.address;
  return undefined;
}

function resolveTimings(t: LbkitMembershipOptions['timings']): Timings {
  if (t === undefined || t === 'lan') return defaultLANTimings();
  if (t === 'fast') return fastLANTimings();
  if (typeof t !== 'object' || t === null) throw new Error(`lbkit membership: timings: expected "lan", "fast" or an object, got ${JSON.stringify(t)}`);
  return { ...defaultLANTimings(), ...t };
}

/** @lbkit/memberlist-backed membership. */
export class LbkitMembership implements Membership {
  private ml: Memberlist | undefined;
  private transport: NetTransport | undefined;
  private current: string[];
  private readonly cbs: Array<() => void> = [];
  private readonly log: Logger;
  private retry: NodeJS.Timeout | undefined;
  private report: NodeJS.Timeout | undefined;
  private dropped = 0;
  private stopped = false;
  /** The address peers reach us at (after start). */
  address: Address | undefined;

  /** @param opts node name, bind address, seeds, secret, timings */
  constructor(private readonly opts: LbkitMembershipOptions) {
    if (!opts.node) throw new Error('lbkit membership: node name is empty');
    this.log = opts.log ?? nullLogger;
    this.current = [opts.node];
  }

  /** Binds the sockets, starts the protocol loops and begins joining the seeds (in the background). */
  async start(): Promise<void> {
    const bind = parseHostPort(this.opts.bind, 'bind');
    const wildcard = bind.addr === '0.0.0.0' || bind.addr === '::';
    const timings = resolveTimings(this.opts.timings);
    const key = metallbMemberlistKey(this.opts.secret ?? '');
    if (!key) this.log.log('warn', 'memberlist traffic is not encrypted (no secret)');
    try {
      this.transport = await NetTransport.create({
        bindAddr: bind.addr,
        bindPort: bind.port,
        nodeName: this.opts.node,
        compress: true,
        ...(key ? { keyring: new Keyring([new Uint8Array(key)]) } : {}),
      });
    } catch (e) {
      throw new Error(`lbkit membership: cannot bind UDP+TCP ${this.opts.bind}: ${errMsg(e)}`);
    }
    let advertise: Address = { addr: bind.addr, port: this.transport.localAddress.port };
    if (this.opts.advertise) advertise = parseHostPort(this.opts.advertise, 'advertise', advertise.port);
    else if (wildcard) {
      const a = firstGlobal(bind.addr === '::');
      if (!a) {
        this.transport.close();
        throw new Error(`lbkit membership: bind ${this.opts.bind} is a wildcard and no global address was found to advertise; set an explicit address`);
      }
      advertise = { addr: a, port: advertise.port };
    }
    this.address = advertise;
    const ml = new Memberlist({ name: this.opts.node, transport: this.transport, advertise, timings, profile: metallbProfile() });
    this.ml = ml;
    const changed = (what: string) => (m: Member) => {
      this.log.log(what === 'fail' ? 'warn' : 'info', `member ${what}`, { member: m.name, addr: `${m.addr}:${m.port}` });
      this.refresh();
    };
    ml.on('join', changed('join'));
    ml.on('leave', changed('leave'));
    ml.on('fail', changed('fail'));
    ml.on('suspect', (m) => this.log.log('info', 'member suspect', { member: m.name }));
    ml.on('alive', () => this.refresh());
    ml.on('conflict', (m, other) => this.log.log('warn', 'member name conflict: another address claims a known member name (ignored)', { member: m.name, existing: `${m.addr}:${m.port}`, other: `${other.addr}:${other.port}` }));
    ml.start();
    const every = this.opts.reportIntervalMs ?? 10_000;
    if (every > 0) {
      this.report = setInterval(() => this.reportDrops(), every);
      this.report.unref();
    }
    this.log.log('info', 'memberlist started', { node: this.opts.node, bind: `${bind.addr}:${this.transport.localAddress.port}`, advertise: `${advertise.addr}:${advertise.port}`, timings: typeof this.opts.timings === 'string' ? this.opts.timings : this.opts.timings ? 'custom' : 'lan', encrypted: !!key });
    if (this.opts.join.length) await this.firstJoin(this.opts.join);
  }

  /**
   * Like MetalLB, join before the speaker decides anything, so a restarting node does not believe it
   * is alone and grab VIPs: waits for the first attempt (at most `firstJoinWaitMs`), then keeps
   * retrying in the background while no seed answered.
   */
  private async firstJoin(seeds: string[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const first = this.tryJoin(seeds);
    const ok = await Promise.race([first, new Promise<false>((r) => (timer = setTimeout(() => r(false), this.opts.firstJoinWaitMs ?? 3000)))]);
    clearTimeout(timer);
    if (ok || this.stopped) return;
    void first.then((late) => {
      if (late || this.stopped) return;
      this.retry = setTimeout(() => this.joinLoop(seeds), this.opts.retryJoinMs ?? 1000);
      this.retry.unref();
    });
  }

  private reportDrops(): void {
    const s = this.transport?.stats;
    if (!s) return;
    const n = s.packetsDropped + s.partsDropped + s.streamErrors;
    if (n > this.dropped) this.log.log('warn', 'memberlist dropped malformed input', { packets: s.packetsDropped, parts: s.partsDropped, streams: s.streamErrors, lastError: s.lastError });
    this.dropped = n;
  }

  private joinLoop(seeds: string[]): void {
    void this.tryJoin(seeds).then((ok) => {
      if (ok || this.stopped) return;
      this.retry = setTimeout(() => this.joinLoop(seeds), this.opts.retryJoinMs ?? 1000);
      this.retry.unref();
    });
  }

  private refresh(): void {
    if (!this.ml) return;
    const names = this.ml.members().map((m) => m.name).sort();
    if (names.join(',') === this.current.join(',')) return;
    this.current = names;
    this.log.log('info', 'members changed', { members: names });
    for (const cb of this.cbs) {
      try {
        cb();
      } catch (e) {
        this.log.log('error', 'membership callback failed', { err: errMsg(e) });
      }
    }
  }

  /** @inheritdoc */
  members(): string[] {
    return this.current;
  }

  /** @inheritdoc */
  onChange(cb: () => void): void {
    this.cbs.push(cb);
  }

  /** @inheritdoc */
  async join(seeds: string[]): Promise<void> {
    await this.tryJoin(seeds);
  }

  /** Joins seeds (push/pull); resolves true when at least one answered. Bad seeds are logged, never thrown. */
  private async tryJoin(seeds: string[]): Promise<boolean> {
    if (!this.ml || this.stopped || seeds.length === 0) return false;
    const port = this.address?.port ?? 7946;
    const addrs: Address[] = [];
    for (const s of seeds) {
      try {
        addrs.push(parseHostPort(s, 'join', port));
      } catch (e) {
        this.log.log('warn', 'ignoring bad seed', { seed: s, err: errMsg(e) });
      }
    }
    try {
      const n = await this.ml.join(addrs);
      this.log.log('info', 'joined', { seeds, answered: n });
      return true;
    } catch (e) {
      this.log.log('debug', 'join failed, will retry', { seeds, err: errMsg(e) });
      return false;
    }
  }

  /** Engine and transport counters. */
  stats(): { memberlist: Memberlist['stats']; transport: NetTransport['stats'] } | undefined {
    return this.ml && this.transport ? { memberlist: this.ml.stats, transport: this.transport.stats } : undefined;
  }

  /** Graceful leave: peers get a `leave` at once (MetalLB `Leave(1s)`). */
  async leave(): Promise<void> {
    clearTimeout(this.retry);
    if (!this.ml || this.stopped) return;
    await this.ml.leave(1000);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.report);
    this.ml?.shutdown();
  }
}
