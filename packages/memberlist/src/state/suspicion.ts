/**
 * Lifeguard suspicion timer: starts at `max` and shrinks logarithmically towards `min` as
 * independent peers confirm the suspicion (memberlist suspicion.go semantics).
 */
import type { Clock, TimerHandle } from '../clock.js';

/**
 * memberlist's `suspicionTimeout`: `mult × max(1, log10(max(1, n))) × interval` (the node scale is
 * truncated to 1/1000 like Go's integer Duration arithmetic).
 */
export function suspicionTimeout(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return (suspicionMult * Math.floor(nodeScale * 1000) * intervalMs) / 1000;
}

/**
 * Timeout after `n` confirmations out of `k` expected:
 * `max(min, max − ln(n+1)/ln(k+1) × (max − min))`, floored to whole milliseconds.
 */
export function remainingSuspicionTimeout(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = k < 1 ? 1 : Math.log(n + 1) / Math.log(k + 1);
  const raw = Math.floor(maxMs - frac * (maxMs - minMs));
  const timeout = Math.max(raw, minMs);
  return timeout - elapsedMs;
}

/** One running suspicion about one node. */
export class Suspicion {
  private n = 0;
  private readonly confirmations = new Set<string>();
  private readonly start: number;
  private timer: TimerHandle | undefined;
  private fired = false;

  /**
   * @param from node that raised the suspicion (never counted as a confirmation)
   * @param k confirmations expected before the timeout reaches `min` (0 ⇒ start at `min`)
   * @param timeoutFn called once with the number of confirmations when the timer fires
   */
  constructor(
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    private readonly clock: Clock,
    private readonly timeoutFn: (confirmations: number) => void,
  ) {
    this.confirmations.add(from);
    this.start = clock.now();
    const first = k < 1 ? minMs : maxMs;
    this.timer = clock.setTimeout(() => this.fire(), first);
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.timer = undefined;
    this.timeoutFn(this.n);
  }

  /** Number of independent confirmations counted so far. */
  get confirmationCount(): number {
    return this.n;
  }

  /** Time at which the timer will fire if nothing else arrives. */
  get deadline(): number {
    return this.start + Math.max(0, remainingSuspicionTimeout(this.n, this.k, 0, this.minMs, this.maxMs));
  }

  /**
   * Registers a confirmation from `from`. Returns true when it was new (and so worth re-gossiping);
   * the timer is shortened accordingly and fires at once if already overdue.
   */
  confirm(from: string): boolean {
    if (this.fired || this.n >= this.k) return false;
    if (this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    this.n++;
    const elapsed = this.clock.now() - this.start;
    const remaining = remainingSuspicionTimeout(this.n, this.k, elapsed, this.minMs, this.maxMs);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (remaining > 0) this.timer = this.clock.setTimeout(() => this.fire(), remaining);
    else this.fire();
    return true;
  }

  /** Stops the timer (the node was refuted or declared dead). */
  stop(): void {
    this.fired = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
