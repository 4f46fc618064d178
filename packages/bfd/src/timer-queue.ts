/**
 * One timer for many sessions: a binary min-heap of deadlines (pure, no clock, no I/O). The
 * {@link BfdManager} keeps one `setTimeout` armed for the earliest deadline of all its sessions
 * instead of two timers per session, so 1000 sessions at 100 ms cost one wake-up per due batch
 * rather than ~13,000 timer insertions a second spread over Node's per-duration timer lists.
 *
 * Cancellation is lazy: an entry carries the value its owner expected; the owner checks it when
 * the entry pops ({@link TimerQueue.popDue}) and ignores stale ones.
 */

/** One scheduled deadline. */
export interface TimerEntry<T> {
  /** Deadline, ms on the caller's clock. */
  at: number;
  item: T;
  /** Which timer of the item (e.g. 0 transmit, 1 detection). */
  kind: number;
}

/** A min-heap of {@link TimerEntry} ordered by `at`. */
export class TimerQueue<T> {
  private readonly heap: Array<TimerEntry<T>> = [];

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest deadline, Infinity when empty. */
  peek(): number {
    return this.heap.length ? this.heap[0]!.at : Infinity;
  }

  /** Adds a deadline. */
  push(at: number, item: T, kind: number): void {
    const h = this.heap;
    const e: TimerEntry<T> = { at, item, kind };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  /** Removes and returns the earliest entry if its deadline is ≤ `now`. */
  popDue(now: number): TimerEntry<T> | undefined {
    const h = this.heap;
    if (!h.length || h[0]!.at > now) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r]!.at < h[l]!.at ? r : l;
        if (h[c]!.at >= last.at) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Drops every entry whose item matches (used when a session is removed). */
  removeWhere(pred: (item: T) => boolean): void {
    const keep = this.heap.filter((e) => !pred(e.item));
    this.heap.length = 0;
    for (const e of keep) this.push(e.at, e.item, e.kind);
  }

  /** Drops everything. */
  clear(): void {
    this.heap.length = 0;
  }
}
