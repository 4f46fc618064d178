/**
 * Hostile input against our node and, under the same input, a real hashicorp/memberlist v0.5.1
 * node (`ml-agent`), in a two-node cluster {ours, Go} on 127.0.0.1 with LAN timings. Before the
 * fix, ten 37 KB LZW-bomb datagrams blocked our loop ~3.9 s each and four trickling 18 MB
 * push/pull streams (parsed in quadratic time) got our node marked failed; Go was unaffected by
 * the streams. Now: our event loop stays responsive, Go does not mark us failed, and our node
 * answers the streams as Go does (read within the deadline, replied to). Go v0.5.1 has no
 * decompression cap: it expands every bomb (checked through its log), stalling its packet reader.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { uniq } from '../../../../test-utils/netns.js';
import { createMemberlist, type NetMemberlist } from '../../src/index.js';
import { encodeCompress, encodePushPull, Writer } from '../../src/wire/index.js';
import { lzwBomb } from '../wire/lzw-bomb.js';
import { freePort, GoAgent, ML_AGENT, sleep } from './ml-agent.js';

const TAG = `mla-${uniq()}`;
let seq = 0;
const agents: GoAgent[] = [];
const nodes: NetMemberlist[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  for (const a of agents.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Our node and a Go node joined to each other, both seeing the other alive. */
async function pair(): Promise<{ n: NetMemberlist; g: GoAgent }> {
  const g = await GoAgent.start({ name: `${TAG}-go-${++seq}`, port: await freePort() });
  agents.push(g);
  const n = await createMemberlist({ name: `${TAG}-ts-${++seq}`, bindAddr: '127.0.0.1', bindPort: 0, profile: 'metallb' });
  nodes.push(n);
  await n.join([`127.0.0.1:${g.port}`]);
  for (let i = 0; i < 100 && !(await g.seesAlive(n.memberlist.name)); i++) await sleep(50);
  expect(await g.seesAlive(n.memberlist.name)).toBe(true);
  return { n, g };
}

/** Largest gap between 10 ms timer ticks of this process (our node's event loop). */
function lagMonitor(): { stop: () => number } {
  let last = performance.now();
  let max = 0;
  const t = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 10);
    last = now;
  }, 10);
  return { stop: () => { clearInterval(t); return Math.round(max); } };
}

/**
 * Neither side reports the other failed: no leave/fail events, and both list the other alive (a
 * suspicion still being refuted may need a moment: Go handles packets on its UDP listener
 * goroutine, so the bombs it fully expands delay its acks).
 */
async function expectNoFailure(n: NetMemberlist, g: GoAgent, goEventsBefore: number, ourFails: string[]): Promise<void> {
  expect(g.events.slice(goEventsBefore).filter((e) => e.ev === 'leave' && e.node === n.memberlist.name)).toEqual([]);
  expect(await g.seesAlive(n.memberlist.name)).toBe(true);
  expect(ourFails).toEqual([]);
  const ok = (): boolean => n.memberlist.members().some((m) => m.name === g.name && m.state === 0);
  for (let i = 0; i < 60 && !ok(); i++) await sleep(50);
  expect(ok()).toBe(true);
}

/** `06 | header{Nodes: k} | k × the same dead pushNodeState` of about `bytes` bytes. */
function bigPushPull(bytes: number): { payload: Uint8Array; nodes: number } {
  const ghost = { name: `${TAG}-ghost`, addr: '127.0.0.254', port: 1, meta: new Uint8Array(0), incarnation: 1, state: 2, vsn: [1, 5, 2, 0, 0, 0] };
  const empty = encodePushPull({ join: false, nodes: [], userState: new Uint8Array(0) });
  const node = encodePushPull({ join: false, nodes: [ghost], userState: new Uint8Array(0) }).subarray(empty.length);
  const k = Math.floor(bytes / node.length);
  const h = new Writer();
  h.u8(6);
  h.mapHeader(3);
  h.raw('Join'); h.bool(false);
  h.raw('Nodes'); h.uint(k);
  h.raw('UserStateLen'); h.uint(0);
  const head = h.finish();
  const out = new Uint8Array(head.length + k * node.length);
  out.set(head);
  for (let i = 0; i < k; i++) out.set(node, head.length + i * node.length);
  return { payload: out, nodes: k };
}

interface TrickleResult { stream: number; sent: number; ms: number; firstReplyByte: number | null; replyMs: number | null }

/** Runs trickle-client.mjs in its own process against `port`. */
function trickle(port: number, file: string, streams: number, chunk: number, everyMs: number): Promise<TrickleResult[]> {
  const script = fileURLToPath(new URL('./trickle-client.mjs', import.meta.url));
  const p = spawn(process.execPath, [script, String(port), file, String(streams), String(chunk), String(everyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((res, rej) => {
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res(out.trim().split('\n').map((l) => JSON.parse(l) as TrickleResult)) : rej(new Error(`trickle-client exited ${code}`))));
  });
}

describeInterop('hostile input vs hashicorp/memberlist v0.5.1 (ml-agent)', { bins: [ML_AGENT] }, () => {
  it('ten 37 KB LZW-bomb datagrams: refused at once by us (nobody marked failed); Go expands every one', async () => {
    const { n, g } = await pair();
    const ourFails: string[] = [];
    n.memberlist.on('fail', (m) => ourFails.push(m.name));
    const before = g.events.length;
    const bomb = encodeCompress({ algo: 0, buf: lzwBomb(7).data });
    expect(bomb.length).toBeGreaterThan(37_000);
    expect(bomb.length).toBeLessThan(40_000);
    const u = createSocket('udp4');
    try {
      // Our node under the bombs; Go watches it.
      const lag = lagMonitor();
      for (let i = 0; i < 10; i++) u.send(bomb, n.address.port, '127.0.0.1');
      // Long enough for Go to suspect and kill a node that stops answering (probe 1 s + suspicion 4 s).
      await sleep(6500);
      const maxLag = lag.stop();
      console.log(`[abuse] 10 LZW bombs to us: ${n.transport.stats.packetsOverDecompressCap} refused at the cap; our max event-loop lag ${maxLag} ms`);
      expect(n.transport.stats.packetsOverDecompressCap).toBe(10);
      expect(maxLag).toBeLessThan(1000);
      await expectNoFailure(n, g, before, ourFails);

      // The same ten to Go v0.5.1 (no cap): it expands each to ≈ 49 MB on its UDP listener goroutine
      // before msgpack fails ("Failed to decode ping request"); while it does, it reads no packets.
      const decodeErrors = (): string[] => g.log.filter((l) => /\[ERR\] memberlist: Failed to decode ping/.test(l));
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) u.send(bomb, g.port, '127.0.0.1');
      for (let i = 0; i < 400 && decodeErrors().length < 10; i++) await sleep(50);
      console.log(`[abuse] same 10 bombs to Go: ${decodeErrors().length} expanded and failed to decode within ${Date.now() - t0} ms`);
      expect(decodeErrors().length).toBe(10);
    } finally {
      u.close();
    }
  }, 45_000);

  it('four trickling 18 MB push/pull streams: we read and answer them like Go, and stay alive', async () => {
    const { n, g } = await pair();
    const ourFails: string[] = [];
    n.memberlist.on('fail', (m) => ourFails.push(m.name));
    const dir = mkdtempSync(join(tmpdir(), 'mla-'));
    dirs.push(dir);
    const { payload, nodes: k } = bigPushPull(18 << 20);
    const file = join(dir, 'pushpull.bin');
    writeFileSync(file, payload);

    // Our node under the streams; Go watches it.
    let before = g.events.length;
    const lag = lagMonitor();
    const ours = await trickle(n.address.port, file, 4, 32 << 10, 4);
    await sleep(5000);
    const maxLag = lag.stop();
    const oursMs = ours.map((r) => r.replyMs);
    console.log(`[abuse] 4 × ${payload.length} B (${k} node states) trickled to us: replies at ${oursMs.join(', ')} ms; our max event-loop lag ${maxLag} ms`);
    await expectNoFailure(n, g, before, ourFails);
    // Measured 360–770 ms on a loaded 2-core machine (GC of ~10^6 decoded node states, four merges);
    // Go declares a silent node failed after ~5 s. The quadratic parser blocked for far longer.
    expect(maxLag).toBeLessThan(2500);

    // The same input to Go; our node watches it.
    before = g.events.length;
    const theirs = await trickle(g.port, file, 4, 32 << 10, 4);
    await sleep(5000);
    console.log(`[abuse] same streams to Go: replies at ${theirs.map((r) => r.replyMs).join(', ')} ms`);
    await expectNoFailure(n, g, before, ourFails);

    // Same outcome on both: every stream fully sent and answered with a push/pull (06, or 09 when compressed).
    for (const rs of [ours, theirs]) {
      expect(rs.map((r) => r.sent)).toEqual([payload.length, payload.length, payload.length, payload.length]);
      for (const r of rs) expect([6, 9]).toContain(r.firstReplyByte);
    }
    expect(n.memberlist.members().map((m) => m.name).sort()).toEqual([g.name, n.memberlist.name].sort());
  }, 60_000);
});
