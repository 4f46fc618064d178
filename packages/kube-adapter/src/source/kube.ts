/**
 * ObjectSource backed by a Kubernetes API server through `@kubernetes/client-node` 1.x: one
 * {@link Reflector} (list + watch with health checks) per kind feeding an incremental object feed,
 * Service status/annotation writes (merge PATCH, bounded concurrency), Events behind a bounded
 * queue, and ServiceL2Status / ServiceBGPStatus behind a coalescing per-key queue.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { EventRecorder, StatusWriter } from '../events.js';
import { ANN_ALLOCATED_FROM_POOL } from '../service.js';
import type { SpeakerStatusSink } from '../speaker.js';
import { emptySnapshot, keyOf, type KubeObject, type Service, type Snapshot } from '../types.js';
import { nullLogger, type Logger } from '../log.js';
import { httpCode, Reflector, shortErr, type ListResult } from '../informer/reflector.js';
import { runQueue, WorkQueue } from '../queue/workqueue.js';
import { Semaphore } from '../queue/semaphore.js';
import { KubeEventSink } from '../kube/event-sink.js';
import { KubeSpeakerStatusSink } from '../kube/speaker-status-sink.js';
import { RestClient, seg } from '../kube/rest.js';
import { ConfigStateWriter } from './config-state.js';
import { Listeners, type ConfigStateReport, type ObjectListener, type ObjectSource, type PoolStatus, type SourceHealth } from './source.js';

/** Options of {@link KubeSource}. */
export interface KubeSourceOptions {
  /** Namespace of the metallb.io objects (default `metallb-system`). */
  namespace?: string;
  /** Component name in Events (default `lbkitd`). */
  component?: string;
  /** Pod name for owner references of status objects (optional). */
  podName?: string;
  /** Pod UID for owner references of status objects (optional). */
  podUID?: string;
  /** First delay before retrying a failed list or watch (default 200 ms, doubling up to 30 s). */
  restartDelayMs?: number;
  /** Minimum server-side watch timeout in s (default 300). */
  watchTimeoutSec?: number;
  /** A watch silent for this long is re-opened (default 90 000 ms). */
  stallMs?: number;
  /** Periodic re-list (default 3 600 000 ms, jittered). */
  resyncMs?: number;
  /** Re-write the ConfigurationState objects this often, re-creating deleted ones (default 300 000 ms). */
  configStateResyncMs?: number;
  /** Concurrent API writes (status, speaker status; default 16). */
  writeConcurrency?: number;
  /** Concurrent Event POSTs (default 4). */
  eventConcurrency?: number;
  /**
   * Kinds that may be forbidden (403) or missing (404) without blocking the start: they count as
   * empty, are logged once and retried in the background. Default: bfdProfiles, communities and
   * secrets (an RBAC without Secrets only fails the BGPPeers that use `passwordSecret`).
   */
  optionalKinds?: Array<keyof Snapshot>;
  log?: Logger;
}

const GROUP = 'metallb.io';

type Entry = { field: keyof Snapshot; path: string; list: (cont?: string) => Promise<ListResult> };

/** The only Secret type lbkitd reads (BGPPeer `spec.passwordSecret`, as MetalLB requires). */
export const PASSWORD_SECRET_TYPE = 'kubernetes.io/basic-auth';

/**
 * Whether an object of `field` is kept: Secrets only of {@link PASSWORD_SECRET_TYPE} (the list and
 * watch ask the API server for that type only; this also holds against a server that ignores the
 * field selector, so no other Secret of the namespace ever reaches the configuration).
 */
function kept(field: keyof Snapshot, o: KubeObject): boolean {
  return field !== 'secrets' || o.type === PASSWORD_SECRET_TYPE;
}

/** Kubernetes ObjectSource. */
export class KubeSource implements ObjectSource {
  private readonly rest: RestClient;
  private readonly reflectors = new Map<keyof Snapshot, Reflector>();
  private readonly changes = new Listeners<[Snapshot]>();
  private readonly errors = new Listeners<[Error]>();
  private readonly objectListeners: ObjectListener[] = [];
  private readonly ns: string;
  private readonly log: Logger;
  private readonly sem: Semaphore;
  private readonly eventSink: KubeEventSink;
  private readonly statusSink: KubeSpeakerStatusSink;
  private readonly configState: ConfigStateWriter;
  private readonly cache = new Map<keyof Snapshot, KubeObject[]>();
  private changeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stopWaiters: Array<() => void> = [];
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly speakerStatus: SpeakerStatusSink;
  /** Whether every required kind has been listed at least once. */
  synced = false;

  /** @param kc a loaded KubeConfig (loadFromDefault / loadFromFile / loadFromCluster / loadFromOptions) */
  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubeSourceOptions = {},
  ) {
    this.ns = opts.namespace ?? 'metallb-system';
    this.log = opts.log ?? nullLogger;
    // lists and writes: client-node's KubeConfig authentication over one keep-alive agent, plain
    // JSON (client-node's generated clients open a connection per request and cost ~3× the CPU)
    this.rest = new RestClient(kc);
    this.sem = new Semaphore(opts.writeConcurrency ?? 16);
    this.statusWriter = { updateServiceStatus: (svc) => this.writeStatus(svc) };
    this.eventSink = new KubeEventSink(this.rest, { component: opts.component, podName: opts.podName, concurrency: opts.eventConcurrency ?? 4, log: this.log });
    this.events = this.eventSink;
    this.statusSink = new KubeSpeakerStatusSink(this.rest, { namespace: this.ns, podName: opts.podName, podUID: opts.podUID, sem: this.sem, log: this.log });
    this.speakerStatus = this.statusSink;
    this.configState = new ConfigStateWriter(this.rest, { namespace: this.ns, podName: opts.podName, podUID: opts.podUID, retryBaseMs: opts.restartDelayMs, resyncMs: opts.configStateResyncMs, log: this.log });
  }

  /** @inheritdoc */
  reportConfigState(r: ConfigStateReport): void {
    if (this.stopped) return;
    for (const c of r.components) this.configState.report(c, r.node, r.error);
  }

  private entries(): Entry[] {
    // lists go through the lean REST client, paginated (500 per page), as plain JSON: client-node's
    // typed lists build model objects with every optional field, about twice the memory at 50k
    const list = (path: string) => (cont?: string) => this.rest.request('GET', `${path}${path.includes('?') ? '&' : '?'}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`) as Promise<ListResult>;
    const cr = (version: string, plural: string) => `/apis/${GROUP}/${version}/namespaces/${seg(this.ns)}/${plural}`;
    const paths: Array<[keyof Snapshot, string]> = [
      ['services', '/api/v1/services'],
      ['endpointSlices', '/apis/discovery.k8s.io/v1/endpointslices'],
      ['nodes', '/api/v1/nodes'],
      ['namespaces', '/api/v1/namespaces'],
      ['pools', cr('v1beta1', 'ipaddresspools')],
      ['l2Advertisements', cr('v1beta1', 'l2advertisements')],
      ['bgpAdvertisements', cr('v1beta1', 'bgpadvertisements')],
      ['bgpPeers', cr('v1beta2', 'bgppeers')],
      ['communities', cr('v1beta1', 'communities')],
      ['bfdProfiles', cr('v1beta1', 'bfdprofiles')],
      // BGPPeer password Secrets: this namespace only, basic-auth only (the watch carries the query too)
      ['secrets', `/api/v1/namespaces/${seg(this.ns)}/secrets?fieldSelector=${encodeURIComponent(`type=${PASSWORD_SECRET_TYPE}`)}`],
    ];
    return paths.map(([field, path]) => ({ field, path, list: list(path) }));
  }

  /**
   * Starts every reflector and resolves once each required kind has been listed once (a transient
   * API error never looks like "no pools"). Rejects when {@link stop} is called first, so a
   * SIGTERM during startup is honoured at once.
   */
  async start(): Promise<void> {
    const optional = new Set(this.opts.optionalKinds ?? ['bfdProfiles', 'communities', 'secrets']);
    for (const e of this.entries()) {
      const r = new Reflector({
        kc: this.kc,
        path: e.path,
        list: e.list,
        optional: optional.has(e.field),
        watchTimeoutSec: this.opts.watchTimeoutSec,
        stallMs: this.opts.stallMs,
        resyncMs: this.opts.resyncMs,
        backoffBaseMs: this.opts.restartDelayMs ?? 200,
        log: this.log,
        onEvent: (type, obj, old) => this.onEvent(e.field, type, obj, old),
      });
      this.reflectors.set(e.field, r);
    }
    for (const r of this.reflectors.values()) r.start();
    const stopped = new Promise<void>((r) => this.stopWaiters.push(r));
    await Promise.race([Promise.all([...this.reflectors.values()].map((r) => r.waitSynced())), stopped]);
    if (this.stopped) throw new Error('KubeSource stopped before the initial sync');
    this.synced = true;
    // deliver the initial state to incremental listeners (events before the sync were held back)
    for (const [field, r] of this.reflectors) for (const o of r.store.values()) if (kept(field, o)) this.emitObject(field, 'ADDED', o, undefined);
  }

  private onEvent(field: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined): void {
    if (!kept(field, obj) || (old && !kept(field, old))) {
      // a Secret's type is immutable: this only guards a server that ignores the field selector
      if (!kept(field, obj) && (!old || !kept(field, old))) return;
      if (!kept(field, obj)) [type, obj, old] = ['DELETED', old!, old];
      else [type, old] = ['ADDED', undefined];
    }
    this.cache.delete(field);
    if (!this.synced) return;
    this.emitObject(field, type, obj, old);
    if (this.changeTimer === undefined && this.hasChangeListeners) {
      this.changeTimer = setTimeout(() => {
        this.changeTimer = undefined;
        this.changes.emit(this.snapshot());
      }, 10);
    }
  }

  private hasChangeListeners = false;

  private emitObject(field: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined): void {
    for (const cb of this.objectListeners) {
      try {
        cb(field, type, obj, old);
      } catch (e) {
        this.log.log('error', 'object listener failed', { kind: field, err: String(e) });
      }
    }
  }

  /** @inheritdoc */
  onObject(cb: ObjectListener): void {
    this.objectListeners.push(cb);
  }

  /** @inheritdoc */
  health(): SourceHealth {
    const errors: string[] = [];
    const unavailable: string[] = [];
    for (const [field, r] of this.reflectors) {
      if (r.lastError) errors.push(`${field}: ${r.lastError}`);
      if (r.unavailable) unavailable.push(field);
    }
    return { synced: this.synced, errors, unavailable };
  }

  /** Per-kind reflector counters (lists, watches, 410s, stalls, errors). */
  reflectorStats(): Record<string, Reflector['stats']> {
    return Object.fromEntries([...this.reflectors].map(([k, r]) => [k, { ...r.stats }]));
  }

  /** Writes waiting or in flight: speaker status keys, Events. */
  pendingWrites(): { speakerStatus: number; events: number; annotations: number } {
    return { speakerStatus: this.statusSink.pending, events: this.eventSink.pending, annotations: this.pendingAnnotations };
  }

  /** Resolves when every queued ServiceL2Status / ServiceBGPStatus / ConfigurationState write is done (retries included). */
  async flushWrites(): Promise<void> {
    const busy = () => this.statusSink.pending > 0 || this.pendingAnnotations > 0 || this.configState.pending > 0;
    while (busy() && !this.stopped) {
      await this.statusSink.idle();
      await this.annotationQueue.idle();
      await this.configState.idle();
      if (busy()) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** @inheritdoc */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.changeTimer);
    for (const w of this.stopWaiters.splice(0)) w();
    for (const r of this.reflectors.values()) r.stop();
    this.eventSink.stop();
    this.statusSink.stop();
    this.configState.stop();
    this.annotationQueue.shutDown();
    this.rest.close();
  }

  /** @inheritdoc */
  snapshot(): Snapshot {
    const s = emptySnapshot();
    for (const [field, r] of this.reflectors) {
      let list = this.cache.get(field);
      if (!list) {
        // stable order (by namespace/name), computed once per change of the kind, on demand
        list = [...r.store.entries()]
          .filter(([, o]) => kept(field, o))
          .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .map(([, o]) => o);
        this.cache.set(field, list);
      }
      (s[field] as KubeObject[]) = list.slice();
    }
    return s;
  }

  /** The current object of a kind by key (`namespace/name`), without building a snapshot. */
  get(field: keyof Snapshot, key: string): KubeObject | undefined {
    const o = this.reflectors.get(field)?.store.get(key);
    return o && kept(field, o) ? o : undefined;
  }

  /** @inheritdoc */
  onChange(cb: (snap: Snapshot) => void): void {
    this.hasChangeListeners = true;
    this.changes.add(cb);
  }

  /** @inheritdoc */
  onError(cb: (err: Error) => void): void {
    this.errors.add(cb);
  }

  /** @inheritdoc */
  async updatePoolStatus(pool: string, status: PoolStatus): Promise<void> {
    await this.sem.run(() => this.rest.mergePatch(`/apis/${GROUP}/v1beta1/namespaces/${seg(this.ns)}/ipaddresspools/${seg(pool)}/status`, { status }));
  }

  private readonly annotations = new Map<string, { name: string; namespace: string; pool: string | null }>();
  private readonly annotationQueue = new WorkQueue<string>({ baseMs: 200, maxMs: 60_000 });
  private annotationWorkers: Promise<void> | undefined;

  /**
   * The status goes first (merge PATCH on the status subresource: no read, no resourceVersion
   * conflict, and it is what speakers act on); the `ip-allocated-from-pool` annotation (a merge
   * PATCH on the object, informational) follows behind a coalescing per-key queue with its own
   * retries. Both are skipped when the cached object already carries them. Throws when the status
   * write fails; the caller retries with backoff.
   */
  private async writeStatus(svc: Service): Promise<void> {
    const name = svc.metadata?.name ?? '';
    const namespace = svc.metadata?.namespace ?? 'default';
    const key = keyOf(svc);
    const pool = svc.metadata?.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? null;
    const cur = this.reflectors.get('services')?.store.get(key) as Service | undefined;
    const ingress = svc.status?.loadBalancer?.ingress;
    const want = ingress && ingress.length ? ingress : null;
    const have = cur?.status?.loadBalancer?.ingress;
    if (!cur || JSON.stringify(have && have.length ? have : null) !== JSON.stringify(want)) {
      await this.sem.run(() => this.rest.mergePatch(`/api/v1/namespaces/${seg(namespace)}/services/${seg(name)}/status`, { status: { loadBalancer: { ingress: want } } }, { discardBody: true }));
    }
    if (!cur || (cur.metadata?.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? null) !== pool) {
      this.annotations.set(key, { name, namespace, pool });
      this.annotationQueue.forget(key);
      this.annotationQueue.add(key);
      this.annotationWorkers ??= runQueue(this.annotationQueue, (k) => this.writeAnnotation(k), { concurrency: 8 });
    }
  }

  private async writeAnnotation(key: string): Promise<void> {
    const a = this.annotations.get(key);
    if (!a) return;
    const cur = this.reflectors.get('services')?.store.get(key) as Service | undefined;
    if (!cur) {
      this.annotations.delete(key);
      return;
    }
    if ((cur.metadata?.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? null) !== a.pool) {
      try {
        await this.sem.run(() => this.rest.mergePatch(`/api/v1/namespaces/${seg(a.namespace)}/services/${seg(a.name)}`, { metadata: { annotations: { [ANN_ALLOCATED_FROM_POOL]: a.pool } } }, { priority: 'low', discardBody: true }));
      } catch (e) {
        if (httpCode(e) === 404) {
          this.annotations.delete(key);
          return;
        }
        const n = this.annotationQueue.retries(key);
        if (n === 0 || (n & (n - 1)) === 0) this.log.log('warn', 'pool annotation write failed, retrying with backoff', { service: key, err: shortErr(e) });
        throw e;
      }
    }
    if (this.annotations.get(key) === a) this.annotations.delete(key);
  }

  /** Pool annotations waiting to be written (queued, delayed or in flight). */
  get pendingAnnotations(): number {
    return this.annotationQueue.length + this.annotationQueue.delayedCount + this.annotationQueue.inFlight;
  }
}
