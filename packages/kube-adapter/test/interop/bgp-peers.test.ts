/**
 * BGPAdvertisement `peers` and BGPPeer `nodeSelectors` end to end with the @lbkit/bgp backend:
 * two FRR routers (tor 10.77.0.1 and spare 10.77.0.2); the advertisement names only `tor`, and the
 * `spare` peer only exists on node1 (node selector). tor gets ECMP over all nodes; spare has a
 * session with node1 only and never receives the route.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { apiServiceYaml, assignedVip, frrSuite } from './bgp-suite.js';
import { Cluster, until } from './cluster.js';
import { nexthops, waitEcmpRoute } from './frr.js';

const yaml = `
kind: IPAddressPool
metadata: { name: bgp-pool, namespace: metallb-system }
spec: { addresses: ["10.96.20.0/28"] }
---
kind: BGPAdvertisement
metadata: { name: to-tor, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool], peers: [tor], communities: ["65000:7", "large:64513:1:2"] }
---
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.77.0.1, holdTime: 9s }
---
kind: BGPPeer
metadata: { name: spare, namespace: metallb-system }
spec: { myASN: 64513, peerASN: 64514, peerAddress: 10.77.0.2, holdTime: 9s, nodeSelectors: [{ matchLabels: { rack: a } }] }
---
kind: Node
metadata: { name: node1, labels: { rack: a } }
---
kind: Node
metadata: { name: node2, labels: { rack: b } }
---
kind: Node
metadata: { name: node3, labels: { rack: b } }
---
${apiServiceYaml('10.43.0.11', ['node1'])}`;

describeInterop('lbkitd BGP peer filtering and peer node selectors (@lbkit/bgp) against two FRR routers', { root: true, bins: ['ip', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra'] }, () => {
  const c = new Cluster({ nodes: 3, router: '10.77.0.1/24', args: () => ['--bgp-backend', 'lbkit', '--l2-backend', 'kernel', '--log-level', 'warn'] });
  const routers = frrSuite(c, yaml, [
    { address: '10.77.0.1', asn: 64512, nodesAsn: 64513 },
    { address: '10.77.0.2', asn: 64514, nodesAsn: 64513 },
  ]);
  const tor = () => routers[0]!;
  const spare = () => routers[1]!;

  it('only tor gets the route (ECMP, communities); spare peers with node1 only and gets nothing', async () => {
    const vip = await assignedVip(c);
    const route = await waitEcmpRoute(c.router, vip, 3, 60_000, 'ECMP on tor');
    expect(nexthops(route)).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    const j = await tor().json<{ paths: Array<{ community?: { string: string }; largeCommunity?: { string: string } }> }>(`show bgp ipv4 unicast ${vip}/32 json`);
    for (const p of j.paths) {
      expect(p.community?.string).toBe('65000:7');
      expect(p.largeCommunity?.string).toBe('64513:1:2');
    }
    // spare: exactly one established session (node1, by node selector), no route
    const summary = await until(async () => {
      const s = await spare().json<{ peers?: Record<string, { state: string }> }>('show bgp ipv4 unicast summary json');
      const est = Object.entries(s.peers ?? {}).filter(([, p]) => p.state === 'Established');
      return est.length === 1 ? est : undefined;
    }, 60_000, 'one session on spare', 200);
    expect(summary.map(([a]) => a)).toEqual(['10.77.0.11']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sh('ip', ['route', 'show', `${vip}/32`], { ns: spare().ns })).trim()).toBe('');
    const rib = await spare().json<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast json');
    expect(Object.keys(rib.routes ?? {})).toEqual([]);
  }, 180_000);
});
