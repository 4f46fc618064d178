import { describe, expect, it } from 'vitest';
import { KeyBackoff } from '../src/queue/backoff.js';
import { Semaphore } from '../src/queue/semaphore.js';
import { runQueue, WorkQueue } from '../src/queue/workqueue.js';

describe('WorkQueue', () => {
  it('deduplicates keys and re-queues a key added while it is processed', () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    const k = q.get()!;
    expect(k).toBe('a');
    q.add('a'); // changed again while in flight: not queued twice, not processed concurrently
    expect(q.length).toBe(1);
    expect(q.get()).toBe('b');
    q.done('b');
    expect(q.get()).toBeUndefined();
    q.done('a');
    expect(q.get()).toBe('a');
  });

  it('addAfter keeps the earliest delay; addRateLimited backs off exponentially per key; forget resets', async () => {
    const q = new WorkQueue<string>({ baseMs: 10, maxMs: 1000 });
    expect(q.addRateLimited('x')).toBe(10);
    expect(q.addRateLimited('x')).toBe(20);
    expect(q.addRateLimited('x')).toBe(40);
    expect(q.addRateLimited('y')).toBe(10);
    q.forget('x');
    expect(q.retries('x')).toBe(0);
    expect(q.delayedCount).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(q.length).toBe(2);
    q.shutDown();
  });

  it('runQueue retries a failing key with backoff until it succeeds, and forgets its failures then', async () => {
    const q = new WorkQueue<string>({ baseMs: 5, maxMs: 50 });
    const seen: number[] = [];
    let fails = 3;
    const t0 = Date.now();
    const run = runQueue(q, (k) => {
      seen.push(Date.now() - t0);
      if (k === 'w' && fails-- > 0) throw new Error('boom');
    });
    q.add('w');
    while (seen.length < 4) await new Promise((r) => setTimeout(r, 5));
    await q.idle();
    expect(seen).toHaveLength(4);
    // 5 + 10 + 20 ms of backoff at least between the first and the last attempt
    expect(seen[3]! - seen[0]!).toBeGreaterThanOrEqual(30);
    expect(q.retries('w')).toBe(0);
    q.shutDown();
    await run;
  });
});

describe('KeyBackoff and Semaphore', () => {
  it('caps the delay', () => {
    const b = new KeyBackoff<string>({ baseMs: 100, maxMs: 250 });
    expect([b.next('k'), b.next('k'), b.next('k'), b.next('k')]).toEqual([100, 200, 250, 250]);
  });

  it('never runs more than its limit at once', async () => {
    const s = new Semaphore(3);
    let now = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.run(async () => {
          max = Math.max(max, ++now);
          await new Promise((r) => setTimeout(r, 2));
          now--;
        }),
      ),
    );
    expect(max).toBe(3);
    expect(() => new Semaphore(0)).toThrow('Semaphore: limit: expected a positive integer, got 0');
  });
});
