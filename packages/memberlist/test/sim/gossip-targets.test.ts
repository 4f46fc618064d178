/**
 * Who gossip goes to (memberlist's rule): alive and suspect nodes, and nodes declared dead within
 * `gossipToTheDeadTime` (they may be alive and only look dead to us), but never a node that left
 * gracefully. Deterministic: virtual clock and in-memory network; every packet sent is recorded.
 */
import { describe, expect, it } from 'vitest';
import { NodeStateType, SimCluster, defaultLANTimings, type DeadMsg, type Memberlist } from '@lbkit/memberlist';

describe('simulation: who gossip goes to', () => {
  it('a node declared dead still gets gossip (and refutes it); a node that left gets none', async () => {
    for (const seed of [1, 2, 3]) {
      const c = new SimCluster({ size: 3, seed, timings: defaultLANTimings() });
      c.startAll();
      expect(c.runUntil(() => c.converged(3), 30_000)).toBeGreaterThanOrEqual(0);
      const [n0, n1, n2] = c.nodes as [Memberlist, Memberlist, Memberlist];
      const sent: Array<{ from: string; to: string; t: number }> = [];
      const deliver = c.net.deliver.bind(c.net);
      c.net.deliver = (from, to, msgs) => {
        sent.push({ from: from.addr.addr, to: to.addr, t: c.clock.now() });
        deliver(from, to, msgs);
      };
      const state = (viewer: Memberlist, who: string) => viewer.allNodes().find((m) => m.name === who)?.state;

      // n2 leaves gracefully and stops; n0 records it as left
      let left = false;
      void n2.leave(1000).then(() => (left = true));
      for (let t = 0; !left && t < 5000; t += 10) {
        c.clock.advance(10);
        await Promise.resolve();
      }
      expect(left).toBe(true);
      n2.shutdown();
      expect(c.runUntil(() => state(n0, 'n2') === NodeStateType.Left, 10_000)).toBeGreaterThanOrEqual(0);
      const leftAt = c.clock.now();

      // n0 alone is told that n1 is dead: from then on n0 has gossip to send (the dead message,
      // then n1's refutation), and gossip to the dead is what lets n1 hear it and refute
      const d: DeadMsg = { type: 'dead', node: 'n1', incarnation: n0.allNodes().find((m) => m.name === 'n1')!.incarnation, from: 'n9' };
      c.net.transport({ addr: '10.9.9.9', port: 7946 }).sendPacket(SimCluster.addr(0), [d]);
      c.clock.advance(5);
      expect(state(n0, 'n1')).toBe(NodeStateType.Dead);
      const deadAt = c.clock.now();
      expect(c.runUntil(() => state(n0, 'n1') === NodeStateType.Alive, 10_000), `seed ${seed}: n1 refuted through n0's gossip`).toBeGreaterThanOrEqual(0);
      c.clock.advance(3000);

      const n0Addr = SimCluster.addr(0).addr;
      expect(sent.filter((p) => p.from === n0Addr && p.to === SimCluster.addr(1).addr && p.t >= deadAt).length, `seed ${seed}`).toBeGreaterThan(0);
      expect(sent.filter((p) => p.from === n0Addr && p.to === SimCluster.addr(2).addr && p.t > leftAt), `seed ${seed}: nothing to the node that left`).toEqual([]);
    }
  });
});
