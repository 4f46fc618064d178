import { describe, expect, it } from 'vitest';
import { Awareness, BroadcastQueue, retransmitLimit, verifyProtocol } from '@lbkit/memberlist';

describe('Awareness', () => {
  it('clamps the score to [0, max-1] and scales timeouts by score+1', () => {
    const a = new Awareness(8);
    expect(a.scaleTimeout(1000)).toBe(1000);
    a.applyDelta(-3);
    expect(a.getHealthScore()).toBe(0);
    a.applyDelta(3);
    expect(a.scaleTimeout(1000)).toBe(4000);
    a.applyDelta(100);
    expect(a.getHealthScore()).toBe(7);
    expect(a.scaleTimeout(500)).toBe(4000);
    a.applyDelta(-1);
    expect(a.getHealthScore()).toBe(6);
    expect(() => new Awareness(0)).toThrow(/Awareness.max/);
  });
});

describe('BroadcastQueue', () => {
  it('retransmit limit is mult × ceil(log10(n+1)) (4, 8, 12 for the notes\' sizes)', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 999)).toBe(12);
  });

  it('sends each broadcast exactly retransmitLimit times', () => {
    let n = 5;
    const q = new BroadcastQueue<string>(4, () => n);
    let finished: boolean | undefined;
    q.queue({ name: 'a', msg: 'alive a', size: 10, finished: (s) => (finished = s) });
    let count = 0;
    for (let i = 0; i < 10; i++) count += q.getBroadcasts(2, 1400).length;
    expect(count).toBe(4);
    expect(finished).toBe(true);
    expect(q.length).toBe(0);
    n = 50;
    q.queue({ msg: 'user', size: 10 });
    count = 0;
    for (let i = 0; i < 20; i++) count += q.getBroadcasts(2, 1400).length;
    expect(count).toBe(8);
  });

  it('invalidates a queued broadcast about the same node', () => {
    const q = new BroadcastQueue<string>(4, () => 3);
    let first: boolean | undefined;
    q.queue({ name: 'x', msg: 'suspect x', size: 10, finished: (s) => (first = s) });
    q.queue({ name: 'y', msg: 'alive y', size: 10 });
    q.queue({ name: 'x', msg: 'dead x', size: 10 });
    expect(first).toBe(false);
    expect(q.getBroadcasts(0, 1400).sort()).toEqual(['alive y', 'dead x']);
  });

  it('respects the byte limit and prefers fewer transmits, then newer items', () => {
    const q = new BroadcastQueue<string>(4, () => 3);
    q.queue({ name: 'a', msg: 'a', size: 100 });
    q.queue({ name: 'b', msg: 'b', size: 300 });
    q.queue({ name: 'c', msg: 'c', size: 200 });
    // newest first: c (202) fits, b (302) does not, a (102) does
    expect(q.getBroadcasts(2, 310)).toEqual(['c', 'a']);
    // b has never been sent: it goes before the others
    expect(q.getBroadcasts(2, 310)).toEqual(['b']);
    expect(q.getBroadcasts(0, 50)).toEqual([]);
    expect(q.length).toBe(3);
  });

  it('drops beyond maxQueued', () => {
    const q = new BroadcastQueue<number>(4, () => 3, 10);
    for (let i = 0; i < 25; i++) q.queue({ msg: i, size: 1 });
    expect(q.length).toBe(10);
  });
});

describe('verifyProtocol', () => {
  it('rejects a delegate-0 node in a serf cluster with memberlist\'s message', () => {
    const err = verifyProtocol([
      { name: 'serf', vsn: [1, 5, 2, 2, 5, 5] },
      { name: 'jsplain', vsn: [1, 5, 2, 0, 0, 0] },
    ]);
    expect(err).toMatch(/^Node '(serf|jsplain)' delegate protocol version \([05]\) is incompatible: \[2, 0\]$/);
    expect(verifyProtocol([{ name: 'a', vsn: [1, 5, 2, 2, 5, 5] }, { name: 'b', vsn: [1, 5, 2, 2, 5, 4] }])).toBeNull();
    expect(verifyProtocol([{ name: 'a', vsn: [1, 5, 2] }])).toMatch(/short version vector/);
  });
});
