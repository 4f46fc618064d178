/**
 * Issue #11 against a real router: two BGPAdvertisements on one pool with different localPref and
 * different aggregationLength are compatible (MetalLB's BGPAdvertisementsHaveCompatibleLocalPref),
 * so lbkitd (@lbkit/bgp backend) announces both routes — the /32 with LOCAL_PREF 100 and the /24
 * aggregate with LOCAL_PREF 200 — and an iBGP FRR 8.4 router holds both with those preferences.
 */
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { apiServiceYaml, assignedVip, frrSuite } from './bgp-suite.js';
import { Cluster, until } from './cluster.js';

const yaml = `
kind: IPAddressPool
metadata: { name: bgp-pool, namespace: metallb-system }
spec: { addresses: ["10.96.30.0/24"] }
---
kind: BGPAdvertisement
metadata: { name: host, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool], localPref: 100 }
---
kind: BGPAdvertisement
metadata: { name: aggregate, namespace: metallb-system }
spec: { ipAddressPools: [bgp-pool], localPref: 200, aggregationLength: 24 }
---
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 10.77.0.1, holdTime: 9s }
---
kind: Node
metadata: { name: node1 }
---
${apiServiceYaml('10.43.0.12', ['node1'])}`;

describeInterop('two advertisements, different localPref and aggregationLength, against iBGP FRR', { root: true, bins: ['ip', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra'] }, () => {
  const c = new Cluster({ nodes: 1, router: '10.77.0.1/24', args: () => ['--bgp-backend', 'lbkit', '--l2-backend', 'kernel', '--log-level', 'warn'] });
  const frr = frrSuite(c, yaml, [{ address: '10.77.0.1', asn: 64512, nodesAsn: 64512 }]);

  it('the router holds the /32 with LOCAL_PREF 100 and the /24 with LOCAL_PREF 200', async () => {
    const vip = await assignedVip(c);
    type Rib = { routes?: Record<string, Array<{ locPrf?: number; localpref?: number }>> };
    const rib = await until(async () => {
      const r = await frr[0]!.json<Rib>('show bgp ipv4 unicast json');
      return r.routes?.[`${vip}/32`] && r.routes?.['10.96.30.0/24'] ? r : undefined;
    }, 60_000, 'both routes on the router', 200);
    const pref = (p: string) => rib.routes![p]!.map((x) => x.locPrf ?? x.localpref);
    expect(pref(`${vip}/32`)).toEqual([100]);
    expect(pref('10.96.30.0/24')).toEqual([200]);
    expect(Object.keys(rib.routes!).sort()).toEqual(['10.96.30.0/24', `${vip}/32`].sort());
    // and lbkitd reports the service as announced (no conflictingAdvertisements)
    expect(Object.keys(c.state(c.nodes[0]!)?.bgp ?? {})).toContain('default/api');
  }, 120_000);
});
