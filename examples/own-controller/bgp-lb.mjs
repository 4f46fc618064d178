#!/usr/bin/env node
/**
 * A load balancer without Kubernetes, from two lbkit packages:
 *   @lbkit/ipam  hands out addresses from pools for "services" (MetalLB's allocation rules),
 *   @lbkit/bgp   announces each address as a /32 (/128) to a BGP router and withdraws it on delete.
 *
 * Run (after `npm run build`):
 *   node examples/own-controller/bgp-lb.mjs                     # with an in-process demo router on 127.0.0.2
 *   node examples/own-controller/bgp-lb.mjs --router 10.0.0.1 --router-asn 64512 --asn 64513 --router-id 10.0.0.11
 * With a real router the process keeps running (Ctrl-C withdraws everything with a Cease).
 */
import { parseArgs } from 'node:util';
import { Allocator, descriptorFromService } from '@lbkit/ipam';
import { BgpSpeaker } from '@lbkit/bgp';

const { values: opt } = parseArgs({
  options: {
    router: { type: 'string' },
    'router-port': { type: 'string', default: '179' },
    'router-asn': { type: 'string', default: '64512' },
    asn: { type: 'string', default: '64513' },
    'router-id': { type: 'string', default: '192.0.2.11' },
    'next-hop6': { type: 'string', default: '2001:db8::11' },
  },
});

// 1. Pools, as an IPAddressPool would give them (CIDRs and ranges, IPv4 and IPv6).
const alloc = new Allocator([{ name: 'public', addresses: ['198.51.100.0/30', '2001:db8:100::/126'] }]);

// 2. Where to announce. Without --router, start a router in this process to show what it receives.
let router;
let routerPort = Number(opt['router-port']);
if (!opt.router) {
  router = new BgpSpeaker({ asn: Number(opt['router-asn']), routerId: '192.0.2.1', listen: { address: '127.0.0.2', port: 0 } });
  router.addPeer({ address: '127.0.0.1', asn: Number(opt.asn), passive: true });
  router.on('update', (_peer, u) => {
    for (const r of u.announced) console.log(`router: + ${r.prefix} via AS path [${r.asPath.join(' ')}]`);
    for (const p of u.withdrawn) console.log(`router: - ${p}`);
  });
  await router.start();
  routerPort = router.listenPort;
}
const speaker = new BgpSpeaker({ asn: Number(opt.asn), routerId: opt['router-id'] });
// IPv6 routes over this IPv4 session need an IPv6 next hop: this node's (a documentation address here)
speaker.addPeer({ address: opt.router ?? '127.0.0.2', port: routerPort, asn: Number(opt['router-asn']), families: ['ipv4', 'ipv6'], nextHop6: opt['next-hop6'] });
const up = new Promise((resolve) => speaker.once('established', resolve));
speaker.on('down', (peer, reason) => console.log(`speaker: session to ${peer} down: ${reason}`));
await speaker.start();

// 3. The "controller": a service appears → allocate and announce; it goes away → withdraw and free.
const hostRoute = (ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);
function addService(name, clusterIPs) {
  const svc = { metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIPs, ipFamilyPolicy: clusterIPs.length > 1 ? 'RequireDualStack' : 'SingleStack', ports: [{ protocol: 'TCP', port: 443 }] } };
  const d = descriptorFromService(svc);
  const ips = alloc.allocate(d);
  console.log(`controller: ${d.key} → ${ips.join(', ')} (pool ${alloc.poolOf(d.key)})`);
  for (const ip of ips) speaker.announce(hostRoute(ip), { communities: ['64512:100'] });
  return d.key;
}
function deleteService(key) {
  for (const ip of alloc.ipsOf(key) ?? []) speaker.withdraw(hostRoute(ip));
  alloc.unassign(key);
  console.log(`controller: ${key} deleted`);
}

await up;
console.log('speaker: session established');
addService('web', ['10.96.0.10', 'fd00:96::10']);
const db = addService('db', ['10.96.0.11']);
await new Promise((r) => setTimeout(r, 500));
deleteService(db);
await new Promise((r) => setTimeout(r, 500));

if (router) {
  await speaker.stop('example done');
  await router.stop('example done');
  console.log('done');
} else {
  process.on('SIGINT', () => void speaker.stop('shutting down').then(() => process.exit(0)));
}
