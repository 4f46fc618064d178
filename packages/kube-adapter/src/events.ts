/** Event recording and status writing interfaces shared by the controller and speaker. */
import type { Level } from './log.js';
import type { KubeObject, Service } from './types.js';

/** Kubernetes event type. */
export type EventType = 'Normal' | 'Warning';

/** One recorded event. */
export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
  /** `namespace/name` of the involved object */
  object: string;
  kind: string;
}

/** Where events go (Kubernetes Events, logs, or memory in tests). */
export interface EventRecorder {
  /** Records one event about `obj`. Must not throw. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

/** Writes a service's status and the `ip-allocated-from-pool` annotation back to the source. */
export interface StatusWriter {
  /** Persists `svc.status` and `svc.metadata.annotations` (the whole object is given). */
  updateServiceStatus(svc: Service): Promise<void>;
}

/** An EventRecorder that keeps events in memory (tests, YAML mode, `lbkitd` logging). */
export class MemoryEventRecorder implements EventRecorder {
  /**
   * The events in order: all of them, or with {@link max} the newest (at least `max` of them once
   * that many were recorded; older ones are dropped in batches, so at most 2 × `max` are held).
   */
  readonly events: RecordedEvent[] = [];
  /**
   * @param onEvent optional hook called for each event
   * @param max keep only the newest events (a long-running daemon records events for ever; default: keep all)
   */
  constructor(
    private readonly onEvent?: (e: RecordedEvent) => void,
    private readonly max = Infinity,
  ) {}
  /** @inheritdoc */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const ns = obj.metadata?.namespace;
    const e: RecordedEvent = { type, reason, message, object: ns ? `${ns}/${obj.metadata?.name}` : (obj.metadata?.name ?? ''), kind: obj.kind ?? 'Service' };
    this.events.push(e);
    if (this.events.length >= 2 * this.max) this.events.splice(0, this.events.length - this.max);
    try {
      this.onEvent?.(e);
    } catch {
      /* an observer must never break the caller */
    }
  }
}

/**
 * The log level of an event in a run without a cluster (YAML file), where the log is where events go:
 * Warnings at `warn`; the speaker's `nodeAssigned` at `debug`, because the speaker's own `announcing`
 * line (info) carries the same facts, one per announced Service (at 5000 VIPs a speaker's start logged
 * each twice); every other Normal event at `info`.
 */
export function eventLogLevel(e: Pick<RecordedEvent, 'type' | 'reason'>): Level {
  if (e.type === 'Warning') return 'warn';
  return e.reason === 'nodeAssigned' ? 'debug' : 'info';
}
