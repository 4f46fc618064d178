/**
 * BFD and graceful shutdown end to end with the @lbkit/bgp backend: 3 lbkitd nodes peer with FRR
 * (zebra + bgpd + bfdd) using a BFDProfile of 100 ms × 3 and a 90 s hold time, so only BFD can
 * explain a fast reaction.
 * - FRR's bfdd brings up one BFD session per node with the profile's timers.
 * - A node killed (SIGKILL) leaves the router's ECMP route well before any hold timer.
 * - BFD down on the node side (the router's BFD packets dropped by nft) tears the BGP session
 *   down at once (Cease 6/10).
 * - Node exclusion (label) and SIGTERM with --drain-ms: the node re-announces with GRACEFUL_SHUTDOWN
 *   65535:0, FRR moves it out of its multipath while the session is still up, then the route is withdrawn.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until } from './cluster.js';
import { killPids, nexthops, startFrr, waitEcmpRoute } from './frr.js';
import { bfdLabYaml, frrBfdConf, frrBfdPeers, startBfdd, waitBfdPeersUp } from './bgp-bfd-frr.js';

const yaml = (nodes: string[], excluded: string[] = []) => bfdLabYaml({ pool: '10.96.30.0/28', holdTime: '90s', bfd: true, nodes, excluded, service: { name: 'api', clusterIP: '10.43.0.31' } });

describeInterop('lbkitd BGP with BFD and graceful shutdown against FRR', { root: true, bins: ['ip', 'nft', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', '/usr/lib/frr/bfdd'] }, () => {
  const c = new Cluster({ nodes: 3, prefix: 'kbfd', router: '10.77.0.1/24', args: () => ['--bgp-backend', 'lbkit', '--l2-backend', 'kernel', '--log-level', 'info', '--drain-ms', '2000'] });
  let pids: number[] = [];
  let vip = '';
  const frrDir = () => `${c.dir}/frr`;
  const vty = (cmd: string) => sh('vtysh', ['--vty_socket', frrDir(), '-c', cmd], { ns: c.router });
  const bfdPeers = () => frrBfdPeers(c.router, frrDir());

  beforeAll(async () => {
    ensureBuilt();
    await c.up(yaml(['node1', 'node2', 'node3']));
    pids = await startFrr(c.router, frrDir(), frrBfdConf(frrDir()));
    pids.push(await startBfdd(c.router, frrDir()));
    for (const n of c.nodes) c.startLbkitd(n);
  }, 300_000);

  afterAll(async () => {
    if (process.env.LBKIT_KEEP_FRR_LOG) writeFileSync(process.env.LBKIT_KEEP_FRR_LOG, readFileSync(join(frrDir(), 'frr.log')));
    killPids(pids);
    await c.down();
  }, 60_000);

  it('FRR has an ECMP route over the 3 nodes and a BFD session Up with each at 100 ms × 3', async () => {
    vip = await until(() => c.state(c.nodes[0]!)?.services.find((s) => s.service === 'default/api')?.ingress[0], 30_000, 'assignment');
    await waitEcmpRoute(c.router, vip, 3, 60_000, 'ECMP route with 3 next hops');
    const p = await waitBfdPeersUp(c.router, frrDir(), 3, 100);
    expect(p.map((x) => x.peer).sort()).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    for (const x of p) expect(x['remote-detect-multiplier']).toBe(3);
  }, 120_000);

  it('a dead node (its link cut: no FIN, no Cease) leaves the router ECMP set within a second, not after the 90 s hold time', async () => {
    const n3 = c.nodes[2]!;
    const t0 = Date.now();
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: n3.ns });
    const after = await until(async () => {
      const r = await sh('ip', ['route', 'show', `${vip}/32`], { ns: c.router });
      return nexthops(r).length === 2 ? r : undefined;
    }, 10_000, 'route with 2 next hops', 10);
    const ms = Date.now() - t0;
    console.log(`[kube-bfd] node3 link cut → out of FRR's ECMP route after ${ms} ms (BFD 100 ms × 3, hold 90 s)`);
    expect(nexthops(after)).toEqual(['10.77.0.11', '10.77.0.12']);
    expect(ms).toBeLessThan(1500);
    // FRR logged the BFD detection (the dynamic neighbour and its BFD session are gone afterwards)
    const line = await until(() => readFileSync(join(frrDir(), 'frr.log'), 'utf8').split('\n').find((l) => /10\.77\.0\.13/.test(l) && /BFD/i.test(l) && /down/i.test(l)), 5000, 'FRR logs the neighbour down because of BFD');
    console.log(`[kube-bfd] FRR: ${line.trim()}`);
  }, 60_000);

  it("BFD down seen by the node (router's BFD packets dropped) tears its BGP session down at once", async () => {
    const n2 = c.nodes[1]!;
    const logs0 = n2.logs.join('').length;
    await sh('sh', ['-c', 'nft add table inet bfdt && nft add chain inet bfdt in "{ type filter hook input priority 0; }" && nft add rule inet bfdt in udp dport 3784 drop'], { ns: n2.ns });
    try {
      const t0 = Date.now();
      await until(() => /BGP session torn down: BFD down/.test(n2.logs.join('').slice(logs0)), 10_000, 'node2 tears down its BGP session', 20);
      console.log(`[kube-bfd] node2 BFD down → BGP torn down after ${Date.now() - t0} ms`);
      // FRR received our NOTIFICATION Cease 6/10 (RFC 9384 BFD Down)
      const line = await until(() => readFileSync(join(frrDir(), 'frr.log'), 'utf8').split('\n').find((l) => /10\.77\.0\.12/.test(l) && /received/i.test(l) && /6\/10|BFD Down/i.test(l)), 5000, 'FRR logs the Cease 6/10 from node2');
      console.log(`[kube-bfd] FRR: ${line.trim()}`);
    } finally {
      await sh('nft', ['delete', 'table', 'inet', 'bfdt'], { ns: n2.ns });
    }
    await waitEcmpRoute(c.router, vip, 2, 60_000, 'node2 back in the ECMP route');
  }, 90_000);

  it('node exclusion (label): GRACEFUL_SHUTDOWN first, the withdrawal --drain-ms later; the label removed brings it back', async () => {
    const pathOf = async (nh: string) => {
      const r = JSON.parse(await vty(`show bgp ipv4 unicast ${vip}/32 json`)) as { paths?: Array<Record<string, any>> };
      return r.paths?.find((x) => x.peer?.peerId === nh || x.nexthops?.[0]?.ip === nh);
    };
    // node2's session (reset by the previous test) is back and its path is plain
    await until(async () => {
      const nb = JSON.parse(await vty('show bgp neighbors 10.77.0.12 json')) as Record<string, any>;
      const p = await pathOf('10.77.0.12');
      return nb['10.77.0.12']?.bgpState === 'Established' && p && !/graceful-shutdown|65535:0/.test(JSON.stringify(p.community ?? '')) ? true : undefined;
    }, 30_000, 'node2 Established with its path', 100);
    await waitEcmpRoute(c.router, vip, 2, 30_000, 'node1 and node2 in the ECMP route');
    const t0 = Date.now();
    writeFileSync(c.yaml, yaml(['node1', 'node2', 'node3'], ['node2']));
    await until(async () => /graceful-shutdown|65535:0/.test(JSON.stringify((await pathOf('10.77.0.12'))?.community ?? '')) || undefined, 10_000, 'node2 path with GRACEFUL_SHUTDOWN', 20);
    const tG = Date.now() - t0;
    const r1 = await until(async () => {
      const r = await sh('ip', ['route', 'show', `${vip}/32`], { ns: c.router });
      return nexthops(r).length === 1 ? r : undefined;
    }, 5000, 'kernel route without node2', 20);
    expect(nexthops(r1)).toEqual(['10.77.0.11']);
    await until(async () => ((await pathOf('10.77.0.12')) ? undefined : true), 10_000, 'node2 path withdrawn', 50);
    const tW = Date.now() - t0;
    console.log(`[kube-bfd] node2 excluded → GRACEFUL_SHUTDOWN after ${tG} ms, withdrawn after ${tW} ms (--drain-ms 2000)`);

    expect(tW - tG).toBeGreaterThanOrEqual(1500);
    writeFileSync(c.yaml, yaml(['node1', 'node2', 'node3']));
    await waitEcmpRoute(c.router, vip, 2, 30_000, 'node2 back in the ECMP route');
  }, 60_000);

  it('SIGTERM with --drain-ms: GRACEFUL_SHUTDOWN moves the node out of the multipath before the withdrawal', async () => {
    const n1 = c.nodes[0]!;
    await until(async () => (await bfdPeers()).find((x) => x.peer === '10.77.0.12')?.status === 'up', 20_000, 'node2 BFD up again');
    const t0 = Date.now();
    n1.lbkitd!.kill('SIGTERM');
    // the path from node1 is still there (session up) but carries 65535:0 and is no longer used
    const j = await until(async () => {
      const r = JSON.parse(await vty(`show bgp ipv4 unicast ${vip}/32 json`)) as { paths?: Array<Record<string, any>> };
      const p = r.paths?.find((x) => x.peer?.peerId === '10.77.0.11' || x.nexthops?.[0]?.ip === '10.77.0.11');
      return p && /65535:0|graceful-shutdown/i.test(JSON.stringify(p.community ?? '')) ? p : undefined;
    }, 5000, 'node1 path with GRACEFUL_SHUTDOWN', 20);
    const tGshut = Date.now() - t0;
    const route = await until(async () => {
      const r = await sh('ip', ['route', 'show', `${vip}/32`], { ns: c.router });
      return nexthops(r).length === 1 ? r : undefined;
    }, 5000, 'kernel route without node1', 20);
    const tOut = Date.now() - t0;
    expect(nexthops(route)).toEqual(['10.77.0.12']);
    expect(j.locPrf ?? j.localpref ?? 0).toBe(0);
    // still within the drain window: the BGP session with node1 is up
    const nb = JSON.parse(await vty('show bgp neighbors 10.77.0.11 json')) as Record<string, any>;
    expect(nb['10.77.0.11']?.bgpState).toBe('Established');
    console.log(`[kube-bfd] SIGTERM → GRACEFUL_SHUTDOWN seen after ${tGshut} ms, node1 out of the kernel multipath after ${tOut} ms, session still Established`);
    await new Promise<void>((r) => n1.lbkitd!.once('exit', () => r()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  }, 60_000);
});
