// BGP failover bench for lbkitd: FRR router (zebra + bgpd [+ bfdd]) with an ECMP route to the VIP
// over 3 nodes, a client in its own namespace opening a new TCP connection to the VIP (through the
// router) every few ms, each node answering its name. Per configuration, same run:
//   1. node death: node3's link is cut (no FIN, no Cease, like a power loss) → time until the
//      router's kernel route loses node3 (`ip monitor route`), and until the client's last failed
//      connection attempt (connections hashed to the dead node fail until then);
//   2. planned drain: SIGTERM to node2's lbkitd, its link cut when lbkitd has exited (the node goes
//      away) → connections lost.
// Configurations: @lbkit/bgp + @lbkit/bfd 100 ms × 3 with --drain-ms (RFC 8326 graceful shutdown);
// @lbkit/bgp with the hold timer only (3 s, the smallest MetalLB allows); the gobgpd backend (hold
// 3 s; gobgpd has no BFD). Writes one Markdown section to $LBKIT_BENCH_OUT; progress on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { sh } from '../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until } from '../test/interop/cluster.js';
import { killPids, nexthops, startFrr, waitEcmpRoute } from '../test/interop/frr.js';
import { bfdLabYaml, frrBfdConf, startBfdd, waitBfdPeersUp } from '../test/interop/bgp-bfd-frr.js';

const log = (s: string): void => void process.stderr.write(`[bgp failover bench] ${s}\n`);
const DRAIN_MS = 2000;
const EVERY_MS = 4;

interface Config {
  key: string;
  label: string;
  prefix: string;
  backend: 'lbkit' | 'gobgp';
  bfd: boolean;
  drainMs: number;
}

const CONFIGS: Config[] = [
  { key: 'bfd', label: '@lbkit/bgp + @lbkit/bfd 100 ms × 3, `--drain-ms 2000` (graceful shutdown)', prefix: 'kbga', backend: 'lbkit', bfd: true, drainMs: DRAIN_MS },
  { key: 'hold', label: '@lbkit/bgp, hold timer only (3 s), `--drain-ms 0`', prefix: 'kbgb', backend: 'lbkit', bfd: false, drainMs: 0 },
  { key: 'gobgp', label: 'baseline: gobgpd backend, hold timer 3 s (no BFD in gobgpd), `--drain-ms 0`', prefix: 'kbgc', backend: 'gobgp', bfd: false, drainMs: 0 },
];

const yaml = (bfd: boolean) => bfdLabYaml({ pool: '10.96.40.0/28', holdTime: '3s', bfd, nodes: ['node1', 'node2', 'node3'], service: { name: 'web', clusterIP: '10.43.0.41' } });

/** The client: a new connection every EVERY_MS ms; on SIGTERM prints [{t, node|null}] (t: Date.now()). */
const CLIENT = `
const net = require('net'); const [vip, every] = [process.argv[1], Number(process.argv[2])]; const res = [];
const one = () => { const t = Date.now(); let body = ''; let done = false;
  const s = net.connect({ host: vip, port: 8080 }); const fin = (node) => { if (done) return; done = true; res.push([t, node]); s.destroy(); };
  s.setTimeout(400, () => fin(null)); s.on('error', () => fin(null)); s.on('data', (d) => body += d); s.on('end', () => fin(body.split('\\r\\n\\r\\n')[1] || null));
  s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n')); };
const iv = setInterval(one, every);
process.on('SIGTERM', () => { clearInterval(iv); setTimeout(() => { process.stdout.write(JSON.stringify(res)); process.exit(0); }, 500); });
`;

interface Result {
  config: Config;
  routeOutMs?: number;
  lastFailMs?: number;
  killFailed?: number;
  killTotal?: number;
  drainFailed?: number;
  drainTotal?: number;
  drainMs?: number;
  error?: string;
}

/** Streams `ip monitor route` in `ns`; resolves with Date.now() when `vip`'s route lost `gone`. */
function watchRouteLoss(ns: string, vip: string, gone: string): { done: Promise<number>; stop: () => void } {
  const mon: ChildProcess = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stopped = false;
  const done = new Promise<number>((resolve) => {
    let checking = false;
    const check = async (t: number) => {
      if (checking || stopped) return;
      checking = true;
      const r = await sh('ip', ['route', 'show', `${vip}/32`], { ns });
      checking = false;
      if (!nexthops(r).includes(gone)) resolve(t);
    };
    mon.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes(vip)) void check(Date.now());
    });
  });
  return { done, stop: () => { stopped = true; mon.kill('SIGKILL'); } };
}

async function client(c: Cluster, vip: string): Promise<{ stop: () => Promise<Array<[number, string | null]>> }> {
  const child = c.topo.spawnIn(c.client, process.execPath, ['-e', CLIENT, vip, String(EVERY_MS)]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve(JSON.parse(out || '[]')));
        child.kill('SIGTERM');
      }),
  };
}

async function runConfig(cfg: Config): Promise<Result> {
  const args = ['--bgp-backend', cfg.backend, '--l2-backend', 'kernel', '--log-level', 'warn', '--drain-ms', String(cfg.drainMs)];
  const c = new Cluster({ nodes: 3, prefix: cfg.prefix, router: '10.77.0.1/24', vipRange: '10.96.40.0/28', args: () => args });
  const res: Result = { config: cfg };
  let pids: number[] = [];
  try {
    await c.up(yaml(cfg.bfd));
    await sh('sysctl', ['-qw', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0'], { ns: c.router });
    await sh('sysctl', ['-qw', 'net.ipv4.conf.all.accept_redirects=0', 'net.ipv4.conf.eth0.accept_redirects=0'], { ns: c.client });
    await sh('ip', ['route', 'add', '10.96.40.0/28', 'via', '10.77.0.1'], { ns: c.client });
    const dir = `${c.dir}/frr`;
    pids = await startFrr(c.router, dir, frrBfdConf(dir, { bfd: cfg.bfd, keepalive: 1, hold: 3 }));
    if (cfg.bfd) pids.push(await startBfdd(c.router, dir));
    for (const n of c.nodes) {
      c.startHttp(n);
      c.startLbkitd(n);
    }
    const vip = await until(() => c.state(c.nodes[0]!)?.services.find((s) => s.service === 'default/web')?.ingress[0], 30_000, 'assignment');
    await waitEcmpRoute(c.router, vip, 3, 60_000, 'ECMP over 3 nodes');
    if (cfg.bfd) await waitBfdPeersUp(c.router, dir, 3, 100);
    // warm-up: every node answers through the router
    await until(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add((await c.curl(vip)) ?? '');
      return seen.has('node1') && seen.has('node2') && seen.has('node3');
    }, 20_000, 'client reaches all three nodes');

    // 1. node death
    let cl = await client(c, vip);
    await new Promise((r) => setTimeout(r, 500));
    const w = watchRouteLoss(c.router, vip, '10.77.0.13');
    const t0 = Date.now();
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: c.nodes[2]!.ns });
    const tRoute = await Promise.race([w.done, new Promise<number>((r) => setTimeout(() => r(NaN), 15_000))]);
    w.stop();
    await new Promise((r) => setTimeout(r, 1000));
    let conns = (await cl.stop()).filter(([t]) => t >= t0);
    const fails = conns.filter(([, n]) => n === null);
    res.routeOutMs = tRoute - t0;
    res.lastFailMs = fails.length ? fails[fails.length - 1]![0] - t0 : 0;
    res.killFailed = fails.length;
    res.killTotal = conns.length;
    log(`${cfg.key}: node3 cut → route out after ${res.routeOutMs} ms, last failed attempt at +${res.lastFailMs} ms, ${fails.length}/${conns.length} attempts failed`);

    // 2. planned drain of node2
    await waitEcmpRoute(c.router, vip, 2, 10_000, 'ECMP over node1 and node2');
    cl = await client(c, vip);
    await new Promise((r) => setTimeout(r, 500));
    const n2 = c.nodes[1]!;
    const t1 = Date.now();
    n2.lbkitd!.kill('SIGTERM');
    await new Promise<void>((r) => (n2.lbkitd!.exitCode !== null ? r() : n2.lbkitd!.once('exit', () => r())));
    res.drainMs = Date.now() - t1;
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: n2.ns });
    await new Promise((r) => setTimeout(r, 1500));
    conns = (await cl.stop()).filter(([t]) => t >= t1);
    res.drainFailed = conns.filter(([, n]) => n === null).length;
    res.drainTotal = conns.length;
    log(`${cfg.key}: node2 SIGTERM → lbkitd exited after ${res.drainMs} ms, ${res.drainFailed}/${res.drainTotal} attempts failed`);
  } catch (e) {
    res.error = (e as Error).message;
    log(`${cfg.key}: ERROR ${res.error}`);
  } finally {
    killPids(pids);
    await c.down();
  }
  return res;
}

ensureBuilt();
const results: Result[] = [];
for (const cfg of CONFIGS) results.push(await runConfig(cfg));

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${Math.round(v)} ms`);
const base = results.find((r) => r.config.key === 'gobgp');
const ours = results.find((r) => r.config.key === 'bfd');
const md = [
  '## kube-adapter: BGP node failover with BFD vs hold timer vs gobgpd (ECMP on FRR)',
  '',
  'FRR 8.4 router (zebra + bgpd, + bfdd for the BFD row) with `maximum-paths 16` installs an ECMP route to the VIP over',
  `3 lbkitd nodes (kernel L4 multipath hash). A client namespace opens a new TCP connection to the VIP through the router every ${EVERY_MS} ms`,
  '(400 ms timeout), each node answering its name. **Node death**: node3\'s link is cut (no FIN, no Cease: a power loss);',
  '"route out" is when the router\'s kernel route lost node3 (`ip monitor route`), "last failed attempt" is the start of the last',
  'client connection that got no answer (connections hashed to the dead node fail until the route is gone).',
  `**Planned drain**: SIGTERM to node2's lbkitd; its link is cut as soon as lbkitd has exited (the node goes away).`,
  'One run per configuration on a shared 2-core VM (other jobs running): expect noise of tens of ms.',
  '',
  '| configuration | node death: route out | last failed attempt | failed / attempts | planned drain: lbkitd exit after | failed / attempts |',
  '|---|---|---|---|---|---|',
  ...results.map((r) =>
    r.error
      ? `| ${r.config.label} | FAILED: ${r.error.replace(/\|/g, '/')} | | | | |`
      : `| ${r.config.label} | ${fmt(r.routeOutMs)} | +${fmt(r.lastFailMs)} | ${r.killFailed} / ${r.killTotal} | ${fmt(r.drainMs)} | ${r.drainFailed} / ${r.drainTotal} |`,
  ),
  '',
  ours?.routeOutMs && base?.routeOutMs ? `Dead node out of the router's ECMP set: ${fmt(ours.routeOutMs)} with BFD 100 ms × 3 vs ${fmt(base.routeOutMs)} with gobgpd (hold 3 s): ${(base.routeOutMs / ours.routeOutMs).toFixed(1)}× faster (target < 500 ms).` : '',
  '',
];
const text = md.join('\n');
if (process.env.LBKIT_BENCH_OUT) writeFileSync(process.env.LBKIT_BENCH_OUT, text);
process.stdout.write(text + '\n');
