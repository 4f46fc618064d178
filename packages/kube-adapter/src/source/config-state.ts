/**
 * MetalLB's ConfigurationState (metallb.io/v1beta1, v0.15): a status-only object per component in
 * which it reports whether the configuration it loaded is valid. The controller writes one object
 * named `controller` (label `metallb.io/component-type: controller`); each speaker writes
 * `speaker-<node>` (labels `metallb.io/component-type: speaker`, `metallb.io/node-name: <node>`).
 * The status carries one condition per reporting reconciler (`poolReconcilerValid` for the
 * controller, `configReconcilerValid` for a speaker; reason `Reconciled` or `ConfigurationError`),
 * the `result` (`Valid` / `Invalid`) and an `errorSummary`, as MetalLB writes them.
 *
 * Writes go through a coalescing per-object queue: the daemon records the latest state and returns;
 * a worker creates the object when missing (owned by the pod, so it goes with it) and merge-PATCHes
 * its status subresource, retrying failures with backoff. Every `resyncMs` the states are written
 * again, so an object deleted by hand comes back (MetalLB re-creates it on the delete event).
 */
import { httpCode, shortErr } from '../informer/reflector.js';
import { nullLogger, type Logger } from '../log.js';
import { runQueue, WorkQueue } from '../queue/workqueue.js';
import { seg, type RestClient } from '../kube/rest.js';
import type { KubeObject } from '../types.js';

/** Which lbkitd component reports. */
export type ConfigStateComponent = 'controller' | 'speaker';

/** Label naming the component (MetalLB's). */
export const COMPONENT_TYPE_LABEL = 'metallb.io/component-type';
/** Label naming the speaker's node (MetalLB's). */
export const NODE_NAME_LABEL = 'metallb.io/node-name';
/** The CRD's limit on a condition message. */
const MAX_MESSAGE = 32768;

/** Name of the component's ConfigurationState: `controller`, or `speaker-<node>`. */
export function configStateName(component: ConfigStateComponent, node: string): string {
  return component === 'controller' ? 'controller' : `speaker-${node}`;
}

/** Labels of the component's ConfigurationState. */
export function configStateLabels(component: ConfigStateComponent, node: string): Record<string, string> {
  return component === 'controller' ? { [COMPONENT_TYPE_LABEL]: 'controller' } : { [COMPONENT_TYPE_LABEL]: 'speaker', [NODE_NAME_LABEL]: node };
}

/** `.status` of a ConfigurationState. */
export interface ConfigStateStatus {
  conditions: Array<{ type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime: string }>;
  result: 'Valid' | 'Invalid';
  errorSummary: string;
}

/**
 * The status a component reports: valid (no error) or invalid with the error, prefixed as MetalLB's
 * `ErrConfiguration` wraps it (`configuration error: ...`).
 * @param now the condition's lastTransitionTime
 */
export function configStateStatus(component: ConfigStateComponent, error: string | undefined, now: Date): ConfigStateStatus {
  const type = component === 'controller' ? 'poolReconcilerValid' : 'configReconcilerValid';
  const at = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  if (error === undefined) return { conditions: [{ type, status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: at }], result: 'Valid', errorSummary: '' };
  let message = `configuration error: ${error}`;
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 15)} ... (truncated)`;
  return { conditions: [{ type, status: 'False', reason: 'ConfigurationError', message, lastTransitionTime: at }], result: 'Invalid', errorSummary: message };
}

/** Options of {@link ConfigStateWriter}. */
export interface ConfigStateWriterOptions {
  namespace: string;
  /** Owner of the objects (they are deleted with the pod, as MetalLB's). */
  podName?: string;
  podUID?: string;
  /** First retry delay (default 200 ms, doubling up to 30 s). */
  retryBaseMs?: number;
  /** Re-write every state this often, re-creating deleted objects (default 300 000 ms; 0 = never). */
  resyncMs?: number;
  log?: Logger;
}

const GROUP = 'metallb.io';

/** Writes ConfigurationState objects. */
export class ConfigStateWriter {
  private readonly desired = new Map<string, { component: ConfigStateComponent; node: string; error: string | undefined }>();
  /** object name → what was last written (`result` + message), to skip identical writes */
  private readonly written = new Map<string, string>();
  /** objects created or claimed by this process (labels and owner set) */
  private readonly claimed = new Set<string>();
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private resync: NodeJS.Timeout | undefined;

  /** @param rest the REST client @param opts namespace, owner pod, retry delay, logger */
  constructor(
    private readonly rest: RestClient,
    private readonly opts: ConfigStateWriterOptions,
  ) {
    this.log = opts.log ?? nullLogger;
    this.queue = new WorkQueue<string>({ baseMs: opts.retryBaseMs ?? 200, maxMs: 30_000 });
  }

  /** Records the component's state (`error` undefined: the loaded configuration is valid); written in the background. */
  report(component: ConfigStateComponent, node: string, error: string | undefined): void {
    const name = configStateName(component, node);
    this.desired.set(name, { component, node, error });
    this.queue.forget(name);
    this.queue.add(name);
    this.running ??= runQueue(this.queue, (k) => this.sync(k), { concurrency: 2 });
    const every = this.opts.resyncMs ?? 300_000;
    if (every > 0 && !this.resync) {
      this.resync = setInterval(() => {
        this.written.clear();
        for (const k of this.desired.keys()) this.queue.add(k);
      }, every);
      this.resync.unref?.();
    }
  }

  /** Writes queued, delayed for a retry, or in flight. */
  get pending(): number {
    return this.queue.length + this.queue.delayedCount + this.queue.inFlight;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private base(): string {
    return `/apis/${GROUP}/v1beta1/namespaces/${seg(this.opts.namespace)}/configurationstates`;
  }

  private async sync(name: string): Promise<void> {
    const d = this.desired.get(name);
    if (!d) return;
    const sig = JSON.stringify([d.error ?? null]);
    if (this.written.get(name) === sig) return;
    const status = configStateStatus(d.component, d.error, new Date());
    try {
      if (!this.claimed.has(name)) await this.claim(name, d.component, d.node);
      try {
        await this.rest.mergePatch(`${this.base()}/${seg(name)}/status`, { status });
      } catch (e) {
        if (httpCode(e) === 404) this.claimed.delete(name); // deleted meanwhile: the retry creates it
        throw e;
      }
      if (this.desired.get(name) === d) this.written.set(name, sig);
    } catch (e) {
      const n = this.queue.retries(name);
      if (n === 0 || (n & (n - 1)) === 0) this.log.log('warn', 'ConfigurationState write failed, retrying with backoff', { name, err: shortErr(e), attempt: n + 1 });
      throw e;
    }
  }

  /**
   * Makes the object ours: labels and the owner reference set on an existing one (left by an
   * earlier pod, whose owner reference would get it garbage-collected), or the object created.
   */
  private async claim(name: string, component: ConfigStateComponent, node: string): Promise<void> {
    const metadata: KubeObject['metadata'] = { labels: configStateLabels(component, node) };
    if (this.opts.podName && this.opts.podUID) metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: this.opts.podName, uid: this.opts.podUID }];
    try {
      await this.rest.mergePatch(`${this.base()}/${seg(name)}`, { metadata });
    } catch (e) {
      if (httpCode(e) !== 404) throw e;
      const body: KubeObject = { apiVersion: `${GROUP}/v1beta1`, kind: 'ConfigurationState', metadata: { name, namespace: this.opts.namespace, ...metadata } };
      await this.rest.request('POST', this.base(), body).catch((x: unknown) => {
        if (httpCode(x) !== 409) throw x;
      });
    }
    this.claimed.add(name);
  }

  /** Stops the worker (queued writes are dropped). */
  stop(): void {
    clearInterval(this.resync);
    this.queue.shutDown();
  }
}
