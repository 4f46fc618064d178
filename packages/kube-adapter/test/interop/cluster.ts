/**
 * Test cluster for lbkitd end-to-end tests: a switch namespace with a bridge, a client namespace
 * and N node namespaces, each node running a tiny HTTP server that answers its node name and an
 * lbkitd reading the same YAML file. Everything is prefixed `lbk-kube-<tag>-*` and torn down by
 * Topology.destroy() (processes killed by PID).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh, Topology } from '../../../../test-utils/netns.js';
import { until as poll, type NotYet } from '../../../../test-utils/wait.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PKG = join(here, '..', '..');
/** What ships as the `lbkitd` bin and the image's entrypoint: the compiled daemon, bundled. */
export const LBKITD = join(PKG, 'dist', 'bundle', 'lbkitd.js');

/**
 * Builds dist (tsc -b, then the lbkitd bundle) when any src file is newer than the bundle (tests
 * spawn the built daemon).
 */
export function ensureBuilt(): void {
  const newest = (d: string): number => Math.max(0, ...readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync(LBKITD).mtimeMs;
  } catch {
    /* not built */
  }
  if (newest(join(PKG, 'src')) <= built) return;
  // unit and interop projects may call this at the same time: serialise the build with a lock dir
  const lock = join(tmpdir(), 'kube-adapter-build.lock');
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - t0 > 300_000) throw new Error(`ensureBuilt: lock ${lock} held for 5 minutes`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    let again = 0;
    try {
      again = statSync(LBKITD).mtimeMs;
    } catch {
      /* not built */
    }
    if (newest(join(PKG, 'src')) > again) {
      execFileSync('npx', ['tsc', '-b', PKG], { cwd: join(PKG, '..', '..'), stdio: 'inherit', timeout: 300_000 });
      execFileSync(process.execPath, [join(PKG, 'scripts', 'bundle-lbkitd.mjs')], { stdio: 'inherit', timeout: 120_000 });
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface ClusterNode {
  name: string;
  ns: string;
  ip: string;
  /** IPv6 address when the cluster has `ipv6`. */
  ip6?: string;
  mac: string;
  lbkitd?: ChildProcess;
  http?: ChildProcess;
  stateFile: string;
  logs: string[];
}

export interface ClusterOptions {
  nodes: number;
  /** lbkitd extra args per node */
  args?: (n: ClusterNode, all: ClusterNode[]) => string[];
  /** Local route for the VIP range on every node (so any node can serve a VIP it is given). */
  vipRange?: string;
  /** Add a router namespace on the bridge with this address (e.g. 10.77.0.1/24). */
  router?: string;
  /** Namespace prefix (default `kube`), so suites never collide. */
  prefix?: string;
  /** Also give the client and the nodes IPv6 addresses fd00:77::10, ::11, … (/64). */
  ipv6?: boolean;
  /** Local route for an IPv6 VIP range on every node. */
  vipRange6?: string;
}

const SUBNET = '10.77.0';

/** IPv6 address of host number `i` on the test LAN (10 = client, 11.. = nodes). */
export const v6addr = (i: number) => `fd00:77::${i}`;

export class Cluster {
  readonly topo: Topology;
  readonly dir = mkdtempSync(join(tmpdir(), 'kube-e2e-'));
  readonly nodes: ClusterNode[] = [];
  sw = '';
  client = '';
  router = '';
  yaml = join(this.dir, 'cluster.yaml');
  /** The Node.js that runs lbkitd (default: this process's), and extra environment for it. */
  nodeBin = process.execPath;
  lbkitdEnv: Record<string, string> = {};

  constructor(private readonly opts: ClusterOptions) {
    this.topo = new Topology(opts.prefix ?? 'kube');
  }

  async up(yamlText: string): Promise<void> {
    writeFileSync(this.yaml, yamlText);
    this.sw = await this.topo.addNamespace('sw');
    await this.topo.addBridge(this.sw);
    await sh('ip', ['link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0'], { ns: this.sw });
    // a plain L2 switch: with br_netfilter loaded, the bridge would run IPv4/IPv6/ARP sanity checks
    // (and drop e.g. a truncated IPv6 frame before it reaches the node under test)
    await sh('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0'], { ns: this.sw }).catch(() => undefined);
    this.client = await this.topo.addNamespace('c');
    await this.topo.connect(this.client, 'eth0', this.sw, 'br0', [`${SUBNET}.10/24`, ...(this.opts.ipv6 ? [`${v6addr(10)}/64`] : [])]);
    if (this.opts.router) {
      this.router = await this.topo.addNamespace('r');
      await this.topo.connect(this.router, 'eth0', this.sw, 'br0', [this.opts.router]);
      await sh('sysctl', ['-qw', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv4.ip_forward=1'], { ns: this.router });
    }
    for (let i = 1; i <= this.opts.nodes; i++) {
      const ns = await this.topo.addNamespace(`n${i}`);
      const ip = `${SUBNET}.${10 + i}`;
      const mac = await this.topo.connect(ns, 'eth0', this.sw, 'br0', [`${ip}/24`, ...(this.opts.ipv6 ? [`${v6addr(10 + i)}/64`] : [])]);
      // only answer ARP for addresses configured on the receiving interface: VIPs are answered by lbkit
      await sh('sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'], { ns });
      if (this.opts.vipRange) await sh('ip', ['route', 'add', 'local', this.opts.vipRange, 'dev', 'lo'], { ns });
      if (this.opts.vipRange6) await sh('ip', ['-6', 'route', 'add', 'local', this.opts.vipRange6, 'dev', 'lo'], { ns });
      this.nodes.push({ name: `node${i}`, ns, ip, ...(this.opts.ipv6 ? { ip6: v6addr(10 + i) } : {}), mac, stateFile: join(this.dir, `node${i}.state.json`), logs: [] });
    }
  }

  /** Starts the per-node HTTP server answering the node name on :8080 (IPv4 and IPv6). */
  startHttp(n: ClusterNode): void {
    const code = "require('http').createServer((q,s)=>{s.setHeader('connection','close');s.end(process.argv[1])}).listen(8080,'::')";
    n.http = this.topo.spawnIn(n.ns, process.execPath, ['-e', code, n.name]);
  }

  startLbkitd(n: ClusterNode): void {
    const extra = this.opts.args?.(n, this.nodes) ?? [];
    rmSync(n.stateFile, { force: true });
    const child = this.topo.spawnIn(n.ns, this.nodeBin, [LBKITD, '--config', this.yaml, '--node', n.name, '--metrics-port', '0', '--state-file', n.stateFile, ...extra], { env: { ...process.env, ...this.lbkitdEnv } });
    child.stdout?.on('data', (d: Buffer) => n.logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => n.logs.push(d.toString()));
    n.lbkitd = child;
  }

  state(n: ClusterNode): { l2: Record<string, string[]>; answering: string[]; bgp: Record<string, unknown[]>; services: Array<{ service: string; ingress: string[]; pool?: string }>; members: string[] | null; l2Held?: boolean } | undefined {
    try {
      return JSON.parse(readFileSync(n.stateFile, 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** One HTTP GET from the client; returns the body or null. */
  async curl(vip: string, timeoutS = 0.5): Promise<string | null> {
    try {
      const host = vip.includes(':') ? `[${vip}]` : vip;
      return (await sh('curl', ['-s', '-g', '--max-time', String(timeoutS), `http://${host}:8080/`], { ns: this.client, timeoutMs: 5000 })).trim() || null;
    } catch {
      return null;
    }
  }

  /** The client's neighbour-cache MAC for `ip` (or undefined). */
  async neighMac(ip: string): Promise<string | undefined> {
    const out = await sh('ip', [...(ip.includes(':') ? ['-6'] : []), 'neigh', 'show', ip, 'dev', 'eth0'], { ns: this.client }).catch(() => '');
    return /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
  }

  async down(): Promise<void> {
    // graceful stop first, so lbkitd reaps the daemons it started (serf, gobgpd)
    const alive = this.nodes.map((n) => n.lbkitd).filter((p): p is ChildProcess => !!p && p.exitCode === null && p.signalCode === null);
    await Promise.all(
      alive.map(
        (p) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 8000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    await this.topo.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls fn every `stepMs` (50) ms until it returns a value (not undefined/null/false) or times out. */
export function until<T>(fn: () => Promise<T | NotYet> | T | NotYet, ms: number, what: string, stepMs = 50): Promise<T> {
  return poll(fn, ms, what, stepMs);
}
