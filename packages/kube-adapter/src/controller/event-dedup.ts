/**
 * One event per change: the controller emits its events while converging a service; a service
 * that is converged again without any change (a resync, another service's deletion, our own
 * status write coming back) would repeat the same warning on every pass. This buffer collects the
 * events of one pass and forwards them only when they differ from the previous pass's events for
 * the same key.
 */
import type { EventRecorder, EventType } from '../events.js';
import type { KubeObject } from '../types.js';

interface Buffered {
  obj: KubeObject;
  type: EventType;
  reason: string;
  message: string;
}

/** Buffers events per pass and forwards each key's events once per change. */
export class EventDedup implements EventRecorder {
  private buf: Buffered[] = [];
  private readonly last = new Map<string, string>();
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
    const sig = evs.map((e) => `${e.type}\u0000${e.reason}\u0000${e.message}`).join('\u0001');
    const prev = this.last.get(key) ?? '';
    if (sig === '') this.last.delete(key);
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
