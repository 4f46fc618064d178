// End-to-end L2 failover bench for lbkitd: 3 node namespaces + a client on a bridge (the interop
// test topology of test/interop/cluster.ts), lbkitd from the same YAML on every node and an HTTP
// server per node answering its node name on the VIP port. Each round, starting from 3 live nodes
// with the client reaching the leader: SIGKILL the leader's lbkitd (and its serf child) + its HTTP
// server and time until `curl` from the client gets an answer from the next node in MetalLB's
// sha256(node#ip) order (unplanned); restart it, wait until the cluster is whole again, then the
// same with SIGTERM (planned hand-over: memberlist / serf leave, withdraw). Three configurations in
// the same run: lbkit L2 + lbkit memberlist (fast timings), the same with MetalLB's LAN timings,
// and the real-peer baseline kernel ARP + serf (hashicorp memberlist, what MetalLB runs).
// Writes one Markdown section to $LBKIT_BENCH_OUT; progress on stderr.
import { writeFileSync } from 'node:fs';
import { sh } from '../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until, type ClusterNode } from '../test/interop/cluster.js';
import { alive, exited, hashOrder, median, missingTools, quickCurl, runOnCluster } from '../test/interop/l2-lab.js';
import { l2Yaml, NODES, SERVICE } from '../test/interop/l2yaml.js';

const ROUNDS = Number(process.env.LBKIT_BENCH_ROUNDS ?? 5);
const out = process.env.LBKIT_BENCH_OUT;
const title = '## kube-adapter: lbkitd L2 failover (client curl to the VIP)';
const NAMES = NODES;
const log = (s: string): void => void process.stderr.write(`[kube l2 bench] ${s}\n`);

interface Config {
  key: string;
  label: string;
  prefix: string;
  kernel: boolean;
  args: (n: ClusterNode) => string[];
}

const CONFIGS: Config[] = [
  {
    key: 'lbkit-fast',
    label: 'lbkit L2 (@lbkit/arp) + lbkit memberlist, `--memberlist-timings fast`',
    prefix: 'kbfa',
    kernel: false,
    args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', 'fast'],
  },
  {
    key: 'lbkit-lan',
    label: 'lbkit L2 (@lbkit/arp) + lbkit memberlist, `lan` timings (MetalLB default)',
    prefix: 'kbfb',
    kernel: false,
    args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', 'lan'],
  },
  {
    key: 'kernel-serf',
    label: 'baseline: `--l2-backend kernel --membership-backend serf` (kernel ARP + arping, Debian serf)',
    prefix: 'kbfk',
    kernel: true,
    args: (n) => ['--l2-backend', 'kernel', '--membership-backend', 'serf', '--memberlist-bind', `${n.ip}:7946`],
  },
];

interface Result {
  config: Config;
  unplanned: number[];
  planned: number[];
  /** gaps between the starts of consecutive curl attempts while polling */
  gaps: number[];
  error?: string;
}

/** Polls curl back to back until `want` answers; ms since t0 (performance.now()) when it did. */
async function pollCurl(c: Cluster, vip: string, want: string, t0: number, gaps: number[], timeoutMs = 60_000): Promise<number> {
  let last = -1;
  for (;;) {
    const start = performance.now();
    if (last >= 0) gaps.push(start - last);
    last = start;
    const body = await quickCurl(c, vip);
    const now = performance.now();
    if (body === want) return now - t0;
    if (now - t0 > timeoutMs) throw new Error(`timeout after ${timeoutMs} ms waiting for ${want} to answer on ${vip} (last answer: ${body})`);
  }
}

/** Waits until every node sees 3 members and the same VIP, the only L2 owner is the hash winner and the client reaches it. */
async function whole(c: Cluster): Promise<{ vip: string; order: string[] }> {
  const vip = await until(() => {
    const ips = c.nodes.map((n) => c.state(n)?.services.find((s) => s.service === SERVICE)?.ingress[0]);
    return c.nodes.every((n) => alive(n.lbkitd) && c.state(n)?.members?.length === 3) && ips.every((ip) => ip && ip === ips[0]) ? ips[0] : undefined;
  }, 60_000, 'three members and the same assignment on every node');
  const order = hashOrder(vip, NAMES);
  await until(() => {
    const owners = c.nodes.filter((n) => (c.state(n)?.l2[SERVICE] ?? []).includes(vip));
    return owners.length === 1 && owners[0]!.name === order[0];
  }, 30_000, `${order[0]} the only L2 owner`);
  await until(() => quickCurl(c, vip).then((b) => b === order[0]), 30_000, `client reaching ${order[0]}`, 20);
  return { vip, order };
}

/** Restarts a stopped node's HTTP server and lbkitd. */
async function restart(c: Cluster, n: ClusterNode, cfg: Config, vip: string): Promise<void> {
  await exited(n.lbkitd, 15_000, `${n.name} lbkitd`);
  await exited(n.http, 5000, `${n.name} http`);
  // a SIGKILLed kernel-backend lbkitd leaves the VIP on its NIC (nothing withdrew it): remove it,
  // as a rebooted node would not have it either
  if (cfg.kernel) await sh('ip', ['addr', 'del', `${vip}/32`, 'dev', 'eth0'], { ns: n.ns }).catch(() => '');
  c.startHttp(n);
  c.startLbkitd(n);
}

let current: Cluster | undefined;

async function runConfig(cfg: Config): Promise<Result> {
  const r: Result = { config: cfg, unplanned: [], planned: [], gaps: [] };
  const c = new Cluster({ prefix: cfg.prefix, nodes: 3, vipRange: '10.77.0.200/29', args: cfg.args });
  current = c;
  const err = await runOnCluster(c, cfg.key, log, async () => {
    await c.up(l2Yaml(NAMES));
    for (const n of c.nodes) c.startHttp(n);
    for (const n of c.nodes) c.startLbkitd(n);
    let { vip, order } = await whole(c);
    log(`${cfg.key}: cluster up, VIP ${vip}, hash order ${order.join(' > ')}`);
    const byName = (name: string): ClusterNode => c.nodes.find((n) => n.name === name)!;
    for (let i = 0; i < ROUNDS; i++) {
      // unplanned: the node crashes (lbkitd, its serf agent and its HTTP server die at once)
      const leader = byName(order[0]!);
      const kids = (await sh('ps', ['-o', 'pid=', '--ppid', String(leader.lbkitd!.pid)]).catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
      let t0 = performance.now();
      leader.lbkitd!.kill('SIGKILL');
      leader.http!.kill('SIGKILL');
      for (const pid of kids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const u = await pollCurl(c, vip, order[1]!, t0, r.gaps);
      r.unplanned.push(u);
      log(`${cfg.key} round ${i + 1}/${ROUNDS}: unplanned ${order[0]} -> ${order[1]}: ${u.toFixed(0)} ms`);
      await restart(c, leader, cfg, vip);
      ({ vip, order } = await whole(c));

      // planned: SIGTERM (leave, then withdraw); its HTTP server stops at the same instant
      const l2 = byName(order[0]!);
      t0 = performance.now();
      l2.lbkitd!.kill('SIGTERM');
      l2.http!.kill('SIGKILL');
      const p = await pollCurl(c, vip, order[1]!, t0, r.gaps);
      r.planned.push(p);
      log(`${cfg.key} round ${i + 1}/${ROUNDS}: planned ${order[0]} -> ${order[1]}: ${p.toFixed(0)} ms`);
      await exited(l2.lbkitd, 15_000, `${l2.name} lbkitd after SIGTERM`);
      if (l2.lbkitd!.exitCode !== 0) throw new Error(`${l2.name} lbkitd exited with ${l2.lbkitd!.exitCode ?? l2.lbkitd!.signalCode} after SIGTERM`);
      await restart(c, l2, cfg, vip);
      ({ vip, order } = await whole(c));
    }
  });
  if (err !== undefined) r.error = err;
  current = undefined;
  return r;
}

async function main(): Promise<boolean> {
  const why = missingTools(['ip', 'curl', 'arping', 'serf', 'ps']);
  if (why) {
    if (out) writeFileSync(out, `${title}\n\nNot measured: ${why}.\n`);
    log(`not measured: ${why}`);
    return true;
  }
  ensureBuilt();
  const tStart = performance.now();
  const results: Result[] = [];
  for (const cfg of CONFIGS) results.push(await runConfig(cfg));
  const wall = (performance.now() - tStart) / 1000;

  const base = results.find((x) => x.config.key === 'kernel-serf')!;
  const ok = (x: Result): boolean => !x.error && x.unplanned.length > 0 && x.planned.length > 0;
  const f = (v: number): string => v.toFixed(0);
  const rows = results.map((x) =>
    ok(x)
      ? `| ${x.config.label} | ${x.unplanned.length} | **${f(median(x.unplanned))}** | ${f(Math.min(...x.unplanned))} | ${f(Math.max(...x.unplanned))} | ${f(median(x.planned))} |`
      : `| ${x.config.label} | — | FAILED: ${x.error ?? 'no rounds'} | | | |`,
  );
  const ratios = results
    .filter((x) => x !== base && ok(x) && ok(base))
    .map(
      (x) =>
        `- ${x.config.label}: unplanned median ${f(median(x.unplanned))} ms vs ${f(median(base.unplanned))} ms → config / baseline **${(median(x.unplanned) / median(base.unplanned)).toFixed(2)}×** ` +
        `(baseline / config ${(median(base.unplanned) / median(x.unplanned)).toFixed(2)}×); planned ${f(median(x.planned))} ms vs ${f(median(base.planned))} ms → config / baseline ${(median(x.planned) / median(base.planned)).toFixed(2)}× (baseline / config ${(median(base.planned) / median(x.planned)).toFixed(2)}×).`,
    );
  const raw = results.filter(ok).map((x) => `- ${x.config.key}: unplanned ${x.unplanned.map(f).join(', ')} ms; planned ${x.planned.map(f).join(', ')} ms.`);
  const gaps = results.flatMap((x) => x.gaps);
  const md = `${title}

Lab: 5 network namespaces (switch with a bridge, client, node1..node3), the topology of the interop tests
(\`test/interop/cluster.ts\`, \`l2yaml.ts\`): every node runs the built \`lbkitd\` from the same YAML (one
LoadBalancer service, endpoints on every node) and an HTTP server answering its node name on the VIP port.
Each round starts from 3 live nodes with the client reaching the leader. **Unplanned**: SIGKILL of the leader's
lbkitd (and its serf agent) and its HTTP server at t0. **Planned**: SIGTERM of the leader's lbkitd (leave, then
withdraw) and SIGKILL of its HTTP server at t0. Both measure from t0 until \`curl\` in the client namespace
(run back to back, \`--connect-timeout 0.1\`) returns the name of the next node in MetalLB's sha256(node#ip)
order. The stopped node is restarted after each measurement (a SIGKILLed kernel-backend node's stale VIP is
removed from its NIC first, as after a reboot) and the next one waits until every node sees
3 members, the hash winner is the only L2 owner and the client reaches it again. IPv4, ${ROUNDS} rounds
per configuration (\`LBKIT_BENCH_ROUNDS\`, default 5); all configurations in the same run, one after another, on
the same machine. Whole bench: ${wall.toFixed(0)} s.

| config | rounds | unplanned median ms | min ms | max ms | planned median ms |
|---|---|---|---|---|---|
${rows.join('\n')}

Ratio to the kernel + serf baseline (same run):
${ratios.length ? ratios.join('\n') : '- not available (a configuration failed)'}

Each number is the whole client-visible outage: failure detection (memberlist / serf probes and suspicion
for the unplanned case, the leave message for the planned one) + the new leader's election + its gratuitous
ARP (our ArpSpeaker, or \`ip addr add\` + \`arping -U\` for the kernel backend) + the client kernel updating its
neighbour entry + the curl poll interval (median gap between curl starts: ${gaps.length ? median(gaps).toFixed(0) : '—'} ms, the
resolution of these numbers).

Per-round values:
${raw.join('\n')}
`;
  if (out) writeFileSync(out, md);
  process.stdout.write(md);
  return results.every(ok);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void (current?.down() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then(
  (good) => process.exit(good ? 0 : 1),
  async (err: unknown) => {
    console.error(err);
    await current?.down().catch(() => undefined);
    process.exit(1);
  },
);
