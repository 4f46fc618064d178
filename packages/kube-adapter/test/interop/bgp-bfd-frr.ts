/**
 * The FRR/ECMP lab shared by the BGP + BFD suite (`bgp-bfd.test.ts`) and the failover bench
 * (`bench/bgp-failover.bench.ts`): the lbkitd YAML (pool, advertisement, BFDProfile `fast`,
 * BGPPeer to the router, nodes, one service with an endpoint per node), an FRR config with a BFD
 * profile for the nodes, bfdd, and the wait for the routers' BFD sessions. No vitest import.
 */
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../../../test-utils/netns.js';
import { until } from './cluster.js';

/** What {@link bfdLabYaml} describes. */
export interface BfdLabYaml {
  /** Address pool of the service (a CIDR). */
  pool: string;
  /** BGPPeer hold time, e.g. `90s`. */
  holdTime: string;
  /** Whether the BGPPeer names the BFDProfile `fast` (100 ms × 3; defined either way). */
  bfd: boolean;
  nodes: string[];
  /** Nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers`. */
  excluded?: string[];
  /** The LoadBalancer service (port 8080) with one endpoint per node (10.244.<i>.3). */
  service: { name: string; clusterIP: string };
}

/** lbkitd configuration for the lab: the nodes (AS 64513) peer with the router 10.77.0.1 (AS 64512). */
export function bfdLabYaml(o: BfdLabYaml): string {
  const ex = new Set(o.excluded ?? []);
  const { name, clusterIP } = o.service;
  return `
kind: IPAddressPool
metadata: { name: bgp-pool, namespace: metallb-system }
spec: { addresses: ["${o.pool}"] }
---
kind: BGPAdvertisement
metadata: { name: bgp, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool] }
---
kind: BFDProfile
metadata: { name: fast, namespace: metallb-system }
spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 }
---
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.77.0.1, holdTime: ${o.holdTime}${o.bfd ? ', bfdProfile: fast' : ''} }
---
${o.nodes.map((n) => `kind: Node\nmetadata: { name: ${n}${ex.has(n) ? ', labels: { node.kubernetes.io/exclude-from-external-load-balancers: "" }' : ''} }\n---`).join('\n')}
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, clusterIP: ${clusterIP}, ports: [{ port: 8080 }] }
---
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
endpoints:
${o.nodes.map((n, i) => `  - { addresses: [10.244.${i}.3], nodeName: ${n} }`).join('\n')}
`;
}

/** FRR bfdd's peers (`show bfd peers json`) of the router state dir `dir`. */
export async function frrBfdPeers(ns: string, dir: string): Promise<Array<Record<string, any>>> {
  return JSON.parse(await sh('vtysh', ['--vty_socket', dir, '-c', 'show bfd peers json'], { ns })) as Array<Record<string, any>>;
}

/** Waits until FRR has `n` BFD sessions Up whose peers run `intervalMs` (receive and transmit); returns them. */
export function waitBfdPeersUp(ns: string, dir: string, n: number, intervalMs: number, ms = 20_000): Promise<Array<Record<string, any>>> {
  return until(async () => {
    const p = await frrBfdPeers(ns, dir);
    const up = p.filter((x) => x.status === 'up' && x['remote-receive-interval'] === intervalMs && x['remote-transmit-interval'] === intervalMs);
    return up.length === n ? p : undefined;
  }, ms, `${n} BFD sessions up at ${intervalMs} ms`, 100);
}

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
