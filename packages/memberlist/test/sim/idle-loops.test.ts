/**
 * An idle cluster is not woken by empty loops: with nothing to gossip and no failed node to ping,
 * only the probe loop runs (fast timings: 10 probes a second per node, without 60 more timer
 * callbacks of the gossip and reconnect loops);
 * queueing a broadcast wakes the gossip loop within one gossip interval. Deterministic: virtual
 * clock and in-memory network.
 */
import { describe, expect, it } from 'vitest';
import { SimCluster, fastLANTimings, type Memberlist } from '@lbkit/memberlist';

describe('simulation: idle loops sleep', () => {
  it('an idle 3-node cluster runs about one timer per probe; a broadcast still goes out within one gossip interval', () => {
    const timings = fastLANTimings();
    for (const seed of [1, 2, 3]) {
      const c = new SimCluster({ size: 3, seed, timings });
      c.startAll();
      expect(c.runUntil(() => c.converged(3), 10_000), `seed ${seed}`).toBeGreaterThanOrEqual(0);
      c.clock.advance(5_000); // the join's broadcasts reach their retransmit limit
      const before = c.clock.executed;
      c.clock.advance(10_000);
      const perNodePerSecond = (c.clock.executed - before) / 3 / 10;
      // per probe: the tick and the network's delivery of the ping and of its ack, plus the odd
      // push/pull; the gossip loop alone used to add 1000 / gossipInterval = 50 a second
      expect(perNodePerSecond, `seed ${seed}`).toBeLessThan((3 * 1000) / timings.probeInterval + 3);
      expect(c.converged(3)).toBe(true);

      // a broadcast queued on an idle node goes out within one gossip interval
      const sent: Array<{ from: string; t: number; user: boolean }> = [];
      const deliver = c.net.deliver.bind(c.net);
      c.net.deliver = (from, to, msgs) => {
        sent.push({ from: from.addr.addr, t: c.clock.now(), user: msgs.some((m) => m.type === 'user') });
        deliver(from, to, msgs);
      };
      const [n0] = c.nodes as [Memberlist];
      const t0 = c.clock.now();
      n0.broadcast(Uint8Array.of(1, 2, 3));
      c.clock.advance(timings.gossipInterval);
      expect(sent.filter((p) => p.from === SimCluster.addr(0).addr && p.user && p.t - t0 <= timings.gossipInterval).length, `seed ${seed}`).toBeGreaterThan(0);
    }
  });
});
