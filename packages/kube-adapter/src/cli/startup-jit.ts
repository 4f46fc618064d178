/**
 * lbkitd's start-up JIT setting (speaker mode). A speaker's start is a short burst: read the config,
 * elect every service once, announce. V8 meanwhile compiles every function that gets hot with its
 * optimizing compiler (TurboFan) on background threads, work that a burst of a second or two does
 * not earn back: measured with 5000 L2 Services, about 0.4 s of CPU per speaker, three speakers on
 * 2 vCPUs (docs/benchmarks.md, "lbkitd at L2 scale"). So a speaker turns the optimizing compiler
 * off once its config is parsed (the parse itself gains from it; the baseline tiers still run) and
 * on again {@link OPTIMIZE_AFTER_START_MS} after it started, or after `maxMs`, whichever comes
 * first: a very large start (20k Services) is not left unoptimized for long. The delay after the
 * start keeps its compiles (measured with perf: about 35 ms of CPU at once) off the CPUs while the
 * other speakers, started at the same moment, finish theirs.
 *
 * While the config is parsed, TurboFan compiles without inlining ({@link inlineLater}): the parser's
 * hot functions are compiled sooner and for less CPU. Measured on one speaker reading 5000 Services
 * (YAML) and electing them: about 110 ms less CPU on Node 20 and 55 ms on Node 22, of about 600.
 *
 * `LBKITD_STARTUP_OPT=1` keeps V8's defaults from the start; an `--[no-]turbofan`, `--[no-]maglev`,
 * `--[no-]opt` or `--[no-]turbo-inlining` given to node itself wins (that setting is not changed).
 * Checked on Node 20, 22 and 24: the flags take effect at run time, and hot code is optimized again
 * once they are back on.
 */
import { setFlagsFromString } from 'node:v8';

/** How long after a speaker started its optimizing compilers are turned back on (ms). */
export const OPTIMIZE_AFTER_START_MS = 1000;

/**
 * Whether a speaker's start-up change of V8 flags applies: not with `LBKITD_STARTUP_OPT=1`, nor when
 * node was given one of `flags` itself (as `--flag` or `--no-flag`). Pure.
 */
function startupChange(flags: RegExp, mode: string, env: Record<string, string | undefined>, execArgv: readonly string[]): boolean {
  if (mode !== 'speaker') return false;
  if (execArgv.some((a) => flags.test(a))) return false;
  return env.LBKITD_STARTUP_OPT !== '1';
}

/** Whether lbkitd should turn the optimizing compilers off during start-up (pure). */
export function startupNoOpt(mode: string, env: Record<string, string | undefined>, execArgv: readonly string[]): boolean {
  return startupChange(/^--(no-)?(opt|turbofan|maglev)\b/, mode, env, execArgv);
}

/** Whether lbkitd should compile without inlining while it parses its config (pure). */
export function startupNoInlining(mode: string, env: Record<string, string | undefined>, execArgv: readonly string[]): boolean {
  return startupChange(/^--(no-)?(opt|turbofan|turbo-inlining)\b/, mode, env, execArgv);
}

/**
 * Turns TurboFan's inlining off until the returned function is called (or `maxMs` passed); a no-op
 * when {@link startupNoInlining} says so.
 */
export function inlineLater(mode: string, maxMs = 3000, env: Record<string, string | undefined> = process.env, execArgv: readonly string[] = process.execArgv): () => void {
  if (!startupNoInlining(mode, env, execArgv)) return () => {};
  setFlagsFromString('--no-turbo-inlining');
  return restoreOnce(() => setFlagsFromString('--turbo-inlining'), maxMs);
}

/** `restore`, run once: by the returned function or after `maxMs`, whichever comes first. */
function restoreOnce(restore: () => void, maxMs: number): () => void {
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    restore();
  };
  const timer = setTimeout(end, maxMs);
  timer.unref();
  return end;
}

/**
 * The V8 flags of the optimizing compilers that are on by default in this V8: TurboFan always;
 * Maglev from V8 12 (Node 22), where it compiles on background threads too (it is off by default,
 * and stays untouched, in Node 20's V8 11). Pure.
 */
export function optimizingCompilers(v8Version: string): string[] {
  const major = Number(v8Version.split('.')[0]);
  return major >= 12 ? ['turbofan', 'maglev'] : ['turbofan'];
}

/**
 * Turns V8's optimizing compilers off until the returned function is called (or `maxMs` passed);
 * a no-op when {@link startupNoOpt} says so.
 */
export function optimizeLater(mode: string, maxMs = 2000, env: Record<string, string | undefined> = process.env, execArgv: readonly string[] = process.execArgv): () => void {
  if (!startupNoOpt(mode, env, execArgv)) return () => {};
  const flags = optimizingCompilers(process.versions.v8);
  setFlagsFromString(flags.map((f) => `--no-${f}`).join(' '));
  return restoreOnce(() => setFlagsFromString(flags.map((f) => `--${f}`).join(' ')), maxMs);
}
