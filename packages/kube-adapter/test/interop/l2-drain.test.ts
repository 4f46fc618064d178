/**
 * The L2 drain window end to end, on lbkitd (@lbkit/arp + @lbkit/memberlist, fast timings) in the
 * 3-node + client lab. ARP requests are written by `bench/l2-arpgen.c` (compiled here) so they can
 * be broadcast or unicast to one node's MAC, as a client re-validating a cached entry does.
 * - Ownership moves (the leader's Node gets the exclude-from-external-load-balancers label): the new
 *   owner answers broadcast requests alone; the old leader answers only unicast requests sent to its
 *   MAC (the drain window, `--l2-drain-ms`, default 3 min).
 * - The Service is then deleted: the address is no longer in use, so nobody answers it any more,
 *   not even unicast to the old leader still inside its drain window (`withdraw(ip, { drain: false })`).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { until, type ClusterNode } from './cluster.js';
import { hashOrder } from './l2-lab.js';
import { useL2Cluster } from './l2-setup.js';
import { l2Yaml } from './l2yaml.js';

const SERVICE = 'default/web';
const NAMES = ['node1', 'node2', 'node3'];
const genSrc = fileURLToPath(new URL('../../bench/l2-arpgen.c', import.meta.url));

describeInterop('lbkitd L2 drain window (unicast-only answers after a hand-over, none after a deletion)', { root: true, bins: ['ip', 'gcc'] }, () => {
  const c = useL2Cluster(
    {
      prefix: 'h2dr',
      nodes: 3,
      vipRange: '10.77.0.200/29',
      args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', 'fast'],
    },
    l2Yaml(NAMES),
  );

  it('a hand-over leaves the old owner answering unicast requests only; a deleted Service is answered by nobody', async () => {
    const gen = join(c.dir, 'l2-arpgen');
    execFileSync('gcc', ['-O2', '-o', gen, genSrc]);
    /** MACs that answered one ARP request for `vip` sent to `dst` (broadcast or one node's MAC). */
    const ask = async (vip: string, dst: string): Promise<string[]> =>
      (JSON.parse((await sh(gen, ['ask', 'eth0', '10.77.0.10', vip, dst, '150'], { ns: c.client })).trim()) as { replies: string[] }).replies;
    const BCAST = 'ff:ff:ff:ff:ff:ff';
    const owners = (vip: string): string[] => c.nodes.filter((n) => (c.state(n)?.l2[SERVICE] ?? []).includes(vip)).map((n) => n.name);

    const vip = await until(() => {
      const ips = c.nodes.map((n) => c.state(n)?.services.find((s) => s.service === SERVICE)?.ingress[0]);
      return c.nodes.every((n) => c.state(n)?.members?.length === 3) && ips.every((ip) => ip && ip === ips[0]) ? ips[0] : undefined;
    }, 60_000, 'three members and one assignment everywhere');
    const order = hashOrder(vip, NAMES);
    const byName = (name: string): ClusterNode => c.nodes.find((n) => n.name === name)!;
    const [old, next] = [byName(order[0]!), byName(order[1]!)];
    await until(() => owners(vip).join() === old.name, 30_000, `${old.name} the only owner`);
    await until(async () => (await ask(vip, BCAST)).join() === old.mac, 10_000, `broadcast answered by ${old.name}`, 100);

    // hand-over: the old leader's Node is excluded, the next node by hash takes the VIP
    const yaml = l2Yaml(NAMES);
    const excluded = yaml.replace(`labels: { kubernetes.io/hostname: ${old.name} }`, `labels: { kubernetes.io/hostname: ${old.name}, node.kubernetes.io/exclude-from-external-load-balancers: "" }`);
    expect(excluded).not.toBe(yaml);
    writeFileSync(c.yaml, excluded);
    await until(() => owners(vip).join() === next.name, 30_000, `${next.name} the only owner after the hand-over`);
    await until(async () => (await ask(vip, BCAST)).join() === next.mac, 10_000, `broadcast answered by ${next.name} alone`, 100);
    // three more broadcasts: never a second answer from the draining node
    for (let i = 0; i < 3; i++) expect(await ask(vip, BCAST)).toEqual([next.mac]);
    // a client still sending to the old MAC (stale cache, unicast re-validation) is answered by the old leader
    expect(await ask(vip, old.mac)).toEqual([old.mac]);
    expect(await ask(vip, next.mac)).toEqual([next.mac]);

    // the Service is deleted: no new owner, so no drain anywhere
    writeFileSync(c.yaml, excluded.replace(/apiVersion: v1\nkind: Service\n[\s\S]*$/, ''));
    await until(() => c.nodes.every((n) => !(c.state(n)?.services ?? []).some((s) => s.service === SERVICE)), 30_000, 'service gone everywhere');
    await until(async () => (await ask(vip, next.mac)).length === 0 && (await ask(vip, old.mac)).length === 0, 10_000, 'no unicast answer from either node', 100);
    expect(await ask(vip, BCAST)).toEqual([]);
    expect(await ask(vip, old.mac)).toEqual([]);
  });
});
