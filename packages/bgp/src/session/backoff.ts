/**
 * Exponential reconnect backoff with jitter: 1 s doubling to a 30 s cap by default (MetalLB's native
 * speaker caps at 2 min; 30 s keeps re-announcing after a long router outage quick, and the jitter
 * spreads the nodes' reconnects). The FSM resets the failure count once a session is Established.
 */

/** Backoff parameters (milliseconds). */
export interface BackoffOptions {
  /** First delay after a failure. Default 1000. */
  initialMs?: number;
  /** Upper bound of the delay. Default 30000 (30 s). */
  maxMs?: number;
  /** Multiplier per failure. Default 2. */
  factor?: number;
  /** Random spread as a fraction of the delay, 0..1: the delay is scaled by 1 ± jitter/2. Default 0.2. */
  jitter?: number;
}

/** Default cap of the reconnect delay (ms). */
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

/**
 * Delay before reconnect attempt number `failures` (1 = first failure).
 * `random` returns a number in [0, 1); 0.5 means "no jitter".
 */
export function backoffDelay(failures: number, o: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = o.initialMs ?? 1000;
  const max = o.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const factor = o.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
  const base = Math.min(max, initial * factor ** Math.max(0, failures - 1));
  const scaled = base * (1 + jitter * (random() - 0.5));
  return Math.max(0, Math.min(max, Math.round(scaled)));
}
