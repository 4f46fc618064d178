/**
 * Cluster labels against a real hashicorp/memberlist v0.5.1 node (`ml-agent`, the version MetalLB
 * pins) on 127.0.0.1. Go writes the label header once at the start of a stream it opens and answers
 * without one; every UDP packet carries it. Before the fix, Go joining us logged "received invalid
 * msgType (244)" (we labelled our reply) and our join to Go failed with `label "" does not match`
 * (we demanded a label on Go's reply).
 */
import { afterEach, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { uniq } from '../../../../test-utils/netns.js';
import { createMemberlist, type CreateMemberlistOptions, type NetMemberlist } from '../../src/index.js';
import { freePort, GoAgent, ML_AGENT, sleep, type GoAgentOptions } from './ml-agent.js';

const TAG = `mll-${uniq()}`;
let seq = 0;
const name = (role: string): string => `${TAG}-${role}-${++seq}`;
const agents: GoAgent[] = [];
const nodes: NetMemberlist[] = [];

async function go(o: Omit<GoAgentOptions, 'port' | 'name'>): Promise<GoAgent> {
  const a = await GoAgent.start({ name: name('go'), port: await freePort(), ...o });
  agents.push(a);
  return a;
}

async function ours(o: Partial<CreateMemberlistOptions> = {}): Promise<NetMemberlist> {
  const n = await createMemberlist({ name: name('ts'), profile: 'metallb', bindAddr: '127.0.0.1', bindPort: 0, ...o });
  nodes.push(n);
  return n;
}

const aliveIn = (n: NetMemberlist, who: string): boolean => n.memberlist.members().some((m) => m.name === who && m.state === 0);

async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

/** Both sides list each other alive, and still do after `holdMs` of probing (no failure either way). */
async function expectHealthyPair(n: NetMemberlist, g: GoAgent, holdMs: number): Promise<void> {
  expect(await until(() => aliveIn(n, g.name), 5000)).toBe(true);
  expect(await until(() => g.seesAlive(n.memberlist.name), 5000)).toBe(true);
  await sleep(holdMs);
  expect(aliveIn(n, g.name)).toBe(true);
  expect(await g.seesAlive(n.memberlist.name)).toBe(true);
  expect(n.memberlist.members().map((m) => m.name).sort()).toEqual([g.name, n.memberlist.name].sort());
  expect(g.problems()).toEqual([]);
  expect(n.transport.stats.streamErrors).toBe(0);
  expect(n.transport.stats.packetsDropped).toBe(0);
}

afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  for (const a of agents.splice(0)) await a.stop();
});

describeInterop('labels vs hashicorp/memberlist v0.5.1 (ml-agent)', { bins: [ML_AGENT] }, () => {
  it('Go joins us with a label: Go accepts our unlabelled reply, probes both ways stay healthy', async () => {
    const n = await ours({ label: 'lbkit-c1' });
    const g = await go({ label: 'lbkit-c1' });
    const j = await g.join(`127.0.0.1:${n.address.port}`);
    expect(j.err ?? '').toBe('');
    expect(j.n).toBe(1);
    await expectHealthyPair(n, g, 2500);
    expect(n.transport.stats.streamsIn).toBeGreaterThan(0);
  }, 20_000);

  it('we join Go with a label: our push/pull is accepted and Go\'s unlabelled reply is read', async () => {
    const g = await go({ label: 'lbkit-c2' });
    const n = await ours({ label: 'lbkit-c2' });
    await n.join([`127.0.0.1:${g.port}`]);
    await expectHealthyPair(n, g, 2500);
  }, 20_000);

  it('label + MetalLB secret (label is part of the AES-GCM AAD on packets and both stream directions)', async () => {
    const secret = 'lbkit-interop-secret';
    const g = await go({ label: 'enc-lbl', secret });
    const n = await ours({ label: 'enc-lbl', secretKey: secret });
    await n.join([`127.0.0.1:${g.port}`]);
    const g2 = await go({ label: 'enc-lbl', secret });
    const j = await g2.join(`127.0.0.1:${n.address.port}`);
    expect(j.err ?? '').toBe('');
    expect(await until(() => aliveIn(n, g2.name) && aliveIn(n, g.name), 5000)).toBe(true);
    expect(await until(() => g.seesAlive(g2.name), 5000)).toBe(true);
    await sleep(2000);
    for (const a of [g, g2]) {
      expect(await a.seesAlive(n.memberlist.name)).toBe(true);
      expect(a.problems()).toEqual([]);
    }
    expect(n.transport.stats.streamErrors).toBe(0);
    expect(n.transport.stats.packetsDropped).toBe(0);
  }, 25_000);

  it('mismatched labels are refused both ways, as Go refuses them', async () => {
    const g = await go({ label: 'blue' });
    const n = await ours({ label: 'green' });
    await expect(n.join([`127.0.0.1:${g.port}`])).rejects.toThrow();
    expect(await until(() => g.log.some((l) => /discarding stream with unacceptable label "green"/.test(l)), 3000)).toBe(true);
    const j = await g.join(`127.0.0.1:${n.address.port}`);
    expect(j.n).toBe(0);
    expect(j.err).toMatch(/Failed to join/);
    expect(n.transport.stats.lastError).toMatch(/label "blue" does not match ours "green"/);
    expect(n.memberlist.members().map((m) => m.name)).toEqual([n.memberlist.name]);
    expect((await g.members()).members!.map((m) => m.node)).toEqual([g.name]);
  }, 20_000);

  it('a labelled node and an unlabelled one (MetalLB sets no label) do not form a cluster', async () => {
    const g = await go({});
    const n = await ours({ label: 'only-us' });
    await expect(n.join([`127.0.0.1:${g.port}`])).rejects.toThrow();
    expect(await until(() => g.log.some((l) => /unacceptable label "only-us"/.test(l)), 3000)).toBe(true);
    const g2 = await go({ label: 'only-go' });
    const n2 = await ours({});
    const j = await g2.join(`127.0.0.1:${n2.address.port}`);
    expect(j.n).toBe(0);
    expect(n2.transport.stats.lastError).toMatch(/label "only-go" does not match ours ""/);
  }, 20_000);

  it('no label on either side (MetalLB default) still joins both ways', async () => {
    const g = await go({});
    const n = await ours({});
    await n.join([`127.0.0.1:${g.port}`]);
    const g2 = await go({});
    expect((await g2.join(`127.0.0.1:${n.address.port}`)).n).toBe(1);
    expect(await until(() => aliveIn(n, g.name) && aliveIn(n, g2.name), 5000)).toBe(true);
    expect(await until(() => g2.seesAlive(g.name), 5000)).toBe(true);
    expect(g.problems()).toEqual([]);
    expect(g2.problems()).toEqual([]);
  }, 20_000);
});
