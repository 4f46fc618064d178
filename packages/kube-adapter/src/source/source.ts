/** The ObjectSource abstraction: where objects come from and where status goes back to. */
import type { EventRecorder, StatusWriter } from '../events.js';
import type { SpeakerStatusSink } from '../speaker.js';
import type { KubeObject, Snapshot } from '../types.js';
import type { ConfigStateComponent } from './config-state.js';

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
  /**
   * Optional incremental feed: called once per object change (after {@link start} resolved, every
   * object of the initial list is delivered as `ADDED` first). A source with this feed lets the
   * daemon keep its indexes incrementally instead of diffing snapshots.
   */
  onObject?(cb: ObjectListener): void;
  /** Optional health: whether every required kind is synced, and the current sticky errors. */
  health?(): SourceHealth;
  /**
   * Optional: records whether the configuration each component loaded is valid (MetalLB's
   * ConfigurationState objects); called after every configuration load, valid or not.
   */
  reportConfigState?(r: ConfigStateReport): void;
}

/** One configuration load, as reported to {@link ObjectSource.reportConfigState}. */
export interface ConfigStateReport {
  /** The components running here (`controller`, `speaker`, or both in `--mode all`). */
  components: ConfigStateComponent[];
  /** This node (names the speaker's object). */
  node: string;
  /** Why the configuration was rejected; undefined when it is valid. */
  error?: string;
}

/** One object change of an incremental source. */
export type ObjectListener = (kind: keyof Snapshot, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined) => void;

/** Health of a source (readiness). */
export interface SourceHealth {
  /** Every required kind has been listed at least once. */
  synced: boolean;
  /** Problems that persist (a failing list or watch), by collection. */
  errors: string[];
  /** Optional kinds that are forbidden or missing (treated as empty). */
  unavailable: string[];
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
