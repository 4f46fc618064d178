/** FRR router helpers of the BFD suites: a config with a BFD profile for the nodes, and bfdd. */
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../../../test-utils/netns.js';
import { until } from './cluster.js';

/**
 * FRR config: dynamic neighbours 10.77.0.0/24 in AS 64513, ECMP, neighbour changes logged; with
 * `bfd` (default) the peer group uses BFD profile `fast` (100 ms × 3). Timers in seconds.
 */
export function frrBfdConf(dir: string, o: { bfd?: boolean; keepalive?: number; hold?: number } = {}): string {
  const bfd = o.bfd ?? true;
  return `frr defaults traditional
hostname kube-rtr
log file ${dir}/frr.log informational
${bfd ? 'bfd\n profile fast\n  receive-interval 100\n  transmit-interval 100\n  detect-multiplier 3\n !\n!\n' : ''}router bgp 64512
 bgp router-id 10.77.0.1
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 bgp bestpath as-path multipath-relax
 neighbor NODES peer-group
 neighbor NODES remote-as 64513
 neighbor NODES timers ${o.keepalive ?? 30} ${o.hold ?? 90}
${bfd ? ' neighbor NODES bfd profile fast\n' : ''} bgp listen range 10.77.0.0/24 peer-group NODES
 address-family ipv4 unicast
  neighbor NODES activate
  maximum-paths 16
 exit-address-family
exit
`;
}

/** Starts bfdd next to the zebra/bgpd of `startFrr` (same state dir and frr.conf); returns its PID. */
export async function startBfdd(ns: string, dir: string): Promise<number> {
  const file = join(dir, 'frr.conf');
  chmodSync(file, 0o644);
  await sh('/usr/lib/frr/bfdd', ['-d', '-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-f', file, '-i', join(dir, 'bfdd.pid')], { ns });
  const pid = await until(() => {
    try {
      return Number(readFileSync(join(dir, 'bfdd.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }, 5000, 'bfdd pid');
  return pid;
}
