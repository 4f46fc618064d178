/**
 * A deduplicating per-key work queue with delayed and rate-limited adds (client-go's
 * `workqueue.RateLimitingInterface`), plus a runner that drains it with bounded concurrency while
 * yielding the event loop regularly.
 *
 * Semantics: a key is queued at most once; a key added while it is being processed is queued again
 * when {@link WorkQueue.done} is called, so one key is never processed twice at the same time and
 * no change is lost.
 */
import { KeyBackoff, type KeyBackoffOptions } from './backoff.js';

/** FIFO of keys backed by an array with a moving head (O(1) shift). */
class Fifo<K> {
  private items: K[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(k: K): void {
    this.items.push(k);
  }
  shift(): K | undefined {
    if (this.head >= this.items.length) return undefined;
    const k = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return k;
  }
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions extends KeyBackoffOptions {}

/** The work queue. */
export class WorkQueue<K> {
  private readonly fifo = new Fifo<K>();
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly backoff: KeyBackoff<K>;
  private readonly wakers = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private shut = false;

  /** @param opts backoff of {@link addRateLimited} */
  constructor(opts: WorkQueueOptions = {}) {
    this.backoff = new KeyBackoff(opts);
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get length(): number {
    return this.fifo.length;
  }

  /** Keys waiting for a delayed or rate-limited add. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Whether `key` is queued (not delayed, not in flight). */
  has(key: K): boolean {
    return this.dirty.has(key);
  }

  /** Queues `key` unless it is queued already. */
  add(key: K): void {
    if (this.shut || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.fifo.push(key);
    this.wake();
  }

  /** Queues `key` after `ms` (an earlier pending delay wins). */
  addAfter(key: K, ms: number): void {
    if (this.shut) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  /** Queues `key` after its exponential backoff delay (one more failure recorded). */
  addRateLimited(key: K): number {
    const ms = this.backoff.next(key);
    this.addAfter(key, ms);
    return ms;
  }

  /** Failures recorded for `key`. */
  retries(key: K): number {
    return this.backoff.retries(key);
  }

  /** Resets the backoff of `key` (call after a success or when giving up). */
  forget(key: K): void {
    this.backoff.forget(key);
  }

  /** Takes the next key, or undefined when none is queued. Pair with {@link done}. */
  get(): K | undefined {
    const k = this.fifo.shift();
    if (k === undefined) return undefined;
    this.dirty.delete(k);
    this.processing.add(k);
    return k;
  }

  /** Marks `key` processed; it is queued again when it was added meanwhile. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.fifo.push(key);
      this.wake();
    }
    this.checkIdle();
  }

  /** Resolves when nothing is queued or in flight (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.fifo.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private checkIdle(): void {
    if (this.fifo.length > 0 || this.processing.size > 0 || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** Waits until a key is queued (or the queue shuts down). */
  waitForWork(): Promise<void> {
    if (this.fifo.length > 0 || this.shut) return Promise.resolve();
    return new Promise((r) => this.wakers.add(r));
  }

  private wake(): void {
    if (this.wakers.size === 0) return;
    const w = [...this.wakers];
    this.wakers.clear();
    for (const r of w) r();
  }

  /** Stops accepting keys, cancels delayed adds and wakes every waiter. */
  shutDown(): void {
    this.shut = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    this.wake();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** Whether {@link shutDown} was called. */
  get shuttingDown(): boolean {
    return this.shut;
  }
}

/** Options of {@link runQueue}. */
export interface RunQueueOptions {
  /** Concurrent handlers (default 1). */
  concurrency?: number;
  /** A worker yields to the event loop after this much synchronous work in ms (default 10). */
  sliceMs?: number;
  /** Called with a handler's error (the key is then retried with backoff). */
  onError?: (key: unknown, err: unknown) => void;
}

/**
 * Drains `q` with `handler` until the queue shuts down. A handler that throws (or rejects) gets its
 * key re-queued with backoff; one that returns normally has its backoff forgotten. Returns a promise
 * that settles when every worker has stopped.
 */
export function runQueue<K>(q: WorkQueue<K>, handler: (key: K) => void | Promise<void>, opts: RunQueueOptions = {}): Promise<void> {
  const slice = opts.sliceMs ?? 10;
  const worker = async (): Promise<void> => {
    let t0 = Date.now();
    while (!q.shuttingDown) {
      const key = q.get();
      if (key === undefined) {
        await q.waitForWork();
        t0 = Date.now();
        continue;
      }
      try {
        const r = handler(key);
        if (r && typeof (r as Promise<void>).then === 'function') await r;
        q.forget(key);
      } catch (e) {
        opts.onError?.(key, e);
        q.addRateLimited(key);
      } finally {
        q.done(key);
      }
      if (Date.now() - t0 >= slice) {
        await new Promise((r) => setImmediate(r));
        t0 = Date.now();
      }
    }
  };
  return Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker)).then(() => undefined);
}
