/**
 * {@link createMemberlistWorker}: the memberlist engine and its sockets in a `worker_threads`
 * Worker. Probes are answered on the worker's own event loop, so synchronous work on the main
 * thread (thousands of gratuitous ARPs, a big reconcile) cannot make this node look dead to its
 * peers. The main thread gets membership events by message passing and keeps a mirror of the
 * member list for synchronous reads.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import type { CreateMemberlistOptions } from '../create.js';
import type { Address } from '../engine/transport.js';
import type { MemberlistEvents } from '../memberlist.js';
import { Keyring } from '../security/keyring.js';
import type { Member } from '../state/nodes.js';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats } from './protocol.js';

/** Options of {@link createMemberlistWorker}: those of `createMemberlist` that can cross a thread. */
export type CreateMemberlistWorkerOptions = Omit<CreateMemberlistOptions, 'delegate' | 'clock' | 'random'> & {
  /**
   * The compiled worker entry (`dist/worker/entry.js`); default: next to this module, or the
   * package's `dist/` when this module runs from TypeScript sources (tests; needs `tsc -b`).
   */
  workerUrl?: URL | string;
};

/** Events of a {@link MemberlistWorker}: the engine's, plus user messages and the worker's exit. */
export interface MemberlistWorkerEvents extends MemberlistEvents {
  /** A gossiped user message (serf profile: a serf message). */
  message: (payload: Uint8Array) => void;
  /** The worker thread ended (after close(), or because it crashed: `error` says why). */
  exit: (error?: Error) => void;
  /**
   * Every membership event with the wall-clock time (ms since epoch) the worker saw it, which can
   * be well before this thread gets it when this thread is busy.
   */
  engineEvent: (ev: 'join' | 'update' | 'leave' | 'fail' | 'suspect' | 'alive', member: Member, at: number) => void;
}

/** Where the compiled worker entry is. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./entry.js', here);
  // Running from src/worker/host.ts (vitest, vite-node): use the build output.
  return new URL('../../dist/worker/entry.js', here);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const OPTION_KEYS = new Set(['name', 'bindAddr', 'bindPort', 'advertise', 'profile', 'timings', 'keyring', 'secretKey', 'label', 'meta', 'tags', 'compress', 'seeds', 'workerUrl']);

/**
 * A memberlist node whose engine runs in a worker thread. Same events as {@link Memberlist};
 * {@link MemberlistWorker.members} reads a mirror kept current by those events.
 */
export class MemberlistWorker extends EventEmitter<MemberlistWorkerEvents> {
  /** The address peers reach us at. */
  address: Address = { addr: '', port: 0 };
  private mirror: Member[] = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited = false;
  private closing: Promise<void> | undefined;

  /** @internal use {@link createMemberlistWorker} */
  constructor(private readonly worker: Worker, readonly name: string) {
    super();
  }

  /** @internal */
  attach(ready: (err?: Error) => void): void {
    let started = false;
    this.worker.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'ready':
          started = true;
          this.address = m.address;
          this.mirror = m.members;
          return ready();
        case 'startError':
          return ready(new Error(m.error));
        case 'event':
          this.mirror = m.members;
          this.emit(m.ev, m.member);
          this.emit('engineEvent', m.ev, m.member, m.at);
          return;
        case 'conflict':
          this.emit('conflict', m.existing, m.other);
          return;
        case 'refute':
          this.emit('refute', m.kind, m.incarnation);
          return;
        case 'message':
          this.emit('message', m.payload);
          return;
        case 'reply': {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.ok) p.resolve(m.value);
          else p.reject(new Error(m.error ?? 'worker request failed'));
          return;
        }
      }
    });
    let crash: Error | undefined;
    this.worker.on('error', (e) => (crash = e));
    this.worker.on('exit', (code) => {
      this.exited = true;
      const err = crash ?? (code !== 0 && !this.closing ? new Error(`memberlist worker exited with code ${code}`) : undefined);
      for (const p of this.pending.values()) p.reject(err ?? new Error('memberlist worker exited'));
      this.pending.clear();
      if (!started) ready(err ?? new Error('memberlist worker exited before it started'));
      this.emit('exit', err);
    });
  }

  private request<T>(req: DistributiveOmit<ToWorker, 'id'>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`memberlist worker ${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id } as ToWorker);
    });
  }

  /** Alive and suspect members including ourselves (mirror of the engine's `members()`). */
  members(): Member[] {
    return this.mirror.slice();
  }

  /** Every node the engine knows, whatever its state (asks the worker). */
  allNodes(): Promise<Member[]> {
    return this.request({ t: 'members' });
  }

  /** Push/pull with seeds; resolves with the number that answered, rejects when none did. */
  join(seeds: Array<Address | string>): Promise<number> {
    return this.request({ t: 'join', seeds });
  }

  /** Graceful leave (peers emit `leave`); the worker keeps running until {@link close}. */
  leave(timeoutMs?: number): Promise<void> {
    return this.request({ t: 'leave', ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  /** Changes our metadata (peers emit `update`). */
  updateMeta(meta: Uint8Array): Promise<void> {
    return this.request({ t: 'updateMeta', meta });
  }

  /** Gossips a user payload; resolves true once sent to its retransmit limit, false when dropped. */
  broadcast(payload: Uint8Array): Promise<boolean> {
    return this.request({ t: 'broadcast', payload });
  }

  /** Engine and transport counters, the Lifeguard health score and the worker's loop lag. */
  stats(): Promise<WorkerStats> {
    return this.request({ t: 'stats' });
  }

  /** Stops without leaving (peers detect a failure), closes the sockets and ends the thread. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      if (this.exited) return;
      const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
      await this.request({ t: 'close' }).catch(() => {});
      const t = setTimeout(() => void this.worker.terminate(), 2000);
      await exited;
      clearTimeout(t);
    })();
    return this.closing;
  }

  /** Ends the thread at once, like a crash (sockets close, peers detect a failure); emits `exit` with an error. */
  async terminate(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }

  /** Graceful leave (timeout default 1 s), then {@link close}. */
  async leaveAndClose(timeoutMs = 1000): Promise<void> {
    await this.leave(timeoutMs).catch(() => {});
    await this.close();
  }
}

/**
 * Starts a memberlist node in a worker thread: same options as `createMemberlist` except a custom
 * `delegate`, `clock` and `random` (they cannot cross threads; user messages arrive as `message`
 * events). Resolves once the sockets are bound (and `seeds`, if given, joined: a join where no
 * seed answers rejects after closing the worker).
 */
export async function createMemberlistWorker(opts: CreateMemberlistWorkerOptions): Promise<MemberlistWorker> {
  if (!opts || typeof opts.name !== 'string' || !opts.name) throw new TypeError('createMemberlistWorker: options.name must be a non-empty string');
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`createMemberlistWorker: options.${k} is not supported in a worker (functions and objects with methods cannot cross threads)`);
  }
  const keys = opts.keyring instanceof Keyring ? opts.keyring.getKeys() : opts.keyring;
  const init: WorkerInit = {
    name: opts.name,
    ...(opts.bindAddr !== undefined ? { bindAddr: opts.bindAddr } : {}),
    ...(opts.bindPort !== undefined ? { bindPort: opts.bindPort } : {}),
    ...(opts.advertise ? { advertise: { ...opts.advertise } } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.timings !== undefined ? { timings: opts.timings } : {}),
    ...(keys?.length ? { keys: keys.map((k) => Uint8Array.from(k)) } : {}),
    ...(opts.secretKey ? { secretKey: opts.secretKey } : {}),
    ...(opts.label ? { label: opts.label } : {}),
    ...(opts.meta ? { meta: Uint8Array.from(opts.meta) } : {}),
    ...(opts.tags ? { tags: { ...opts.tags } } : {}),
    ...(opts.compress !== undefined ? { compress: opts.compress } : {}),
  };
  const url = opts.workerUrl ?? defaultWorkerUrl();
  const file = url instanceof URL ? fileURLToPath(url) : url;
  if (!existsSync(file)) throw new Error(`createMemberlistWorker: worker entry ${file} not found (build @lbkit/memberlist with tsc -b, or set options.workerUrl)`);
  const worker = new Worker(file, { workerData: init });
  const node = new MemberlistWorker(worker, opts.name);
  await new Promise<void>((resolve, reject) => node.attach((err) => (err ? reject(err) : resolve())));
  if (opts.seeds?.length) {
    try {
      await node.join(opts.seeds);
    } catch (err) {
      await node.close();
      throw err;
    }
  }
  return node;
}
