#!/usr/bin/env node
/**
 * MetalLB's controller and speaker logic from @lbkit/kube-adapter, with your own data plane:
 * the Daemon reads MetalLB objects (here from examples/demo.yaml, as node1), assigns IPs, runs the
 * L2 election and the BGP advertisement rules, and calls the L2Announcer / BgpAnnouncer you pass.
 * These two only print; replace them with calls to your router, cloud API or switch.
 *
 * Run (after `npm run build`): node examples/own-controller/custom-announcer.mjs [config.yaml] [node1,node2,...]
 */
import { fileURLToPath } from 'node:url';
import { Daemon, YamlFileSource, createAllocator, jsonLogger } from '@lbkit/kube-adapter';

const file = process.argv[2] ?? fileURLToPath(new URL('../demo.yaml', import.meta.url));
// one Daemon per node name (comma-separated): what each node of a cluster would do
const nodes = (process.argv[3] ?? 'node1').split(',');

/** Announcers for one node. They only print; put your data plane here. */
function announcers(node) {
  /** @type {import('@lbkit/kube-adapter').L2Announcer} */
  const l2 = {
    announce: (ip, interfaces) => console.log(`[${node}] l2: answer ARP/NDP for ${ip} on ${interfaces.length ? interfaces.join(',') : 'every interface'}`),
    withdraw: (ip) => console.log(`[${node}] l2: stop answering for ${ip}`),
    close: () => {},
  };
  /** @type {import('@lbkit/kube-adapter').BgpAnnouncer} */
  const bgp = {
    update: (sessions, routesByPeer) => {
      for (const s of sessions) {
        const routes = routesByPeer.get(s.name) ?? [];
        console.log(`[${node}] bgp: peer ${s.name} ${s.peerAddress} AS${s.peerASN} (local AS${s.myASN}): ${routes.map((r) => `${r.prefix}${r.communities.length ? ` [${r.communities.join(' ')}]` : ''}`).join(', ') || 'no routes'}`);
      }
    },
    close: () => {},
  };
  return { l2, bgp };
}

for (const node of nodes) {
  const source = new YamlFileSource(file, { watch: false });
  const daemon = new Daemon({ source, node, mode: 'all', allocator: await createAllocator(), ...announcers(node), log: jsonLogger({ node }, 'warn') });
  await daemon.start();
  await new Promise((r) => setTimeout(r, 200));
  for (const s of daemon.services()) console.log(`[${node}] service ${s.metadata.namespace}/${s.metadata.name}: ${(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(', ') || 'pending'}`);
  await daemon.stop();
}
