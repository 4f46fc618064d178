/**
 * RFC 4271 §6.3 against gobgpd: gobgpd (iBGP, next hops of its own routes kept) sends a node
 * speaker two routes, one whose NEXT_HOP is another router on the link and one whose NEXT_HOP is the
 * node's own address (10.0.0.11). The speaker must accept the first and ignore the second (reported
 * in `ignored`, not emitted as announced), send no NOTIFICATION and keep the session up. (BIRD cannot
 * be the sender here: it replaces such an announcement by a withdrawal itself.)
 */
import { rmSync, writeFileSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { buildDist, buildLab, type Lab, type NodeSpeaker, startNode, tmp, until } from './lab.js';

describeInterop('bgp interop: routes from gobgpd whose NEXT_HOP is our own address', { root: true, bins: ['gobgpd', 'gobgp', 'ip'] }, () => {
  let lab: Lab;
  let dir: string;
  let node: NodeSpeaker;
  const gobgp = (...args: string[]) => sh('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args], { ns: lab.rtr });

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    dir = tmp('gobgp-nh');
    writeFileSync(
      join(dir, 'gobgpd.toml'),
      `[global.config]
  as = 64512
  router-id = "10.0.0.1"
  port = 179
  local-address-list = ["10.0.0.1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.11"
    peer-as = 64512
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
    );
    const log = openSync(join(dir, 'gobgpd.log'), 'a');
    lab.topo.spawnIn(lab.rtr, 'gobgpd', ['-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--log-level', 'info'], { stdio: ['ignore', log, log] });
    await until(async () => (await gobgp('neighbor').catch(() => '')).includes('10.0.0.11'), 30_000, 'gobgpd up');
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
