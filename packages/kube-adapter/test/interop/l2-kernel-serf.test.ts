/**
 * End-to-end L2 failover with lbkitd's alternative backends: kernel ARP (VIP on the NIC +
 * arping GARP) and serf membership, peers discovered from Node InternalIPs. 3 node namespaces + a client on a bridge; curl from the
 * client reaches the elected leader; kill the leader, measure until the client reaches the next.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { until } from './cluster.js';
import { hashOrder } from './l2-lab.js';
import { useL2Cluster } from './l2-setup.js';
import { l2Yaml, VIP } from './l2yaml.js';

describeInterop('lbkitd L2 failover (kernel ARP + serf membership)', { root: true, bins: ['ip', 'curl', 'arping', 'serf'] }, () => {
  const c = useL2Cluster({
    nodes: 3,
    vipRange: '10.77.0.200/29',
    // no --memberlist-join: lbkitd discovers its peers from the Node objects' InternalIP
    args: (n) => ['--l2-backend', 'kernel', '--membership-backend', 'serf', '--memberlist-bind', `${n.ip}:7946`],
  }, l2Yaml(['node1', 'node2', 'node3']));


  it('assigns the VIP, elects the sha256 winner, fails over on planned and unplanned loss', async () => {
    const names = c.nodes.map((n) => n.name);
    // every node sees 3 members and the same assignment
    await until(() => c.nodes.every((n) => c.state(n)?.members?.length === 3 && c.state(n)?.services.find((s) => s.service === 'default/web')?.ingress[0] === VIP), 60_000, 'members and assignment');
    const order = hashOrder(VIP, names);
    const leaderName = await until(() => {
      const owners = c.nodes.filter((n) => (c.state(n)?.l2['default/web'] ?? []).includes(VIP));
      return owners.length === 1 ? owners[0]!.name : undefined;
    }, 30_000, 'exactly one L2 owner');
    expect(leaderName).toBe(order[0]);
    expect(await until(() => c.curl(VIP).then((b) => (b === leaderName ? b : null)), 20_000, 'client reaching the leader')).toBe(leaderName);

    // unplanned first, with 3 members (as in a real cluster): SIGKILL the leader's lbkitd, its serf
    // agent (a child of lbkitd: a node crash kills it too) and its backend; failure detection decides
    const leader = c.nodes.find((n) => n.name === leaderName)!;
    const kids = (await sh('ps', ['-o', 'pid=', '--ppid', String(leader.lbkitd!.pid)])).split(/\s+/).filter(Boolean).map(Number);
    const t1 = Date.now();
    leader.lbkitd!.kill('SIGKILL');
    leader.http!.kill('SIGKILL');
    for (const pid of kids) process.kill(pid, 'SIGKILL');
    await until(() => c.curl(VIP, 0.2).then((b) => b === order[1]), 60_000, 'client reaching the next node', 20);
    const unplanned = Date.now() - t1;
    console.log(`[kube-e2e] kernel+serf unplanned failover ${leaderName} -> ${order[1]}: ${unplanned} ms`);
    expect(unplanned).toBeLessThan(30_000);

    // planned: SIGTERM the new leader's lbkitd (graceful leave) and stop its backend at the same instant
    const second = c.nodes.find((n) => n.name === order[1])!;
    const t0 = Date.now();
    second.lbkitd!.kill('SIGTERM');
    second.http!.kill('SIGKILL');
    await until(() => c.curl(VIP, 0.2).then((b) => b === order[2]), 30_000, 'client reaching the third node', 10);
    const planned = Date.now() - t0;
    console.log(`[kube-e2e] kernel+serf planned failover ${order[1]} -> ${order[2]}: ${planned} ms`);
    expect(planned).toBeLessThan(2000);
  }, 240_000);
});
