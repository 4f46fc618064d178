/**
 * A {@link Delegate} that lets a plain memberlist node sit in a serf cluster: it keeps serf's
 * membership Lamport clock (witnessed from serf's push/pull state and intents), sends a valid serf
 * push/pull user state, and produces the serf leave intent that serf needs before memberlist's
 * `dead{From: self}` to report a node as **left** rather than **failed** (serf.go handleNodeLeave:
 * only a member in state "leaving" becomes "left").
 */
import type { Delegate } from '../memberlist.js';
import { SerfMessageType, decodeSerfClocks, encodeSerfJoin, encodeSerfLeave, encodeSerfPushPull } from './codec.js';

/** Options of {@link SerfDelegate}. */
export interface SerfDelegateOptions {
  /** Receives every serf payload gossiped to us (user events, queries, intents), after clock tracking. */
  onMessage?: (buf: Uint8Array) => void;
  /** Payload of our acks (serf sends a Vivaldi coordinate; serf ignores an empty one). */
  ackPayload?: () => Uint8Array | undefined;
}

/** Lamport clock as serf's `LamportClock`: `witness(v)` moves past `v`, `increment()` returns the new time. */
class Lamport {
  private t = 0;
  time(): number {
    return this.t;
  }
  increment(): number {
    return ++this.t;
  }
  witness(v: number): void {
    if (v >= this.t) this.t = v + 1;
  }
}

/** serf-compatibility delegate (see the module comment). */
export class SerfDelegate implements Delegate {
  /** serf payloads that failed to decode (counted and dropped). */
  malformed = 0;
  private readonly clock = new Lamport();
  private readonly eventClock = new Lamport();
  private readonly queryClock = new Lamport();
  private statusLTime = 0;

  /**
   * @param nodeName our node name (the subject of our intents)
   * @param opts optional message sink and ack payload
   */
  constructor(readonly nodeName: string, private readonly opts: SerfDelegateOptions = {}) {}

  /** Current membership Lamport time. */
  time(): number {
    return this.clock.time();
  }

  /** @inheritdoc */
  ackPayload(): Uint8Array | undefined {
    return this.opts.ackPayload?.();
  }

  /** serf push/pull state: our clocks and our own status time. */
  localState(): Uint8Array {
    return encodeSerfPushPull({
      ltime: this.clock.time(),
      statusLTimes: { [this.nodeName]: this.statusLTime },
      eventLTime: this.eventClock.time(),
      queryLTime: this.queryClock.time(),
    });
  }

  /** Witnesses the clocks of a serf peer's push/pull state (as serf does: value − 1). */
  mergeRemoteState(buf: Uint8Array): void {
    try {
      const c = decodeSerfClocks(buf);
      if (c.type !== SerfMessageType.PushPull) return void this.malformed++;
      if (c.ltime) this.clock.witness(c.ltime - 1);
      if (c.eventLTime) this.eventClock.witness(c.eventLTime - 1);
      if (c.queryLTime) this.queryClock.witness(c.queryLTime - 1);
    } catch {
      this.malformed++;
    }
  }

  /** Witnesses the clock of a gossiped serf message, then hands it to `onMessage`. */
  notifyMsg(buf: Uint8Array): void {
    try {
      const c = decodeSerfClocks(buf);
      if (c.ltime !== undefined) {
        if (c.type === SerfMessageType.Leave || c.type === SerfMessageType.Join) this.clock.witness(c.ltime);
        else if (c.type === SerfMessageType.UserEvent) this.eventClock.witness(c.ltime);
        else if (c.type === SerfMessageType.Query) this.queryClock.witness(c.ltime);
      }
    } catch {
      this.malformed++;
      return;
    }
    this.opts.onMessage?.(buf);
  }

  /** Our leave intent, stamped with a fresh Lamport time (gossiped by `Memberlist.leave`). */
  leaveIntent(): Uint8Array {
    this.statusLTime = this.clock.increment();
    return encodeSerfLeave({ ltime: this.statusLTime, node: this.nodeName });
  }

  /** A join intent stamped with a fresh Lamport time (refutes an older leave intent about us). */
  joinIntent(): Uint8Array {
    this.statusLTime = this.clock.increment();
    return encodeSerfJoin({ ltime: this.statusLTime, node: this.nodeName });
  }
}
