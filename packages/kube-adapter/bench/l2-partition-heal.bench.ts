// Partition heal bench: 3 node namespaces + a client on a bridge (test/interop/cluster.ts). Each
// round starts with one L2 owner (the hash winner for lbkitd, the priority-150 node for keepalived)
// reached by the client. nftables in the owner's namespace then drops all IPv4 to/from the other
// two nodes and its outgoing multicast (VRRP adverts); the other side takes over and its gratuitous
// ARP moves the client. Then the table is deleted (t0) and we time until the client is answered by
// the winner again with the winner's MAC in its neighbour cache, and until exactly one node owns
// the VIP (lbkitd: state files; keepalived: the VIP on one eth0). Configurations in the same run:
// lbkitd with @lbkit/memberlist `fast` and `lan` timings (reconnect pings + re-announce on join),
// and keepalived (VRRP, advert_int 1, Debian keepalived). Writes one Markdown section.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until, type ClusterNode } from '../test/interop/cluster.js';
import { hashOrder, median, missingTools, partition, quickCurl, runOnCluster } from '../test/interop/l2-lab.js';
import { l2Yaml, NODES, SERVICE } from '../test/interop/l2yaml.js';

const ROUNDS = Number(process.env.LBKIT_BENCH_ROUNDS ?? 3);
const out = process.env.LBKIT_BENCH_OUT;
const title = '## kube-adapter: L2 partition heal to one owner (lbkitd vs keepalived)';
const NAMES = NODES;
const VIP = '10.77.0.200';
const log = (s: string): void => void process.stderr.write(`[l2 partition bench] ${s}\n`);

interface Config {
  key: string;
  label: string;
  prefix: string;
  keepalived: boolean;
  timings?: 'fast' | 'lan';
}
const CONFIGS: Config[] = [
  { key: 'lbkit-fast', label: 'lbkitd, @lbkit/arp + @lbkit/memberlist `fast`', prefix: 'kphf', keepalived: false, timings: 'fast' },
  { key: 'lbkit-lan', label: 'lbkitd, @lbkit/arp + @lbkit/memberlist `lan` (MetalLB timings)', prefix: 'kphl', keepalived: false, timings: 'lan' },
  { key: 'keepalived', label: 'keepalived 2.2.7 VRRP (advert_int 1 s, priorities 150/100/50)', prefix: 'kphk', keepalived: true },
];

interface Result {
  config: Config;
  client: number[];
  owner: number[];
  partitionMs: number[];
  error?: string;
}

async function keepalivedOwners(c: Cluster): Promise<string[]> {
  const own: string[] = [];
  for (const n of c.nodes) if ((await sh('ip', ['-4', 'addr', 'show', 'dev', 'eth0'], { ns: n.ns }).catch(() => '')).includes(`${VIP}/32`)) own.push(n.name);
  return own;
}

function startKeepalived(c: Cluster, n: ClusterNode, prio: number): void {
  const conf = join(c.dir, `${n.name}.keepalived.conf`);
  writeFileSync(
    conf,
    `global_defs {\n  router_id ${n.name}\n  script_user root\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 77\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n    ${VIP}/32 dev eth0\n  }\n}\n`,
  );
  const p = (s: string) => join(c.dir, `${n.name}.${s}.pid`);
  const child = c.topo.spawnIn(n.ns, 'keepalived', ['-n', '-l', '-D', '-G', '-P', '-f', conf, '-p', p('k'), '-r', p('v'), '-c', p('c')]);
  child.stdout?.on('data', (d: Buffer) => n.logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => n.logs.push(d.toString()));
}

async function runConfig(cfg: Config): Promise<Result> {
  const r: Result = { config: cfg, client: [], owner: [], partitionMs: [] };
  const c = new Cluster({
    prefix: cfg.prefix,
    nodes: 3,
    ...(cfg.keepalived ? {} : { vipRange: '10.77.0.200/29' }),
    args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', cfg.timings ?? 'lan'],
  });
  const err = await runOnCluster(c, cfg.key, log, async () => {
    await c.up(l2Yaml(NAMES));
    for (const n of c.nodes) c.startHttp(n);
    let order: string[];
    let owners: () => Promise<string[]>;
    if (cfg.keepalived) {
      // keepalived's sysctls: answer ARP for the VIP only on the interface that holds it
      c.nodes.forEach((n, i) => startKeepalived(c, n, [150, 100, 50][i]!));
      order = ['node1', 'node2', 'node3'];
      owners = () => keepalivedOwners(c);
    } else {
      for (const n of c.nodes) c.startLbkitd(n);
      await until(() => c.nodes.every((n) => c.state(n)?.members?.length === 3 && c.state(n)?.services.find((s) => s.service === SERVICE)?.ingress[0] === VIP), 60_000, 'three members, VIP assigned');
      order = hashOrder(VIP, NAMES);
      owners = async () => c.nodes.filter((n) => (c.state(n)?.l2[SERVICE] ?? []).includes(VIP)).map((n) => n.name);
    }
    const winner = c.nodes.find((n) => n.name === order[0])!;
    const rest = c.nodes.filter((n) => n !== winner);
    for (let i = 0; i < ROUNDS; i++) {
      await until(async () => (await owners()).join() === order[0], 60_000, `${order[0]} the only owner`);
      await until(async () => (await quickCurl(c, VIP)) === order[0] && (await c.neighMac(VIP)) === winner.mac, 30_000, `client on ${order[0]}`, 20);
      const tp = performance.now();
      await partition(winner, rest, true, { multicast: true });
      await until(async () => (await owners()).sort().join() === [order[0], order[1]].sort().join(), 30_000, 'two owners during the partition');
      await until(async () => (await quickCurl(c, VIP)) === order[1], 30_000, `client on ${order[1]} during the partition`, 20);
      r.partitionMs.push(performance.now() - tp);
      await new Promise((res) => setTimeout(res, 500));
      const t0 = performance.now();
      await partition(winner, rest, false);
      let ownerMs = -1;
      let clientMs = -1;
      await until(async () => {
        if (ownerMs < 0 && (await owners()).join() === order[0]) ownerMs = performance.now() - t0;
        if (clientMs < 0 && (await quickCurl(c, VIP)) === order[0] && (await c.neighMac(VIP)) === winner.mac) clientMs = performance.now() - t0;
        return ownerMs >= 0 && clientMs >= 0;
      }, 60_000, 'one owner and the client back on the winner', 5);
      r.owner.push(ownerMs);
      r.client.push(clientMs);
      log(`${cfg.key} round ${i + 1}/${ROUNDS}: partition took over in ${r.partitionMs.at(-1)!.toFixed(0)} ms; heal → one owner ${ownerMs.toFixed(0)} ms, client on ${order[0]} ${clientMs.toFixed(0)} ms`);
    }
  });
  if (err !== undefined) r.error = err;
  return r;
}

async function main(): Promise<boolean> {
  const why = missingTools(['ip', 'curl', 'nft', 'keepalived']);
  if (why) {
    if (out) writeFileSync(out, `${title}\n\nNot measured: ${why}.\n`);
    return true;
  }
  ensureBuilt();
  const only = process.env.LBKIT_BENCH_CONFIGS?.split(',');
  const results: Result[] = [];
  for (const cfg of CONFIGS) if (!only || only.includes(cfg.key)) results.push(await runConfig(cfg));
  const ok = (x: Result): boolean => !x.error && x.client.length > 0;
  const f = (v: number): string => v.toFixed(0);
  const ka = results.find((x) => x.config.keepalived && ok(x));
  const rows = results.map((x) =>
    ok(x)
      ? `| ${x.config.label} | ${x.client.length} | **${f(median(x.client))}** | ${f(Math.min(...x.client))}–${f(Math.max(...x.client))} | ${f(median(x.owner))} | ${ka && x !== ka ? `${(median(x.client) / median(ka.client)).toFixed(2)}×` : '—'} | ${f(median(x.partitionMs))} |`
      : `| ${x.config.label} | — | FAILED: ${x.error ?? 'no rounds'} | | | | |`,
  );
  const raw = results.filter(ok).map((x) => `- ${x.config.key}: client ${x.client.map(f).join(', ')} ms; one owner ${x.owner.map(f).join(', ')} ms.`);
  const md = `${title}

Lab: switch + client + node1..node3 namespaces (\`test/interop/cluster.ts\`). Per round, from one owner reached by
the client: nftables in the owner's namespace drops IPv4 to/from the other two nodes and its outgoing multicast
(VRRP adverts); the other side elects a new owner whose gratuitous ARP moves the client (column "partition
takeover": nft on → client answered by the other side). 0.5 s later the table is deleted (t0). **Heal → client**:
t0 until \`curl\` from the client is answered by the winner and the client's neighbour entry holds the winner's MAC
(polled back to back, \`--connect-timeout 0.1\`); **heal → one owner**: t0 until exactly one node owns the VIP
(lbkitd state files; keepalived: the VIP on one eth0). Target: < 2 s. ${ROUNDS} rounds per configuration
(\`LBKIT_BENCH_ROUNDS\`), all in the same run on a 2-core machine shared with other jobs (expect noise).
lbkitd heals through @lbkit/memberlist's reconnect pings to failed nodes (every probe interval: 100 ms \`fast\`,
1 s \`lan\`) plus two push/pulls, then the winner re-sends its gratuitous ARP burst on the member join (or on learning
that it had been declared dead); without
them the sides stayed split until a re-join (~38 s in the issue's lab).

| config | rounds | heal → client median ms | min–max ms | heal → one owner median ms | client ratio to keepalived | partition takeover median ms |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Per-round values:
${raw.join('\n')}
`;
  if (out) writeFileSync(out, md);
  process.stdout.write(md);
  return results.every(ok);
}

main().then(
  (good) => process.exit(good ? 0 : 1),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
