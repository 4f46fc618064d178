import { afterEach, describe, expect, it, vi } from 'vitest';
import { RepeatSchedule } from '../src/repeat.js';

afterEach(() => vi.useRealTimers());

describe('RepeatSchedule', () => {
  it('sends a group at once, every interval while the burst lasts, then every refresh period', () => {
    vi.useFakeTimers();
    const rounds: string[][] = [];
    const s = new RepeatSchedule((k) => rounds.push(k), { intervalMs: 1100, forMs: 5000, refreshMs: 2000 });
    s.start(['a', 'b', 'a']);
    expect(rounds).toEqual([['a', 'b']]);
    vi.advanceTimersByTime(1100 * 4);
    expect(rounds).toHaveLength(5); // at once + floor(5000 / 1100) = 4 repeats
    vi.advanceTimersByTime(2000);
    expect(rounds).toHaveLength(6); // first refresh
    expect(s.keys().sort()).toEqual(['a', 'b']);
    s.stop();
    vi.advanceTimersByTime(10_000);
    expect(rounds).toHaveLength(6);
    expect(s.keys()).toEqual([]);
  });

  it('a key started again leaves its old group; a group stops with its last key', () => {
    vi.useFakeTimers();
    const rounds: string[][] = [];
    const s = new RepeatSchedule((k) => rounds.push(k), { intervalMs: 100, forMs: 300, refreshMs: 0 });
    s.start(['a', 'b']);
    s.start(['b', 'c']);
    expect(rounds).toEqual([['a', 'b'], ['b', 'c']]);
    vi.advanceTimersByTime(100);
    expect(rounds.slice(2).map((r) => r.join()).sort()).toEqual(['a', 'b,c']);
    expect(s.cancel('a')).toBe(true);
    expect(s.cancel('a')).toBe(false);
    vi.advanceTimersByTime(100);
    expect(rounds.slice(4)).toEqual([['b', 'c']]);
    vi.advanceTimersByTime(1000); // burst over, no refresh
    expect(rounds).toHaveLength(6);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no repeats when the burst is shorter than the interval; empty starts send nothing', () => {
    vi.useFakeTimers();
    const rounds: string[][] = [];
    const s = new RepeatSchedule((k) => rounds.push(k), { intervalMs: 1000, forMs: 0, refreshMs: 0 });
    s.start([]);
    s.start(['x']);
    vi.advanceTimersByTime(5000);
    expect(rounds).toEqual([['x']]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
