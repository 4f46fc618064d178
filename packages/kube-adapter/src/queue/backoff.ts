/** Per-key exponential backoff (client-go's ItemExponentialFailureRateLimiter). */

/** Options of {@link KeyBackoff}. */
export interface KeyBackoffOptions {
  /** First delay in ms (default 50). */
  baseMs?: number;
  /** Cap in ms (default 60 000). */
  maxMs?: number;
}

/** Tracks failures per key: `next(key)` = base · 2^failures, capped; `forget(key)` resets. */
export class KeyBackoff<K> {
  private readonly failures = new Map<K, number>();
  private readonly base: number;
  private readonly max: number;

  /** @param opts base and maximum delay */
  constructor(opts: KeyBackoffOptions = {}) {
    this.base = opts.baseMs ?? 50;
    this.max = opts.maxMs ?? 60_000;
  }

  /** Records one more failure of `key` and returns the delay before its next attempt. */
  next(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.max, this.base * 2 ** Math.min(n, 30));
  }

  /** Failures recorded for `key` since the last {@link forget}. */
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the failure count of `key` (after a success, or when it is dropped). */
  forget(key: K): void {
    this.failures.delete(key);
  }
}
