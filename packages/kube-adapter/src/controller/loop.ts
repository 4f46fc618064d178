/**
 * The controller's work-queue loop (client-go style): Service keys are queued (deduplicated) on
 * watch events; one worker converges each key against the in-memory allocator (synchronous, so
 * the allocator is never raced), then the desired status is handed to a separate write queue that
 * runs with bounded concurrency and per-key exponential backoff. A pending write is overlaid on the
 * cached object until the watch confirms it, so re-converging a key never re-allocates an IP that
 * is merely not written yet. Events are forwarded once per change ({@link EventDedup}).
 *
 * Zero churn on restart: after the initial sync every key is queued with the services already
 * holding ingress IPs first, so they re-claim their IPs before a pending service gets a new one.
 */
import type { IpAllocator } from '../allocator.js';
import type { Config } from '../config.js';
import { Controller } from '../controller.js';
import type { EventRecorder, StatusWriter } from '../events.js';
import { errMsg } from '../errors.js';
import { httpCode, shortErr } from '../informer/http-error.js';
import { nullLogger, type Logger } from '../log.js';
import type { MetallbMetrics } from '../metrics.js';
import { runQueue, WorkQueue } from '../queue/workqueue.js';
import { ANN_ALLOCATED_FROM_POOL, ingressIPs } from '../service.js';
import type { Service } from '../types.js';
import { EventDedup } from './event-dedup.js';

/** Options of {@link ControllerLoop}. */
export interface ControllerLoopOptions {
  allocator: IpAllocator;
  statusWriter: StatusWriter;
  events: EventRecorder;
  /** The cached Service of a key (informer store), or undefined when deleted. */
  getService: (key: string) => Service | undefined;
  /** Every cached Service key. */
  serviceKeys: () => Iterable<string>;
  loadBalancerClass?: string;
  metrics?: MetallbMetrics;
  log?: Logger;
  /** Concurrent status writes (default 16; the source bounds API calls again). */
  writeConcurrency?: number;
  /** Backoff of failed status writes: first delay (default 100 ms) and cap (default 60 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * A status write not yet confirmed by the watch: only what converge changes (the load-balancer
 * status and the pool annotation), not a copy of the Service; the object written is the cached one
 * with these overlaid ({@link ControllerLoop.effective}).
 */
interface Desired {
  lb: LoadBalancerStatus;
  /** `ip-allocated-from-pool`, '' = none. */
  pool: string;
  sent: boolean;
}

type LoadBalancerStatus = NonNullable<NonNullable<Service['status']>['loadBalancer']>;

function lbSig(lb: LoadBalancerStatus | undefined): string {
  return JSON.stringify((lb?.ingress ?? []).map((i) => i?.ip ?? ''));
}

function ingressSig(s: Service | undefined): string {
  return lbSig(s?.status?.loadBalancer);
}

function poolAnn(s: Service | undefined): string {
  return s?.metadata?.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? '';
}

/** The ingress IPs and pool annotation converge sees: the pending write's when there is one. */
function effectiveSig(s: Service, d: Desired | undefined): string {
  return d ? `${lbSig(d.lb)}\u0000${d.pool}` : `${ingressSig(s)}\u0000${poolAnn(s)}`;
}

/** What converge reads apart from the ingress IPs and our pool annotation. */
function inputsSig(s: Service): string {
  let ann = s.metadata?.annotations;
  if (ann && ANN_ALLOCATED_FROM_POOL in ann) {
    ann = { ...ann };
    delete ann[ANN_ALLOCATED_FROM_POOL];
  }
  const labels = s.metadata?.labels;
  // an empty map and no map are the same input (dropping our annotation may leave `{}`)
  const nonEmpty = (m: object | undefined) => (m && Object.keys(m).length > 0 ? m : null);
  return JSON.stringify([s.spec ?? null, nonEmpty(labels), nonEmpty(ann)]);
}

function matches(cur: Service | undefined, d: Desired): boolean {
  return !!cur && ingressSig(cur) === lbSig(d.lb) && poolAnn(cur) === d.pool;
}

/** The controller loop. */
export class ControllerLoop {
  /** The MetalLB controller core. */
  readonly controller: Controller;
  private readonly queue = new WorkQueue<string>();
  private readonly writes: WorkQueue<string>;
  private readonly desired = new Map<string, Desired>();
  private readonly pending = new Set<string>();
  private readonly dedup: EventDedup;
  private readonly log: Logger;
  private started = false;
  private workers: Promise<void>[] = [];
  /** Counters for benches, metrics and health. */
  readonly stats = { processed: 0, writes: 0, writeErrors: 0, reprocessAll: 0, skipped: 0 };
  /** Last write error (cleared by the next successful write). */
  lastWriteError: string | undefined;
  /** Called after keys were processed (metrics, pool status, state file); debounce on your side. */
  onProcessed: (() => void) | undefined;

  /** @param opts see {@link ControllerLoopOptions} */
  constructor(private readonly opts: ControllerLoopOptions) {
    this.log = opts.log ?? nullLogger;
    this.dedup = new EventDedup(opts.events);
    this.controller = new Controller({ allocator: opts.allocator, events: this.dedup, loadBalancerClass: opts.loadBalancerClass });
    this.writes = new WorkQueue<string>({ baseMs: opts.retryBaseMs ?? 100, maxMs: opts.retryMaxMs ?? 60_000 });
  }

  /** Keys queued, delayed or in flight, and status writes not yet done. */
  depth(): { queued: number; writes: number; unconfirmed: number } {
    return { queued: this.queue.length + this.queue.inFlight, writes: this.writes.length + this.writes.delayedCount + this.writes.inFlight, unconfirmed: this.desired.size };
  }

  /** Resolves when no key is queued or being converged (status writes may still run). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Starts the workers and queues every cached key (holders of ingress IPs first). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.workers.push(runQueue(this.queue, (k) => this.process(k), { concurrency: 1, sliceMs: 8, onError: (k, e) => this.log.log('error', 'reconcile failed', { service: k, err: errMsg(e) }) }));
    this.workers.push(runQueue(this.writes, (k) => this.write(k), { concurrency: this.opts.writeConcurrency ?? 16 }));
    this.enqueueAll();
  }

  /** Stops both queues. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    this.writes.shutDown();
    await Promise.all(this.workers);
  }

  /** A new configuration: applied to the allocator, then every key is converged again. */
  setConfig(cfg: Config): void {
    this.controller.setConfig(cfg);
    if (this.started) this.enqueueAll();
  }

  /**
   * A Service changed (or was deleted) in the cache. With `old` (the previous cached object), a
   * change that touches nothing converge reads (our own status or pool annotation coming back, a
   * resourceVersion bump) does not queue the key again: the result would be the same.
   */
  serviceChanged(key: string, svc: Service | undefined, old?: Service): void {
    const d = this.desired.get(key);
    const before = old && svc ? effectiveSig(old, d) : undefined;
    if (d && (!svc || matches(svc, d))) this.desired.delete(key);
    // written, but the watch shows other ingress IPs: someone else wrote after us, the server wins
    // (the pool annotation may follow the status a little later: that alone keeps the overlay)
    else if (d && d.sent && ingressSig(svc) !== lbSig(d.lb)) this.desired.delete(key);
    if (!this.started) return;
    if (before !== undefined && before === effectiveSig(svc!, this.desired.get(key)) && inputsSig(old!) === inputsSig(svc!)) {
      this.stats.skipped++;
      return;
    }
    this.queue.add(key);
  }

  /** Queues every key, those holding ingress IPs (cached or about to be written) first. */
  enqueueAll(): void {
    this.stats.reprocessAll++;
    const holding: string[] = [];
    const rest: string[] = [];
    for (const k of this.opts.serviceKeys()) {
      const s = this.effective(k);
      (s && ingressIPs(s).length > 0 ? holding : rest).push(k);
    }
    const byIPs = (k: string) => ingressIPs(this.effective(k) ?? {}).length;
    holding.sort((a, b) => byIPs(b) - byIPs(a) || (a < b ? -1 : a > b ? 1 : 0));
    rest.sort();
    for (const k of holding) this.queue.add(k);
    for (const k of rest) this.queue.add(k);
  }

  /** The cached object with a pending write overlaid. */
  private effective(key: string): Service | undefined {
    const svc = this.opts.getService(key);
    const d = this.desired.get(key);
    if (!svc || !d) return svc;
    const ann = { ...(svc.metadata?.annotations ?? {}) };
    if (d.pool) ann[ANN_ALLOCATED_FROM_POOL] = d.pool;
    else delete ann[ANN_ALLOCATED_FROM_POOL];
    return { ...svc, metadata: { ...svc.metadata, annotations: ann }, status: { ...(svc.status ?? {}), loadBalancer: structuredClone(d.lb) } };
  }

  private process(key: string): void {
    this.stats.processed++;
    this.opts.metrics?.updates.inc();
    const svc = this.effective(key);
    if (!svc) {
      this.desired.delete(key);
      this.pending.delete(key);
      this.dedup.forget(key);
      if (this.controller.setBalancer(key, null).state === 'ReprocessAll') this.reprocessPending();
      this.onProcessed?.();
      return;
    }
    if (!this.controller.handles(svc)) return;
    let res;
    try {
      res = this.controller.setBalancer(key, svc);
    } finally {
      this.dedup.flush(key);
    }
    if (svc.spec?.type === 'LoadBalancer' && this.opts.allocator.ipsOf(key) === undefined) this.pending.add(key);
    else this.pending.delete(key);
    if (res.update) {
      const cur = this.opts.getService(key);
      const want: Desired = { lb: res.update.status?.loadBalancer ?? {}, pool: poolAnn(res.update), sent: false };
      if (matches(cur, want)) this.desired.delete(key);
      else {
        this.desired.set(key, want);
        this.writes.forget(key);
        this.writes.add(key);
      }
    }
    if (res.state === 'ReprocessAll') this.reprocessPending();
    this.onProcessed?.();
  }

  /** An IP was freed or sharing changed: converge the services still waiting for an IP. */
  private reprocessPending(): void {
    const keys = [...this.pending].sort();
    for (const k of keys) this.queue.add(k);
  }

  private async write(key: string): Promise<void> {
    const d = this.desired.get(key);
    if (!d || d.sent) return;
    const cur = this.opts.getService(key);
    if (!cur) {
      this.desired.delete(key);
      return;
    }
    if (matches(cur, d)) {
      this.desired.delete(key);
      return;
    }
    try {
      await this.opts.statusWriter.updateServiceStatus(this.effective(key)!);
    } catch (e) {
      if (httpCode(e) === 404) {
        // deleted meanwhile: the watch delivers the deletion
        if (this.desired.get(key) === d) this.desired.delete(key);
        return;
      }
      this.stats.writeErrors++;
      this.opts.metrics?.updateErrors.inc();
      this.lastWriteError = `${key}: ${shortErr(e)}`;
      const n = this.writes.retries(key);
      if (n === 0 || (n & (n - 1)) === 0) this.log.log('error', 'status update failed, retrying with backoff', { service: key, err: shortErr(e), attempt: n + 1 });
      throw e;
    }
    this.stats.writes++;
    this.lastWriteError = undefined;
    if (this.desired.get(key) === d) d.sent = true;
    this.log.log('info', 'service updated', { service: key, ingress: (d.lb.ingress ?? []).map((i) => i.ip), pool: d.pool || undefined });
  }
}
