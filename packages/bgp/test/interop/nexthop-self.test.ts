/**
 * RFC 4271 §6.3 against gobgpd: gobgpd (iBGP, next hops of its own routes kept) sends a node
 * speaker two routes, one whose NEXT_HOP is another router on the link and one whose NEXT_HOP is the
 * node's own address (10.0.0.11). The speaker must accept the first and ignore the second (reported
 * in `ignored`, not emitted as announced), send no NOTIFICATION and keep the session up. (BIRD cannot
 * be the sender here: it replaces such an announcement by a withdrawal itself.)
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { buildDist, buildLab, type GoBgp, type Lab, type NodeSpeaker, startGobgp, startNode, tmp, until } from './lab.js';

describeInterop('bgp interop: routes from gobgpd whose NEXT_HOP is our own address', { root: true, bins: ['gobgpd', 'gobgp', 'ip'] }, () => {
  let lab: Lab;
  let dir: string;
  let node: NodeSpeaker;
  let gobgp: GoBgp['gobgp'];

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    dir = tmp('gobgp-nh');
    gobgp = (await startGobgp(lab, { nodes: [1], families: ['ipv4'], dir })).gobgp;
    await gobgp('global', 'rib', 'add', '10.60.0.0/24', 'nexthop', '10.0.0.99', '-a', 'ipv4');
    await gobgp('global', 'rib', 'add', '10.60.1.0/24', 'nexthop', '10.0.0.11', '-a', 'ipv4');
    node = startNode(lab, 1, { asn: 64512, peerAsn: 64512, routes: [], peer: { families: ['ipv4'] } });
  });

  afterAll(async () => {
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the route with a foreign next hop is accepted, the one with our own address ignored', async () => {
    const up = await node.waitEvent((e) => e.ev === 'established', 30_000, 'established');
    const updates = () => node.events.filter((e) => e.ev === 'update');
    const ignored = () => updates().flatMap((e) => (e.ignored as { prefix: string; reason: string }[] | undefined) ?? []);
    const announced = () => updates().flatMap((e) => e.announced as { prefix: string; nextHop: string }[]);
    await until(() => announced().length > 0 && ignored().length > 0, 20_000, 'both routes from gobgpd');
    expect(announced()).toEqual([expect.objectContaining({ prefix: '10.60.0.0/24', nextHop: '10.0.0.99' })]);
    expect(ignored()).toEqual([{ prefix: '10.60.1.0/24', reason: expect.stringMatching(/10\.0\.0\.11 is our own address/) }]);
    // gobgpd did advertise both to us
    expect(await gobgp('neighbor', '10.0.0.11', 'adj-out')).toMatch(/10\.60\.1\.0\/24\s+10\.0\.0\.11/);
    await new Promise((r) => setTimeout(r, 500));
    // (dials before gobgpd listened may have failed; nothing may go wrong once Established)
    expect(node.events.filter((e) => e.t >= up.t && (e.ev === 'notification' || e.ev === 'down'))).toEqual([]);
    expect(await gobgp('neighbor')).toMatch(/10\.0\.0\.11.*Establ/);
  });
});
