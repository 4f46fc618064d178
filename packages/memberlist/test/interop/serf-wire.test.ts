/**
 * Interop of the wire + net layer with a real `serf agent` (hashicorp/memberlist 0.2.2) on loopback:
 * a hand-driven exchange joins serf by push/pull, answers its pings, and pings it back; plain and
 * encrypted (`-encrypt`).
 */
import { afterAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { NetTransport } from '../../src/net/index.js';
import { Keyring } from '../../src/security/index.js';
import type { Message, PushPull } from '../../src/wire/index.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function members(rpc: number): Promise<{ name: string; status: string; port: number }[]> {
  const out = await sh('serf', ['members', '-format', 'json', `-rpc-addr=127.0.0.1:${rpc}`], { timeoutMs: 10_000 });
  return (JSON.parse(out) as { members: { name: string; status: string; port: number }[] }).members;
}

async function runScenario(encrypt: boolean): Promise<void> {
  const key = new Uint8Array(randomBytes(32));
  const serfPort = await freePort();
  const rpc = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mlw-serf-'));
  dirs.push(dir);
  const serfName = `mlw-serf-${encrypt ? 'enc' : 'plain'}`;
  const args = ['agent', `-node=${serfName}`, `-bind=127.0.0.1:${serfPort}`, `-rpc-addr=127.0.0.1:${rpc}`, '-log-level=debug'];
  if (encrypt) args.push(`-encrypt=${Buffer.from(key).toString('base64')}`);
  const child = spawn('serf', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  // Wait for serf's RPC to come up.
  for (let i = 0; ; i++) {
    try {
      if ((await members(rpc)).length) break;
    } catch (err) {
      if (i > 60) throw new Error(`serf did not start: ${(err as Error).message}\n${log}`);
      await sleep(250);
    }
  }

  const ourName = `mlw-ts-${encrypt ? 'enc' : 'plain'}`;
  const t = await NetTransport.create({ nodeName: ourName, ...(encrypt ? { keyring: new Keyring([key]) } : {}) });
  try {
    const me = {
      name: ourName, addr: '127.0.0.1', port: t.localAddress.port, meta: Uint8Array.of(0xff, 0x80), incarnation: 1, state: 0,
      // serf's delegate version check: DMin/DMax/DCur must be within serf's [2, 5] (a 0,0,0 vector is refused).
      vsn: [1, 5, 2, 2, 5, 4],
    };
    let pingsAnswered = 0;
    const acks = new Map<number, (m: Message) => void>();
    t.onPacket((from, msgs) => {
      for (const m of msgs) {
        if (m.type === 'ping' && m.node === ourName) {
          t.sendPacket(from, [{ type: 'ack', seqNo: m.seqNo }]);
          pingsAnswered++;
        } else if (m.type === 'ack') acks.get(m.seqNo)?.(m);
      }
    });
    t.onPushPull(() => ({ join: false, nodes: [me], userState: new Uint8Array(0) }));

    const reply = await new Promise<PushPull>((res, rej) =>
      t.pushPull({ addr: '127.0.0.1', port: serfPort }, { join: true, nodes: [me], userState: new Uint8Array(0) }, 10_000, (e, r) =>
        e ? rej(e) : res(r!),
      ),
    );
    const serfState = reply.nodes.find((n) => n.name === serfName);
    expect(serfState).toBeDefined();
    expect(serfState!.port).toBe(serfPort);
    expect(serfState!.vsn.length).toBe(6);
    expect(serfState!.meta[0]).toBe(0xff);

    // serf lists us alive, and keeps us alive because we answer its UDP pings.
    let seen: { name: string; status: string; port: number } | undefined;
    for (let i = 0; i < 80; i++) {
      seen = (await members(rpc)).find((m) => m.name === ourName);
      if (seen?.status === 'alive' && pingsAnswered >= 2) break;
      await sleep(250);
    }
    expect(seen, log).toBeDefined();
    expect(seen!.status).toBe('alive');
    expect(seen!.port).toBe(t.localAddress.port);
    expect(pingsAnswered).toBeGreaterThanOrEqual(2);
    expect(t.stats.packetsDropped).toBe(0);

    // We ping serf over UDP and get its ack (with serf's Vivaldi coordinate payload).
    const seq = 4242;
    const ack = new Promise<Message>((res) => acks.set(seq, res));
    t.sendPacket({ addr: '127.0.0.1', port: serfPort }, [
      { type: 'ping', seqNo: seq, node: serfName, sourceAddr: '127.0.0.1', sourcePort: t.localAddress.port, sourceNode: ourName },
    ]);
    const got = await Promise.race([ack, sleep(10_000).then(() => null)]);
    expect(got).not.toBeNull();
    expect(got!.type).toBe('ack');

    // TCP fallback ping is answered by serf too.
    const ok = await new Promise<boolean>((r) => t.tcpPing({ addr: '127.0.0.1', port: serfPort }, { type: 'ping', seqNo: 4343, node: serfName }, 10_000, r));
    expect(ok).toBe(true);
    if (encrypt) expect(log).not.toMatch(/No installed keys could decrypt/);
  } finally {
    t.close();
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }
}

describeInterop('memberlist wire/net vs serf agent', { bins: ['serf'] }, () => {
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  it('joins serf by push/pull, stays alive by acking pings, pings serf (plaintext)', () => runScenario(false));
  it('the same with encryption (serf agent -encrypt, AES-256-GCM)', () => runScenario(true));
});
