/** FRR (zebra + bgpd) as the ToR router inside a test namespace, self-contained in a temp dir. */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { sh } from '../../../../test-utils/netns.js';
import { until } from './cluster.js';

export function frrConf(dir: string, asn: number, routerId: string, nodesAsn: number, listenRange: string): string {
  return `frr defaults traditional
hostname kube-rtr
log file ${dir}/frr.log informational
router bgp ${asn}
 bgp router-id ${routerId}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 bgp bestpath as-path multipath-relax
 neighbor NODES peer-group
 neighbor NODES remote-as ${nodesAsn}
 neighbor NODES timers 3 9
 bgp listen range ${listenRange} peer-group NODES
 address-family ipv4 unicast
  neighbor NODES activate
  maximum-paths 16
 exit-address-family
exit
`;
}

/** Starts zebra and bgpd in `ns`; returns their PIDs (from pid files) for kill-by-PID cleanup. */
export async function startFrr(ns: string, dir: string, conf: string): Promise<number[]> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dirname(dir), 0o755); // frr drops privileges and must reach its state dir
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o755);
  const file = join(dir, 'frr.conf');
  writeFileSync(file, conf);
  chmodSync(file, 0o644);
  const common = ['-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-f', file];
  await sh('/usr/lib/frr/zebra', ['-d', ...common, '-i', join(dir, 'zebra.pid'), '-s', '90000000'], { ns });
  await new Promise((r) => setTimeout(r, 500));
  await sh('/usr/lib/frr/bgpd', ['-d', ...common, '-i', join(dir, 'bgpd.pid')], { ns });
  await new Promise((r) => setTimeout(r, 500));
  return ['zebra.pid', 'bgpd.pid'].map((p) => Number(readFileSync(join(dir, p), 'utf8').trim()));
}

/** The IPv4 next hops of `ip route show` text, sorted. */
export function nexthops(routeText: string): string[] {
  return [...routeText.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
}

/** Waits until the kernel of `ns` routes `vip`/32 over `count` next hops; returns the `ip route` text. */
export function waitEcmpRoute(ns: string, vip: string, count: number, ms: number, what: string): Promise<string> {
  return until(async () => {
    const r = await sh('ip', ['route', 'show', `${vip}/32`], { ns });
    return nexthops(r).length === count ? r : undefined;
  }, ms, what, 200);
}

/** SIGKILLs the daemons started by {@link startFrr} (by PID); already-gone ones are ignored. */
export function killPids(pids: number[]): void {
  for (const p of pids)
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
}
