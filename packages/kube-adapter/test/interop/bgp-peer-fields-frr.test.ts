/**
 * BGPPeer `localASN` and `enableGracefulRestart` with the lbkit backend against FRR: the router
 * accepts the nodes only from AS 65010 (the BGPPeer's localASN; its myASN is 64513), so a session
 * exists only if lbkitd opens it from the local AS; the route's AS_PATH is 65010 alone (FRR's
 * `local-as … no-prepend replace-as`, what MetalLB configures); FRR reports the graceful-restart
 * capability received from every node.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { apiServiceYaml, assignedVip, frrSuite } from './bgp-suite.js';
import { Cluster, until } from './cluster.js';
import { nexthops, waitEcmpRoute } from './frr.js';

const yaml = `
kind: IPAddressPool
metadata: { name: bgp-pool, namespace: metallb-system }
spec: { addresses: ["10.96.30.0/28"] }
---
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool] }
---
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64513, localASN: 65010, peerASN: 64512, peerAddress: 10.77.0.1, holdTime: 9s, connectTime: 2s, enableGracefulRestart: true }
---
kind: Node
metadata: { name: node1 }
---
kind: Node
metadata: { name: node2 }
---
${apiServiceYaml('10.43.0.12', ['node1', 'node2'])}`;

describeInterop('BGPPeer localASN and enableGracefulRestart (@lbkit/bgp) against FRR', { root: true, bins: ['ip', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra'] }, () => {
  const c = new Cluster({ nodes: 2, router: '10.77.0.1/24', prefix: 'kpf', args: () => ['--bgp-backend', 'lbkit', '--l2-backend', 'kernel', '--log-level', 'warn'] });
  const routers = frrSuite(c, yaml, [{ address: '10.77.0.1', asn: 64512, nodesAsn: 65010 }]);
  const tor = () => routers[0]!;

  it('sessions from AS 65010, AS_PATH "65010" only, graceful restart received', async () => {
    const vip = await assignedVip(c);
    const route = await waitEcmpRoute(c.router, vip, 2, 60_000, 'ECMP route over both nodes');
    expect(nexthops(route)).toEqual(['10.77.0.11', '10.77.0.12']);
    const j = await tor().json<{ paths: Array<{ aspath?: { string: string } }> }>(`show bgp ipv4 unicast ${vip}/32 json`);
    expect(j.paths.map((p) => p.aspath?.string)).toEqual(['65010', '65010']);
    for (const node of ['10.77.0.11', '10.77.0.12']) {
      const n = await until(async () => {
        const all = await tor().json<Record<string, { remoteAs?: number; bgpState?: string; neighborCapabilities?: Record<string, unknown> }>>(`show bgp neighbors ${node} json`);
        const x = all[node];
        return x?.bgpState === 'Established' ? x : undefined;
      }, 30_000, `session with ${node}`, 200);
      expect(n.remoteAs).toBe(65010);
      expect(['received', 'advertisedAndReceived']).toContain(n.neighborCapabilities?.gracefulRestart);
    }
  }, 180_000);
});
