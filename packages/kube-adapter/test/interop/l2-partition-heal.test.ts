/**
 * Partition heal end to end: 3 lbkitd nodes (@lbkit/arp + @lbkit/memberlist, fast timings) and a
 * client on one bridge. nftables in the L2 owner's namespace drops all IPv4 between it and the
 * other two nodes (the client still reaches everyone): the other side elects the next node by hash,
 * which sends gratuitous ARP, and the client follows it. Then the rules are deleted: memberlist's
 * reconnect pings merge the two sides, the second node withdraws and the hash winner — which
 * announced all along — re-sends its gratuitous ARP burst on the member join, so the client comes
 * back to it (tcpdump on the client sees that burst after the heal). Measured: heal → one owner in
 * every node's state and curl answered by the winner.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { until } from './cluster.js';
import { hashOrder, partition, quickCurl } from './l2-lab.js';
import { useL2Cluster } from './l2-setup.js';
import { l2Yaml } from './l2yaml.js';

const SERVICE = 'default/web';

describeInterop('lbkitd L2 partition heal (@lbkit/memberlist reconnect + re-announce on join)', { root: true, bins: ['ip', 'curl', 'nft', 'tcpdump'] }, () => {
  const c = useL2Cluster({
    prefix: 'kl2ph',
    nodes: 3,
    vipRange: '10.77.0.200/29',
    args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', 'fast'],
  }, l2Yaml(['node1', 'node2', 'node3']));


  const owners = (vip: string): string[] => c.nodes.filter((n) => (c.state(n)?.l2[SERVICE] ?? []).includes(vip)).map((n) => n.name);
  const curl = (vip: string): Promise<string | null> => quickCurl(c, vip);

  it('after the heal one owner remains and the client is back on the hash winner within 2 s', async () => {
    const vip = await until(() => {
      const ips = c.nodes.map((n) => c.state(n)?.services.find((s) => s.service === SERVICE)?.ingress[0]);
      return c.nodes.every((n) => c.state(n)?.members?.length === 3) && ips.every((ip) => ip && ip === ips[0]) ? ips[0] : undefined;
    }, 60_000, 'three members and one assignment everywhere');
    const order = hashOrder(vip, c.nodes.map((n) => n.name));
    await until(() => owners(vip).join() === order[0], 30_000, `${order[0]} the only owner`);
    await until(() => curl(vip).then((b) => b === order[0]), 30_000, `client on ${order[0]}`, 20);
    const winner = c.nodes.find((n) => n.name === order[0])!;
    const rest = c.nodes.filter((n) => n !== winner);

    const heals: number[] = [];
    for (let round = 0; round < 2; round++) {
      await partition(winner, rest, true);
      // the other side takes over (its GARP moves the client); the isolated winner keeps announcing
      await until(() => owners(vip).sort().join() === [order[0], order[1]].sort().join(), 15_000, 'two owners during the partition');
      await until(() => curl(vip).then((b) => b === order[1]), 15_000, `client on ${order[1]} during the partition`, 20);
      // capture ARP on the client across the heal: the winner must send a fresh gratuitous ARP
      const cap = c.topo.spawnIn(c.client, 'tcpdump', ['-l', '-n', '-t', '-e', '-i', 'eth0', 'arp']);
      let arp = '';
      cap.stdout?.on('data', (d: Buffer) => (arp += d.toString()));
      await new Promise((r) => setTimeout(r, 300));
      const before = arp.length;
      const t0 = performance.now();
      await partition(winner, rest, false);
      await until(async () => owners(vip).join() === order[0] && (await curl(vip)) === order[0], 20_000, 'one owner and the client back on the winner', 10);
      const ms = performance.now() - t0;
      heals.push(ms);
      console.log(`[l2 partition heal] round ${round}: heal → single owner ${order[0]} answering the client in ${ms.toFixed(0)} ms`);
      expect(await c.neighMac(vip)).toBe(winner.mac);
      await new Promise((r) => setTimeout(r, 200));
      cap.kill('SIGTERM');
      // "<winner mac> > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has VIP (ff:ff:ff:ff:ff:ff) tell VIP"
      const esc = vip.replace(/\./g, '\\.');
      const garp = new RegExp(`^${winner.mac} > ff:ff:ff:ff:ff:ff.*(who-has ${esc} (\\([0-9a-f:]+\\) )?tell ${esc}|Reply ${esc} is-at)`);
      const garps = arp.slice(before).split('\n').filter((l) => garp.test(l));
      expect(garps.length).toBeGreaterThan(0);
      await until(() => c.nodes.every((n) => c.state(n)?.members?.length === 3), 10_000, 'three members again');
    }
    for (const ms of heals) expect(ms).toBeLessThan(2000);
  }, 120_000);
});
