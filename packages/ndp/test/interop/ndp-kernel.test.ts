import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { addL2Lab } from '../../../../test-utils/l2-lab.js';
import { sh, Topology } from '../../../../test-utils/netns.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixture.mjs', import.meta.url));
const HELPER = fileURLToPath(new URL('./scapy-helper.py', import.meta.url));
const VIP = 'fd00:77::100';

/** A fixture process speaking the line protocol of fixture.mjs. */
class Node {
  private lines: string[] = [];
  private waiters: ((l: string) => void)[] = [];
  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    proc.stderr!.on('data', (d) => process.stderr.write(`[fixture] ${d}`));
  }
  next(timeoutMs = 20_000): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('fixture did not answer')), timeoutMs);
      this.waiters.push((x) => { clearTimeout(t); res(x); });
    });
  }
  async cmd(c: string): Promise<string> {
    this.proc.stdin!.write(c + '\n');
    return this.next();
  }
}

async function neighMac(ns: string): Promise<string | undefined> {
  const out = await sh('ip', ['-6', 'neigh', 'show', VIP, 'dev', 'eth0'], { ns });
  return /lladdr (\S+)/.exec(out)?.[1];
}

async function waitFor<T>(f: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const transport of ['afpacket', 'koffi'] as const)
describeInterop(`ndp (${transport} transport) vs Linux kernel neighbour discovery`, { root: true, bins: ['ip', 'ping', '/usr/bin/python3'] }, () => {
  const topo = new Topology('ndp');
  let sw = '', client = '', n1 = '', n2 = '';
  let mac1 = '', mac2 = '', macC = '';
  let node1: Node, node2: Node;

  beforeAll(async () => {
    // fixture.mjs imports dist/: build ndp and (through the project reference) @lbkit/afpacket.
    // (the afpacket variant also needs the native addon, built by the bootstrap / npm install).
    await sh('sh', ['-c', `cd ${root} && npx tsc -b packages/ndp`], { timeoutMs: 120_000 });
    ({ sw, client, node1: n1, node2: n2, macClient: macC, mac1, mac2 } = await addL2Lab(topo, { addrs: ['fd00:77::10/64', 'fd00:77::11/64', 'fd00:77::12/64'], clientRole: 'c', ipv6: true }));
    const start = async (ns: string) => {
      const n = new Node(topo.spawnIn(ns, process.execPath, [FIXTURE, 'eth0', transport], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NDP_BURST_MS: '0' } }));
      expect(await n.next()).toMatch(/^ready /);
      return n;
    };
    node1 = await start(n1);
    node2 = await start(n2);
  });
  afterAll(async () => {
    await topo.destroy();
  });

  it('client resolution (multicast NS) of the VIP gets node1 MAC', async () => {
    expect(await node1.cmd(`announce ${VIP}`)).toBe('ok');
    await sh('ip', ['-6', 'neigh', 'flush', 'to', VIP, 'dev', 'eth0'], { ns: client });
    await sh('ping', ['-6', '-c1', '-W2', VIP], { ns: client }).catch(() => undefined); // node1 does not own the VIP at L3
    const mac = await waitFor(() => neighMac(client), 5000);
    expect(mac).toBe(mac1);
    const st = await sh('ip', ['-6', 'neigh', 'show', VIP, 'dev', 'eth0'], { ns: client });
    expect(st).toMatch(/REACHABLE|STALE|DELAY|PROBE/);
  });

  it('answers unicast NUD NS, with and without SLLA (NA S=1 O=1 R=0, hop 255, TLLA)', async () => {
    for (const extra of [['slla'], []]) {
      const out = await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', mac1, 'fd00:77::10', VIP, ...extra], { ns: client, timeoutMs: 60_000 });
      const na = JSON.parse(out.trim().split('\n').pop()!);
      expect(na).toEqual({ ethSrc: mac1, ethDst: macC, src: VIP, dst: 'fd00:77::10', hlim: 255, R: 0, S: 1, O: 1, tgt: VIP, tlla: mac1 });
    }
  });

  it('malformed NS frames are counted and do not crash the responder', async () => {
    const before = JSON.parse((await node1.cmd('stats')).slice(6));
    const n = Number((await sh('/usr/bin/python3', [HELPER, 'bad', 'eth0', mac1, 'fd00:77::10', VIP], { ns: client, timeoutMs: 60_000 })).trim());
    expect(n).toBe(6);
    let after = before;
    for (let i = 0; i < 40 && after.malformed - before.malformed < n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = JSON.parse((await node1.cmd('stats')).slice(6));
    }
    process.stderr.write(`[ndp interop] ${JSON.stringify(after)}\n`);
    expect(after.malformed - before.malformed).toBe(n);
    expect(node1.proc.exitCode).toBeNull();
    const out = await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', mac1, 'fd00:77::10', VIP], { ns: client, timeoutMs: 60_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)?.tlla).toBe(mac1);
  });

  it('hand-over: node1 withdraws, node2 announces, the client entry switches to node2', async () => {
    expect(await neighMac(client)).toBe(mac1);
    expect(await node1.cmd(`withdraw ${VIP}`)).toBe('ok');
    const t0 = performance.now();
    expect(await node2.cmd(`announce ${VIP}`)).toBe('ok');
    const mac = await waitFor(async () => ((await neighMac(client)) === mac2 ? mac2 : undefined), 5000);
    const ms = performance.now() - t0;
    expect(mac).toBe(mac2);
    process.stderr.write(`[ndp interop] announce-to-switch (incl. ip-neigh polling) ${ms.toFixed(1)} ms\n`);
    // node1 no longer answers, node2 does
    const out = await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', 'ff:ff:ff:ff:ff:ff', 'fd00:77::10', VIP], { ns: client, timeoutMs: 60_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)?.tlla).toBe(mac2);
  });
  if (transport === 'afpacket') {
    it('re-announces after the interface goes down and up (InterfaceWatcher → followInterface)', async () => {
      expect(await neighMac(client)).toBe(mac2); // node2 owns the VIP since the hand-over
      expect(await node1.cmd(`announce ${VIP}`)).toBe('ok'); // steal the client's entry (single NA, no burst)
      expect(await waitFor(async () => ((await neighMac(client)) === mac1 ? mac1 : undefined), 5000)).toBe(mac1);
      expect(await node1.cmd(`withdraw ${VIP}`)).toBe('ok');
      await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: n2 });
      await new Promise((r) => setTimeout(r, 500));
      await sh('ip', ['link', 'set', 'eth0', 'up'], { ns: n2 });
      expect(await waitFor(async () => ((await neighMac(client)) === mac2 ? mac2 : undefined), 10_000)).toBe(mac2);
      // node2 still answers NS after the bounce (membership kept)
      const out = await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', '33:33:ff:00:01:00', 'fd00:77::10', VIP, 'slla'], { ns: client, timeoutMs: 60_000 });
      expect(JSON.parse(out.trim().split('\n').pop()!)?.tlla).toBe(mac2);
    });
  }
});
