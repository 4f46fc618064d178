/**
 * lbkitd's start-up JIT setting (speaker mode). A speaker's start is a short burst: read the config,
 * elect every service once, announce. V8 meanwhile compiles every function that gets hot with its
 * optimizing compiler (TurboFan) on background threads, work that a burst of a second or two does
 * not earn back: measured with 5000 L2 Services, about 0.4 s of CPU per speaker, three speakers on
 * 2 vCPUs (docs/benchmarks.md, "lbkitd at L2 scale"). So a speaker starts with the optimizing
 * compiler off (the baseline tiers still run) and turns it on once started, or after `maxMs`,
 * whichever comes first: a very large start (20k Services) is not left unoptimized for long.
 *
 * `LBKITD_STARTUP_OPT=1` keeps the optimizing compiler on from the start; `--no-opt` or `--opt`
 * given to node itself wins (nothing is changed).
 */
import { setFlagsFromString } from 'node:v8';

/** Whether lbkitd should turn the optimizing compiler off during start-up (pure). */
export function startupNoOpt(mode: string, env: Record<string, string | undefined>, execArgv: readonly string[]): boolean {
  if (mode !== 'speaker') return false;
  if (execArgv.some((a) => /^--(no-)?(opt|turbofan)\b/.test(a))) return false;
  return env.LBKITD_STARTUP_OPT !== '1';
}

/**
 * Turns V8's optimizing compiler off until the returned function is called (or `maxMs` passed);
 * a no-op when {@link startupNoOpt} says so.
 */
export function optimizeLater(mode: string, maxMs = 2000, env: Record<string, string | undefined> = process.env, execArgv: readonly string[] = process.execArgv): () => void {
  if (!startupNoOpt(mode, env, execArgv)) return () => {};
  setFlagsFromString('--no-opt');
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    setFlagsFromString('--opt');
  };
  const timer = setTimeout(end, maxMs);
  timer.unref();
  return end;
}
