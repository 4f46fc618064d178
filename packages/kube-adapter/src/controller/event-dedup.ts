/**
 * One event per change: the controller emits its events while converging a service; a service
 * that is converged again without any change (a resync, another service's deletion, our own
 * status write coming back) would repeat the same warning on every pass. This buffer collects the
 * events of one pass and forwards them only when they differ from the previous pass's events for
 * the same key. Per key only a 52-bit hash of the last pass's events is kept (a cold start of 50k
 * Services leaves one entry per Service; their texts stay out of the long-lived heap).
 */
import type { EventRecorder, EventType } from '../events.js';
import type { KubeObject } from '../types.js';

interface Buffered {
  obj: KubeObject;
  type: EventType;
  reason: string;
  message: string;
}

/** 52-bit hash of a string: two FNV-1a 32-bit hashes with different offsets, combined. */
export function hash52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff) || 1;
}

/** Buffers events per pass and forwards each key's events once per change. */
export class EventDedup implements EventRecorder {
  private buf: Buffered[] = [];
  private readonly last = new Map<string, number>();
  /** Events suppressed as repeats. */
  suppressed = 0;

  /** @param sink where new events go */
  constructor(private readonly sink: EventRecorder) {}

  /** @inheritdoc (buffers until {@link flush}) */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.buf.push({ obj, type, reason, message });
  }

  /** Ends the pass of `key`: forwards its events unless they repeat the previous pass's. */
  flush(key: string): void {
    const evs = this.buf;
    this.buf = [];
    const sig = evs.length === 0 ? 0 : hash52(evs.map((e) => `${e.type}\u0000${e.reason}\u0000${e.message}`).join('\u0001'));
    const prev = this.last.get(key) ?? 0;
    if (sig === 0) this.last.delete(key);
    else this.last.set(key, sig);
    if (sig === prev) {
      this.suppressed += evs.length;
      return;
    }
    for (const e of evs) this.sink.event(e.obj, e.type, e.reason, e.message);
  }

  /** Forgets a deleted key. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
