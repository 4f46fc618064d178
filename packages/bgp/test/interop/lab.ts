/**
 * Shared lab for the interop suites: a router namespace with a bridge (10.0.0.1/24, fd0a::1/64)
 * and N node namespaces (10.0.0.1K, fd0a::1K) each running one @lbkit/bgp speaker from the built
 * dist (fixtures/node-speaker.mjs). Everything lives in namespaces named by test-utils Topology.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { sh, Topology } from '../../../../test-utils/netns.js';

export const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const dist = join(repo, 'packages/bgp/dist/index.js');
const fixture = fileURLToPath(new URL('./fixtures/node-speaker.mjs', import.meta.url));

/** Builds packages/bgp so node fixtures can import the dist. */
export async function buildDist(): Promise<void> {
  try {
    await sh('npx', ['tsc', '-b', join(repo, 'packages/bgp')], { timeoutMs: 120_000 });
  } catch (e) {
    if (!existsSync(dist)) throw e;
  }
}

export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `lbk-bgp-${prefix}-`));
  chmodSync(d, 0o755);
  return d;
}

export interface Lab {
  topo: Topology;
  rtr: string;
  nodes: string[];
}

export async function buildLab(n = 3): Promise<Lab> {
  const topo = new Topology('bgp');
  const rtr = await topo.addNamespace('rtr');
  await topo.addBridge(rtr, 'br0');
  await sh('ip', ['addr', 'add', '10.0.0.1/24', 'dev', 'br0'], { ns: rtr });
  await sh('ip', ['-6', 'addr', 'add', 'fd0a::1/64', 'dev', 'br0', 'nodad'], { ns: rtr });
  const nodes: string[] = [];
  for (let i = 1; i <= n; i++) {
    const ns = await topo.addNamespace(`n${i}`);
    await topo.connect(ns, 'eth0', rtr, 'br0', [`10.0.0.1${i}/24`, `fd0a::1${i}/64`]);
    nodes.push(ns);
  }
  return { topo, rtr, nodes };
}

export interface NodeEvent {
  ev: string;
  t: number;
  [k: string]: unknown;
}

/** A running node speaker. */
export class NodeSpeaker {
  events: NodeEvent[] = [];
  private buf = '';
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        try {
          this.events.push(JSON.parse(line) as NodeEvent);
        } catch {
          /* ignore */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => this.events.push({ ev: 'stderr', t: Date.now(), text: d.toString() }));
  }
  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }
  async waitEvent(pred: (e: NodeEvent) => boolean, ms = 30_000, what = 'event'): Promise<NodeEvent> {
    await until(() => this.events.some(pred), ms, `${what}; events: ${JSON.stringify(this.events.slice(-8))}`);
    return this.events.find(pred)!;
  }
  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.child.once('exit', () => r()));
  }
}

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

export async function until(fn: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
