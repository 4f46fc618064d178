/**
 * @lbkit/bgp speakers (iBGP, AS 64512) against gobgpd in a router namespace: sessions, gobgpd's RIB
 * (three paths per prefix with LOCAL_PREF, communities, large communities), withdraw and Cease.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { buildDist, buildLab, startGobgp, startNode, tmp, until, type GoBgp, type Lab, type NodeSpeaker } from './lab.js';

interface GoPath {
  'neighbor-ip': string;
  attrs: { type: number; value?: unknown; communities?: number[]; nexthop?: string; as_paths?: { asns: number[] }[] }[];
}

describeInterop('bgp interop: gobgpd', { root: true, bins: ['gobgpd', 'gobgp', 'ip'] }, () => {
  let lab: Lab;
  let dir: string;
  const nodes: NodeSpeaker[] = [];
  let gobgp: GoBgp['gobgp'];
  const rib = async (fam: 'ipv4' | 'ipv6', prefix: string): Promise<GoPath[]> => {
    const j = JSON.parse((await gobgp('-j', 'global', 'rib', '-a', fam)) || '{}') as Record<string, GoPath[]>;
    return j[prefix] ?? [];
  };

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(3);
    dir = tmp('gobgp');
    gobgp = (await startGobgp(lab, { nodes: [1, 2, 3], families: ['ipv4', 'ipv6'], dir })).gobgp;
    for (let i = 1; i <= 3; i++) {
      nodes.push(
        startNode(lab, i, {
          asn: 64512,
          peerAsn: 64512,
          attrs: { localPref: 200, communities: ['64512:100'], largeCommunities: ['64512:1:2'] },
        }),
      );
    }
  });

  afterAll(async () => {
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('all three iBGP sessions reach Established', async () => {
    for (const n of nodes) await n.waitEvent((e) => e.ev === 'established', 60_000, 'established');
    await until(async () => ((await gobgp('neighbor')).match(/Establ/g) ?? []).length === 3, 30_000, 'gobgpd sees 3 sessions');
  });

  it("gobgpd's RIB holds three paths for the /32 and the /128 with LOCAL_PREF, communities and large communities", async () => {
    await until(async () => (await rib('ipv4', '10.96.0.10/32')).length === 3, 30_000, '3 v4 paths');
    const v4 = await rib('ipv4', '10.96.0.10/32');
    expect(v4.map((p) => p['neighbor-ip']).sort()).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    for (const p of v4) {
      const by = (t: number) => p.attrs.find((a) => a.type === t);
      expect(by(5)?.value).toBe(200); // LOCAL_PREF (iBGP)
      expect(by(8)?.communities).toEqual([64512 * 65536 + 100]);
      expect(by(32)?.value).toEqual([{ ASN: 64512, LocalData1: 1, LocalData2: 2 }]);
      expect(by(3)?.nexthop).toBe(p['neighbor-ip']);
      expect(by(2)?.as_paths ?? []).toEqual([]); // empty AS_PATH on iBGP
    }
    await until(async () => (await rib('ipv6', 'fd0a:96::10/128')).length === 3, 30_000, '3 v6 paths');
    const v6 = await rib('ipv6', 'fd0a:96::10/128');
    const nhs = v6.map((p) => (p.attrs.find((a) => a.type === 14) as { nexthop?: string } | undefined)?.nexthop).sort();
    expect(nhs).toEqual(['fd0a::11', 'fd0a::12', 'fd0a::13']);
    for (const p of v6) expect(p.attrs.find((a) => a.type === 5)?.value).toBe(200);
  });

  it('withdraw on node 1 and Cease on node 2 leave only node 3 in the RIB', async () => {
    nodes[0]!.send({ cmd: 'withdraw', prefix: '10.96.0.10/32' });
    await until(async () => (await rib('ipv4', '10.96.0.10/32')).length === 2, 30_000, 'withdrawn');
    expect((await rib('ipv4', '10.96.0.10/32')).map((p) => p['neighbor-ip']).sort()).toEqual(['10.0.0.12', '10.0.0.13']);
    expect((await rib('ipv6', 'fd0a:96::10/128')).length).toBe(3);
    nodes[1]!.send({ cmd: 'stop', text: 'node drained' });
    await nodes[1]!.exited();
    await until(async () => (await rib('ipv4', '10.96.0.10/32')).length === 1, 30_000, 'node 2 gone');
    expect((await rib('ipv4', '10.96.0.10/32')).map((p) => p['neighbor-ip'])).toEqual(['10.0.0.13']);
    expect((await rib('ipv6', 'fd0a:96::10/128')).map((p) => p['neighbor-ip']).sort()).toEqual(['10.0.0.11', '10.0.0.13']);
  });
});
