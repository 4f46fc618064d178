import { describe, expect, it } from 'vitest';
import { Suspicion, VirtualClock, remainingSuspicionTimeout, suspicionTimeout } from '@lbkit/memberlist';

describe('suspicionTimeout (research §1.11 formula)', () => {
  it('is mult × max(1, log10 n) × interval', () => {
    // Defaults: SuspicionMult 4, ProbeInterval 1 s.
    expect(suspicionTimeout(4, 1, 1000)).toBe(4000);
    expect(suspicionTimeout(4, 10, 1000)).toBe(4000);
    expect(suspicionTimeout(4, 100, 1000)).toBe(8000);
    expect(suspicionTimeout(4, 1000, 1000)).toBe(12000);
    // log10(50) = 1.69897 → Go truncates nodeScale*1000 to 1698
    expect(suspicionTimeout(4, 50, 1000)).toBe(4 * 1698);
    expect(suspicionTimeout(4, 0, 1000)).toBe(4000);
  });

  it('remaining timeout shrinks log-scaled from max to min', () => {
    // n = 4..10 nodes: min 4 s, max 24 s, k = 2 → 24 s, 11.38 s, 4 s (notes: "11.4 s with 1")
    expect(remainingSuspicionTimeout(0, 2, 0, 4000, 24000)).toBe(24000);
    const one = remainingSuspicionTimeout(1, 2, 0, 4000, 24000);
    expect(one).toBe(Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000));
    expect(one).toBeGreaterThan(11300);
    expect(one).toBeLessThan(11500);
    expect(remainingSuspicionTimeout(2, 2, 0, 4000, 24000)).toBe(4000);
    expect(remainingSuspicionTimeout(3, 2, 0, 4000, 24000)).toBe(4000);
    expect(remainingSuspicionTimeout(1, 2, 2000, 4000, 24000)).toBe(one - 2000);
  });
});

describe('Suspicion timer', () => {
  it('fires at min when k = 0', () => {
    const clock = new VirtualClock();
    let firedAt = -1;
    new Suspicion('a', 0, 4000, 24000, clock, () => (firedAt = clock.now()));
    clock.advance(3999);
    expect(firedAt).toBe(-1);
    clock.advance(1);
    expect(firedAt).toBe(4000);
  });

  it('fires at max without confirmations', () => {
    const clock = new VirtualClock();
    let fired: number[] = [];
    new Suspicion('a', 2, 4000, 24000, clock, (n) => fired.push(clock.now(), n));
    clock.advance(30000);
    expect(fired).toEqual([24000, 0]);
  });

  it('ignores the originator and duplicates, accelerates on independent confirmations', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const s = new Suspicion('a', 2, 4000, 24000, clock, (n) => fired.push(clock.now(), n));
    expect(s.confirm('a')).toBe(false);
    clock.advance(1000);
    expect(s.confirm('b')).toBe(true);
    expect(s.confirm('b')).toBe(false);
    expect(s.deadline).toBe(Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000));
    clock.advance(1000);
    expect(s.confirm('c')).toBe(true);
    expect(s.confirm('d')).toBe(false); // k reached
    clock.advance(1999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([4000, 2]);
  });

  it('fires at once when a confirmation arrives after the shortened deadline', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const s = new Suspicion('a', 2, 4000, 24000, clock, (n) => fired.push(clock.now(), n));
    clock.advance(5000);
    s.confirm('b');
    s.confirm('c');
    expect(fired).toEqual([5000, 2]);
  });

  it('stop() prevents firing', () => {
    const clock = new VirtualClock();
    let fired = false;
    const s = new Suspicion('a', 0, 100, 600, clock, () => (fired = true));
    s.stop();
    clock.advance(1000);
    expect(fired).toBe(false);
  });
});
