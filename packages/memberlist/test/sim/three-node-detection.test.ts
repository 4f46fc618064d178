import { describe, expect, it } from 'vitest';
import { SimCluster, defaultLANTimings, type Member, type Memberlist } from '@lbkit/memberlist';

// memberlist's rules (state.go suspectNode / util.go suspicionTimeout), computed here from the
// timings rather than taken from our engine:
//   k = SuspicionMult − 2 = 2, and k = 0 when n − 2 < k: with n = 3 no confirmations are expected,
//   so the timer starts at min = SuspicionMult × max(1, log10(n)) × ProbeInterval (not at 6 × min);
//   a probe suspects at its deadline, ProbeInterval after the ping;
//   with 2 peers probed round robin (reshuffled every round) a given peer is probed at least once in
//   any 3 consecutive ticks.
const T = defaultLANTimings();
const N = 3;
const K = T.suspicionMult - 2 > N - 2 ? 0 : T.suspicionMult - 2;
const SUSPICION_MIN = T.suspicionMult * Math.max(1, Math.log10(N)) * T.probeInterval;
const LATENCY_MAX = 1; // SimNetwork default one-way latency bound (ms)
const STEP = 10; // runUntil step (ms): the measurement's resolution
/** No failing probe can start before the kill (minus one round trip): probe deadline + min suspicion. */
const FLOOR = T.probeInterval + SUSPICION_MIN - 2 * LATENCY_MAX;
/** Worst case: < 3 ticks until either survivor probes the victim, then deadline + min suspicion. */
const CEILING = 3 * T.probeInterval + T.probeInterval + SUSPICION_MIN + STEP + 2 * LATENCY_MAX;
/** The second survivor runs its own timer from the gossiped suspect, or gets the dead gossip. */
const CEILING_ALL = CEILING + T.gossipInterval + STEP + 2 * LATENCY_MAX;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Kills `victim` and returns when the first / every survivor stopped listing it (members()). */
function killAndMeasure(c: SimCluster, survivors: Memberlist[], victim: Memberlist): { first: number; all: number } {
  const t0 = c.clock.now();
  let first = -1;
  victim.shutdown();
  const all = c.runUntil(() => {
    const gone = survivors.map((s) => !s.members().some((m) => m.name === victim.name));
    if (first < 0 && gone.some(Boolean)) first = c.clock.now() - t0;
    return gone.every(Boolean);
  }, 60_000, STEP);
  return { first, all };
}

function restart(c: SimCluster, i: number): Memberlist {
  const n = c.create(i);
  c.nodes[i] = n;
  n.start();
  n.join([SimCluster.addr(0)]).catch(() => {});
  return n;
}

describe('simulation: 3-node failure detection with default LAN timings (memberlist rules)', () => {
  it('the confirmation count is 0 for 3 nodes, so the suspicion timeout is the 4 s minimum', () => {
    expect(K).toBe(0);
    expect(SUSPICION_MIN).toBe(4000);
  });

  it('a killed node is dropped by both survivors within [probe deadline + min suspicion, 3 ticks more]', () => {
    const firsts: number[] = [];
    const alls: number[] = [];
    for (let seed = 1; seed <= 80; seed++) {
      const c = new SimCluster({ size: N, seed, timings: T });
      c.startAll();
      expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
      c.clock.advance(3000 + Math.floor(c.random() * 2000)); // random phase of the probe ticks
      const r = killAndMeasure(c, [c.nodes[0]!, c.nodes[1]!], c.nodes[2]!);
      firsts.push(r.first);
      alls.push(r.all);
    }
    for (const x of firsts) {
      expect(x).toBeGreaterThanOrEqual(FLOOR);
      expect(x).toBeLessThanOrEqual(CEILING);
    }
    for (const x of alls) expect(x).toBeLessThanOrEqual(CEILING_ALL);
    // research notes: "(0–1 s until probed) + 1 s probe + 4 s suspicion ⇒ ≈5–6 s" for n ≤ 10
    expect(median(alls)).toBeLessThanOrEqual(T.probeInterval + T.probeInterval + SUSPICION_MIN);
  });

  it('a probe that outlives a death and rejoin never suspects the new incarnation', () => {
    // The survivors probe the suspect victim until the suspicion timer fires; a probe still in
    // flight when it rejoins carries the old incarnation (memberlist probes a copy of the node).
    const falseSuspicions: string[] = [];
    const early: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const c = new SimCluster({ size: N, seed, timings: T });
      c.startAll();
      expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
      c.clock.advance(3000);
      const survivors = [c.nodes[0]!, c.nodes[1]!];
      let rejoined = false;
      for (const s of survivors)
        s.on('suspect', (m: Member) => {
          if (rejoined && m.name === 'n2') falseSuspicions.push(`seed ${seed}: ${s.name} suspected n2 inc ${m.incarnation}`);
        });
      for (let round = 0; round < 4; round++) {
        rejoined = false;
        killAndMeasure(c, survivors, c.nodes[2]!);
        c.clock.advance(Math.floor(c.random() * 800));
        restart(c, 2);
        expect(c.runUntil(() => c.converged(), 30_000, 5)).toBeGreaterThanOrEqual(0);
        rejoined = true;
        // alive for 3 s: no probe fails, so nothing may suspect it
        c.clock.advance(3000);
        rejoined = false;
      }
      // killed right after the rejoin: no suspicion may predate the new incarnation either
      restart(c, 2);
      c.clock.advance(500);
      killAndMeasure(c, survivors, c.nodes[2]!);
      c.clock.advance(300);
      restart(c, 2);
      expect(c.runUntil(() => c.converged(), 30_000, 5)).toBeGreaterThanOrEqual(0);
      early.push(killAndMeasure(c, survivors, c.nodes[2]!).first);
    }
    expect(falseSuspicions).toEqual([]);
    for (const x of early) expect(x).toBeGreaterThanOrEqual(FLOOR);
  });

  it('a raised health score slows only failing probes, not the probe ticker (memberlist time.Ticker)', () => {
    const c = new SimCluster({ size: N, seed: 7, timings: T });
    c.startAll();
    expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
    c.clock.advance(2000);
    const a = c.nodes[0]!;
    const score = 3;
    a.awareness.applyDelta(score);
    const probes0 = a.stats.probes;
    // every probe succeeds (−1 each) and the ticker keeps its 1 s period: back to 0 after `score`
    // ticks (plus one tick of phase), where a (score+1)-scaled ticker would need 4 + 3 + 2 s
    const healthyAfter = c.runUntil(() => a.healthScore() === 0, 20_000, STEP);
    expect(healthyAfter).toBeGreaterThanOrEqual(0);
    expect(healthyAfter).toBeLessThanOrEqual((score + 1) * T.probeInterval);
    c.clock.advance(10 * T.probeInterval - healthyAfter);
    expect(a.stats.probes - probes0).toBeGreaterThanOrEqual(9);
    expect(a.stats.probeFailures).toBe(0);
  });

  it('a failing probe waits the interval scaled by the health score before suspecting', () => {
    const c = new SimCluster({ size: N, seed: 11, timings: T });
    c.startAll();
    expect(c.runUntil(() => c.converged(), 30_000)).toBeGreaterThanOrEqual(0);
    c.clock.advance(2000);
    const a = c.nodes[0]!;
    const score = 2;
    a.awareness.applyDelta(score);
    let suspectedAt = -1;
    a.on('suspect', () => {
      if (suspectedAt < 0) suspectedAt = c.clock.now();
    });
    // both peers gone: the next probe fails, nobody can relay, so no nacks and no gossip
    c.nodes[1]!.shutdown();
    c.nodes[2]!.shutdown();
    const probes0 = a.stats.probes;
    let pingedAt = -1;
    c.runUntil(() => {
      if (pingedAt < 0 && a.stats.probes > probes0) pingedAt = c.clock.now();
      return suspectedAt >= 0;
    }, 30_000, 1);
    expect(pingedAt).toBeGreaterThanOrEqual(0);
    expect(pingedAt).toBeLessThanOrEqual(suspectedAt);
    // ScaleTimeout(ProbeInterval) = ProbeInterval × (score + 1) is the probe deadline (±1 ms step)
    expect(suspectedAt - pingedAt).toBeGreaterThanOrEqual((score + 1) * T.probeInterval - 1);
    expect(suspectedAt - pingedAt).toBeLessThanOrEqual((score + 1) * T.probeInterval + 1);
  });
});
