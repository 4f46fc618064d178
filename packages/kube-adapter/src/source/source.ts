/** The ObjectSource abstraction: where objects come from and where status goes back to. */
import type { EventRecorder, StatusWriter } from '../events.js';
import type { SpeakerStatusSink } from '../speaker.js';
import type { Snapshot } from '../types.js';

/** A source of Kubernetes-shaped objects with write-back for status, events and speaker status. */
export interface ObjectSource {
  /** Loads the initial state (throws when the very first load fails). */
  start(): Promise<void>;
  /** Stops watching and releases resources. */
  stop(): Promise<void>;
  /** The current objects (the last good state). */
  snapshot(): Snapshot;
  /** Called after every accepted change. */
  onChange(cb: (snap: Snapshot) => void): void;
  /** Called when an update could not be applied (the last good state is kept). */
  onError(cb: (err: Error) => void): void;
  /** Writes Service status and the pool annotation. */
  readonly statusWriter: StatusWriter;
  /** Records Events. */
  readonly events: EventRecorder;
  /** Writes ServiceL2Status / ServiceBGPStatus. */
  readonly speakerStatus: SpeakerStatusSink;
  /** Optional: writes IPAddressPool status counters (MetalLB v0.15 pool status). */
  updatePoolStatus?(pool: string, status: PoolStatus): Promise<void>;
}

/** IPAddressPool `.status` (counters of assigned and available addresses). */
export interface PoolStatus {
  assignedIPv4: number;
  assignedIPv6: number;
  availableIPv4: number;
  availableIPv6: number;
}

/** Minimal listener list used by the sources. */
export class Listeners<T extends unknown[]> {
  private readonly cbs: Array<(...a: T) => void> = [];
  /** Adds a listener. */
  add(cb: (...a: T) => void): void {
    this.cbs.push(cb);
  }
  /** Calls every listener; a throwing listener never breaks the others. */
  emit(...a: T): void {
    for (const cb of this.cbs) {
      try {
        cb(...a);
      } catch {
        /* listeners must not break the source */
      }
    }
  }
}
