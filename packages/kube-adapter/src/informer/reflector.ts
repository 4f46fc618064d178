/**
 * A list/watch reflector over `@kubernetes/client-node`'s `Watch`: lists once, then watches from the
 * list's resourceVersion and keeps a store of the objects, emitting one event per change.
 *
 * Watch health: every watch carries `timeoutSeconds` (randomised, like client-go) and a client-side
 * deadline a little later; a watch that delivers nothing (not even a bookmark) for `stallMs` is
 * aborted and re-opened from the last resourceVersion; `410 Gone` (or an ERROR event with code 410)
 * re-lists; a periodic re-list (`resyncMs`) repairs anything missed, emitting only real differences.
 * Failures back off exponentially. An optional kind that is forbidden (403) or missing (404) counts
 * as synced and empty, is logged once, and is retried with backoff in the background.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { errMsg } from '../errors.js';
import { nullLogger, type Logger } from '../log.js';
import type { KubeObject } from '../types.js';
import { KeyBackoff } from '../queue/backoff.js';
import { internKey, leanTransform, transformKindOf, type ObjectTransform } from './transform.js';

/** A watch event type as delivered to the handler. */
export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a list call returns (one page when `metadata.continue` is set). */
export interface ListResult {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

/** Options of {@link Reflector}. */
export interface ReflectorOptions {
  kc: KubeConfig;
  /** Collection path, e.g. `/api/v1/services`. */
  path: string;
  /** The list call; called again with `metadata.continue` of the previous page while there is one. */
  list: (cont?: string) => Promise<ListResult>;
  /** A 403/404 counts as synced-and-empty (logged once, retried in the background). */
  optional?: boolean;
  /**
   * Applied to every listed or watched object before it is stored (client-go's TransformFunc);
   * default {@link leanTransform} for the collection's kind, `null` stores objects as decoded.
   */
  transform?: ObjectTransform | null;
  /** Called for each change of the store. */
  onEvent: (type: ObjectEventType, obj: KubeObject, old: KubeObject | undefined) => void;
  /** Minimum server-side watch timeout in s (default 300; each watch uses a random value in [t, 2t]). */
  watchTimeoutSec?: number;
  /** Abort a watch that delivers no line for this long (default 90 000 ms; 0 = off). */
  stallMs?: number;
  /**
   * Periodic re-list in ms (default 3 600 000, each period jittered by up to +10 %; 0 = off). The
   * watch (with its timeouts, stall detection and 410 handling) keeps the store current; the
   * re-list only repairs what a buggy server or proxy might have lost, and at 50k objects it is the
   * most expensive thing an idle controller does, so it is rare (controller-runtime's is 10 h).
   */
  resyncMs?: number;
  /** Backoff of failed list/watch calls. */
  backoffBaseMs?: number;
  /** Backoff cap (default 30 000 ms). */
  backoffMaxMs?: number;
  log?: Logger;
}

import { httpCode, shortErr } from './http-error.js';
export { httpCode, shortErr };

function keyOfObj(o: KubeObject): string {
  const m = o.metadata;
  return internKey(m?.namespace ? `${m.namespace}/${m.name ?? ''}` : String(m?.name ?? ''));
}

/** The reflector of one collection. */
export class Reflector {
  /** The objects, by `namespace/name` (or `name`). */
  readonly store = new Map<string, KubeObject>();
  private rv = '';
  private stopped = false;
  private started = false;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly backoff: KeyBackoff<string>;
  private readonly log: Logger;
  private readonly watcher: Watch;
  private readonly transform: ObjectTransform | null;
  private syncWaiters: Array<() => void> = [];
  /** Whether the first list succeeded (or an optional kind was found forbidden/missing). */
  synced = false;
  /** The current problem, cleared by the next successful list or watch. */
  lastError: string | undefined;
  /** True while an optional kind is forbidden or missing. */
  unavailable = false;
  /** Counters: lists, watches opened, re-lists after 410, stalled watches aborted. */
  readonly stats = { lists: 0, watches: 0, gone: 0, stalls: 0, errors: 0 };

  /** @param opts see {@link ReflectorOptions} */
  constructor(private readonly opts: ReflectorOptions) {
    this.backoff = new KeyBackoff({ baseMs: opts.backoffBaseMs ?? 200, maxMs: opts.backoffMaxMs ?? 30_000 });
    this.log = opts.log ?? nullLogger;
    this.watcher = new Watch(opts.kc);
    this.transform = opts.transform === undefined ? leanTransform(transformKindOf(opts.path)) : opts.transform;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.relist();
  }

  /** Resolves once {@link synced} (or when stopped). */
  waitSynced(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  /** Stops watching; pending retries are cancelled. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.resyncTimer);
    this.abort?.abort();
    this.markSynced(false);
  }

  private markSynced(really = true): void {
    if (really) this.synced = true;
    const w = this.syncWaiters;
    this.syncWaiters = [];
    for (const r of w) r();
  }

  private later(fn: () => void, ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(fn, ms);
    this.timer.unref?.();
  }

  /** Incremented by every (re-)list: a watch of an older generation never schedules anything. */
  private gen = 0;

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.gen++;
    this.abort?.abort();
    this.abort = undefined;
    let res: ListResult;
    try {
      this.stats.lists++;
      res = await this.opts.list();
      // paginated lists: gather every page (the first page's resourceVersion is the list's)
      let cont = res.metadata?.continue;
      const items = res.items ?? [];
      while (cont && !this.stopped) {
        const page = await this.opts.list(cont);
        for (const it of page.items ?? []) items.push(it);
        cont = page.metadata?.continue;
      }
      res = { metadata: { resourceVersion: res.metadata?.resourceVersion }, items };
    } catch (e) {
      if (this.stopped) return;
      this.stats.errors++;
      const code = httpCode(e);
      const delay = this.backoff.next('list');
      const text = shortErr(e);
      if (this.opts.optional && (code === 403 || code === 404)) {
        if (!this.unavailable) this.log.log('warn', 'optional kind unavailable, treated as empty; retrying in the background', { path: this.opts.path, err: text });
        this.unavailable = true;
        this.lastError = undefined;
        if (!this.synced) this.markSynced();
      } else {
        // log with backoff: the first failure and then at every doubling of the delay
        if (this.lastError !== text || delay >= (this.backoffMaxMsOr())) this.log.log('error', 'list failed, retrying with backoff', { path: this.opts.path, err: text, retryInMs: delay });
        this.lastError = text;
      }
      this.later(() => void this.relist(), this.opts.optional && (code === 403 || code === 404) ? Math.max(delay, 5_000) : delay);
      return;
    }
    if (this.stopped) return;
    if (this.unavailable) this.log.log('info', 'optional kind available again', { path: this.opts.path });
    this.unavailable = false;
    this.lastError = undefined;
    this.backoff.forget('list');
    this.replace(res);
    this.markSynced();
    this.scheduleResync();
    void this.watch();
  }

  private backoffMaxMsOr(): number {
    return this.opts.backoffMaxMs ?? 30_000;
  }

  private scheduleResync(): void {
    clearTimeout(this.resyncTimer);
    const ms = this.opts.resyncMs ?? 3_600_000;
    if (!ms || this.stopped) return;
    this.resyncTimer = setTimeout(() => void this.relist(), ms + Math.floor(Math.random() * ms * 0.1));
    this.resyncTimer.unref?.();
  }

  /** Replaces the store with a list result, emitting only the differences. */
  private replace(res: ListResult): void {
    const seen = new Set<string>();
    for (const raw of res.items ?? []) {
      const o = raw as KubeObject;
      if (!o || typeof o !== 'object') continue;
      const k = keyOfObj(o);
      seen.add(k);
      const old = this.store.get(k);
      // unchanged (same resourceVersion): keep the stored object, the listed one is garbage now
      if (old && o.metadata?.resourceVersion && old.metadata?.resourceVersion === o.metadata.resourceVersion) continue;
      const t = this.transform ? this.transform(o, old) : o;
      this.store.set(k, t);
      if (!old) this.opts.onEvent('ADDED', t, undefined);
      else this.opts.onEvent('MODIFIED', t, old);
    }
    for (const [k, old] of this.store)
      if (!seen.has(k)) {
        this.store.delete(k);
        this.opts.onEvent('DELETED', old, old);
      }
    this.rv = res.metadata?.resourceVersion ?? '';
  }

  private apply(type: string, obj: KubeObject): void {
    const rv = obj?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.rv = rv;
      return;
    }
    if (!obj || typeof obj !== 'object' || !obj.metadata) return;
    const k = keyOfObj(obj);
    const old = this.store.get(k);
    if (type === 'DELETED') {
      this.store.delete(k);
      if (old) this.opts.onEvent('DELETED', obj, old);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      const t = this.transform ? this.transform(obj, old) : obj;
      this.store.set(k, t);
      this.opts.onEvent(old ? 'MODIFIED' : 'ADDED', t, old);
    }
    if (rv) this.rv = rv;
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const myGen = this.gen;
    const min = this.opts.watchTimeoutSec ?? 300;
    const timeoutSeconds = Math.round(min + Math.random() * min);
    const stallMs = this.opts.stallMs ?? 90_000;
    let finished = false;
    let gone = false;
    let lastData = Date.now();
    let ctl: AbortController | undefined;
    let healthTimer: NodeJS.Timeout | undefined;
    const deadline = Date.now() + timeoutSeconds * 1000 + 15_000;
    const finish = (err: unknown, why?: string): void => {
      if (finished) return;
      finished = true;
      clearInterval(healthTimer);
      if (ctl && this.abort === ctl) this.abort = undefined;
      ctl?.abort();
      if (this.stopped || myGen !== this.gen) return;
      if (gone || httpCode(err) === 410) {
        this.stats.gone++;
        this.log.log('info', 'watch expired (410 Gone), re-listing', { path: this.opts.path });
        this.later(() => void this.relist(), 0);
        return;
      }
      if (err || why) {
        this.stats.errors++;
        const delay = why === 'stall' ? 0 : this.backoff.next('watch');
        const text = why ?? shortErr(err);
        if (why !== 'stall') this.lastError = `watch: ${text}`;
        // a silent watch is re-opened from the last resourceVersion (cheap; a quiet kind without
        // bookmarks looks the same as a stalled connection), so this is not a warning
        if (why === 'stall') this.log.log('info', 'watch silent, re-opening', { path: this.opts.path, silentMs: Date.now() - lastData });
        else this.log.log('info', 'watch failed, re-opening with backoff', { path: this.opts.path, err: text, retryInMs: delay });
        this.later(() => void this.watch(), delay);
        return;
      }
      // normal end (server-side timeout): re-watch at once from the last resourceVersion
      this.later(() => void this.watch(), 0);
    };
    this.stats.watches++;
    try {
      ctl = await this.watcher.watch(
        this.opts.path,
        { resourceVersion: this.rv || undefined, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, obj: unknown) => {
          lastData = Date.now();
          if (finished) return;
          if (type === 'ERROR') {
            const st = obj as { code?: number; message?: string };
            if (st?.code === 410) gone = true;
            finish(gone ? null : new Error(`watch ERROR event: ${st?.message ?? JSON.stringify(obj)}`));
            return;
          }
          this.backoff.forget('watch');
          if (this.lastError?.startsWith('watch')) this.lastError = undefined;
          try {
            this.apply(type, obj as KubeObject);
          } catch (e) {
            this.log.log('error', 'watch event handler failed', { path: this.opts.path, err: errMsg(e) });
          }
        },
        (err: unknown) => finish(err),
      );
    } catch (e) {
      finish(e);
      return;
    }
    if (finished) return;
    if (this.stopped || myGen !== this.gen) {
      finished = true;
      ctl.abort();
      return;
    }
    this.abort = ctl;
    healthTimer = setInterval(() => {
      const now = Date.now();
      if (stallMs > 0 && now - lastData > stallMs) {
        this.stats.stalls++;
        finish(null, 'stall');
      } else if (now > deadline) finish(null, 'stall');
    }, Math.max(20, Math.min(10_000, stallMs > 0 ? stallMs / 4 : 10_000)));
    healthTimer.unref?.();
  }
}
