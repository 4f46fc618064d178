/**
 * End-to-end BGP: 3 node namespaces run lbkitd from one YAML file (controller + speaker) and peer
 * with FRR in a router namespace; the router must install an ECMP route to the service IP over all
 * three nodes (with the Community alias value), and drop a node when its lbkitd stops. Runs once
 * with the @lbkit/bgp backend and once with the GoBGP backend.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { apiServiceYaml, assignedVip, frrSuite } from './bgp-suite.js';
import { Cluster } from './cluster.js';
import { nexthops, waitEcmpRoute } from './frr.js';

const yaml = (nodes: string[]) => `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bgp-pool, namespace: metallb-system }
spec: { addresses: ["10.96.10.0/28"] }
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: { name: c, namespace: metallb-system }
spec: { communities: [{ name: vip, value: "64512:100" }] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bgp, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool], communities: [vip] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.77.0.1, holdTime: 9s }
---
${nodes.map((n) => `kind: Node\nmetadata: { name: ${n} }\n---`).join('\n')}
${apiServiceYaml('10.43.0.11', nodes)}`;

for (const backend of ['lbkit', 'gobgp'] as const)
describeInterop(`lbkitd BGP ECMP (${backend} backend) against FRR`, { root: true, bins: ['ip', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', ...(backend === 'gobgp' ? ['gobgpd', 'gobgp'] : [])] }, () => {
  const c = new Cluster({ nodes: 3, router: '10.77.0.1/24', args: () => ['--bgp-backend', backend, '--l2-backend', 'kernel', '--log-level', 'warn'] });
  const frr = frrSuite(c, yaml(['node1', 'node2', 'node3']), [{ address: '10.77.0.1', asn: 64512, nodesAsn: 64513 }]);

  it('the router gets an ECMP route to the VIP over every node, with the community', async () => {
    const vip = await assignedVip(c);
    expect(vip).toBe('10.96.10.0');
    const t0 = Date.now();
    const route = await waitEcmpRoute(c.router, vip, 3, 90_000, 'ECMP route with 3 next hops');
    console.log(`[kube-e2e] ${backend}: FRR ECMP route after ${Date.now() - t0} ms:\n${route}`);
    expect(nexthops(route)).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    const j = await frr[0]!.json<{ paths: Array<{ community?: { string: string } }> }>(`show bgp ipv4 unicast ${vip}/32 json`);
    expect(j.paths).toHaveLength(3);
    for (const p of j.paths) expect(p.community?.string).toBe('64512:100');

    // a node's lbkitd stops: its path disappears
    const n3 = c.nodes[2]!;
    n3.lbkitd!.kill('SIGTERM');
    const after = await waitEcmpRoute(c.router, vip, 2, 60_000, 'route with 2 next hops');
    expect(nexthops(after)).toEqual(['10.77.0.11', '10.77.0.12']);
  }, 240_000);
});
