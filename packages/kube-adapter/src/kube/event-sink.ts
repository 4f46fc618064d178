/**
 * Kubernetes Event writes behind a bounded queue: at most `concurrency` POSTs in flight, at most
 * `maxPending` events waiting (older ones are dropped and counted, never an unbounded burst), and
 * each failed POST is retried with exponential backoff a few times. Events are informational: they
 * go out at low priority, behind the status writes speakers act on (RestClient's `priority: 'low'`).
 */
import type { EventRecorder, EventType } from '../events.js';
import { nullLogger, type Logger } from '../log.js';
import { KeyBackoff } from '../queue/backoff.js';
import { Semaphore } from '../queue/semaphore.js';
import { shortErr } from '../informer/reflector.js';
import type { KubeObject } from '../types.js';
import { seg, type RestClient } from './rest.js';

/** Options of {@link KubeEventSink}. */
export interface KubeEventSinkOptions {
  component?: string;
  podName?: string;
  /** Concurrent POSTs (default 4). */
  concurrency?: number;
  /** Events waiting at most (default 10 000). */
  maxPending?: number;
  /** Attempts per event (default 5). */
  attempts?: number;
  /** First retry delay (default 200 ms). */
  retryBaseMs?: number;
  log?: Logger;
}

/** A queued event, kept compact (a cold start may queue thousands): the body is built when sent. */
interface Pending {
  id: number;
  namespace: string;
  name: string | undefined;
  uid: string | undefined;
  resourceVersion: string | undefined;
  kind: string;
  apiVersion: string;
  type: EventType;
  reason: string;
  message: string;
  at: number;
  /** Event object name, fixed at the first attempt (a retry re-posts the same name). */
  eventName?: string;
}

/** An EventRecorder writing core/v1 Events. */
export class KubeEventSink implements EventRecorder {
  private readonly sem: Semaphore;
  private readonly waiting: Pending[] = [];
  private readonly backoff: KeyBackoff<number>;
  private readonly log: Logger;
  private nextId = 0;
  private pumping = 0;
  private stopped = false;
  /** Counters: written, failed for good, dropped because the queue was full. */
  readonly stats = { written: 0, failed: 0, dropped: 0 };

  /** @param rest the REST client; @param opts see {@link KubeEventSinkOptions} */
  constructor(
    private readonly rest: RestClient,
    private readonly opts: KubeEventSinkOptions = {},
  ) {
    this.sem = new Semaphore(opts.concurrency ?? 4);
    this.backoff = new KeyBackoff({ baseMs: opts.retryBaseMs ?? 200, maxMs: 10_000 });
    this.log = opts.log ?? nullLogger;
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.waiting.length + this.sem.inUse;
  }

  /** @inheritdoc */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.stopped) return;
    const m = obj.metadata;
    if (this.waiting.length >= (this.opts.maxPending ?? 10_000)) {
      this.waiting.shift();
      if (this.stats.dropped++ % 1000 === 0) this.log.log('warn', 'event queue full, dropping the oldest events', { dropped: this.stats.dropped });
    }
    this.waiting.push({ id: this.nextId++, namespace: m?.namespace ?? 'default', name: m?.name, uid: m?.uid, resourceVersion: m?.resourceVersion, kind: obj.kind ?? 'Service', apiVersion: obj.apiVersion ?? 'v1', type, reason, message, at: Date.now() });
    this.pump();
  }

  private body(p: Pending): Record<string, unknown> {
    // client-go's naming: `<object>.<hex timestamp in ns>` (a sequence number fills the ns digits)
    p.eventName ??= `${p.name ?? 'object'}.${(BigInt(p.at) * 1_000_000n + BigInt(p.id % 1_000_000)).toString(16)}`;
    const at = new Date(p.at);
    return {
      metadata: { name: p.eventName, namespace: p.namespace },
      involvedObject: { apiVersion: p.apiVersion, kind: p.kind, name: p.name, namespace: p.namespace, uid: p.uid, resourceVersion: p.resourceVersion },
      reason: p.reason,
      message: p.message,
      type: p.type,
      source: { component: this.opts.component ?? 'lbkitd' },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      reportingComponent: this.opts.component ?? 'lbkitd',
      reportingInstance: this.opts.podName ?? '',
    };
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.pumping < this.sem.limit) {
      const p = this.waiting.shift()!;
      this.pumping++;
      void this.sem
        .run(() => this.write(p))
        .finally(() => {
          this.pumping--;
          this.pump();
        });
    }
  }

  private async write(p: Pending): Promise<void> {
    try {
      await this.rest.request('POST', `/api/v1/namespaces/${seg(p.namespace)}/events`, this.body(p), 'application/json', { priority: 'low', discardBody: true });
      this.stats.written++;
      this.backoff.forget(p.id);
    } catch (e) {
      if (this.stopped) return;
      const n = this.backoff.retries(p.id) + 1;
      if (n >= (this.opts.attempts ?? 5)) {
        this.backoff.forget(p.id);
        this.stats.failed++;
        this.log.log('warn', 'event write failed, giving up', { reason: p.reason, err: shortErr(e), attempts: n });
        return;
      }
      const delay = this.backoff.next(p.id);
      const t = setTimeout(() => {
        if (this.stopped) return;
        this.waiting.unshift(p);
        this.pump();
      }, delay);
      t.unref?.();
    }
  }

  /** Drops whatever is still queued. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }
}
