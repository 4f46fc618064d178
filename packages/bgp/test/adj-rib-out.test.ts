/**
 * The Adj-RIB-Out send pump on its own: it packs many prefixes per UPDATE, holds at most one
 * partly filled UPDATE per attribute set, stops writing when the socket reports back-pressure and
 * resumes on 'drain', yields between slices, and keeps announce/withdraw order per prefix.
 */
import { describe, expect, it } from 'vitest';
import { codec } from '@lbkit/bgp';
import { AdjRibOut, SLICE, type OutRoute } from '../src/session/adj-rib-out.js';

function ip(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/32`;
}

function harness(routes: Map<string, OutRoute>, o: { highWater?: number } = {}) {
  const writes: Buffer[] = [];
  let queued = 0;
  let drainCb: (() => void) | undefined;
  const rib = new AdjRibOut<OutRoute>({
    routeFor: (p) => routes.get(p),
    allRoutes: () => routes.entries(),
    applies: () => true,
    context: () => ({ ctx: { localAsn: 64513, ibgp: false, as4: true, nextHop4: '10.0.0.11', nextHop6: 'fd0a::11' }, families: ['1/1', '2/1'] }),
    write: (b) => {
      writes.push(b);
      queued += b.length;
      return o.highWater === undefined || queued < o.highWater;
    },
    onDrain: (cb) => {
      drainCb = cb;
    },
    onError: (e) => {
      throw e;
    },
  });
  const drain = () => {
    queued = 0;
    const cb = drainCb;
    drainCb = undefined;
    cb?.();
  };
  /** Announced and withdrawn prefixes over all writes, in order, as the peer would apply them. */
  const rib4 = () => {
    const have = new Map<string, number>();
    let eor = 0;
    for (const w of writes) {
      const m = codec.decode(w) as codec.UpdateMessage;
      if (codec.endOfRibFamily(m)) eor++;
      for (const p of m.withdrawn) have.delete(p);
      for (const p of m.nlri) have.set(p, (have.get(p) ?? 0) + 1);
      for (const a of m.attributes) if (a.type === 'mp-reach') for (const p of a.nlri) have.set(p, (have.get(p) ?? 0) + 1);
      for (const a of m.attributes) if (a.type === 'mp-unreach') for (const p of a.withdrawn) have.delete(p);
    }
    return { have, eor };
  };
  const tick = () => new Promise((r) => setImmediate(r));
  return { rib, writes, drain, rib4, tick, waiting: () => drainCb !== undefined };
}

describe('AdjRibOut', () => {
  it('sends 50,000 routes in full 4 KB UPDATEs, each prefix once, then End-of-RIB for both families', async () => {
    const routes = new Map<string, OutRoute>();
    const a: OutRoute = { attrs: { communities: ['64512:100'] } };
    for (let i = 0; i < 50_000; i++) routes.set(ip((10 << 24) + i), a);
    const h = harness(routes);
    h.rib.startSync();
    while (h.rib.busy) await h.tick();
    const { have, eor } = h.rib4();
    expect(have.size).toBe(50_000);
    expect([...have.values()].every((n) => n === 1)).toBe(true);
    expect(eor).toBe(2);
    // packed: every UPDATE but the last (and the EoRs) is within 5 bytes of 4096
    const full = h.writes.slice(0, -3).filter((w) => w.length > 4096 - 5 && w.length <= 4096).length;
    expect(full).toBe(h.writes.length - 3);
    expect(h.writes.length).toBeLessThan(50_000 / 780);
  });

  it('stops at back-pressure and resumes only on drain', async () => {
    const routes = new Map<string, OutRoute>();
    const a: OutRoute = { attrs: {} };
    for (let i = 0; i < 20_000; i++) routes.set(ip((10 << 24) + i), a);
    const h = harness(routes, { highWater: 16 * 1024 });
    h.rib.startSync();
    await h.tick();
    await h.tick();
    const first = h.writes.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(5); // ~16 KB, then it waits
    expect(h.waiting()).toBe(true);
    for (let i = 0; i < 5; i++) await h.tick();
    expect(h.writes.length).toBe(first); // nothing written without 'drain'
    let rounds = 0;
    while (h.rib.busy) {
      h.drain();
      await h.tick();
      rounds++;
    }
    expect(rounds).toBeGreaterThan(3);
    expect(h.rib4().have.size).toBe(20_000);
  });

  it('yields to the event loop between slices', async () => {
    const routes = new Map<string, OutRoute>();
    const a: OutRoute = { attrs: {} };
    for (let i = 0; i < 3 * SLICE; i++) routes.set(ip((10 << 24) + i), a);
    const h = harness(routes);
    h.rib.startSync();
    await h.tick();
    expect(h.rib.busy).toBe(true);
    const afterOne = h.writes.length;
    expect(afterOne).toBeGreaterThan(0);
    expect(afterOne * 780).toBeLessThan(3 * SLICE);
    // the slice's last prefix sits in a partly filled UPDATE: withdrawing it now must not be undone
    const heldOne = ip((10 << 24) + SLICE - 1);
    routes.delete(heldOne);
    h.rib.mark(heldOne);
    while (h.rib.busy) await h.tick();
    const { have } = h.rib4();
    expect(have.size).toBe(3 * SLICE - 1);
    expect(have.has(heldOne)).toBe(false);
  });

  it('a prefix withdrawn or changed while its UPDATE is being filled ends in the right state', async () => {
    const routes = new Map<string, OutRoute>();
    const a: OutRoute = { attrs: {} };
    const b: OutRoute = { attrs: { med: 5 } };
    for (let i = 0; i < 10; i++) routes.set(ip((10 << 24) + i), a);
    const h = harness(routes);
    h.rib.startSync();
    while (h.rib.busy) await h.tick();
    // same tick: re-announce .1 with other attributes, withdraw .2, announce then withdraw .200
    routes.set(ip((10 << 24) + 1), b);
    h.rib.mark(ip((10 << 24) + 1));
    routes.delete(ip((10 << 24) + 2));
    h.rib.mark(ip((10 << 24) + 2));
    routes.set(ip((10 << 24) + 200), a);
    h.rib.mark(ip((10 << 24) + 200));
    h.rib.mark(ip((10 << 24) + 1));
    routes.delete(ip((10 << 24) + 200));
    h.rib.mark(ip((10 << 24) + 200));
    while (h.rib.busy) await h.tick();
    const { have } = h.rib4();
    expect(have.has(ip((10 << 24) + 2))).toBe(false);
    expect(have.has(ip((10 << 24) + 200))).toBe(false);
    expect(have.size).toBe(9);
    const last = h.writes.map((w) => codec.decode(w) as codec.UpdateMessage).filter((m) => m.nlri.includes(ip((10 << 24) + 1))).pop()!;
    expect(last.attributes.find((x) => x.type === 'med')).toEqual({ type: 'med', value: 5 });
  });
});
