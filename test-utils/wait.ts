/**
 * Polling for tests and benches: wait until a condition holds, with a timeout that names what was
 * awaited.
 */

/** What {@link until} treats as "not yet". */
export type NotYet = undefined | null | false;

/**
 * Calls `fn` every `stepMs` ms until it returns something other than `undefined`, `null` or `false`,
 * and resolves with that value (so `until(() => x.find(...))` yields the match and a boolean
 * condition yields `true`). Rejects with `timeout after <ms> ms waiting for <what>` once `ms` ms have
 * passed; `what` may be a function, evaluated only then, to report the state at the timeout.
 * A rejection of `fn` is passed on at once.
 */
export async function until<T>(
  fn: () => T | NotYet | Promise<T | NotYet>,
  ms = 30_000,
  what: string | (() => string) = 'condition',
  stepMs = 100,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timeout after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
