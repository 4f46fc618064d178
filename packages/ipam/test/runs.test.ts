/** The run sets against a plain Set: random adds/deletes that fragment into thousands of runs (many blocks). */
import { describe, expect, it } from 'vitest';
import { RunSet } from '../src/index.js';
import { NumberRunSet } from '../src/runs.js';
import { seededRandom } from '../../../test-utils/random.js';


/** Runs of a plain set, counted the obvious way. */
function runsOf(s: Set<number>): number {
  let n = 0;
  for (const x of s) if (!s.has(x - 1)) n++;
  return n;
}

describe('run sets = plain Set', () => {
  for (const [label, make] of [
    ['NumberRunSet', () => { const r = new NumberRunSet(); return { add: (x: number) => r.add(x), del: (x: number) => r.delete(x), has: (x: number) => r.has(x), next: (x: number) => r.nextFree(x), runs: () => r.runCount }; }],
    ['RunSet (bigint, offset 2^100)', () => {
      const off = 1n << 100n;
      const r = new RunSet();
      return { add: (x: number) => r.add(off + BigInt(x)), del: (x: number) => r.delete(off + BigInt(x)), has: (x: number) => r.has(off + BigInt(x)), next: (x: number) => Number(r.nextFree(off + BigInt(x)) - off), runs: () => r.runCount };
    }],
  ] as const) {
    it(`${label}: 40k random operations over 8k values`, () => {
      const r = seededRandom(7);
      const set = new Set<number>();
      const s = make();
      let maxRuns = 0;
      for (let op = 0; op < 40_000; op++) {
        const x = Math.floor(r() * 8000);
        // phases: mostly adding, then mostly deleting, so the structure grows, fragments and shrinks
        const addBias = op < 15_000 ? 0.8 : op < 25_000 ? 0.5 : 0.15;
        if (r() < addBias) { s.add(x); set.add(x); } else { s.del(x); set.delete(x); }
        if (op % 97 === 0) {
          expect(s.runs(), `op ${op}`).toBe(runsOf(set));
          maxRuns = Math.max(maxRuns, s.runs());
          for (let k = 0; k < 20; k++) {
            const p = Math.floor(r() * 8100);
            expect(s.has(p), `has ${p}`).toBe(set.has(p));
            let free = p;
            while (set.has(free)) free++;
            expect(s.next(p), `nextFree ${p}`).toBe(free);
          }
        }
      }
      expect(maxRuns).toBeGreaterThan(1000); // several blocks of 256 runs were in use
    });
  }
  it('20k alternating runs merge back into one when the holes are filled', () => {
    const s = new NumberRunSet();
    for (let i = 0; i < 40_000; i += 2) s.add(i);
    expect(s.runCount).toBe(20_000);
    for (let i = 1; i < 40_000; i += 2) s.add(i);
    expect(s.runCount).toBe(1);
    expect(s.nextFree(0)).toBe(40_000);
  });
});
