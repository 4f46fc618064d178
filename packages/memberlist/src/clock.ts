/** Time source and timers used by the engine, so it can run on wall-clock time or on a virtual clock. */

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A clock: current time in milliseconds plus one-shot timers. */
export interface Clock {
  /** Current time in milliseconds (monotonic for the real clock). */
  now(): number;
  /** Calls `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for an unknown or fired handle. */
  clearTimeout(h: TimerHandle): void;
}

/** The wall clock: `performance.now()` and Node timers (unref'd so they never keep a process alive). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Deterministic PRNG (mulberry32) returning floats in [0, 1); used by simulations for reproducible runs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
