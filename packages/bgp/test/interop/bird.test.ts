/**
 * @lbkit/bgp speakers in three node namespaces against BIRD 2 (passive, `merge paths`) in a router
 * namespace, the nodes in a 4-octet AS (4200000001): sessions, BIRD's RIB (attributes, AS_PATH),
 * kernel ECMP with one nexthop per node, withdraw, Cease, and hold-timer expiry when BIRD is frozen
 * with SIGSTOP.
 */
import { openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { buildDist, buildLab, type Lab, type NodeSpeaker, startNode, tmp, until } from './lab.js';
import { expectNexthopsOf, expectOneNexthopPerNode, expectWithdrawRemovesNode1 } from './ecmp.js';

describeInterop('bgp interop: BIRD 2', { root: true, bins: ['bird', 'birdc', 'ip'] }, () => {
  let lab: Lab;
  let dir: string;
  let birdPid = 0;
  const nodes: NodeSpeaker[] = [];
  const birdc = (...args: string[]) => sh('birdc', ['-s', join(dir, 'bird.ctl'), ...args]);

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(3);
    dir = tmp('bird');
    writeFileSync(
      join(dir, 'bird.conf'),
      `log stderr all;
router id 10.0.0.1;
protocol device { scan time 10; }
protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
template bgp nodes {
  local 10.0.0.1 as 64512;
  passive on; hold time 9; keepalive time 3; connect retry time 5;
  error wait time 1, 5;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
protocol bgp n1 from nodes { neighbor 10.0.0.11 as 4200000001; }
protocol bgp n2 from nodes { neighbor 10.0.0.12 as 4200000001; }
protocol bgp n3 from nodes { neighbor 10.0.0.13 as 4200000001; }
`,
    );
    const log = openSync(join(dir, 'bird.log'), 'a');
    lab.topo.spawnIn(lab.rtr, 'bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], {
      stdio: ['ignore', log, log],
    });
    await until(async () => (await birdc('show', 'status').catch(() => '')).includes('Daemon is up'), 20_000, 'BIRD up');
    birdPid = Number((await sh('cat', [join(dir, 'bird.pid')])).trim());
    for (let i = 1; i <= 3; i++) {
      nodes.push(startNode(lab, i, { asn: 4200000001, holdTime: 9, attrs: { communities: ['64512:100'], largeCommunities: ['64512:1:2'] } }));
    }
  });

  afterAll(async () => {
    if (birdPid) {
      try {
        process.kill(birdPid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('all three sessions reach Established', async () => {
    for (const n of nodes) await n.waitEvent((e) => e.ev === 'established', 60_000, 'established');
    await until(async () => ((await birdc('show', 'protocols')).match(/Established/g) ?? []).length === 3, 30_000, 'BIRD sees 3 sessions');
  });

  it("BIRD's RIB holds the /32 and /128 from every node with communities and large communities", async () => {
    await until(async () => ((await birdc('show', 'route', 'all', '10.96.0.10/32')).match(/BGP\.large_community/g) ?? []).length === 3, 30_000, '3 paths');
    const v4 = await birdc('show', 'route', 'all', '10.96.0.10/32');
    expect(v4.match(/BGP\.community: \(64512,100\)/g)?.length).toBe(3);
    expect(v4.match(/BGP\.large_community: \(64512, 1, 2\)/g)?.length).toBe(3);
    expect(v4.match(/BGP\.as_path: 4200000001\n/g)?.length).toBe(3); // 4-octet AS (AS_TRANS in OPEN + capability 65)
    for (const i of [1, 2, 3]) expect(v4).toContain(`BGP.next_hop: 10.0.0.1${i}`);
    await until(async () => ((await birdc('show', 'route', 'all', 'fd0a:96::10/128')).match(/BGP\.large_community/g) ?? []).length === 3, 30_000, '3 v6 paths');
    const v6 = await birdc('show', 'route', 'all', 'fd0a:96::10/128');
    for (const i of [1, 2, 3]) expect(v6).toContain(`fd0a::1${i}`);
    expect(v6.match(/BGP\.community: \(64512,100\)/g)?.length).toBe(3);
  });

  it('the kernel has one multipath route with exactly one nexthop per node (v4 and v6)', async () => {
    await expectOneNexthopPerNode(lab.rtr);
  });

  it('withdrawing on node 1 removes its nexthop only', async () => {
    await expectWithdrawRemovesNode1(lab.rtr, nodes[0]!);
    // the session of node 1 stays up
    expect((await birdc('show', 'protocols', 'n1')).includes('Established')).toBe(true);
  });

  it('stopping node 2 sends Cease 6/2 and removes its nexthop', async () => {
    nodes[1]!.send({ cmd: 'stop', text: 'node drained' });
    await nodes[1]!.waitEvent((e) => e.ev === 'notification' && e.direction === 'sent' && e.code === 6 && e.subcode === 2);
    await expectNexthopsOf(lab.rtr, [3], 'only node 3 left');
    const n2 = await birdc('show', 'protocols', 'all', 'n2');
    expect(n2).toMatch(/Administrative shutdown/);
    expect(n2).toContain('node drained');
  });

  it('detects a frozen BIRD by hold timer expiry and sends NOTIFICATION 4/0', async () => {
    const n3 = nodes[2]!;
    const t0 = Date.now();
    process.kill(birdPid, 'SIGSTOP');
    try {
      const down = await n3.waitEvent((e) => e.ev === 'down' && e.t >= t0, 30_000, 'hold timer expiry');
      expect(down.reason).toBe('hold timer expired');
      const dt = (down.t as number) - t0;
      expect(dt).toBeGreaterThan(6000); // negotiated hold 9 s; last keepalive at most 3 s before the freeze
      expect(dt).toBeLessThan(12_000);
      expect(n3.events.some((e) => e.ev === 'notification' && e.direction === 'sent' && e.code === 4 && e.subcode === 0)).toBe(true);
    } finally {
      process.kill(birdPid, 'SIGCONT');
    }
    // and the session comes back after BIRD resumes (backoff + BIRD's error wait)
    await n3.waitEvent((e) => e.ev === 'established' && e.t > t0, 60_000, 're-established');
  });
});
