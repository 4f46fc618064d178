/**
 * The full engine (Memberlist + NetTransport via createMemberlist) against a real `serf agent`
 * (Debian serf 0.9.4, hashicorp/memberlist 0.2.2) on 127.0.0.1: join both ways, failure detection
 * both ways, graceful leave both ways, encryption (and a wrong key refused), serf tags as our meta,
 * and a 3-node cluster (serf + two of ours) where indirect probes are needed.
 */
import { afterEach, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { describeInterop } from '../../../../test-utils/env.js';
import { uniq } from '../../../../test-utils/netns.js';
import { createMemberlist, decodeSerfTags, encodeSerfTags, type CreateMemberlistOptions, type Member, type NetMemberlist } from '../../src/index.js';
import { SerfAgent, sleep } from './serf-agent.js';

const TAG = `mle-${uniq()}`;
let seq = 0;
const name = (role: string): string => `${TAG}-${role}-${++seq}`;

const agents: SerfAgent[] = [];
const nodes: NetMemberlist[] = [];

async function serf(o: Parameters<typeof SerfAgent.start>[0]): Promise<SerfAgent> {
  const a = await SerfAgent.start(o);
  agents.push(a);
  return a;
}

async function ours(o: Partial<CreateMemberlistOptions> & { name: string }): Promise<NetMemberlist> {
  const n = await createMemberlist({ profile: 'serf', bindAddr: '127.0.0.1', bindPort: 0, ...o });
  nodes.push(n);
  return n;
}

/** Polls `pred` every 20 ms; true when it held before `timeoutMs`. */
async function until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

const aliveIn = (n: NetMemberlist, who: string): boolean => n.memberlist.members().some((m) => m.name === who && m.state === 0);

/** Resolves with the elapsed ms when `n` emits `event` for `who`, or rejects after `timeoutMs`. */
function eventFor(n: NetMemberlist, event: 'join' | 'leave' | 'fail' | 'update', who: string, timeoutMs: number): Promise<{ ms: number; m: Member }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      n.memberlist.off(event, on);
      reject(new Error(`${n.memberlist.name}: no '${event}' for ${who} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: Member): void => {
      if (m.name !== who) return;
      clearTimeout(timer);
      n.memberlist.off(event, on);
      resolve({ ms: performance.now() - t0, m });
    };
    n.memberlist.on(event, on);
  });
}

/** serf's log without its RPC lines (one per `serf members` poll), for failure messages. */
const serfEvents = (s: SerfAgent): string => s.log.split('\n').filter((l) => !l.includes('agent.ipc:')).join('\n');

function report(what: string, ms: number): void {
  // Printed so the measured detection times appear in the test log (quoted in the README).
  console.log(`[serf-engine] ${what}: ${(ms / 1000).toFixed(2)} s`);
}

describeInterop('memberlist engine vs serf agent', { bins: ['serf'] }, () => {
  afterEach(() => {
    for (const n of nodes.splice(0)) n.close();
    for (const a of agents.splice(0)) a.dispose();
  });

  it('(a, g) our node joins serf: both see each other alive; our meta shows as serf tags, serf tags decode on our side, tag updates flow both ways', async () => {
    const s = await serf({ name: name('serf'), tags: { role: 'serf-side', zone: 'z1' } });
    const me = name('ts');
    const n = await ours({ name: me, tags: { role: 'lbkit', build: TAG } });
    const joined = eventFor(n, 'join', s.name, 10_000);
    await n.join([`127.0.0.1:${s.port}`]);
    await joined;
    const seen = await s.waitStatus(me, 'alive', 10_000);
    expect(seen, serfEvents(s)).toBeDefined();
    expect(seen!.status).toBe('alive');
    expect(seen!.port).toBe(n.address.port);
    expect(seen!.tags).toEqual({ role: 'lbkit', build: TAG });
    expect(seen!.protocol.version).toBe(5);
    const fromSerf = n.memberlist.members().find((m) => m.name === s.name)!;
    expect(decodeSerfTags(fromSerf.meta)).toEqual({ role: 'serf-side', zone: 'z1' });
    // Stays alive across several of serf's probe rounds (we answer its pings).
    await sleep(3000);
    expect((await s.member(me))!.status).toBe('alive');
    expect(aliveIn(n, s.name)).toBe(true);
    expect(n.memberlist.stats.probeFailures).toBe(0);
    expect(n.transport.stats.packetsDropped).toBe(0);
    expect(n.serf!.malformed).toBe(0);
    // A meta update reaches serf as new tags.
    n.memberlist.updateMeta(encodeSerfTags({ role: 'updated' }));
    const t0 = Date.now();
    let tags: Record<string, string> | undefined;
    while (Date.now() - t0 < 5000) {
      tags = (await s.member(me))?.tags;
      if (tags?.role === 'updated') break;
      await sleep(100);
    }
    expect(tags).toEqual({ role: 'updated' });
    // serf's tag change is an `update` event on our side, with the new tags in the meta.
    const upd = eventFor(n, 'update', s.name, 10_000);
    await s.setTags({ zone: 'z2' });
    expect(decodeSerfTags((await upd).m.meta)).toEqual({ role: 'serf-side', zone: 'z2' });
    // serf found nothing to complain about (decode errors, remote state, version checks).
    expect(s.log.split('\n').filter((l) => /\[ERR\]|\[WARN\]/.test(l))).toEqual([]);
  });

  it('(b) serf joins us (`serf join`): both see each other alive; periodic push/pull with serf works', async () => {
    // A short anti-entropy interval so several periodic push/pulls with serf happen in the test.
    const n = await ours({ name: name('ts'), timings: { pushPullInterval: 500 } });
    const s = await serf({ name: name('serf') });
    const joined = eventFor(n, 'join', s.name, 10_000);
    const out = await s.joinTo(`127.0.0.1:${n.address.port}`);
    expect(out).toMatch(/Successfully joined cluster by contacting 1 node/);
    await joined;
    expect((await s.waitStatus(n.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    await sleep(2500);
    expect(aliveIn(n, s.name)).toBe(true);
    expect((await s.member(n.memberlist.name))!.status).toBe('alive');
    expect(n.memberlist.stats.pushPulls).toBeGreaterThanOrEqual(3);
    expect(n.transport.stats.streamErrors).toBe(0);
    expect(n.transport.stats.lastError).toBe('');
    expect(s.log.split('\n').filter((l) => /\[ERR\]|\[WARN\]/.test(l))).toEqual([]);
  });

  it('(c) SIGKILL of serf is detected as failed by our node (default LAN timings and fast timings)', async () => {
    for (const timings of ['lan', 'fast'] as const) {
      const s = await serf({ name: name('serf') });
      const n = await ours({ name: name('ts'), timings, seeds: [`127.0.0.1:${s.port}`] });
      expect(await until(() => aliveIn(n, s.name), 5000)).toBe(true);
      await s.waitStatus(n.memberlist.name, 'alive', 5000);
      await sleep(1500); // a few probe rounds in steady state
      expect(n.memberlist.stats.probeFailures).toBe(0);
      const fail = eventFor(n, 'fail', s.name, 30_000);
      s.kill();
      const { ms } = await fail;
      report(`serf SIGKILL -> our 'fail' (${timings} timings)`, ms);
      if (timings === 'lan') expect(ms).toBeLessThan(10_000);
      else expect(ms).toBeLessThan(1500);
      expect(aliveIn(n, s.name)).toBe(false);
    }
  });

  it('(d) our node shut down without leave is reported failed by serf; (e) our graceful leave is reported left', async () => {
    const s = await serf({ name: name('serf') });
    const crash = await ours({ name: name('ts-crash'), seeds: [`127.0.0.1:${s.port}`] });
    const polite = await ours({ name: name('ts-leave'), seeds: [`127.0.0.1:${s.port}`] });
    expect((await s.waitStatus(crash.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    expect((await s.waitStatus(polite.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    await sleep(1500);

    const t0 = performance.now();
    crash.close();
    const failed = await s.waitStatus(crash.memberlist.name, 'failed', 30_000);
    expect(failed?.status, serfEvents(s)).toBe('failed');
    report('our node closed without leave -> serf "failed" (serf LAN timings, 3 nodes)', performance.now() - t0);
    // Our surviving node agrees (it learns from its own probes or serf's dead gossip).
    expect(await until(() => !aliveIn(polite, crash.memberlist.name), 10_000)).toBe(true);

    const t1 = performance.now();
    await polite.leave();
    const left = await s.waitStatus(polite.memberlist.name, 'left', 10_000);
    expect(left?.status, serfEvents(s)).toBe('left');
    report('our graceful leave -> serf "left"', performance.now() - t1);
    expect(s.log).toMatch(new RegExp(`EventMemberLeave: ${polite.memberlist.name}`));
  });

  it('serf graceful leave is a `leave` event (not `fail`) on our node', async () => {
    const s = await serf({ name: name('serf') });
    const n = await ours({ name: name('ts'), seeds: [`127.0.0.1:${s.port}`] });
    expect(await until(() => aliveIn(n, s.name), 5000)).toBe(true);
    let failed = false;
    n.memberlist.on('fail', (m) => {
      if (m.name === s.name) failed = true;
    });
    const left = eventFor(n, 'leave', s.name, 15_000);
    await s.leave();
    await left;
    expect(failed).toBe(false);
    expect(aliveIn(n, s.name)).toBe(false);
  });

  it('(f) encrypted cluster: same key joins and detects failure; a wrong key and no key are refused', async () => {
    // MetalLB-style secret → key (first 32 bytes of secret ‖ SHA-256("")), computed here independently.
    const secret = randomBytes(16).toString('base64url').slice(0, 22);
    const key = Buffer.concat([Buffer.from(secret), createHash('sha256').digest()]).subarray(0, 32);
    const s = await serf({ name: name('serf-enc'), encrypt: key });
    const n = await ours({ name: name('ts-enc'), secretKey: secret, seeds: [`127.0.0.1:${s.port}`] });
    expect(await until(() => aliveIn(n, s.name), 5000)).toBe(true);
    expect((await s.waitStatus(n.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    await sleep(2500);
    expect((await s.member(n.memberlist.name))!.status).toBe('alive');
    expect(n.transport.stats.packetsDropped).toBe(0);
    expect(s.log).not.toMatch(/No installed keys could decrypt/);

    const wrong = await ours({ name: name('ts-wrongkey'), keyring: [new Uint8Array(randomBytes(32))] });
    await expect(wrong.join([`127.0.0.1:${s.port}`])).rejects.toThrow(/join failed/);
    const plain = await ours({ name: name('ts-nokey') });
    await expect(plain.join([`127.0.0.1:${s.port}`])).rejects.toThrow(/join failed/);
    await sleep(1000);
    const names = (await s.members()).map((m) => m.name);
    expect(names).not.toContain(wrong.memberlist.name);
    expect(names).not.toContain(plain.memberlist.name);
    expect(aliveIn(wrong, s.name)).toBe(false);
    expect(aliveIn(plain, s.name)).toBe(false);

    const fail = eventFor(n, 'fail', s.name, 30_000);
    s.kill();
    report('encrypted: serf SIGKILL -> our fail (lan timings)', (await fail).ms);
  });

  it('MetalLB profile (Vsn [1,5,2,0,0,0]) is refused by serf and refuses serf, as a MetalLB speaker would be', async () => {
    const s = await serf({ name: name('serf') });
    const n = await ours({ name: name('ts-metallb'), profile: 'metallb' });
    await expect(n.join([`127.0.0.1:${s.port}`])).rejects.toThrow(/delegate protocol version \(\d\) is incompatible/);
    expect(await until(() => /delegate protocol version \(0\) is incompatible/.test(s.log), 5000), serfEvents(s)).toBe(true);
    expect(await s.member(n.memberlist.name)).toBeUndefined();
    expect(n.memberlist.members().map((m) => m.name)).toEqual([n.memberlist.name]);
  });

  it('3 nodes (serf + two of ours): killing one of ours is detected by serf and by our other node via indirect probes', async () => {
    const s = await serf({ name: name('serf') });
    const a = await ours({ name: name('ts-a'), seeds: [`127.0.0.1:${s.port}`] });
    const b = await ours({ name: name('ts-b'), seeds: [`127.0.0.1:${s.port}`] });
    expect(await until(() => aliveIn(a, b.memberlist.name) && aliveIn(b, a.memberlist.name), 10_000)).toBe(true);
    expect((await s.waitStatus(a.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    expect((await s.waitStatus(b.memberlist.name, 'alive', 10_000))?.status).toBe('alive');
    await sleep(2000);
    expect(a.memberlist.members().length).toBe(3);
    const servedBefore = a.memberlist.stats.indirectPingsServed;

    const failA = eventFor(a, 'fail', b.memberlist.name, 30_000);
    const t0 = performance.now();
    b.close();
    const { ms } = await failA;
    report("3 nodes: our node B closed -> our node A 'fail'", ms);
    const serfSaw = await s.waitStatus(b.memberlist.name, 'failed', 30_000);
    expect(serfSaw?.status, serfEvents(s)).toBe('failed');
    report('3 nodes: our node B closed -> serf "failed"', performance.now() - t0);
    // Indirect probing really happened in both directions: A asked serf (which answered with a
    // nack, memberlist ≥ v4) and serf asked A to ping B.
    expect(a.memberlist.stats.indirectPingsSent).toBeGreaterThan(0);
    expect(a.memberlist.stats.nacksReceived).toBeGreaterThan(0);
    expect(a.memberlist.stats.indirectPingsServed).toBeGreaterThan(servedBefore);
    expect(aliveIn(a, s.name)).toBe(true);
    expect((await s.member(a.memberlist.name))!.status).toBe('alive');
  });
});
