/**
 * Helpers shared by the layer-2 end-to-end tests and benches on the {@link Cluster} lab
 * (`l2-partition-heal.test.ts`, `bench/l2-failover.bench.ts`, `bench/l2-partition-heal.bench.ts`,
 * `bench/l2-lbkitd-scale.bench.ts`, `bench/l2-scale.bench.ts`): tool checks, process waits, a quick
 * `curl` from the client, an nftables partition, MetalLB's election order, the gratuitous-ARP
 * listener of `bench/l2-arpgen.c` and small numeric helpers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { sh, type Topology } from '../../../../test-utils/netns.js';
import { sortL2Candidates } from '../../src/election.js';
import type { Cluster, ClusterNode } from './cluster.js';

/** Why the lab cannot run here (not root, or one of `bins` missing), or null. */
export function missingTools(bins: string[]): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces)';
  const gone = bins.filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return gone.length ? `missing ${gone.join(', ')}` : null;
}

/** True while `p` runs (spawned, not exited, not killed). */
export const alive = (p: ChildProcess | undefined): boolean => !!p && p.exitCode === null && p.signalCode === null;

/** Resolves when `p` has exited; rejects after `ms` naming `what` (resolves instead when `what` is omitted). */
export function exited(p: ChildProcess | undefined, ms: number, what?: string): Promise<void> {
  if (!alive(p)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (what ? reject(new Error(`timeout after ${ms} ms waiting for ${what} to exit`)) : resolve()), ms);
    p!.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** One GET of `http://vip:8080/` from the client with a 0.1 s connect timeout: the body, or null. */
export async function quickCurl(c: Cluster, vip: string): Promise<string | null> {
  try {
    return (await sh('curl', ['-s', '--connect-timeout', '0.1', '--max-time', '0.3', `http://${vip}:8080/`], { ns: c.client, timeoutMs: 5000 })).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Partitions `n` from `others` with nftables in `n`'s namespace (table `lbkpart`: IPv4 to and from
 * their addresses dropped, and with `multicast` its outgoing multicast too, e.g. VRRP adverts);
 * `on: false` deletes the table (heal).
 */
export async function partition(n: ClusterNode, others: ClusterNode[], on: boolean, opts: { multicast?: boolean } = {}): Promise<void> {
  if (!on) return void (await sh('nft', ['delete', 'table', 'inet', 'lbkpart'], { ns: n.ns }));
  const set = others.map((o) => o.ip).join(', ');
  await sh('nft', ['add', 'table', 'inet', 'lbkpart'], { ns: n.ns });
  await sh('nft', ['add chain inet lbkpart in { type filter hook input priority 0 ; policy accept ; }'], { ns: n.ns });
  await sh('nft', ['add chain inet lbkpart out { type filter hook output priority 0 ; policy accept ; }'], { ns: n.ns });
  await sh('nft', [`add rule inet lbkpart in ip saddr { ${set} } drop`], { ns: n.ns });
  await sh('nft', [`add rule inet lbkpart out ip daddr { ${set}${opts.multicast ? ', 224.0.0.0/4' : ''} } drop`], { ns: n.ns });
}

/** MetalLB's L2 election order of `nodes` for `ip` (all eligible, no preferences): the first announces. */
export const hashOrder = (ip: string, nodes: string[]): string[] => sortL2Candidates(ip, nodes);

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The IPv4 address `n` after `ip`. */
export function ipAdd(ip: string, n: number): string {
  const p = ip.split('.').map(Number);
  const v = ((((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0) + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Result of `l2-arpgen garps`: distinct VIPs seen, frames, GARPs from a wrong owner, kernel timestamps (epoch ms). */
export interface Garps {
  distinct: number;
  frames: number;
  wrong?: number;
  firstMs: number;
  lastMs: number;
  macs: string[];
}

/**
 * Starts `gen garps eth0 ...args` (the compiled `bench/l2-arpgen.c`) in namespace `ns` and waits
 * until it listens; the returned function resolves with its result once it exits (target reached
 * or timeout). The process is killed by `topo.destroy()` if still running.
 */
export async function listenGarps(topo: Topology, ns: string, gen: string, args: string[]): Promise<() => Promise<Garps>> {
  const child = spawn('ip', ['netns', 'exec', ns, gen, 'garps', 'eth0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  topo.children.push(child);
  let buf = '';
  child.stdout.on('data', (d: Buffer) => (buf += d.toString()));
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 300 && !buf.includes('ready') && alive(child); i++) await new Promise((r) => setTimeout(r, 10));
  return async () => {
    await done;
    const line = buf.split('\n').filter((l) => l.startsWith('{')).pop();
    if (!line) throw new Error(`l2-arpgen garps ${args.join(' ')}: no result`);
    return JSON.parse(line) as Garps;
  };
}

/**
 * Runs one bench configuration's `body` on cluster `c` and always tears the cluster down. Returns
 * undefined on success, else the error text, after logging it with every node's log tail.
 */
export async function runOnCluster(c: Cluster, key: string, log: (s: string) => void, body: () => Promise<void>): Promise<string | undefined> {
  try {
    await body();
    return undefined;
  } catch (e) {
    const err = e instanceof Error ? e.message : String(e);
    log(`${key}: FAILED: ${err}`);
    for (const n of c.nodes) log(`${n.name} log tail:\n${n.logs.join('').slice(-1500)}`);
    return err;
  } finally {
    await c.down().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  }
}
