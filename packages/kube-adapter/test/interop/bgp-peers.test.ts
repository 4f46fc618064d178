/**
 * BGPAdvertisement `peers` and BGPPeer `nodeSelectors` end to end with the @lbkit/bgp backend:
 * two FRR routers (tor 10.77.0.1 and spare 10.77.0.2); the advertisement names only `tor`, and the
 * `spare` peer only exists on node1 (node selector). tor gets ECMP over all nodes; spare has a
 * session with node1 only and never receives the route.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until } from './cluster.js';
import { frrConf, killPids, nexthops, startFrr, waitEcmpRoute } from './frr.js';

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
kind: Service
metadata: { name: api, namespace: default }
spec: { type: LoadBalancer, clusterIP: 10.43.0.11, ports: [{ port: 8080 }] }
---
kind: EndpointSlice
metadata: { name: api-1, namespace: default, labels: { kubernetes.io/service-name: api } }
endpoints: [{ addresses: [10.244.0.3], nodeName: node1 }]
`;


describeInterop('lbkitd BGP peer filtering and peer node selectors (@lbkit/bgp) against two FRR routers', { root: true, bins: ['ip', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra'] }, () => {
  const c = new Cluster({ nodes: 3, router: '10.77.0.1/24', args: () => ['--bgp-backend', 'lbkit', '--l2-backend', 'kernel', '--log-level', 'warn'] });
  let spare = '';
  const pids: number[] = [];

  beforeAll(async () => {
    ensureBuilt();
    await c.up(yaml);
    spare = await c.topo.addNamespace('r2');
    await c.topo.connect(spare, 'eth0', c.sw, 'br0', ['10.77.0.2/24']);
    pids.push(...(await startFrr(c.router, `${c.dir}/frr`, frrConf(`${c.dir}/frr`, 64512, '10.77.0.1', 64513, '10.77.0.0/24'))));
    pids.push(...(await startFrr(spare, `${c.dir}/frr2`, frrConf(`${c.dir}/frr2`, 64514, '10.77.0.2', 64513, '10.77.0.0/24'))));
    for (const n of c.nodes) c.startLbkitd(n);
  }, 300_000);

  afterAll(async () => {
    killPids(pids);
    await c.down();
  }, 60_000);

  it('only tor gets the route (ECMP, communities); spare peers with node1 only and gets nothing', async () => {
    const vip = await until(() => c.state(c.nodes[0]!)?.services.find((s) => s.service === 'default/api')?.ingress[0], 30_000, 'assignment');
    const route = await waitEcmpRoute(c.router, vip, 3, 60_000, 'ECMP on tor');
    expect(nexthops(route)).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    const j = JSON.parse(await sh('vtysh', ['--vty_socket', `${c.dir}/frr`, '-c', `show bgp ipv4 unicast ${vip}/32 json`], { ns: c.router })) as {
      paths: Array<{ community?: { string: string }; largeCommunity?: { string: string } }>;
    };
    for (const p of j.paths) {
      expect(p.community?.string).toBe('65000:7');
      expect(p.largeCommunity?.string).toBe('64513:1:2');
    }
    // spare: exactly one established session (node1, by node selector), no route
    const summary = await until(async () => {
      const s = JSON.parse(await sh('vtysh', ['--vty_socket', `${c.dir}/frr2`, '-c', 'show bgp ipv4 unicast summary json'], { ns: spare })) as { peers?: Record<string, { state: string }> };
      const est = Object.entries(s.peers ?? {}).filter(([, p]) => p.state === 'Established');
      return est.length === 1 ? est : undefined;
    }, 60_000, 'one session on spare', 200);
    expect(summary.map(([a]) => a)).toEqual(['10.77.0.11']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sh('ip', ['route', 'show', `${vip}/32`], { ns: spare })).trim()).toBe('');
    const rib = JSON.parse(await sh('vtysh', ['--vty_socket', `${c.dir}/frr2`, '-c', 'show bgp ipv4 unicast json'], { ns: spare })) as { routes?: Record<string, unknown> };
    expect(Object.keys(rib.routes ?? {})).toEqual([]);
  }, 180_000);
});
