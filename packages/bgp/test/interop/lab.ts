/**
 * Shared lab for the interop suites: a router namespace with a bridge (10.0.0.1/24, fd0a::1/64)
 * and N node namespaces (10.0.0.1K, fd0a::1K) each running one @lbkit/bgp speaker from the built
 * dist (fixtures/node-speaker.mjs). The namespaces, polling and JSON-lines plumbing come from
 * test-utils/netns-lab.ts.
 */
import { chownSync, openSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLinesChild, packageLab, sh, until, type JsonEvent, type RouterLab } from '../../../../test-utils/netns-lab.js';

export { until };

/**
 * `repo`, `dist` (packages/bgp/dist/index.js), `buildDist()` (builds it for the fixtures),
 * `tmp(prefix)` (a temp dir daemons that drop privileges can use) and `buildLab(n = 3)` (the router
 * namespace with a bridge and `n` dual-stack node namespaces on it).
 */
export const { repo, dist, buildDist, tmp, buildLab } = packageLab('bgp', { v6: true, defaultNodes: 3 });
const fixture = fileURLToPath(new URL('./fixtures/node-speaker.mjs', import.meta.url));

/** The namespaces of one suite. */
export type Lab = RouterLab;

/** One line printed by a node speaker. */
export type NodeEvent = JsonEvent;

/** A running node speaker (fixtures/node-speaker.mjs). */
export class NodeSpeaker extends JsonLinesChild<NodeEvent> {}

/** Starts one node speaker (AS 64513 unless told) announcing the VIPs with the given attributes. */
export function startNode(
  lab: Lab,
  i: number,
  o: {
    asn?: number;
    peerAsn?: number;
    holdTime?: number;
    attrs?: Record<string, unknown>;
    peer?: Record<string, unknown>;
    routes?: { prefix: string; attrs?: Record<string, unknown> }[];
    bulk?: { base: string; count: number; attrs?: Record<string, unknown> };
  } = {},
): NodeSpeaker {
  const cfg = {
    bulk: o.bulk,
    speaker: { asn: o.asn ?? 64513, routerId: `10.0.0.1${i}` },
    peers: [
      {
        address: '10.0.0.1',
        asn: o.peerAsn ?? 64512,
        holdTime: o.holdTime ?? 9,
        sourceAddress: `10.0.0.1${i}`,
        nextHop6: `fd0a::1${i}`,
        connectRetry: 3,
        backoff: { initialMs: 500, maxMs: 2000 },
        ...o.peer,
      },
    ],
    routes: o.routes ?? [
      { prefix: '10.96.0.10/32', attrs: o.attrs ?? {} },
      { prefix: 'fd0a:96::10/128', attrs: o.attrs ?? {} },
    ],
  };
  const child = lab.topo.spawnIn(lab.nodes[i - 1]!, process.execPath, [fixture, JSON.stringify(cfg)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LBKIT_BGP_DIST: dist },
  });
  return new NodeSpeaker(child);
}

/** Gateways of the kernel route for `dst` in namespace `ns` (multipath or single). */
export async function kernelNexthops(ns: string, dst: string): Promise<string[]> {
  const v6 = dst.includes(':');
  const out = await sh('ip', [...(v6 ? ['-6'] : []), '-j', 'route', 'show', dst], { ns });
  const routes = JSON.parse(out || '[]') as { gateway?: string; nexthops?: { gateway: string }[] }[];
  return routes.flatMap((r) => (r.nexthops ? r.nexthops.map((n) => n.gateway) : r.gateway ? [r.gateway] : [])).sort();
}

/** A BIRD started in the router namespace with `conf`; `birdc(...)` talks to it. */
export interface Bird {
  dir: string;
  pid: number;
  birdc: (...args: string[]) => Promise<string>;
}

/** One passive BGP protocol `n<node>` of {@link birdRouterConf}, towards node `node` (10.0.0.1<node>). */
export interface BirdPeer {
  node: number;
  /** The neighbor AS BIRD expects. */
  asn: number;
  /** Hold time, seconds (default 9). */
  holdTime?: number;
  /** Keepalive time, seconds (BIRD's default: a third of the hold time). */
  keepalive?: number;
  /** Extra protocol lines, e.g. `enable as4 off;`. */
  extra?: string;
}

/**
 * BIRD config for the router (AS 64512, router id 10.0.0.1, everything logged to stderr): one
 * passive protocol per peer, importing all IPv4 routes and exporting none, error wait 1–5 s.
 */
export function birdRouterConf(peers: BirdPeer[]): string {
  const proto = (p: BirdPeer) => `protocol bgp n${p.node} {
  local 10.0.0.1 as 64512; neighbor 10.0.0.1${p.node} as ${p.asn};
${p.extra ? `  ${p.extra}\n` : ''}  passive on; hold time ${p.holdTime ?? 9};${p.keepalive ? ` keepalive time ${p.keepalive};` : ''} error wait time 1, 5;
  ipv4 { import all; export none; };
}
`;
  return `log stderr all;
router id 10.0.0.1;
protocol device { scan time 10; }
${peers.map(proto).join('')}`;
}

/** Starts BIRD 2 in `ns` (default the router) with the given config text; waits until it answers. */
export async function startBird(lab: Lab, conf: string, ns = lab.rtr): Promise<Bird> {
  const dir = tmp('bird');
  writeFileSync(join(dir, 'bird.conf'), conf);
  const log = openSync(join(dir, 'bird.log'), 'a');
  lab.topo.spawnIn(ns, 'bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], { stdio: ['ignore', log, log] });
  const birdc = (...args: string[]) => sh('birdc', ['-s', join(dir, 'bird.ctl'), ...args]);
  await until(async () => (await birdc('show', 'status').catch(() => '')).includes('Daemon is up'), 20_000, 'BIRD up');
  const pid = Number((await sh('cat', [join(dir, 'bird.pid')])).trim());
  return { dir, pid, birdc };
}

/** FRR (zebra + bgpd) in the router namespace; `vtysh(cmd)` returns parsed JSON. */
export interface Frr {
  dir: string;
  vtysh: (cmd: string) => Promise<any>;
}

/** Starts zebra and bgpd in the router namespace with the integrated config `conf`. */
export async function startFrr(lab: Lab, conf: string): Promise<Frr> {
  const dir = tmp('frr');
  execFileSync('chown', ['frr:frr', dir]);
  const file = join(dir, 'frr.conf');
  writeFileSync(file, conf.replace('%LOG%', join(dir, 'frr.log')));
  chownSync(file, 0, 0);
  const log = openSync(join(dir, 'stdout.log'), 'a');
  const common = ['-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-f', file];
  const vtysh = async (cmd: string): Promise<any> => JSON.parse(await sh('vtysh', ['--vty_socket', dir, '-c', cmd]));
  lab.topo.spawnIn(lab.rtr, '/usr/lib/frr/zebra', [...common, '-i', join(dir, 'zebra.pid'), '-s', '90000000'], { stdio: ['ignore', log, log] });
  await until(async () => (await sh('vtysh', ['--vty_socket', dir, '-d', 'zebra', '-c', 'show version']).catch(() => '')).includes('FRRouting'), 30_000, 'zebra up');
  lab.topo.spawnIn(lab.rtr, '/usr/lib/frr/bgpd', [...common, '-i', join(dir, 'bgpd.pid')], { stdio: ['ignore', log, log] });
  await until(async () => !!(await vtysh('show bgp summary json').catch(() => null))?.ipv4Unicast, 30_000, 'bgpd up');
  return { dir, vtysh };
}

/** gobgpd in the router namespace; `gobgp(...)` runs its CLI against the gRPC API on 127.0.0.1:50051. */
export interface GoBgp {
  dir: string;
  gobgp: (...args: string[]) => Promise<string>;
}

/**
 * Starts gobgpd in the router (AS 64512, router id 10.0.0.1) with one passive iBGP neighbor per node
 * number in `nodes` (hold 9 s, keepalive 3 s) for the given address families; waits until its API
 * lists the neighbors. Its config and log are in `dir` (removed by the caller).
 */
export async function startGobgp(lab: Lab, o: { nodes: number[]; families: Array<'ipv4' | 'ipv6'>; dir: string }): Promise<GoBgp> {
  const neighbors = o.nodes
    .map(
      (i) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.1${i}"
    peer-as = 64512
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
  [neighbors.transport.config]
    passive-mode = true
${o.families.map((f) => `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}-unicast"\n`).join('')}`,
    )
    .join('');
  const local = ['10.0.0.1', ...(o.families.includes('ipv6') ? ['fd0a::1'] : [])];
  writeFileSync(
    join(o.dir, 'gobgpd.toml'),
    `[global.config]
  as = 64512
  router-id = "10.0.0.1"
  port = 179
  local-address-list = [${local.map((a) => `"${a}"`).join(', ')}]
${neighbors}`,
  );
  const log = openSync(join(o.dir, 'gobgpd.log'), 'a');
  lab.topo.spawnIn(lab.rtr, 'gobgpd', ['-f', join(o.dir, 'gobgpd.toml'), '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--log-level', 'info'], { stdio: ['ignore', log, log] });
  const gobgp = (...args: string[]) => sh('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args], { ns: lab.rtr });
  const first = `10.0.0.1${o.nodes[0]}`;
  await until(async () => (await gobgp('neighbor').catch(() => '')).includes(first), 30_000, 'gobgpd up');
  return { dir: o.dir, gobgp };
}
