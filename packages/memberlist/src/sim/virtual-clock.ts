/** A deterministic virtual clock: timers live in a binary heap and run only when advanced. */
import type { Clock, TimerHandle } from '../clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Virtual time in milliseconds; `advance()` runs due timers in (time, insertion) order. */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: Timer[] = [];
  /** Timer callbacks executed so far. */
  executed = 0;

  /** Current virtual time. */
  now(): number {
    return this.t;
  }

  /** Schedules `fn` at now + ms (ms < 0 is treated as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const tm: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(tm);
    return tm;
  }

  /** Cancels a timer. */
  clearTimeout(h: TimerHandle): void {
    if (h && typeof h === 'object' && 'cancelled' in h) (h as Timer).cancelled = true;
  }

  /** Number of pending (possibly cancelled) timers. */
  get pending(): number {
    return this.heap.length;
  }

  /** Runs every timer due up to now + ms, then sets the time to now + ms. */
  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }

  /** Runs timers up to absolute time `end`; stops early (returning true) once `stop()` is true. */
  runUntil(end: number, stop?: () => boolean): boolean {
    while (this.heap.length && this.heap[0]!.at <= end) {
      const tm = this.pop()!;
      if (tm.cancelled) continue;
      this.t = tm.at;
      this.executed++;
      tm.fn();
      if (stop?.()) return true;
    }
    this.t = Math.max(this.t, end);
    return false;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
