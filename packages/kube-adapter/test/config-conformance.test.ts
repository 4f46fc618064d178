/**
 * MetalLB config conformance (issue #11): each case follows MetalLB's internal/config rules
 * (config.go validateBGPAdvPerPool / BGPAdvertisementsHaveCompatibleLocalPref /
 * validateLabelSelectorMatchExpressions / addressPoolServiceAllocationsFromCR / peerFromCR) and
 * speaker/bgp_controller.go checkBGPAdvConflicts.
 */
import { describe, expect, it } from 'vitest';
import { Allocator, parsePools } from '@lbkit/ipam';
import { parseConfig } from '../src/config.js';
import { shouldAnnounceBgp, routesForPeer } from '../src/bgp-decision.js';
import { Controller } from '../src/controller.js';
import { IpamAllocator } from '../src/adapters/ipam-allocator.js';
import { MemoryEventRecorder } from '../src/events.js';
import { NS, node, pool, slice, snap, svc } from './helpers.js';
import { bgpAd, errorsOf, peer } from './config-helpers.js';
import type { BGPAdvertisement, BGPPeer, Secret } from '../src/types.js';

const ad = bgpAd;
const nodes = [node('n1'), node('n2')];

describe('LOCAL_PREF with different aggregation lengths (one rule for config and speaker)', () => {
  it('two advertisements, different localPref and aggregationLength: accepted and both routes announced', () => {
    const cfg = parseConfig(snap({ nodes, pools: [pool('p', ['10.96.0.0/24'])], bgpAdvertisements: [ad('host', { localPref: 100 }), ad('agg', { localPref: 200, aggregationLength: 24 })] }));
    const d = shouldAnnounceBgp({ myNode: 'n1', svc: svc('web', { ingress: ['10.96.0.10'] }), ips: ['10.96.0.10'], config: cfg, node: node('n1'), slices: [slice('web', [{ node: 'n1' }])] });
    if (!d.announce) throw new Error(`not announced: ${d.reason}`);
    expect(routesForPeer(d.routes, 'r').map((r) => [r.prefix, r.localPref]).sort()).toEqual([
      ['10.96.0.0/24', 200],
      ['10.96.0.10/32', 100],
    ]);
  });

  it('a dual-stack pool needs both families to differ: only the IPv4 length differing is a conflict', () => {
    const p = [pool('p', ['10.96.0.0/24', 'fd00::/120'])];
    const errs = errorsOf(() => parseConfig(snap({ nodes, pools: p, bgpAdvertisements: [ad('a', { localPref: 100 }), ad('b', { localPref: 200, aggregationLength: 24 })] })));
    expect(errs).toEqual([expect.stringMatching(/^BGPAdvertisement metallb-system\/b: spec\.localPref: localPref 200 is incompatible with BGPAdvertisement a/)]);
    const ok = parseConfig(snap({ nodes, pools: p, bgpAdvertisements: [ad('a', { localPref: 100 }), ad('b', { localPref: 200, aggregationLength: 24, aggregationLengthV6: 120 })] }));
    expect(ok.bgpAdvertisements).toHaveLength(2);
  });

  it('disjoint nodeSelectors are compatible at config time; the speaker still refuses same-prefix conflicts', () => {
    const n = [node('n1', { rack: 'a' }), node('n2', { rack: 'b' })];
    const cfg = parseConfig(
      snap({ nodes: n, pools: [pool('p', ['10.96.0.0/24'])], bgpAdvertisements: [ad('a', { localPref: 100, nodeSelectors: [{ matchLabels: { rack: 'a' } }] }), ad('b', { localPref: 200, nodeSelectors: [{ matchLabels: { rack: 'b' } }] })] }),
    );
    const s = svc('web', { ingress: ['10.96.0.10'] });
    const d = shouldAnnounceBgp({ myNode: 'n1', svc: s, ips: ['10.96.0.10'], config: cfg, node: n[0], slices: [slice('web', [{ node: 'n1' }])] });
    expect(d.announce && d.routes.map((r) => r.localPref)).toEqual([100]);
    // selector ads are not compared at config time; matching one service, same prefix → conflict
    const sel = parseConfig(
      snap({ nodes, pools: [pool('p', ['10.96.0.0/24'])], bgpAdvertisements: [ad('a', { localPref: 100, serviceSelectors: [{ matchLabels: { app: 'web' } }] }), ad('b', { localPref: 200, serviceSelectors: [{ matchLabels: { tier: 'x' } }] })] }),
    );
    const both = svc('web', { ingress: ['10.96.0.10'], labels: { app: 'web', tier: 'x' } });
    expect(shouldAnnounceBgp({ myNode: 'n1', svc: both, ips: ['10.96.0.10'], config: sel, node: node('n1'), slices: [slice('web', [{ node: 'n1' }])] })).toEqual({ announce: false, reason: 'conflictingAdvertisements' });
  });
});

describe('aggregationLength against each CIDR of the pool', () => {
  it('rejects a length shorter than any entry, naming the entry', () => {
    const p = [pool('p', ['10.0.0.0/24', '10.1.0.0/28'])];
    const errs = errorsOf(() => parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 26 })] })));
    expect(errs).toEqual(['BGPAdvertisement metallb-system/a: spec.aggregationLength: invalid aggregation length 26: prefix 28 in pool "p" is more specific than the aggregation length for addresses "10.1.0.0/28"']);
    expect(parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 28 })] })).bgpAdvertisements[0]!.aggregationLength).toBe(28);
  });

  it('MetalLB config_test.go "aggregation length by range" (26 ok) and "... too wide" (24 rejected)', () => {
    const p = [pool('pool1', ['3.3.3.2-3.3.3.254'])];
    const cfg = parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 26 })] }));
    expect(cfg.pools.get('pool1')!.cidrs.map((c) => c.prefix)).toEqual([31, 30, 29, 28, 27, 26, 26, 27, 28, 29, 30, 31, 32]);
    expect(errorsOf(() => parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 24 })] })))[0]).toContain('invalid aggregation length 24: prefix 26 in pool "pool1"');
  });

  it('a range entry is judged by its widest summarised CIDR; IPv6 by aggregationLengthV6', () => {
    // 10.2.0.0-10.2.0.255 = one /24; 10.3.0.1-10.3.0.6 = /32 /31 /31 /32 (widest /31)
    const p = [pool('p', ['10.2.0.0-10.2.0.255', '10.3.0.1-10.3.0.6', 'fd00::/120'])];
    expect(errorsOf(() => parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 30 })] })))).toEqual([
      'BGPAdvertisement metallb-system/a: spec.aggregationLength: invalid aggregation length 30: prefix 31 in pool "p" is more specific than the aggregation length for addresses "10.3.0.1-10.3.0.6"',
    ]);
    expect(errorsOf(() => parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLengthV6: 112 })] })))[0]).toContain('spec.aggregationLengthV6: invalid aggregation length 112: prefix 120');
    expect(parseConfig(snap({ pools: p, bgpAdvertisements: [ad('a', { aggregationLength: 31, aggregationLengthV6: 124 })] })).bgpAdvertisements).toHaveLength(1);
  });
});

describe('duplicate match expressions in one selector', () => {
  const dup = { matchExpressions: [{ key: 'rack', operator: 'In', values: ['a', 'b'] }, { key: 'rack', operator: 'In', values: ['b', 'a'] }] };
  it('are rejected wherever selectors appear, naming the expression', () => {
    const errs = errorsOf(() =>
      parseConfig(
        snap({
          pools: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { serviceSelectors: [dup] } })],
          l2Advertisements: [{ kind: 'L2Advertisement', metadata: { name: 'l2', namespace: NS }, spec: { nodeSelectors: [dup] } }],
          bgpAdvertisements: [ad('b', { ipAddressPoolSelectors: [dup] })],
          bgpPeers: [peer('r', { myASN: 1, peerASN: 2, peerAddress: '10.9.0.1', nodeSelectors: [dup] })],
        }),
      ),
    );
    const tail = 'duplicate definition of match expressions: same key, operator and values as matchExpressions[0]';
    expect(errs).toEqual(
      expect.arrayContaining([
        `IPAddressPool metallb-system/p: spec.serviceAllocation.serviceSelectors[0].matchExpressions[1]: ${tail}`,
        `L2Advertisement metallb-system/l2: spec.nodeSelectors[0].matchExpressions[1]: ${tail}`,
        `BGPAdvertisement metallb-system/b: spec.ipAddressPoolSelectors[0].matchExpressions[1]: ${tail}`,
        `BGPPeer metallb-system/r: spec.nodeSelectors[0].matchExpressions[1]: ${tail}`,
      ]),
    );
  });
  it('different operators or values are not duplicates', () => {
    const ok = { matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }, { key: 'rack', operator: 'NotIn', values: ['a'] }, { key: 'rack', operator: 'In', values: ['a', 'b'] }] };
    expect(parseConfig(snap({ l2Advertisements: [{ kind: 'L2Advertisement', metadata: { name: 'l2', namespace: NS }, spec: { nodeSelectors: [ok] } }] })).l2Advertisements[0]!.nodeSelectors).toEqual([ok]);
  });
});

describe('namespaceSelectors that match no namespace', () => {
  const spec = { serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'nobody' } }] } };
  const build = () => {
    const cfg = parseConfig(snap({ namespaces: [{ kind: 'Namespace', metadata: { name: 'default', labels: { team: 'a' } } }], pools: [pool('sel', ['10.0.0.0/24'], spec)] }));
    const c = new Controller({ allocator: new IpamAllocator(), events: new MemoryEventRecorder() });
    c.setConfig(cfg);
    return c;
  };
  const ingress = (c: Controller, name: string, s: ReturnType<typeof svc>) => c.setBalancer(`default/${name}`, s).update?.status?.loadBalancer?.ingress?.map((i) => i.ip);

  it('explicit requests are allowed from any namespace (loadBalancerIP, address-pool annotation)', () => {
    const c = build();
    expect(ingress(c, 'a', svc('a', { lbIP: '10.0.0.7' }))).toEqual(['10.0.0.7']);
    expect(ingress(c, 'b', svc('b', { annotations: { 'metallb.io/address-pool': 'sel' } }))).toEqual(['10.0.0.0']);
  });

  it('but the pool is never picked automatically', () => {
    const c = build();
    expect(ingress(c, 'c', svc('c'))).toBeUndefined();
  });

  it('behaves as @lbkit/ipam alone does with the same spec', () => {
    const [p] = parsePools([{ name: 'sel', addresses: ['10.0.0.0/24'], ...spec }], { namespaceLabels: new Map([['default', { team: 'a' }]]) });
    const a = new Allocator();
    a.setPools([p!]);
    const desc = { key: 'default/a', namespace: 'default', labels: {}, family: 'ipv4' as const, ipFamilyPolicy: 'SingleStack' as const, primaryFamily: 'ipv4' as const, ports: [], sharingKey: '', backendKey: '' };
    expect(() => a.assign(desc, ['10.0.0.7'])).not.toThrow();
    expect(() => a.allocate({ ...desc, key: 'default/c' })).toThrow();
  });
});

describe('BGPPeer FRR-mode fields', () => {
  const base = { myASN: 64513, peerAddress: '10.9.0.1' };
  const secret = (name: string, extra: Partial<Secret>): Secret => ({ kind: 'Secret', metadata: { name, namespace: NS }, type: 'kubernetes.io/basic-auth', ...extra });

  it('passwordSecret: password from the basic-auth Secret (data base64 or stringData), carried with the reference', () => {
    const cfg = parseConfig(
      snap({
        secrets: [secret('s1', { data: { password: Buffer.from('t0ps3cret').toString('base64') } }), secret('s2', { stringData: { password: 'plain' } })],
        bgpPeers: [peer('a', { ...base, peerASN: 64512, passwordSecret: { name: 's1', namespace: NS } }), peer('b', { ...base, peerAddress: '10.9.0.2', peerASN: 64512, passwordSecret: { name: 's2' } })],
      }),
    );
    expect(cfg.peers.map((p) => [p.password, p.passwordSecret?.name])).toEqual([
      ['t0ps3cret', 's1'],
      ['plain', 's2'],
    ]);
  });

  it('passwordSecret errors: missing Secret, wrong type, no password key, both password and secret', () => {
    const errs = errorsOf(() =>
      parseConfig(
        snap({
          secrets: [secret('opaque', { type: 'Opaque', data: { password: 'eA==' } }), secret('nopw', { data: { username: 'eA==' } })],
          bgpPeers: [
            peer('missing', { ...base, peerASN: 2, passwordSecret: { name: 'nope' } }),
            peer('type', { ...base, peerAddress: '10.9.0.2', peerASN: 2, passwordSecret: { name: 'opaque' } }),
            peer('key', { ...base, peerAddress: '10.9.0.3', peerASN: 2, passwordSecret: { name: 'nopw' } }),
            peer('both', { ...base, peerAddress: '10.9.0.4', peerASN: 2, password: 'x', passwordSecret: { name: 'nopw' } }),
          ],
        }),
      ),
    );
    expect(errs).toContain('BGPPeer metallb-system/missing: spec.passwordSecret.name: secret ref not found for peer config "metallb-system"/"missing": no Secret "nope" of type kubernetes.io/basic-auth in namespace metallb-system');
    expect(errs).toContain('BGPPeer metallb-system/type: spec.passwordSecret.name: secret type mismatch on "metallb-system/opaque", type "kubernetes.io/basic-auth" is expected');
    expect(errs).toContain('BGPPeer metallb-system/key: spec.passwordSecret.name: password not specified in the secret "metallb-system/nopw"');
    expect(errs).toContain('BGPPeer metallb-system/both: spec.passwordSecret: can not have both password and secret ref set in peer config "metallb-system"/"both"');
    // webhook mode: a Secret that may be created later is not an error (MetalLB resetTransientErrorsFields)
    expect(parseConfig(snap({ bgpPeers: [peer('missing', { ...base, peerASN: 2, passwordSecret: { name: 'nope' } })] }), { lenientReferences: true }).peers[0]!.password).toBeUndefined();
  });

  it('localASN, dynamicASN, vrf, connectTime, enableGracefulRestart are parsed and carried', () => {
    const cfg = parseConfig(
      snap({
        bgpPeers: [
          peer('dyn', { ...base, dynamicASN: 'external', localASN: 65010, vrf: 'red', connectTime: '5s', enableGracefulRestart: true, dualStackAddressFamily: true }),
          peer('plain', { ...base, peerAddress: '10.9.0.2', peerASN: 64512 }),
        ],
      }),
    );
    expect(cfg.peers[0]).toMatchObject({ peerASN: 0, dynamicASN: 'external', localASN: 65010, vrf: 'red', connectTime: 5, enableGracefulRestart: true, dualStackAddressFamily: true });
    expect(cfg.peers[1]).toMatchObject({ peerASN: 64512, enableGracefulRestart: false, dualStackAddressFamily: false });
    expect(cfg.peers[1]!.dynamicASN).toBeUndefined();
    expect(cfg.peers[1]!.connectTime).toBeUndefined();
  });

  it('validates them as MetalLB and its CRD do, naming the field', () => {
    const errs = errorsOf(() =>
      parseConfig(
        snap({
          bgpPeers: [
            peer('none', { ...base }),
            peer('both', { ...base, peerAddress: '10.9.0.2', peerASN: 5, dynamicASN: 'internal' }),
            // schema (CRD) errors: enum, minimum, type
            peer('bad', { ...base, peerAddress: '10.9.0.3', dynamicASN: 'sideways' as 'internal', localASN: 0, enableGracefulRestart: 'yes' as unknown as boolean }),
            // the CRD's CEL rules on connectTime, applied by parseConfig
            peer('short', { ...base, peerAddress: '10.9.0.6', peerASN: 5, connectTime: '500ms' }),
            peer('frac', { ...base, peerAddress: '10.9.0.4', peerASN: 5, connectTime: '1500ms' }),
            peer('long', { ...base, peerAddress: '10.9.0.5', peerASN: 5, connectTime: '65536s' }),
          ],
        }),
      ),
    );
    expect(errs.sort()).toEqual(
      [
        'BGPPeer metallb-system/none: spec.peerASN: missing peer ASN and dynamicASN',
        'BGPPeer metallb-system/both: spec.dynamicASN: both peer ASN and dynamicASN specified',
        'BGPPeer metallb-system/bad: spec.dynamicASN: Unsupported value: supported values: "internal", "external"',
        'BGPPeer metallb-system/bad: spec.localASN: Invalid value: must be >= 1',
        'BGPPeer metallb-system/bad: spec.enableGracefulRestart: Invalid value: must be of type boolean',
        'BGPPeer metallb-system/short: spec.connectTime: connect time should be between 1 seconds to 65535',
        'BGPPeer metallb-system/frac: spec.connectTime: connect time should contain a whole number of seconds',
        'BGPPeer metallb-system/long: spec.connectTime: connect time should be between 1 seconds to 65535',
      ].sort(),
    );
    // without the schema pass, parseConfig's own checks name the same fields
    const own = errorsOf(() => parseConfig(snap({ bgpPeers: [peer('bad', { ...base, peerAddress: '10.9.0.3', dynamicASN: 'sideways' as 'internal', localASN: 0, enableGracefulRestart: 'yes' as unknown as boolean })] }), { schema: false }));
    expect(own).toEqual([
      'BGPPeer metallb-system/bad: spec.localASN: must be an integer between 1 and 4294967295, got 0',
      'BGPPeer metallb-system/bad: spec.dynamicASN: invalid dynamicASN "sideways": must be internal or external',
      'BGPPeer metallb-system/bad: spec.enableGracefulRestart: must be a boolean, got "yes"',
    ]);
  });

  it('two peers with the same address (and VRF) on a common node are rejected; another VRF or disjoint nodes are fine', () => {
    const n = [node('n1', { rack: 'a' }), node('n2', { rack: 'b' })];
    const errs = errorsOf(() => parseConfig(snap({ nodes: n, bgpPeers: [peer('a', { ...base, peerASN: 1 }), peer('b', { ...base, peerASN: 2 })] })));
    expect(errs).toEqual(['BGPPeer metallb-system/b: spec.peerAddress: peer 10.9.0.1 already exists (a) on the same nodes']);
    const ok = parseConfig(
      snap({
        nodes: n,
        bgpPeers: [
          peer('a', { ...base, peerASN: 1, nodeSelectors: [{ matchLabels: { rack: 'a' } }] }),
          peer('b', { ...base, peerASN: 1, nodeSelectors: [{ matchLabels: { rack: 'b' } }] }),
          peer('c', { ...base, peerASN: 1, vrf: 'red' }),
        ],
      }),
    );
    expect(ok.peers).toHaveLength(3);
  });
});

describe('BFD echo mode and IPv6 pools (MetalLB validateConfig)', () => {
  it('a peer whose BFDProfile has echoMode may not receive an IPv6 pool', () => {
    const parts = {
      bfdProfiles: [{ kind: 'BFDProfile' as const, metadata: { name: 'echo', namespace: NS }, spec: { echoMode: true } }],
      bgpPeers: [peer('r', { myASN: 1, peerASN: 2, peerAddress: '10.9.0.1', bfdProfile: 'echo' }), peer('s', { myASN: 1, peerASN: 2, peerAddress: '10.9.0.2' })],
    };
    const errs = errorsOf(() => parseConfig(snap({ ...parts, pools: [pool('v6', ['fd00::/120'])], bgpAdvertisements: [ad('a', {})] })));
    expect(errs).toEqual(['BGPPeer metallb-system/r: spec.bfdProfile: BFDProfile "echo" has echoMode enabled, which is not possible with IPv6: pool "v6" is advertised to this peer by BGPAdvertisement a']);
    // an IPv4 pool, or an advertisement to the other peer only, is fine
    expect(parseConfig(snap({ ...parts, pools: [pool('v4', ['10.0.0.0/24'])], bgpAdvertisements: [ad('a', {})] })).peers).toHaveLength(2);
    expect(parseConfig(snap({ ...parts, pools: [pool('v6', ['fd00::/120'])], bgpAdvertisements: [ad('a', { peers: ['s'] })] })).peers).toHaveLength(2);
  });
});

describe('MetalLB internal/config/config_test.go TestParse cases (by their desc)', () => {
  const nodes2 = [node('node1', { node: 'node1' }), node('node2', { node: 'node2' })];
  const pool1 = [pool('pool1', ['10.20.30.40/24'])];
  const cases: Array<{ desc: string; parts: Parameters<typeof snap>[0]; ok: boolean }> = [
    { desc: 'different local pref - same peers and nodes', ok: false, parts: { nodes: nodes2, pools: pool1, bgpAdvertisements: [ad('a', { localPref: 100 }), ad('b', { localPref: 200 })] } },
    { desc: 'different local pref - different ipv4 aggregation length', ok: true, parts: { nodes: nodes2, pools: pool1, bgpAdvertisements: [ad('a', { localPref: 100, aggregationLength: 24 }), ad('b', { localPref: 200 })] } },
    { desc: 'different local pref - different aggregation lengths', ok: true, parts: { nodes: nodes2, pools: pool1, bgpAdvertisements: [ad('a', { localPref: 100, aggregationLength: 24, aggregationLengthV6: 120 }), ad('b', { localPref: 200 })] } },
    {
      desc: 'different local pref - same peers & different nodes',
      ok: true,
      parts: { nodes: nodes2, pools: pool1, bgpAdvertisements: [ad('a', { localPref: 100, nodeSelectors: [{ matchLabels: { node: 'node1' } }] }), ad('b', { localPref: 200, nodeSelectors: [{ matchLabels: { node: 'node2' } }] })] },
    },
    { desc: 'different local pref - different peers & same nodes', ok: true, parts: { nodes: nodes2, pools: pool1, bgpAdvertisements: [ad('a', { localPref: 100, peers: ['peer1'] }), ad('b', { localPref: 200, peers: ['peer2'] })] } },
    { desc: 'peer with zero hold/keepalive timers', ok: true, parts: { bgpPeers: [peer('p', { myASN: 42, peerASN: 42, peerAddress: '1.2.3.4', holdTime: '0s', keepaliveTime: '0s' })] } },
    { desc: 'peer with localASN field', ok: true, parts: { bgpPeers: [peer('peer1', { myASN: 100, peerASN: 200, peerAddress: '1.2.3.4', localASN: 65410 })] } },
    { desc: 'peer with dynamic asn', ok: true, parts: { bgpPeers: [peer('p', { myASN: 42, dynamicASN: 'internal', peerAddress: '1.2.3.4' })] } },
    { desc: 'peer without asn or dynamic asn', ok: false, parts: { bgpPeers: [peer('p', { myASN: 42, peerAddress: '1.2.3.4' })] } },
    { desc: 'peer with both asn and dynamic asn', ok: false, parts: { bgpPeers: [peer('p', { myASN: 42, peerASN: 42, dynamicASN: 'external', peerAddress: '1.2.3.4' })] } },
    { desc: 'duplicate values node selector match expression', ok: false, parts: { bgpPeers: [peer('p', { myASN: 42, peerASN: 42, peerAddress: '1.2.3.4', nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['v', 'v'] }] }] })] } },
    { desc: 'BGP Peer with unavailable secret ref', ok: false, parts: { bgpPeers: [peer('p', { myASN: 42, peerASN: 42, peerAddress: '1.2.3.4', passwordSecret: { name: 'nosecret', namespace: NS } })] } },
    { desc: 'aggregation length by range', ok: true, parts: { pools: [pool('pool1', ['3.3.3.2-3.3.3.254'])], bgpAdvertisements: [ad('a', { aggregationLength: 26 })] } },
    { desc: 'aggregation length by range, too wide', ok: false, parts: { pools: [pool('pool1', ['3.3.3.2-3.3.3.254'])], bgpAdvertisements: [ad('a', { aggregationLength: 24 })] } },
    {
      desc: 'use duplicate match expression in ip pool selector - in BGP adv',
      ok: false,
      parts: { pools: [pool('pool1', ['10.20.0.0/16'], {}, { test: 'pool1' })], bgpAdvertisements: [ad('adv1', { aggregationLength: 32, localPref: 100, ipAddressPoolSelectors: [{ matchExpressions: [{ key: 'test', operator: 'In', values: ['pool1', 'pool1'] }] }] })] },
    },
  ];
  for (const tc of cases)
    it(tc.desc, () => {
      if (tc.ok) expect(() => parseConfig(snap(tc.parts))).not.toThrow();
      else expect(errorsOf(() => parseConfig(snap(tc.parts))).length).toBeGreaterThan(0);
    });
});
