/**
 * lbkitd's V8 heap tuning, applied by the daemon itself (at start; a speaker once started).
 *
 * After each full GC V8 lets the heap grow up to about 4× the live set before collecting again when
 * the process is busy; a controller's cold start of 50k Services (a burst of short-lived list pages,
 * watch events and request objects) then peaks at twice its steady RSS. `--heap-growing-percent`
 * caps that growth factor (30 → the next full GC runs at 1.3× the live set) at the cost of more
 * frequent, incremental full GCs. V8 reads this flag at every GC, so unlike `--max-old-space-size`
 * it can be set after the process started. It is not a heap limit: nothing is ever refused memory.
 *
 * `LBKITD_HEAP_GROWING_PERCENT=N` picks another value, `0` (or `off`) keeps V8's default; a
 * `--heap-growing-percent` given to node itself wins.
 */
import { setFlagsFromString } from 'node:v8';

/** The default `--heap-growing-percent`. */
export const DEFAULT_HEAP_GROWING_PERCENT = 30;

/** What {@link applyHeapTuning} did. */
export interface HeapTuning {
  /** The growing percent applied, or undefined when V8's default is kept. */
  growingPercent: number | undefined;
  /** Why nothing or something else was applied (for the start-up log). */
  note?: string;
}

/** The growing percent to apply for this environment and node command line (pure). */
export function heapTuningFor(env: Record<string, string | undefined>, execArgv: readonly string[]): HeapTuning {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return { growingPercent: undefined, note: 'set on the node command line' };
  const v = env.LBKITD_HEAP_GROWING_PERCENT?.trim();
  if (v === undefined || v === '') return { growingPercent: DEFAULT_HEAP_GROWING_PERCENT };
  if (v === '0' || v.toLowerCase() === 'off') return { growingPercent: undefined, note: 'disabled by LBKITD_HEAP_GROWING_PERCENT' };
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) return { growingPercent: DEFAULT_HEAP_GROWING_PERCENT, note: `LBKITD_HEAP_GROWING_PERCENT=${JSON.stringify(v)} is not an integer in 1..1000, using ${DEFAULT_HEAP_GROWING_PERCENT}` };
  return { growingPercent: n };
}

/** Applies {@link heapTuningFor} to this process. */
export function applyHeapTuning(env: Record<string, string | undefined> = process.env, execArgv: readonly string[] = process.execArgv): HeapTuning {
  const t = heapTuningFor(env, execArgv);
  if (t.growingPercent !== undefined) setFlagsFromString(`--heap-growing-percent=${t.growingPercent}`);
  return t;
}
