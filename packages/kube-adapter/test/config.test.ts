import { describe, expect, it } from 'vitest';
import { tryParseIP } from '@lbkit/ipam';
import { parseConfig, parseCommunity, poolForIP } from '../src/config.js';
import { NS, node, pool, snap } from './helpers.js';
import { bgpAd, errorsOf, peer } from './config-helpers.js';
import type { BGPAdvertisement, BGPPeer, Community } from '../src/types.js';


const bgpad = bgpAd;

describe('IPAddressPool parsing', () => {
  it('parses CIDRs and ranges (summarised), defaults autoAssign=true', () => {
    const cfg = parseConfig(snap({ pools: [pool('p', ['10.0.0.0/30', '10.0.1.1 - 10.0.1.6', 'fc00::/127'])] }));
    const p = cfg.pools.get('p')!;
    expect(p.autoAssign).toBe(true);
    expect(p.avoidBuggyIPs).toBe(false);
    // 10.0.1.1-10.0.1.6 = .1/32 .2/31 .4/31 .6/32
    expect(p.cidrs.map((c) => c.prefix)).toEqual([30, 32, 31, 31, 32, 127]);
  });

  it('rejects overlapping CIDRs across pools naming both', () => {
    const errs = errorsOf(() => parseConfig(snap({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.128/25'])] })));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain('IPAddressPool metallb-system/b: spec.addresses[0]');
    expect(errs[0]).toContain('CIDR "10.0.0.128/25" in pool "b" overlaps with already defined CIDR "10.0.0.0/24"');
  });

  it('rejects an empty pool, bad CIDR, inverted range, duplicates, wrong namespace', () => {
    const errs = errorsOf(() =>
      parseConfig(
        snap({
          pools: [
            pool('empty', []),
            pool('bad', ['10.0.0.0/33']),
            pool('inv', ['10.0.0.9-10.0.0.1']),
            pool('dup', ['10.1.0.0/24']),
            pool('dup', ['10.2.0.0/24']),
            { kind: 'IPAddressPool', metadata: { name: 'other', namespace: 'kube-system' }, spec: { addresses: ['10.3.0.0/24'] } },
          ],
        }),
      ),
    );
    expect(errs).toContain('IPAddressPool metallb-system/empty: spec.addresses: pool has no prefixes defined');
    expect(errs).toContain('IPAddressPool metallb-system/bad: spec.addresses[0]: invalid CIDR "10.0.0.0/33"');
    expect(errs.find((e) => e.startsWith('IPAddressPool metallb-system/inv: spec.addresses[0]'))).toContain('start IP is after the end IP');
    expect(errs).toContain('IPAddressPool metallb-system/dup: metadata.name: duplicate definition of pool "dup"');
    expect(errs).toContain('IPAddressPool kube-system/other: metadata.namespace: resource must be created in metallb-system namespace');
  });

  it('resolves namespaceSelectors and treats an empty serviceAllocation as match-all', () => {
    const cfg = parseConfig(
      snap({
        namespaces: [{ kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } }, { kind: 'Namespace', metadata: { name: 'team-b', labels: { team: 'b' } } }],
        pools: [pool('sel', ['10.0.0.0/24'], { serviceAllocation: { priority: 5, namespaceSelectors: [{ matchLabels: { team: 'a' } }] } }), pool('all', ['10.0.1.0/24'], { serviceAllocation: {} })],
      }),
    );
    expect(cfg.pools.get('sel')!.serviceAllocation).toEqual({ priority: 5, namespaces: ['team-a'], serviceSelectors: [] });
    expect(cfg.pools.get('all')!.serviceAllocation!.serviceSelectors).toEqual([{}]);
  });

  it('rejects a bad label selector with the field path', () => {
    const errs = errorsOf(() =>
      parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Foo', values: ['x'] }] }] } })] })),
    );
    expect(errs[0]).toBe('IPAddressPool metallb-system/p: spec.serviceAllocation.serviceSelectors[0]: invalid label selector: matchExpressions[0].operator: "Foo" is not a valid selector operator');
  });
});

describe('poolForIP', () => {
  it('finds the pool of an IP as a bigint comparison does, for IPv4 (number fast path) and IPv6 text', () => {
    const cfgs = [
      parseConfig(
        snap({
          pools: [
            pool('a', ['10.1.2.0/24', '10.1.3.7/32']),
            pool('b', ['10.2.0.0/16', '192.168.0.0/31', '172.16.0.0/12']),
            pool('c', ['fd00:1::/64', '2001:db8::1/128', '::ffff:0:0/96']),
          ],
        }),
      ),
      parseConfig(snap({ pools: [pool('all', ['0.0.0.0/0']), pool('v6', ['::/0'])] })),
    ];
    // the reference: every CIDR of every pool in order, compared as bigints
    const ref = (cfg: (typeof cfgs)[number], text: string): string | undefined => {
      const p = tryParseIP(text);
      if (!p) return undefined;
      for (const pl of cfg.pools.values())
        for (const c of pl.cidrs) {
          const host = BigInt((c.family === 'ipv4' ? 32 : 128) - c.prefix);
          if (c.family === p.family && p.value >> host === c.network >> host) return pl.name;
        }
      return undefined;
    };
    let seed = 11;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const texts = ['10.1.2.9', '10.1.3.7', '10.1.3.8', '10.1.200.1', '10.2.9.9', '192.168.0.1', '192.168.0.2', '172.31.255.255', '172.32.0.0', '255.255.255.255', '0.0.0.0', ' 10.1.2.3 ', '\u00a010.1.2.3', '010.1.2.3', 'fd00:1::5', 'fd00:2::5', '2001:db8::1', '2001:db8::2', '::ffff:10.1.2.3', 'nonsense', ''];
    for (let i = 0; i < 3000; i++) texts.push([10, 172, 192, rnd(256)][rnd(4)] + '.' + [1, 2, 16, 168, rnd(256)][rnd(5)] + '.' + rnd(256) + '.' + rnd(256));
    let found = 0;
    for (const cfg of cfgs)
      for (const t of texts) {
        const want = ref(cfg, t);
        expect(poolForIP(cfg, t)?.name, JSON.stringify(t)).toBe(want);
        if (want && cfg === cfgs[0]) found++;
      }
    expect(found).toBeGreaterThan(300); // the pools of the first config were hit, not only missed
  });
});

describe('communities', () => {
  it('parses legacy and large literals and rejects bad ones with MetalLB texts', () => {
    expect(parseCommunity('1111:2222')).toEqual({ kind: 'legacy', value: '1111:2222' });
    expect(parseCommunity('large:123:9999:123')).toEqual({ kind: 'large', value: '123:9999:123' });
    expect(() => parseCommunity('99999999:1')).toThrow('invalid section');
    expect(() => parseCommunity('lar:1:2:3')).toThrow(/expected A:B or large/);
  });

  it('resolves Community CR aliases in BGPAdvertisements and reports unknown aliases', () => {
    const comm: Community = { kind: 'Community', metadata: { name: 'c', namespace: NS }, spec: { communities: [{ name: 'noexport', value: '65535:65281' }, { name: 'big', value: 'large:1:2:3' }] } };
    const cfg = parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], communities: [comm], bgpAdvertisements: [bgpad('a', { communities: ['noexport', 'big', '100:200'] })] }));
    expect(cfg.bgpAdvertisements[0]!.communities).toEqual(['65535:65281', '100:200']);
    expect(cfg.bgpAdvertisements[0]!.largeCommunities).toEqual(['1:2:3']);
    const errs = errorsOf(() => parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', { communities: ['nope'] })] })));
    expect(errs).toEqual(['BGPAdvertisement metallb-system/a: spec.communities[0]: community alias "nope" not found in any Community object']);
  });

  it('rejects duplicate aliases', () => {
    const c1: Community = { kind: 'Community', metadata: { name: 'c1', namespace: NS }, spec: { communities: [{ name: 'x', value: '1:1' }] } };
    const c2: Community = { kind: 'Community', metadata: { name: 'c2', namespace: NS }, spec: { communities: [{ name: 'x', value: '1:2' }] } };
    expect(errorsOf(() => parseConfig(snap({ communities: [c1, c2] })))[0]).toContain('Community metallb-system/c2: spec.communities[0].name: duplicate definition');
  });
});

describe('BGPAdvertisement validation', () => {
  it('aggregation length shorter than the pool prefix is rejected', () => {
    const errs = errorsOf(() => parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', { aggregationLength: 16 })] })));
    expect(errs[0]).toContain('BGPAdvertisement metallb-system/a: spec.aggregationLength: invalid aggregation length 16: prefix 24 in pool "p" is more specific than the aggregation length');
    const ok = parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', { aggregationLength: 26 })] }));
    expect(ok.bgpAdvertisements[0]!.aggregationLength).toBe(26);
  });

  it('aggregation length over 32 is rejected; serviceSelectors need default lengths', () => {
    expect(errorsOf(() => parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', { aggregationLength: 33 })] })))[0]).toContain('spec.aggregationLength: must be an integer between 1 and 32');
    expect(errorsOf(() => parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', { aggregationLength: 30, serviceSelectors: [{ matchLabels: { a: 'b' } }] })] })))[0]).toContain('spec.serviceSelectors');
  });

  it('incompatible localPref on the same pool is rejected unless peers are disjoint', () => {
    const p = [pool('p', ['10.0.0.0/24'])];
    const nodes = [node('n1')];
    const errs = errorsOf(() => parseConfig(snap({ pools: p, nodes, bgpAdvertisements: [bgpad('a', { localPref: 100 }), bgpad('b', { localPref: 200 })] })));
    expect(errs[0]).toBe('BGPAdvertisement metallb-system/b: spec.localPref: localPref 200 is incompatible with BGPAdvertisement a (localPref 100) for pool "p": same pool, aggregation lengths, peers and nodes');
    const ok = parseConfig(snap({ pools: p, nodes, bgpAdvertisements: [bgpad('a', { localPref: 100, peers: ['x'] }), bgpad('b', { localPref: 200, peers: ['y'] })] }));
    expect(ok.bgpAdvertisements).toHaveLength(2);
  });

  it('advertisements with identical specs under different names are accepted, as in MetalLB', () => {
    expect(parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])], bgpAdvertisements: [bgpad('a', {}), bgpad('b', {})] })).bgpAdvertisements.map((a) => a.name)).toEqual(['a', 'b']);
  });
});

describe('BGPPeer validation', () => {
  it('parses all supported fields, derives keepalive from hold', () => {
    const cfg = parseConfig(
      snap({
        bgpPeers: [
          peer('r', { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1', peerPort: 1790, holdTime: '9s', routerID: '10.0.0.11', sourceAddress: '10.0.0.11', password: 'pw', ebgpMultiHop: true, nodeSelectors: [{ matchLabels: { rack: 'a' } }] }),
        ],
      }),
    );
    expect(cfg.peers[0]).toMatchObject({ myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1', peerPort: 1790, holdTime: 9, keepaliveTime: 3, routerID: '10.0.0.11', password: 'pw', ebgpMultiHop: true });
    const d = parseConfig(snap({ bgpPeers: [peer('r', { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', keepaliveTime: '10s' })] }));
    expect(d.peers[0]).toMatchObject({ holdTime: 30, keepaliveTime: 10, peerPort: 179 });
    const def = parseConfig(snap({ bgpPeers: [peer('r', { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1' })] }));
    expect(def.peers[0]).toMatchObject({ holdTime: 90, keepaliveTime: 30 });
  });

  it('reports each bad field by path', () => {
    const errs = errorsOf(() =>
      parseConfig(snap({ bgpPeers: [peer('bad', { myASN: 0, peerASN: 65000, peerAddress: '10.0.0.300', holdTime: '2s', routerID: 'fe80::1', ebgpMultiHop: false, vrf: 'red' })] })),
    );
    expect(errs.some((e) => e.includes('spec.vrf'))).toBe(false); // vrf is accepted since #11
    expect(errs).toContain('BGPPeer metallb-system/bad: spec.myASN: missing local ASN');
    expect(errs).toContain('BGPPeer metallb-system/bad: spec.peerAddress: invalid peer IP "10.0.0.300"');
    expect(errs).toContain('BGPPeer metallb-system/bad: spec.routerID: invalid router ID "fe80::1"');
    expect(errs).toContain('BGPPeer metallb-system/bad: spec.holdTime: invalid hold time 2s: must be 0 or >= 3s');
  });

  it('ebgpMultiHop on iBGP and keepalive > hold are errors', () => {
    const errs = errorsOf(() => parseConfig(snap({ bgpPeers: [peer('i', { myASN: 5, peerASN: 5, peerAddress: '10.0.0.1', ebgpMultiHop: true, holdTime: '9s', keepaliveTime: '10s' })] })));
    expect(errs).toContain('BGPPeer metallb-system/i: spec.ebgpMultiHop: invalid ebgpMultiHop parameter set for an ibgp peer');
    expect(errs).toContain('BGPPeer metallb-system/i: spec.keepaliveTime: keepalive 10s must be lower than the hold time 9s');
  });

  it('a missing BFDProfile reference is an error; an existing one is accepted', () => {
    expect(errorsOf(() => parseConfig(snap({ bgpPeers: [peer('p', { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', bfdProfile: 'fast' })] })))[0]).toContain('spec.bfdProfile: BFDProfile "fast" not found');
    const cfg = parseConfig(
      snap({ bfdProfiles: [{ kind: 'BFDProfile', metadata: { name: 'fast', namespace: NS }, spec: { receiveInterval: 50 } }], bgpPeers: [peer('p', { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', bfdProfile: 'fast' })] }),
    );
    expect(cfg.peers[0]!.bfdProfile).toBe('fast');
  });
});

describe('L2Advertisement', () => {
  it('resolves pools by name and selector; empty means all pools', () => {
    const pools = [pool('a', ['10.0.0.0/24'], {}, { tier: 'x' }), pool('b', ['10.0.1.0/24'])];
    const cfg = parseConfig(
      snap({
        pools,
        l2Advertisements: [
          { kind: 'L2Advertisement', metadata: { name: 'all', namespace: NS }, spec: {} },
          { kind: 'L2Advertisement', metadata: { name: 'sel', namespace: NS }, spec: { ipAddressPoolSelectors: [{ matchLabels: { tier: 'x' } }], interfaces: ['eth0'] } },
        ],
      }),
    );
    expect(cfg.l2Advertisements.map((a) => a.pools)).toEqual([['a', 'b'], ['a']]);
  });
});
