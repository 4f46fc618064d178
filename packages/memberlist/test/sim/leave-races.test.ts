/**
 * Graceful leave under the races a loaded machine produces (found as a rare serf interop failure in
 * CI: serf reported our leaving node "failed"). Deterministic: virtual clock, in-memory network,
 * and the racing message injected from a fourth address at a chosen moment.
 */
import { describe, expect, it } from 'vitest';
import { Memberlist, SimCluster, defaultLANTimings, type DeadMsg, type Delegate, type Member } from '@lbkit/memberlist';

const INTENT = new Uint8Array([0xde, 0xad, 0x01]);

interface Node {
  ml: Memberlist;
  /** user messages this node received through gossip */
  msgs: Uint8Array[];
}

/** Three nodes on one virtual clock; node 1 has a delegate with a leave intent (as serf's). */
function cluster(seed: number) {
  const c = new SimCluster({ size: 0, seed, timings: defaultLANTimings() });
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) {
    const msgs: Uint8Array[] = [];
    const delegate: Delegate = { notifyMsg: (b) => void msgs.push(b.slice()) };
    if (i === 1) delegate.leaveIntent = () => INTENT;
    const addr = SimCluster.addr(i);
    const ml = new Memberlist({ name: `n${i}`, transport: c.net.transport(addr), advertise: addr, clock: c.clock, random: c.random, delegate });
    nodes.push({ ml, msgs });
    c.nodes.push(ml);
  }
  c.startAll();
  expect(c.runUntil(() => c.converged(3), 30_000)).toBeGreaterThanOrEqual(0);
  const events: { node: string; type: string; about: string }[] = [];
  for (const n of c.nodes)
    for (const type of ['leave', 'fail'] as const) n.on(type, (m: Member) => events.push({ node: n.name, type, about: m.name }));
  // A sender on a fourth address that only injects packets.
  const injector = c.net.transport({ addr: '10.9.9.9', port: 7946 });
  const inject = (to: number, d: DeadMsg): void => injector.sendPacket(SimCluster.addr(to), [d]);
  const incarnationOf = (viewer: Memberlist, who: string): number => viewer.allNodes().find((m) => m.name === who)!.incarnation;
  return { c, nodes, events, inject, incarnationOf };
}

/**
 * Advances virtual time until the leave resolves, then shuts the leaver down at once (as
 * `NetMemberlist.leave()` closes after it) and lets the others settle.
 */
async function finishLeave(c: SimCluster, leaver: Memberlist, p: Promise<void>): Promise<void> {
  let resolved = false;
  void p.then(() => (resolved = true));
  await Promise.resolve(); // a leave that resolves at once does so before any time passes
  for (let t = 0; !resolved && t < 5000; t += 10) {
    c.clock.advance(10);
    await Promise.resolve(); // lets the resolution above run before the next step
  }
  expect(resolved).toBe(true);
  leaver.shutdown();
  const others = c.nodes.filter((n) => n !== leaver);
  expect(c.runUntil(() => others.every((n) => !n.members().some((m) => m.name === leaver.name)), 30_000)).toBeGreaterThanOrEqual(0);
}

describe('simulation: graceful leave races', () => {
  it('a leave while every live peer looks dead to us still reaches them (gossip to the dead): they report leave, not fail', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { c, nodes, events, inject, incarnationOf } = cluster(seed);
      const n1 = nodes[1]!.ml;
      // n1 alone is told that n0 and n2 are dead (as a stalled event loop makes probes time out).
      inject(1, { type: 'dead', node: 'n0', incarnation: incarnationOf(n1, 'n0'), from: 'n9' });
      inject(1, { type: 'dead', node: 'n2', incarnation: incarnationOf(n1, 'n2'), from: 'n9' });
      c.clock.advance(5);
      expect(n1.members().map((m) => m.name)).toEqual(['n1']);
      await finishLeave(c, n1, n1.leave(1000));
      const aboutN1 = events.filter((e) => e.about === 'n1');
      expect(aboutN1.filter((e) => e.type === 'fail'), `seed ${seed}`).toEqual([]);
      expect(aboutN1.filter((e) => e.type === 'leave').map((e) => e.node).sort(), `seed ${seed}`).toEqual(['n0', 'n2']);
      // the intent went out before the leave, to both
      for (const i of [0, 2]) expect(nodes[i]!.msgs.some((m) => m.length === INTENT.length && m.every((b, k) => b === INTENT[k]))).toBe(true);
    }
  });

  it('a claim that we are dead, arriving during the leave-intent phase, is refuted: peers report leave, not fail', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { c, nodes, events, inject, incarnationOf } = cluster(seed);
      const n1 = nodes[1]!.ml;
      const refutesBefore = n1.stats.refutes;
      const p = n1.leave(1000);
      // Right after the intent was queued, n1 hears that it was declared dead (a peer's suspicion
      // expired while we were stalled). memberlist refutes until its own dead{From: self} is out.
      inject(1, { type: 'dead', node: 'n1', incarnation: incarnationOf(n1, 'n1'), from: 'n0' });
      await finishLeave(c, n1, p);
      expect(n1.stats.refutes, `seed ${seed}`).toBeGreaterThan(refutesBefore);
      const aboutN1 = events.filter((e) => e.about === 'n1');
      expect(aboutN1.filter((e) => e.type === 'fail'), `seed ${seed}`).toEqual([]);
      expect(aboutN1.filter((e) => e.type === 'leave').map((e) => e.node).sort(), `seed ${seed}`).toEqual(['n0', 'n2']);
    }
  });

  it('once our own dead{From: self} is out, a later claim about us is not refuted (we stay left)', async () => {
    const { c, nodes, events, inject, incarnationOf } = cluster(9);
    const n1 = nodes[1]!.ml;
    const p = n1.leave(1000);
    // Let the intent reach its retransmit limit and the dead{From: self} go out.
    expect(c.runUntil(() => n1.allNodes().find((m) => m.name === 'n1')!.state !== 0, 3000, 10)).toBeGreaterThanOrEqual(0);
    const refutes = n1.stats.refutes;
    inject(1, { type: 'dead', node: 'n1', incarnation: incarnationOf(n1, 'n1'), from: 'n0' });
    c.clock.advance(50);
    expect(n1.stats.refutes).toBe(refutes);
    await finishLeave(c, n1, p);
    expect(events.filter((e) => e.about === 'n1' && e.type === 'fail')).toEqual([]);
  });
});
