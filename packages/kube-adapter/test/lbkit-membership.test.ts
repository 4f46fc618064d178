/**
 * LbkitMembership (the @lbkit/memberlist backend) between real instances on 127.0.0.1: join,
 * members, change callbacks, graceful leave, failure detection with the fast profile, encryption
 * with MetalLB's secret derivation (same secret joins, a different secret cannot), bad input;
 * the engine runs in a worker thread by default (a busy main thread does not fail the node),
 * change callbacks say who joined and who left. Needs the compiled worker (`tsc -b`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LbkitMembership, parseHostPort } from '../src/adapters/lbkit-membership.js';

const live: LbkitMembership[] = [];
afterEach(async () => {
  for (const m of live.splice(0)) await m.close();
});

async function node(name: string, join: string[] = [], extra: Partial<ConstructorParameters<typeof LbkitMembership>[0]> = {}): Promise<LbkitMembership> {
  const m = new LbkitMembership({ node: name, bind: '127.0.0.1:0', join, timings: 'fast', retryJoinMs: 100, reportIntervalMs: 0, ...extra });
  live.push(m);
  await m.start();
  return m;
}
const seed = (m: LbkitMembership) => `${m.address!.addr}:${m.address!.port}`;

async function until(fn: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

describe('LbkitMembership', () => {
  it('joins, reports members to every node and calls onChange', async () => {
    const a = await node('node-a');
    expect(a.members()).toEqual(['node-a']);
    let changes = 0;
    a.onChange(() => changes++);
    const b = await node('node-b', [seed(a)]);
    // start() waited for the first join: the speaker's first decision already sees the seed
    expect(b.members()).toEqual(['node-a', 'node-b']);
    const c = await node('node-c', [seed(b)]);
    await until(() => [a, b, c].every((m) => m.members().length === 3), 5000, 'three members everywhere');
    for (const m of [a, b, c]) expect(m.members()).toEqual(['node-a', 'node-b', 'node-c']);
    expect(changes).toBeGreaterThanOrEqual(1);
  });

  it('retries seeds that are not up yet', async () => {
    // reserve a port, start the joiner first, then the seed on that port
    const probe = await node('probe');
    const port = probe.address!.port;
    await probe.close();
    live.splice(live.indexOf(probe), 1);
    const b = await node('node-b', [`127.0.0.1:${port}`]);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.members()).toEqual(['node-b']);
    const a = await node('node-a', [], { bind: `127.0.0.1:${port}` });
    await until(() => a.members().length === 2 && b.members().length === 2, 5000, 'late seed joined');
  });

  it('a graceful leave removes the node at once; a crash is detected by failure detection', async () => {
    const a = await node('node-a');
    const b = await node('node-b', [seed(a)]);
    const c = await node('node-c', [seed(a)]);
    await until(() => [a, b, c].every((m) => m.members().length === 3), 5000, 'three members');
    await c.leave();
    await c.close();
    const leaveMs = await until(() => a.members().join() === 'node-a,node-b' && b.members().join() === 'node-a,node-b', 2000, 'leave seen');
    // a leave is gossiped, not detected: well under the suspicion timeout
    expect(leaveMs).toBeLessThan(500);
    await b.close(); // crash: no leave message
    const failMs = await until(() => a.members().join() === 'node-a', 5000, 'failure detected');
    expect(a.members()).toEqual(['node-a']);
    console.log(`[lbkit-membership] fast profile: leave seen after ${leaveMs} ms, crash detected after ${failMs} ms`);
  });

  it('encrypts with the MetalLB-derived key: same secret joins, a different secret does not', async () => {
    const a = await node('node-a', [], { secret: 'the-secret-of-22-chars' });
    const b = await node('node-b', [seed(a)], { secret: 'the-secret-of-22-chars' });
    await until(() => a.members().length === 2 && b.members().length === 2, 5000, 'encrypted join');
    const x = await node('node-x', [seed(a)], { secret: 'another-secret' });
    const y = await node('node-y', [seed(a)]); // plaintext
    await new Promise((r) => setTimeout(r, 600));
    expect(a.members()).toEqual(['node-a', 'node-b']);
    expect(x.members()).toEqual(['node-x']);
    expect(y.members()).toEqual(['node-y']);
    // a's transport dropped what it could not decrypt, counted rather than thrown
    const st = (await a.stats())!.transport;
    expect(st.streamErrors + st.packetsDropped).toBeGreaterThan(0);
  });

  it('counts and logs malformed datagrams, never crashes, and keeps working', async () => {
    const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
    const log = { log: (level: string, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields }), child: () => log };
    const a = await node('node-a', [], { log, reportIntervalMs: 50 });
    const { createSocket } = await import('node:dgram');
    const u = createSocket('udp4');
    const junk = [Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0x07, 1, 2]), Buffer.from('definitely not msgpack'), Buffer.from([0x00, 0x85, 0xa4, 0x53, 0x65, 0x71])];
    for (const j of junk) await new Promise<void>((r) => u.send(j, a.address!.port, '127.0.0.1', () => r()));
    u.close();
    await until(() => logs.some((l) => l.msg === 'memberlist dropped malformed input'), 2000, 'drop report');
    const t = (await a.stats())!.transport;
    expect(t.packetsDropped + t.partsDropped).toBeGreaterThan(0);
    const b = await node('node-b', [seed(a)]);
    await until(() => a.members().length === 2 && b.members().length === 2, 5000, 'join after junk');
  });

  it('worker thread by default: a node whose main thread is blocked 2.5 s is not failed; thread "main" is', async () => {
    const obs = await node('node-obs');
    const prot = await node('node-prot', [seed(obs)]);
    const exposed = await node('node-exp', [seed(obs)], { thread: 'main' });
    await until(() => obs.members().length === 3, 5000, 'three members');
    const changes: Array<{ joined: string[]; left: string[] }> = [];
    prot.onChange((c) => changes.push(c));
    const seenByObs: Array<{ joined: string[]; left: string[] }> = [];
    obs.onChange((c) => seenByObs.push(c));
    // obs runs in its own worker too: its probes continue while this thread spins.
    // (fast profile, 3 nodes: at most 1.8 s of suspicion without confirmations)
    const end = performance.now() + 2500;
    while (performance.now() < end);
    await until(() => seenByObs.some((c) => c.left.includes('node-exp')), 3000, 'exposed node failed');
    expect(obs.members()).toContain('node-prot');
    // the exposed node refutes once its thread is free and comes back: a change with `joined`
    await until(() => obs.members().length === 3 && prot.members().length === 3, 5000, 'exposed node back');
    expect(changes.some((c) => c.left.includes('node-exp'))).toBe(true);
    expect(changes.some((c) => c.joined.includes('node-exp'))).toBe(true);
    expect(seenByObs.some((c) => c.left.includes('node-prot'))).toBe(false);
    expect(seenByObs.some((c) => c.left.includes('node-exp'))).toBe(true);
    expect(exposed.members().length).toBe(3);
  });

  it('a crashed worker thread is restarted and re-joins the members it knew', async () => {
    const logs: string[] = [];
    const log = { log: (_l: string, msg: string) => logs.push(msg), child: () => log };
    const a = await node('node-a');
    const b = await node('node-b', [seed(a)], { log });
    await until(() => a.members().length === 2 && b.members().length === 2, 5000, 'two members');
    await (b as unknown as { engine: { kill(): Promise<void> } }).engine.kill();
    await until(() => logs.includes('memberlist worker stopped unexpectedly; restarting it'), 2000, 'crash logged');
    // the restarted engine pushes/pulls with node-a (a second 'joined') and lists it again
    await until(() => logs.filter((m) => m === 'joined').length >= 2 && b.members().join() === 'node-a,node-b', 15_000, 'b re-joined');
    await until(() => a.members().join() === 'node-a,node-b', 15_000, 'a lists b');
    expect((await b.stats())!.memberlist.pushPulls).toBeGreaterThan(0);
  });

  it('rejects bad addresses with an error naming the field', async () => {
    expect(() => new LbkitMembership({ node: 'n', bind: '127.0.0.1:0', join: [], thread: 'green' as 'main' })).toThrow(/thread: expected/);
    expect(() => parseHostPort('10.0.0.1', 'bind')).toThrow(/bind: expected IP:PORT/);
    expect(() => parseHostPort('host:1', 'bind')).toThrow(/bind/);
    expect(() => parseHostPort('10.0.0.1:99999', 'join')).toThrow(/join/);
    expect(parseHostPort('[fd00::1]:7946', 'join')).toEqual({ addr: 'fd00::1', port: 7946 });
    expect(parseHostPort('10.0.0.1', 'join', 7946)).toEqual({ addr: '10.0.0.1', port: 7946 });
    const m = new LbkitMembership({ node: 'n', bind: 'nonsense', join: [] });
    await expect(m.start()).rejects.toThrow(/lbkit membership: bind/);
    expect(() => new LbkitMembership({ node: '', bind: '127.0.0.1:0', join: [] })).toThrow(/node name/);
    const a = await node('node-a');
    const clash = new LbkitMembership({ node: 'node-b', bind: seed(a), join: [] });
    await expect(clash.start()).rejects.toThrow(`lbkit membership: cannot bind UDP+TCP ${seed(a)}`);
  });
});
