// The engine in a worker thread keeps answering probes while the main thread is blocked by
// synchronous work; the same node with its engine on the main thread is declared dead by its peer.
// Needs the compiled worker entry (dist/worker/entry.js, built by `tsc -b`).
import { afterEach, describe, expect, it } from 'vitest';
import { createMemberlist, createMemberlistWorker, type MemberlistWorker, type NetMemberlist } from '../src/index.js';

const workers: MemberlistWorker[] = [];
const mains: NetMemberlist[] = [];
const until = async (pred: () => boolean, ms: number): Promise<boolean> => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms && !pred()) await new Promise((r) => setTimeout(r, 10));
  return pred();
};
/** Blocks this thread's event loop (what thousands of synchronous GARP sends or a big reconcile do). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x = (x + Math.sqrt(x + 1)) % 1e9;
  if (x < 0) throw new Error('unreachable');
}
const breathe = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function worker(name: string, seeds?: string[]): Promise<MemberlistWorker> {
  const w = await createMemberlistWorker({ name, bindAddr: '127.0.0.1', bindPort: 0, timings: 'fast', ...(seeds ? { seeds } : {}) });
  workers.push(w);
  return w;
}

describe('createMemberlistWorker (engine in a worker thread)', () => {
  afterEach(async () => {
    for (const m of mains.splice(0)) m.close();
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  it('joins, mirrors members, forwards events and user messages, leaves and closes', async () => {
    const a = await worker('wk-a');
    expect(a.members().map((m) => m.name)).toEqual(['wk-a']);
    const b = await worker('wk-b', [`127.0.0.1:${a.address.port}`]);
    const joins: string[] = [];
    a.on('join', (m) => joins.push(m.name));
    expect(await until(() => a.members().length === 2 && b.members().length === 2, 5000)).toBe(true);
    const got: string[] = [];
    b.on('message', (p) => got.push(Buffer.from(p).toString()));
    expect(await a.broadcast(new TextEncoder().encode('hello'))).toBe(true);
    expect(await until(() => got.includes('hello'), 3000)).toBe(true);
    const updates: number[] = [];
    b.on('update', (m) => updates.push(m.meta.length));
    await a.updateMeta(Uint8Array.of(1, 2, 3));
    expect(await until(() => updates.includes(3), 3000)).toBe(true);
    // Stats cross the thread boundary: poll until the worker's probe loop has run at least once
    // (on a loaded 2-core CI machine the steps above can all finish inside the first probe interval).
    let st = await a.stats();
    for (const t0 = Date.now(); st.memberlist.probes === 0 && Date.now() - t0 < 5000; st = await a.stats()) await breathe(50);
    expect(st.memberlist.probes).toBeGreaterThan(0);
    expect(st.transport.packetsIn).toBeGreaterThan(0);
    const left: string[] = [];
    a.on('leave', (m) => left.push(m.name));
    await b.leaveAndClose();
    expect(await until(() => left.includes('wk-b'), 3000)).toBe(true);
    expect(a.members().map((m) => m.name)).toEqual(['wk-a']);
    await expect(b.join([`127.0.0.1:${a.address.port}`])).rejects.toThrow(/not running/);
    expect(joins).toEqual([]); // b had joined before the listener was attached: no replay
  });

  it('a terminated worker (a crash) emits exit with an error, rejects later requests, and its peer sees a failure', async () => {
    const a = await worker('wk-t-a');
    const b = await worker('wk-t-b', [`127.0.0.1:${a.address.port}`]);
    expect(await until(() => a.members().length === 2, 5000)).toBe(true);
    const exits: Array<Error | undefined> = [];
    b.on('exit', (e) => exits.push(e));
    const fails: string[] = [];
    a.on('fail', (m) => fails.push(m.name));
    await b.terminate();
    expect(exits.length).toBe(1);
    expect(exits[0]).toBeInstanceOf(Error);
    await expect(b.stats()).rejects.toThrow(/not running/);
    expect(await until(() => fails.includes('wk-t-b'), 5000)).toBe(true);
  });

  it('rejects options that cannot cross threads, naming the field; a seed that never answers rejects', async () => {
    await expect(createMemberlistWorker({ name: 'x', delegate: {} } as never)).rejects.toThrow(/options\.delegate/);
    await expect(createMemberlistWorker({ name: '' })).rejects.toThrow(/options\.name/);
    await expect(createMemberlistWorker({ name: 'x', bindAddr: '0.0.0.0', bindPort: 0 })).rejects.toThrow(/advertise\.addr/);
    await expect(createMemberlistWorker({ name: 'x', bindAddr: '127.0.0.1', bindPort: 0, seeds: ['127.0.0.1:1'] })).rejects.toThrow(/join failed/);
  });

  it('a blocked main thread (3 × 2 s busy loops) does not make the worker node look dead; the main-thread engine does', async () => {
    // Observer in its own worker: its probes run while this thread is busy.
    const observer = await worker('wk-obs');
    const seed = `127.0.0.1:${observer.address.port}`;
    const protectedNode = await worker('wk-prot', [seed]);
    expect(await until(() => observer.members().length === 2, 5000)).toBe(true);
    const seen: string[] = [];
    for (const ev of ['suspect', 'fail'] as const) observer.on(ev, (m) => seen.push(`${ev} ${m.name}`));
    for (let i = 0; i < 3; i++) {
      busy(2000);
      await breathe(100);
    }
    await breathe(300); // let the observer's queued events reach this thread
    // never failed (a suspicion refuted at once can happen when the whole machine is overloaded:
    // it moves nothing; a failure would move its VIPs)
    expect(seen.filter((s) => s.startsWith('fail'))).toEqual([]);
    expect(observer.members().map((m) => m.name).sort()).toEqual(['wk-obs', 'wk-prot']);
    const st = await protectedNode.stats();
    expect(st.memberlist.probeFailures).toBe(0);

    // Control: the same peer with its engine on this (blocked) thread is declared dead.
    const exposed = await createMemberlist({ name: 'wk-main', bindAddr: '127.0.0.1', bindPort: 0, timings: 'fast', seeds: [seed] });
    mains.push(exposed);
    expect(await until(() => observer.members().length === 3, 5000)).toBe(true);
    const failAt: Array<{ at: number; delivered: number }> = [];
    observer.on('engineEvent', (ev, m, at) => {
      if (ev === 'fail' && m.name === 'wk-main') failAt.push({ at, delivered: Date.now() });
    });
    busy(2000);
    await breathe(300);
    expect(seen).toContain('fail wk-main');
    // the worker saw the failure while this thread was still busy: its timestamp precedes delivery
    expect(failAt.length).toBeGreaterThan(0);
    expect(failAt[0]!.at).toBeLessThan(failAt[0]!.delivered - 100);
    expect(seen.filter((s) => s === 'fail wk-prot')).toEqual([]);
  });
});
