// Partition heal without any re-join from outside: failed nodes are pinged every reconnectInterval
// and a node that answers is pushed/pulled with (twice, to exchange the refutations).
import { describe, expect, it } from 'vitest';
import { NodeStateType, SimCluster, defaultLANTimings, fastLANTimings, type Memberlist, type Timings } from '../../src/index.js';

function split(c: SimCluster, left: Memberlist[]): void {
  c.net.partition([left.map((n) => ({ addr: n.localNode().addr, port: 7946 }))]);
}

function healTime(size: number, cut: number, timings: Timings, seed: number, partitionMs: number): { split: boolean; heal: number; joins: number } {
  const c = new SimCluster({ size, seed, timings });
  c.startAll();
  expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
  const left = c.nodes.slice(0, cut), right = c.nodes.slice(cut);
  split(c, left);
  const splitOk = c.runUntil(() => c.converged(left.length, left) && c.converged(right.length, right), 120_000) >= 0;
  c.clock.advance(partitionMs);
  let joins = 0;
  for (const n of c.nodes) n.on('join', () => joins++);
  c.net.heal();
  const heal = c.runUntil(() => c.converged(size), 60_000, 10);
  return { split: splitOk, heal, joins };
}

describe('partition heal (reconnect pings to failed nodes)', () => {
  it('fast timings: 2 nodes and a 5|5 split rejoin within ~2 reconnect intervals, short and long partitions', () => {
    const T = fastLANTimings();
    for (const [size, cut, ms, seed] of [[2, 1, 1000, 1], [10, 5, 1000, 2], [10, 5, 20_000, 3], [3, 1, 60_000, 4]] as const) {
      const r = healTime(size, cut, T, seed, ms);
      expect(r.split).toBe(true);
      expect(r.heal).toBeGreaterThanOrEqual(0);
      expect(r.heal).toBeLessThanOrEqual(2 * T.reconnectInterval + 100);
      expect(r.joins).toBeGreaterThan(0);
    }
  });

  it('LAN timings: heal within 2 s (one reconnect interval of 1 s + exchange)', () => {
    const T = defaultLANTimings();
    for (const [size, cut, ms, seed] of [[2, 1, 5000, 5], [5, 2, 40_000, 6]] as const) {
      const r = healTime(size, cut, T, seed, ms);
      expect(r.split).toBe(true);
      expect(r.heal).toBeGreaterThanOrEqual(0);
      expect(r.heal).toBeLessThan(2000);
    }
  });

  it('a node that others declared dead emits refute("dead") after the heal (its VIPs may have moved)', () => {
    const c = new SimCluster({ size: 3, seed: 9, timings: fastLANTimings() });
    c.startAll();
    expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
    const lone = c.nodes[0]!;
    const kinds: string[] = [];
    lone.on('refute', (k) => kinds.push(k));
    split(c, [lone]);
    expect(c.runUntil(() => c.nodes.slice(1).every((n) => n.getNode('n0')?.state === NodeStateType.Dead), 30_000)).toBeGreaterThanOrEqual(0);
    c.net.heal();
    expect(c.runUntil(() => c.converged(3), 5000, 10)).toBeGreaterThanOrEqual(0);
    expect(kinds).toContain('dead');
  });

  it('control: with reconnectInterval 0 (memberlist behaviour) a healed 2-node partition stays split', () => {
    const r = healTime(2, 1, { ...fastLANTimings(), reconnectInterval: 0 }, 7, 10_000);
    expect(r.split).toBe(true);
    expect(r.heal).toBe(-1);
  });

  it('a node that left gracefully is never pinged; a failed one stops being pinged after reconnectTimeout', async () => {
    const T = { ...fastLANTimings(), reconnectTimeout: 3000 };
    const c = new SimCluster({ size: 3, seed: 8, timings: T });
    c.startAll();
    expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
    void c.nodes[2]!.leave(500);
    c.clock.advance(600);
    c.nodes[2]!.shutdown();
    c.nodes[1]!.shutdown();
    const a = c.nodes[0]!;
    expect(c.runUntil(() => a.members().length === 1, 10_000)).toBeGreaterThanOrEqual(0);
    expect(a.getNode('n1')!.state).toBe(NodeStateType.Dead);
    expect(a.getNode('n2')!.state).toBe(NodeStateType.Left);
    const p0 = a.stats.reconnectPings;
    c.clock.advance(1000);
    const perSecond = a.stats.reconnectPings - p0;
    expect(perSecond).toBeGreaterThanOrEqual(8); // n1 (failed) every 100 ms; n2 (left) never
    expect(perSecond).toBeLessThanOrEqual(11);
    c.clock.advance(5000);
    const p1 = a.stats.reconnectPings;
    c.clock.advance(2000);
    expect(a.stats.reconnectPings).toBe(p1);
  });
});
