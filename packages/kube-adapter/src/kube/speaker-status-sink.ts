/**
 * ServiceL2Status / ServiceBGPStatus writes behind a coalescing per-key queue: the speaker records
 * the desired state and returns at once (announcing never waits for the API); a worker pool with a
 * shared semaphore writes the latest desired state per (kind, service, node), retrying failures
 * with per-key exponential backoff. The names of this node's status objects are learnt with one
 * labelled list per kind, then kept in a cache, so a steady-state update is one merge PATCH.
 */
import { nullLogger, type Logger } from '../log.js';
import { Semaphore } from '../queue/semaphore.js';
import { runQueue, WorkQueue } from '../queue/workqueue.js';
import { httpCode, shortErr } from '../informer/reflector.js';
import type { SpeakerStatusSink } from '../speaker.js';
import type { KubeObject, Service } from '../types.js';
import { seg, type RestClient } from './rest.js';

const GROUP = 'metallb.io';

/** Options of {@link KubeSpeakerStatusSink}. */
export interface KubeSpeakerStatusSinkOptions {
  namespace: string;
  podName?: string;
  podUID?: string;
  /** Shared write semaphore (bounded API concurrency). */
  sem: Semaphore;
  /** Workers (default 8). */
  workers?: number;
  log?: Logger;
}

type Kind = 'l2' | 'bgp';
interface Desired {
  kind: Kind;
  svcName: string;
  svcNs: string;
  node: string;
  status: Record<string, unknown> | null;
}

/** The sink. */
export class KubeSpeakerStatusSink implements SpeakerStatusSink {
  private readonly desired = new Map<string, Desired>();
  /** cache key → object name ('' = known absent) */
  private readonly names = new Map<string, string>();
  private readonly loaded = new Map<string, Promise<void>>();
  private readonly queue = new WorkQueue<string>({ baseMs: 100, maxMs: 30_000 });
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  /** Counters. */
  readonly stats = { writes: 0, failures: 0 };

  /** @param rest the REST client */
  constructor(
    private readonly rest: RestClient,
    private readonly opts: KubeSpeakerStatusSinkOptions,
  ) {
    this.log = opts.log ?? nullLogger;
  }

  /** Keys waiting (queued, delayed for a retry or in flight). */
  get pending(): number {
    return this.queue.length + this.queue.delayedCount + this.queue.inFlight;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** @inheritdoc */
  setL2Status(svc: Service, node: string, ifs: string[] | null): void {
    this.set('l2', svc, node, ifs === null ? null : { interfaces: ifs.map((name) => ({ name })) });
  }

  /** @inheritdoc */
  setBgpStatus(svc: Service, node: string, peers: string[] | null): void {
    this.set('bgp', svc, node, peers === null ? null : { peers });
  }

  private set(kind: Kind, svc: Service, node: string, status: Record<string, unknown> | null): void {
    const svcName = svc.metadata?.name ?? '';
    const svcNs = svc.metadata?.namespace ?? 'default';
    const key = `${kind}/${svcNs}/${svcName}/${node}`;
    this.desired.set(key, { kind, svcName, svcNs, node, status });
    this.queue.forget(key);
    this.queue.add(key);
    this.running ??= runQueue(this.queue, (k) => this.sync(k), { concurrency: this.opts.workers ?? 8 });
  }

  private base(kind: Kind): string {
    return `/apis/${GROUP}/v1beta1/namespaces/${seg(this.opts.namespace)}/${kind === 'l2' ? 'servicel2statuses' : 'servicebgpstatuses'}`;
  }

  /** One labelled list per (kind, node): learns the names of existing objects (and removes duplicates). */
  private load(kind: Kind, node: string): Promise<void> {
    const lk = `${kind}/${node}`;
    let p = this.loaded.get(lk);
    if (!p) {
      p = this.opts.sem
        .run(() => this.rest.request('GET', `${this.base(kind)}?labelSelector=${encodeURIComponent(`metallb.io/node=${node}`)}`) as Promise<{ items?: KubeObject[] }>)
        .then(async (list) => {
          for (const it of list.items ?? []) {
            const l = it.metadata?.labels ?? {};
            const k = `${kind}/${l['metallb.io/service-namespace']}/${l['metallb.io/service-name']}/${node}`;
            const name = it.metadata?.name ?? '';
            const had = this.names.get(k);
            if (had && had !== name) await this.opts.sem.run(() => this.rest.request('DELETE', `${this.base(kind)}/${seg(name)}`)).catch(() => {});
            else this.names.set(k, name);
          }
        });
      p.catch(() => this.loaded.delete(lk));
      this.loaded.set(lk, p);
    }
    return p;
  }

  private async sync(key: string): Promise<void> {
    const d = this.desired.get(key);
    if (!d) return;
    try {
      await this.load(d.kind, d.node);
      const base = this.base(d.kind);
      const name = this.names.get(key);
      if (d.status === null) {
        if (name) {
          await this.opts.sem.run(() => this.rest.request('DELETE', `${base}/${seg(name)}`)).catch((e: unknown) => {
            if (httpCode(e) !== 404) throw e;
          });
        }
        this.names.delete(key);
      } else {
        const full = { node: d.node, serviceName: d.svcName, serviceNamespace: d.svcNs, ...d.status };
        let n = name;
        if (!n) {
          const labels = { 'metallb.io/node': d.node, 'metallb.io/service-name': d.svcName, 'metallb.io/service-namespace': d.svcNs };
          const body: KubeObject = { apiVersion: `${GROUP}/v1beta1`, kind: d.kind === 'l2' ? 'ServiceL2Status' : 'ServiceBGPStatus', metadata: { generateName: `${d.kind}-`, namespace: this.opts.namespace, labels }, status: full };
          if (this.opts.podName && this.opts.podUID) body.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: this.opts.podName, uid: this.opts.podUID }];
          const created = (await this.opts.sem.run(() => this.rest.request('POST', base, body))) as KubeObject;
          n = created.metadata?.name ?? '';
          this.names.set(key, n);
        }
        try {
          await this.opts.sem.run(() => this.rest.mergePatch(`${base}/${seg(n!)}/status`, { status: full }));
        } catch (e) {
          // deleted behind our back: forget the name, the retry creates it again
          if (httpCode(e) === 404) this.names.delete(key);
          throw e;
        }
      }
      this.stats.writes++;
      if (this.desired.get(key) === d) this.desired.delete(key);
    } catch (e) {
      this.stats.failures++;
      const n = this.queue.retries(key);
      if (n === 0 || (n & (n - 1)) === 0) this.log.log('warn', `${base(d.kind)} write failed, retrying with backoff`, { service: `${d.svcNs}/${d.svcName}`, err: shortErr(e), attempt: n + 1 });
      throw e;
    }
  }

  /** Stops the workers (queued writes are dropped). */
  stop(): void {
    this.queue.shutDown();
  }
}

function base(kind: Kind): string {
  return kind === 'l2' ? 'servicel2statuses' : 'servicebgpstatuses';
}
