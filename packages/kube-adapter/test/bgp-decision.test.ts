import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { aggregate, peerNamesForService, peersForNode, routesForPeer, shouldAnnounceBgp } from '../src/bgp-decision.js';
import { NS, node, pool, slice, snap, svc } from './helpers.js';
import type { BGPAdvertisement, BGPPeer, Snapshot } from '../src/types.js';

const ad = (name: string, spec: BGPAdvertisement['spec']): BGPAdvertisement => ({ kind: 'BGPAdvertisement', metadata: { name, namespace: NS }, spec });
const peer = (name: string, spec: BGPPeer['spec']): BGPPeer => ({ kind: 'BGPPeer', metadata: { name, namespace: NS }, spec });

function cfgOf(parts: Partial<Snapshot>) {
  return parseConfig(snap({ pools: [pool('p', ['10.96.0.0/24'])], ...parts }));
}

describe('aggregate', () => {
  it('masks to the aggregation length', () => {
    expect(aggregate('10.96.0.77', 32)).toBe('10.96.0.77/32');
    expect(aggregate('10.96.0.77', 24)).toBe('10.96.0.0/24');
    expect(aggregate('2001:db8::1:5', 112)).toBe('2001:db8::1:0/112');
  });
});

describe('shouldAnnounceBgp', () => {
  const s = svc('web', { ingress: ['10.96.0.10'] });
  const slices = [slice('web', [{ node: 'n1' }])];

  it('Cluster policy: every eligible node announces when some endpoint serves', () => {
    const cfg = cfgOf({ bgpAdvertisements: [ad('a', { localPref: 150, communities: ['65000:1', 'large:1:2:3'] })] });
    for (const n of ['n1', 'n2']) {
      const d = shouldAnnounceBgp({ myNode: n, svc: s, ips: ['10.96.0.10'], config: cfg, node: node(n), slices });
      expect(d).toEqual({ announce: true, routes: [{ prefix: '10.96.0.10/32', localPref: 150, communities: ['65000:1'], largeCommunities: ['1:2:3'], peers: [] }] });
    }
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices: [] })).toEqual({ announce: false, reason: 'noEndpoints' });
  });

  it('Local policy: only from nodes with local endpoints', () => {
    const cfg = cfgOf({ bgpAdvertisements: [ad('a', {})] });
    const l = svc('web', { ingress: ['10.96.0.10'], etp: 'Local' });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: l, ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices }).announce).toBe(true);
    expect(shouldAnnounceBgp({ myNode: 'n2', svc: l, ips: ['10.96.0.10'], config: cfg, node: node('n2'), slices })).toEqual({ announce: false, reason: 'noLocalEndpoints' });
  });

  it('node selectors, exclude label, NetworkUnavailable and service selectors', () => {
    const cfg = cfgOf({ bgpAdvertisements: [ad('a', { nodeSelectors: [{ matchLabels: { bgp: 'yes' } }] })] });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices })).toEqual({ announce: false, reason: 'notOwner' });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: node('n1', { bgp: 'yes', 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' }), slices })).toEqual({ announce: false, reason: 'nodeLabeledExcludeBalancers' });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: node('n1', { bgp: 'yes' }, [{ type: 'NetworkUnavailable', status: 'True' }]), slices })).toEqual({ announce: false, reason: 'nodeNetworkUnavailable' });
    const cs = cfgOf({ bgpAdvertisements: [ad('a', { serviceSelectors: [{ matchLabels: { app: 'db' } }] })] });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cs, node: node('n1'), slices })).toEqual({ announce: false, reason: 'noMatchingAdvertisement' });
  });

  it('conflicting localPref on overlapping peers is not announced (runtime check for selector ads)', () => {
    const cfg = cfgOf({ bgpAdvertisements: [ad('a', { localPref: 100, serviceSelectors: [{ matchLabels: { app: 'web' } }] }), ad('b', { localPref: 200, serviceSelectors: [{ matchLabels: { tier: 'x' } }] })] });
    const both = svc('web', { ingress: ['10.96.0.10'], labels: { app: 'web', tier: 'x' } });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: both, ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices })).toEqual({ announce: false, reason: 'conflictingAdvertisements' });
  });

  it('aggregation and peer filtering; same prefix merges communities', () => {
    const cfg = cfgOf({
      bgpAdvertisements: [ad('agg', { aggregationLength: 24, communities: ['1:1'], peers: ['r1'] }), ad('host', { communities: ['2:2'] })],
      bgpPeers: [peer('r1', { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1' }), peer('r2', { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.2', nodeSelectors: [{ matchLabels: { rack: 'b' } }] })],
    });
    const d = shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices });
    if (!d.announce) throw new Error(d.reason);
    expect(routesForPeer(d.routes, 'r1').map((r) => r.prefix).sort()).toEqual(['10.96.0.0/24', '10.96.0.10/32']);
    expect(routesForPeer(d.routes, 'r2').map((r) => r.prefix)).toEqual(['10.96.0.10/32']);
    expect(peersForNode(cfg, node('n1')).map((p) => p.name)).toEqual(['r1']);
    expect(peersForNode(cfg, node('n1', { rack: 'b' })).map((p) => p.name)).toEqual(['r1', 'r2']);
    expect(peerNamesForService(d.routes, peersForNode(cfg, node('n1')))).toEqual(['r1']);
    const merged = routesForPeer(
      [
        { prefix: '10.96.0.10/32', communities: ['1:1'], largeCommunities: [], peers: [] },
        { prefix: '10.96.0.10/32', communities: ['2:2'], largeCommunities: [], peers: [] },
      ],
      'r1',
    );
    expect(merged).toEqual([{ prefix: '10.96.0.10/32', communities: ['1:1', '2:2'], largeCommunities: [], peers: [] }]);
  });
});
