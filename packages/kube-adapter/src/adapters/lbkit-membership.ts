/**
 * Membership backend on @lbkit/memberlist: a `Memberlist` (SWIM + Lifeguard) over a UDP + TCP
 * `NetTransport`, with MetalLB's speaker settings: member name = node name, version vector of
 * MetalLB's speakers (`metallbProfile()`), AES-256 key derived from the memberlist secret exactly as
 * MetalLB does, the fast-LAN timings by default (sub-second failover; no false failures measured
 * at 1 % and 5 % loss) or memberlist `DefaultLANConfig` (`lan`, MetalLB's). `members()` is MetalLB's UsableSpeakers: alive and suspect members.
 *
 * By default the engine runs in a worker thread (`createMemberlistWorker`): probes are acked on
 * the worker's own event loop, so announcement work on the main thread (thousands of gratuitous
 * ARPs, a big reconcile) cannot make this node look dead to the others. `thread: 'main'` keeps it
 * on the main thread (memberlist's usual model).
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createMemberlist, createMemberlistWorker, defaultLANTimings, fastLANTimings, type Address, type Member, type MemberlistEvents, type Timings, type WorkerStats } from '@lbkit/memberlist';
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
  /**
   * start() binds and starts the engine but does not join `join` yet: {@link LbkitMembership.beginJoin}
   * does, later (lbkitd boots the engine while it reads its config, and joins once it can announce,
   * so the others do not elect it for VIPs while it is still reading).
   */
  deferJoin?: boolean;
  /** memberlist secret (MetalLB key derivation; empty = no encryption). */
  secret?: string;
  /**
   * Timing profile: `fast` (default: 100 ms probes, ~0.5 s detection, no false failures measured at
   * 1 % and 5 % loss, docs/benchmarks.md), `lan` (memberlist DefaultLANConfig, as MetalLB: ~5–6 s),
   * or explicit overrides of the LAN timings.
   */
  timings?: MembershipTimings | Partial<Timings>;
  /** Longest retry period for seeds that did not answer, ms (default 1000; retries start at 100 ms and double). */
  retryJoinMs?: number;
  /** How long start() waits for the first join attempt, ms (default 3000). */
  firstJoinWaitMs?: number;
  /** Period of the dropped-packet report in the log, ms (default 10000; 0 disables). */
  reportIntervalMs?: number;
  /**
   * Where the engine runs: `worker` (default: its own thread, probes answered even while the main
   * thread is busy) or `main` (this thread, memberlist's usual model).
   */
  thread?: 'worker' | 'main';
  log?: Logger;
}

/** What changed in the member list (passed to {@link LbkitMembership.onChange} callbacks). */
export interface MembershipChange {
  /** Members that appeared (joined, or came back after a failure or a partition). */
  joined: string[];
  /** Members that disappeared (left or failed). */
  left: string[];
  /**
   * True when this node learnt that others had declared it dead (it refuted): they may have taken
   * over its VIPs meanwhile (a partition, a stalled process), so its own announcements must be
   * refreshed even though its member list did not change.
   */
  rejoined?: boolean;
}

/** Engine and transport counters (see {@link LbkitMembership.stats}). */
export type MembershipStats = Omit<WorkerStats, 'maxLoopLagMs'> & { maxLoopLagMs?: number };

/** The engine as LbkitMembership uses it, on either thread. */
interface Engine {
  address: Address;
  members(): Member[];
  on<E extends keyof MemberlistEvents>(ev: E, fn: MemberlistEvents[E]): void;
  join(seeds: Address[]): Promise<number>;
  leave(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
  stats(): Promise<MembershipStats>;
  /** Calls `cb` when the engine stops without close() (a crashed worker thread). */
  onExit(cb: (err?: Error) => void): void;
  /** Stops at once, like a crash (tests). */
  kill(): Promise<void>;
}

interface EngineOptions {
  name: string;
  bindAddr: string;
  bindPort: number;
  advertise: { addr: string; port?: number };
  timings: Timings;
  secretKey?: string;
}

async function startEngine(thread: 'worker' | 'main', o: EngineOptions): Promise<Engine> {
  const base = { name: o.name, bindAddr: o.bindAddr, bindPort: o.bindPort, advertise: o.advertise, timings: o.timings, profile: 'metallb' as const, compress: true, ...(o.secretKey ? { secretKey: o.secretKey } : {}) };
  if (thread === 'worker') {
    const w = await createMemberlistWorker(base);
    return {
      address: w.address,
      members: () => w.members(),
      on: (ev, fn) => void w.on(ev, fn as never),
      join: (s) => w.join(s),
      leave: (ms) => w.leave(ms),
      close: () => w.close(),
      stats: () => w.stats(),
      onExit: (cb) => void w.on('exit', (err) => err && cb(err)),
      kill: () => w.terminate(),
    };
  }
  const n = await createMemberlist(base);
  const ml = n.memberlist;
  return {
    address: n.address,
    members: () => ml.members(),
    on: (ev, fn) => void ml.on(ev, fn as never),
    join: (s) => n.join(s),
    leave: (ms) => ml.leave(ms),
    close: async () => n.close(),
    stats: async () => ({ memberlist: { ...ml.stats }, transport: { ...n.transport.stats }, healthScore: ml.healthScore() }),
    onExit: () => {},
    kill: async () => n.close(),
  };
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
  if (t === 'lan') return defaultLANTimings();
  if (t === undefined || t === 'fast') return fastLANTimings();
  if (typeof t !== 'object' || t === null) throw new Error(`lbkit membership: timings: expected "lan", "fast" or an object, got ${JSON.stringify(t)}`);
  return { ...defaultLANTimings(), ...t };
}

/** @lbkit/memberlist-backed membership. */
export class LbkitMembership implements Membership {
  private engine: Engine | undefined;
  private current: string[];
  private readonly cbs: Array<(change: MembershipChange) => void> = [];
  private readonly log: Logger;
  private retry: NodeJS.Timeout | undefined;
  private restart: NodeJS.Timeout | undefined;
  /** Current join retry delay, ms (0 = next retry is the first). */
  private joinDelay = 0;
  private report: NodeJS.Timeout | undefined;
  private engineOpts: EngineOptions | undefined;
  /** Addresses of the other members, to re-join after a worker restart. */
  private peers: Address[] = [];
  private dropped = 0;
  private stopped = false;
  /** The address peers reach us at (after start). */
  address: Address | undefined;

  /** @param opts node name, bind address, seeds, secret, timings, thread */
  constructor(private readonly opts: LbkitMembershipOptions) {
    if (!opts.node) throw new Error('lbkit membership: node name is empty');
    if (opts.thread !== undefined && opts.thread !== 'worker' && opts.thread !== 'main') throw new Error(`lbkit membership: thread: expected "worker" or "main", got ${JSON.stringify(opts.thread)}`);
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
    let advertise: { addr: string; port?: number } = { addr: bind.addr };
    if (this.opts.advertise) {
      const a = parseHostPort(this.opts.advertise, 'advertise', 0);
      advertise = a.port ? a : { addr: a.addr };
    } else if (wildcard) {
      const a = firstGlobal(bind.addr === '::');
      if (!a) throw new Error(`lbkit membership: bind ${this.opts.bind} is a wildcard and no global address was found to advertise; set an explicit address`);
      advertise = { addr: a };
    }
    const thread = this.opts.thread ?? 'worker';
    this.engineOpts = { name: this.opts.node, bindAddr: bind.addr, bindPort: bind.port, advertise, timings, ...(this.opts.secret ? { secretKey: this.opts.secret } : {}) };
    await this.open();
    const ml = this.engine!;
    const every = this.opts.reportIntervalMs ?? 10_000;
    if (every > 0) {
      this.report = setInterval(() => void this.reportDrops(), every);
      this.report.unref();
    }
    this.log.log('info', 'memberlist started', { bind: `${bind.addr}:${bind.port}`, advertise: `${ml.address.addr}:${ml.address.port}`, timings: typeof this.opts.timings === 'string' ? this.opts.timings : this.opts.timings ? 'custom' : 'fast', encrypted: !!key, thread });
    if (!this.opts.deferJoin) await this.beginJoin();
  }

  /**
   * Joins the configured seeds the way start() does without `deferJoin`: waits for the first
   * attempt (at most `firstJoinWaitMs`), then keeps retrying in the background. Once only.
   */
  async beginJoin(): Promise<void> {
    if (this.joinBegun || this.stopped) return;
    this.joinBegun = true;
    if (this.opts.join.length) await this.firstJoin(this.opts.join);
  }
  private joinBegun = false;

  /** Starts the engine and wires its events; a crashed worker is restarted (and re-joined) after 1 s. */
  private async open(): Promise<void> {
    const thread = this.opts.thread ?? 'worker';
    let engine: Engine;
    try {
      engine = await startEngine(thread, this.engineOpts!);
    } catch (e) {
      throw new Error(`lbkit membership: cannot bind UDP+TCP ${this.opts.bind}: ${errMsg(e)}`);
    }
    if (this.stopped) {
      // close() ran while this engine was starting (a restart after a crash): it must not outlive us
      await engine.close().catch(() => {});
      throw new Error('lbkit membership: closed while the engine was starting');
    }
    this.engine = engine;
    this.address = engine.address;
    const changed = (what: string) => (m: Member) => {
      this.log.log(what === 'fail' ? 'warn' : 'info', `member ${what}`, { member: m.name, addr: `${m.addr}:${m.port}` });
      this.refresh();
    };
    engine.on('join', changed('join'));
    engine.on('leave', changed('leave'));
    engine.on('fail', changed('fail'));
    engine.on('suspect', (m) => this.log.log('info', 'member suspect', { member: m.name }));
    engine.on('alive', () => this.refresh());
    engine.on('conflict', (m, other) => this.log.log('warn', 'member name conflict: another address claims a known member name (ignored)', { member: m.name, existing: `${m.addr}:${m.port}`, other: `${other.addr}:${other.port}` }));
    engine.on('refute', (kind) => {
      if (kind !== 'dead') return;
      this.log.log('warn', 'other members had declared this node dead; refuted');
      this.notify({ joined: [], left: [], rejoined: true });
    });
    engine.onExit((err) => {
      if (this.stopped || this.engine !== engine) return;
      this.log.log('error', 'memberlist worker stopped unexpectedly; restarting it', { err: errMsg(err) });
      this.restart = setTimeout(() => void this.reopen(), 1000);
      this.restart.unref();
    });
    this.refresh();
  }

  private async reopen(): Promise<void> {
    if (this.stopped) return;
    // same address as before (a bind on port 0 got a port at the first start): the others know us there
    if (this.engineOpts && this.address && this.engineOpts.bindPort === 0) this.engineOpts = { ...this.engineOpts, bindPort: this.address.port };
    const peers = this.peers.map((p) => `${p.addr.includes(':') ? `[${p.addr}]` : p.addr}:${p.port}`);
    try {
      await this.open();
    } catch (e) {
      if (this.stopped) return;
      this.log.log('error', 'memberlist restart failed; retrying', { err: errMsg(e) });
      this.restart = setTimeout(() => void this.reopen(), 1000);
      this.restart.unref();
      return;
    }
    const seeds = [...new Set([...peers, ...(this.joinBegun ? this.opts.join : [])])];
    this.joinDelay = 0;
    if (seeds.length && !(await this.tryJoin(seeds)) && !this.stopped) this.scheduleJoin(seeds);
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
      this.scheduleJoin(seeds);
    });
  }

  /**
   * Next join attempt: nodes that start together are not all listening at the first attempt, so the
   * retry delay starts short (100 ms) and doubles up to `retryJoinMs`; it starts over after a restart.
   */
  private scheduleJoin(seeds: string[]): void {
    const max = this.opts.retryJoinMs ?? 1000;
    this.joinDelay = Math.min(max, this.joinDelay ? this.joinDelay * 2 : 100);
    this.retry = setTimeout(() => this.joinLoop(seeds), this.joinDelay);
    this.retry.unref();
  }

  private async reportDrops(): Promise<void> {
    const s = (await this.stats().catch(() => undefined))?.transport;
    if (!s) return;
    const n = s.packetsDropped + s.partsDropped + s.streamErrors;
    if (n > this.dropped) this.log.log('warn', 'memberlist dropped malformed input', { packets: s.packetsDropped, parts: s.partsDropped, streams: s.streamErrors, lastError: s.lastError });
    this.dropped = n;
  }

  private joinLoop(seeds: string[]): void {
    void this.tryJoin(seeds).then((ok) => {
      if (ok || this.stopped) return;
      this.scheduleJoin(seeds);
    });
  }

  private refresh(): void {
    if (!this.engine || this.stopped) return;
    const ms = this.engine.members();
    const others = ms.filter((m) => m.name !== this.opts.node).map((m) => ({ addr: m.addr, port: m.port }));
    if (others.length) this.peers = others;
    const names = ms.map((m) => m.name).sort();
    if (names.join(',') === this.current.join(',')) return;
    const before = new Set(this.current);
    const after = new Set(names);
    const change: MembershipChange = { joined: names.filter((n) => !before.has(n)), left: this.current.filter((n) => !after.has(n)) };
    this.current = names;
    this.log.log('info', 'members changed', { members: names, ...change });
    this.notify(change);
  }

  private notify(change: MembershipChange): void {
    if (this.stopped) return;
    for (const cb of this.cbs) {
      try {
        cb(change);
      } catch (e) {
        this.log.log('error', 'membership callback failed', { err: errMsg(e) });
      }
    }
  }

  /** @inheritdoc */
  members(): string[] {
    return this.current;
  }

  /** Registers a callback for member list changes; it receives who joined and who left. */
  onChange(cb: (change: MembershipChange) => void): void {
    this.cbs.push(cb);
  }

  /** @inheritdoc */
  async join(seeds: string[]): Promise<void> {
    await this.tryJoin(seeds);
  }

  /** Joins seeds (push/pull); resolves true when at least one answered. Bad seeds are logged, never thrown. */
  private async tryJoin(seeds: string[]): Promise<boolean> {
    if (!this.engine || this.stopped || seeds.length === 0) return false;
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
      const n = await this.engine.join(addrs);
      this.log.log('info', 'joined', { seeds, answered: n });
      return true;
    } catch (e) {
      this.log.log('debug', 'join failed, will retry', { seeds, err: errMsg(e) });
      return false;
    }
  }

  /** Engine and transport counters (from the worker thread when the engine runs there). */
  async stats(): Promise<MembershipStats | undefined> {
    return this.engine && !this.stopped ? this.engine.stats() : undefined;
  }

  /** Graceful leave: peers get a `leave` at once (MetalLB `Leave(1s)`). */
  async leave(): Promise<void> {
    clearTimeout(this.retry);
    if (!this.engine || this.stopped) return;
    await this.engine.leave(1000);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.restart);
    clearInterval(this.report);
    await this.engine?.close();
  }
}
