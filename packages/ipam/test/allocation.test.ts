import { describe, expect, it } from 'vitest';
import { Allocator, parseIP, type PoolSpec, type ServiceFamily, type IPFamilyPolicy } from '../src/index.js';
import { svc, tcp } from './helpers.js';

const inCidrs = (ip: string, cidrs: Array<[string, number]>) => {
  const p = parseIP(ip);
  return cidrs.some(([c, len]) => {
    const b = parseIP(c);
    const host = BigInt((b.family === 'ipv4' ? 32 : 128) - len);
    return b.family === p.family && (p.value >> host) === (b.value >> host);
  });
};

function capacityRound(a: Allocator, fam: ServiceFamily, alloc: (s: ReturnType<typeof svc>) => string[], expectIn: (ip: string) => boolean) {
  const mk = (n: string, o: Parameters<typeof svc>[2] = {}) => svc(n, fam, o);
  for (const n of ['s1', 's2', 's3', 's4']) {
    const ips = alloc(mk(n));
    expect(ips.length).toBe(fam === 'dual' ? 2 : 1);
    if (fam === 'dual') { expect(parseIP(ips[0]!).family).toBe('ipv4'); expect(parseIP(ips[1]!).family).toBe('ipv6'); }
    for (const ip of ips) expect(expectIn(ip), ip).toBe(true);
  }
  const all = ['s1', 's2', 's3', 's4'].flatMap((n) => a.ipsOf(`default/${n}`)!);
  expect(new Set(all).size).toBe(all.length);
  expect(() => alloc(mk('s5'))).toThrow();
  expect(() => alloc(mk('s6'))).toThrow();
  const former = a.ipsOf('default/s1')!;
  a.unassign('default/s1');
  expect(alloc(mk('s5'))).toEqual(former);
  expect(() => alloc(mk('s6'))).toThrow();
  a.unassign('default/s5');
  expect(alloc(mk('s5', { ports: [tcp(80)], sk: 'share' }))).toEqual(former);
  expect(() => alloc(mk('s6', { ports: [tcp(443)] }))).toThrow();
  expect(alloc(mk('s6', { ports: [tcp(443)], sk: 'share' }))).toEqual(former);
  for (const n of ['s1', 's2', 's3', 's4', 's5', 's6']) a.unassign(`default/${n}`);
}

describe('TestPoolAllocation (AllocateFromPool)', () => {
  const pools: PoolSpec[] = [
    { name: 'not_this_one', addresses: ['192.168.0.0/16'] },
    { name: 'test', addresses: ['1.2.3.4/31', '1.2.3.10/31', '1000::/127', '2000::/127'] },
    { name: 'test-v4', addresses: ['2.3.4.5/32'] },
    { name: 'test-v6', addresses: ['3000::1/128'] },
    { name: 'test-dualstack', addresses: ['4.5.6.7/32', '4000::1/128'] },
  ];
  const inTest = (ip: string) => inCidrs(ip, [['1.2.3.4', 31], ['1.2.3.10', 31], ['1000::', 127], ['2000::', 127]]);
  for (const fam of ['ipv4', 'ipv6', 'dual'] as const) {
    it(`${fam} round`, () => {
      const a = new Allocator(pools);
      capacityRound(a, fam, (s) => a.allocateFromPool(s, 'test'), inTest);
    });
  }
  it('PreferDualStack', () => {
    const a = new Allocator(pools);
    const p = (n: string) => svc(n, 'dual', { policy: 'PreferDualStack' as IPFamilyPolicy });
    expect(a.allocateFromPool(p('s1'), 'test')).toEqual(['1.2.3.4', '1000::']);
    expect(a.allocateFromPool(p('s2'), 'test-v4')).toEqual(['2.3.4.5']);
    expect(a.allocateFromPool(p('s3'), 'test-v6')).toEqual(['3000::1']);
    a.unassign('default/s2');
    a.unassign('default/s3');
    expect(a.allocateFromPool(p('s3'), 'test-dualstack')).toEqual(['4.5.6.7', '4000::1']);
    // an existing v6 allocation is kept under PreferDualStack
    a.assign(svc('s7', 'ipv6'), ['3000::1']);
    expect(a.allocateFromPool(p('s7'), 'test-dualstack')).toEqual(['3000::1']);
    expect(() => a.allocateFromPool(svc('s7', 'ipv4'), 'test')).toThrow('IP for wrong family assigned');
    expect(() => a.allocateFromPoolForAdditionalFamily(p('s7'), '3000::1', 'test-v6')).toThrow('no available IPs in pool "test-v6" for ipv4 IPFamily');
    expect(a.ipsOf('default/s7')).toEqual(['3000::1']);
    a.unassign('default/s3');
    a.assign(p('s8'), ['4000::1']);
    expect(a.allocateFromPoolForAdditionalFamily(p('s8'), '4000::1', 'test-dualstack')).toEqual(['4.5.6.7', '4000::1']);
    expect(a.ipsOf('default/s8')).toEqual(['4.5.6.7', '4000::1']);
    expect(a.poolOf('default/s8')).toBe('test-dualstack');
  });
  it('unknown pool', () => {
    const a = new Allocator(pools);
    expect(() => a.allocateFromPool(svc('s1', 'ipv4'), 'nonexistentpool')).toThrow('unknown pool "nonexistentpool"');
  });
});

describe('TestAllocation (Allocate)', () => {
  const pools: PoolSpec[] = [
    { name: 'test1', addresses: ['1.2.3.4/31', '1000::4/127'] },
    { name: 'test2', addresses: ['1.2.3.10/31', '1000::10/127'] },
  ];
  const inPools = (ip: string) => inCidrs(ip, [['1.2.3.4', 31], ['1.2.3.10', 31], ['1000::4', 127], ['1000::10', 127]]);
  for (const fam of ['ipv4', 'ipv6', 'dual'] as const) {
    it(`${fam} round`, () => {
      const a = new Allocator(pools);
      capacityRound(a, fam, (s) => a.allocate(s), inPools);
    });
  }
});

describe('TestBuggyIPs', () => {
  it('never hands out .0/.255 of avoidBuggyIPs pools', () => {
    const a = new Allocator([
      { name: 'test', addresses: ['1.2.3.0/31'] },
      { name: 'test2', addresses: ['1.2.3.254/31'] },
      { name: 'test3', addresses: ['1.2.4.0/31'], avoidBuggyIPs: true },
      { name: 'test4', addresses: ['1.2.4.254/31'], avoidBuggyIPs: true },
    ]);
    const got = ['s1', 's2', 's3', 's4', 's5', 's6'].map((n) => a.allocate(svc(n, 'ipv4'))[0]!);
    expect(got.sort()).toEqual(['1.2.3.0', '1.2.3.1', '1.2.3.254', '1.2.3.255', '1.2.4.1', '1.2.4.254']);
    expect(() => a.allocate(svc('s7', 'ipv4'))).toThrow('no available IPs');
  });
});

describe('TestConfigReload', () => {
  const base: PoolSpec[] = [{ name: 'test', addresses: ['1.2.3.0/30', '1000::/126'] }, { name: 'unused', addresses: ['5.6.7.0/24'] }];
  const cases: Array<[string, PoolSpec[], string | undefined, string | undefined]> = [
    ['set same config', base, 'test', 'test'],
    ['expand pool', [{ name: 'test', addresses: ['1.2.3.0/24', '1000::/120'] }], 'test', 'test'],
    ['shrink pool', [{ name: 'test', addresses: ['1.2.3.0/30', '1000::/126'] }], 'test', 'test'],
    ["can't shrink further", [{ name: 'test', addresses: ['1.2.3.2/31', '1000::/126'] }], undefined, 'test'],
    ["can't shrink further ipv6", [{ name: 'test', addresses: ['1.2.3.0/30', '1000::2/127'] }], 'test', undefined],
    ['rename the pool', [{ name: 'test2', addresses: ['1.2.3.0/30', '1000::/126'] }], 'test2', 'test2'],
    ['split pool', [{ name: 'test', addresses: ['1.2.3.0/31', '1000::2/127'] }, { name: 'test2', addresses: ['1.2.3.2/31', '1000::/127'] }], 'test', 'test2'],
    ['enable buggy IPs not allowed', [{ name: 'test2', addresses: ['1.2.3.0/31', '1000::/127'], avoidBuggyIPs: true }], undefined, 'test2'],
  ];
  for (const [name, next, p1, p2] of cases) {
    it(name, () => {
      const a = new Allocator(base);
      a.assign(svc('s1', 'ipv4'), ['1.2.3.0']);
      a.assign(svc('s2', 'ipv6'), ['1000::']);
      const r = a.setPools(next);
      expect(a.poolOf('default/s1')).toBe(p1);
      expect(a.poolOf('default/s2')).toBe(p2);
      expect(r.evicted.sort()).toEqual([p1 ? [] : ['default/s1'], p2 ? [] : ['default/s2']].flat());
      if (p1) expect(a.ipsOf('default/s1')).toEqual(['1.2.3.0']);
      if (!p1) expect(a.servicesOn('1.2.3.0')).toEqual([]);
    });
  }
  it('a rejected config keeps the previous pools', () => {
    const a = new Allocator(base);
    a.assign(svc('s1', 'ipv4'), ['1.2.3.0']);
    expect(() => a.setPools([{ name: 'x', addresses: ['1.2.3.0/24'] }, { name: 'y', addresses: ['1.2.3.128/25'] }])).toThrow('overlaps');
    expect(a.poolOf('default/s1')).toBe('test');
    expect(a.getPools().map((p) => p.name)).toEqual(['test', 'unused']);
  });
});

describe('TestAutoAssign', () => {
  for (const fam of ['ipv4', 'ipv6', 'dual'] as const) {
    it(fam, () => {
      const a = new Allocator([
        { name: 'test1', addresses: ['1.2.3.4/31', '1000::4/127'], autoAssign: false },
        { name: 'test2', addresses: ['1.2.3.10/31', '1000::10/127'] },
      ]);
      for (const n of ['s1', 's2']) {
        a.allocate(svc(n, fam));
        expect(a.poolOf(`default/${n}`)).toBe('test2');
      }
      for (const n of ['s3', 's4', 's5']) expect(() => a.allocate(svc(n, fam))).toThrow('no available IPs');
      // a manual IP from an autoAssign=false pool is fine
      expect(a.assign(svc('s6', 'ipv4'), ['1.2.3.4'])).toEqual(['1.2.3.4']);
    });
  }
});

describe('TestPoolCount / TestPoolMetrics', () => {
  const cap = (addresses: string[], avoidBuggyIPs = false) => {
    const s = new Allocator([{ name: 'p', addresses, avoidBuggyIPs }]).poolStats('p')!;
    return { v4: s.capacityIPv4, v6: s.capacityIPv6 };
  };
  it('capacity math', () => {
    expect(cap(['1.2.3.0/24']).v4).toBe(256n);
    expect(cap(['1.2.3.0/24', '2.3.4.128/25']).v4).toBe(384n);
    expect(cap(['1.2.3.0/24', '2.3.4.128/25'], true).v4).toBe(381n);
    expect(cap(['1.2.3.0/24', '2.3.4.128/25', '1000::/64'], true)).toEqual({ v4: 381n, v6: 1n << 64n });
    expect(cap(['1.2.3.0/31', '1000::/127'], true)).toEqual({ v4: 1n, v6: 2n });
    expect(cap(['10.0.0.0/8'], true).v4).toBe((1n << 24n) - 2n * 65536n);
  });
  it('in-use counts distinct IPs; counters reset after removal', () => {
    const a = new Allocator([{ name: 'p', addresses: ['1.2.3.4/30', '1000::4/126'] }]);
    expect(a.poolStats('p')).toMatchObject({ availableIPv4: 4n, availableIPv6: 4n, assignedIPv4: 0n });
    for (const [n, port] of [['a', 1], ['b', 2], ['c', 3]] as const) a.assign(svc(n, 'ipv4', { ports: [tcp(port)], sk: 'k' }), ['1.2.3.4']);
    expect(a.poolStats('p')).toMatchObject({ assignedIPv4: 1n, availableIPv4: 3n });
    a.unassign('default/a');
    a.unassign('default/b');
    expect(a.poolStats('p')!.assignedIPv4).toBe(1n);
    a.unassign('default/c');
    expect(a.poolStats('p')!.assignedIPv4).toBe(0n);
    a.assign(svc('d', 'ipv6'), ['1000::5']);
    expect(a.poolStats('p')).toMatchObject({ assignedIPv6: 1n, availableIPv6: 3n });
    a.setPools([]);
    expect(a.stats()).toEqual([]);
    expect(a.poolStats('p')).toBeUndefined();
    expect(a.ipsOf('default/d')).toBeUndefined();
  });
});

describe('priorities and selectors (controller_test.go pools)', () => {
  const team = { matchLabels: { team: 'metallb' } };
  const pools: PoolSpec[] = [
    { name: 'pool1', addresses: ['1.2.3.0/31'] },
    { name: 'pool2', addresses: ['3.4.5.6/32'], autoAssign: false },
    { name: 'pool3', addresses: ['1000::/127'] },
    { name: 'pool6', addresses: ['7.8.9.0/31'], serviceAllocation: { namespaces: ['test-ns1'], priority: 10 } },
    { name: 'pool7', addresses: ['10.11.12.0/31'], serviceAllocation: { namespaces: ['test-ns1'], priority: 11 } },
    { name: 'pool8', addresses: ['13.14.15.0/31'], serviceAllocation: { serviceSelectors: [team], priority: 9 } },
    { name: 'pool9', addresses: ['16.17.18.0/31'], serviceAllocation: { namespaces: ['test-ns2'] } },
    { name: 'pool10', addresses: ['19.20.21.0/31'], serviceAllocation: { serviceSelectors: [team], priority: 8 } },
    { name: 'pool11', addresses: ['22.23.24.0/31'], serviceAllocation: { namespaces: ['test-ns1'], serviceSelectors: [team], priority: 8 } },
    { name: 'pool12', addresses: ['25.26.27.0/31'], serviceAllocation: { namespaces: ['test-ns1'], serviceSelectors: [team], priority: 5 } },
  ];
  const cases: Array<[string, ReturnType<typeof svc>, string[]]> = [
    ['simple', svc('a', 'ipv4'), ['1.2.3.0']],
    ['namespace pool (prio 10 beats 11)', svc('a', 'ipv4', { ns: 'test-ns1' }), ['7.8.9.0']],
    ['PreferDualStack single-stack in test-ns1', svc('a', 'ipv4', { ns: 'test-ns1', policy: 'PreferDualStack' }), ['7.8.9.0']],
    ['no-priority namespace pool', svc('a', 'ipv4', { ns: 'test-ns2' }), ['16.17.18.0']],
    ['service label pool (prio 8 beats 9)', svc('a', 'ipv4', { labels: { team: 'metallb' } }), ['19.20.21.0']],
    ['namespace + label (prio 5)', svc('a', 'ipv4', { ns: 'test-ns1', labels: { team: 'metallb' } }), ['25.26.27.0']],
    ['v6', svc('a', 'ipv6'), ['1000::']],
  ];
  for (const [name, s, want] of cases) it(name, () => expect(new Allocator(pools).allocate(s)).toEqual(want));
  it('pinned pools are used before generic ones, then generic pools by name; selector pools never serve others', () => {
    const a = new Allocator([
      { name: 'b-generic', addresses: ['10.0.1.0/32'] },
      { name: 'a-generic', addresses: ['10.0.0.0/32'] },
      { name: 'pinned', addresses: ['10.0.2.0/32'], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }] } },
      { name: 'all', addresses: ['10.0.3.0/32'], serviceAllocation: { priority: 3 } },
    ]);
    expect(a.allocate(svc('w', 'ipv4', { labels: { tier: 'web' } }))).toEqual(['10.0.3.0']);
    expect(a.allocate(svc('w2', 'ipv4', { labels: { tier: 'web' } }))).toEqual(['10.0.2.0']);
    expect(a.allocate(svc('x', 'ipv4'))).toEqual(['10.0.0.0']);
    expect(a.allocate(svc('y', 'ipv4'))).toEqual(['10.0.1.0']);
    expect(() => a.allocate(svc('z', 'ipv4'))).toThrow('no available IPs');
  });
  it('dual-stack: RequireDualStack needs both families from one pool; PreferDualStack falls back to the primary', () => {
    const a = new Allocator([
      { name: 'v4', addresses: ['10.0.0.0/32'] },
      { name: 'v6', addresses: ['fd00::/128'] },
    ]);
    expect(() => a.allocate(svc('r', 'dual'))).toThrow('no available IPs');
    expect(a.allocate(svc('p', 'dual', { policy: 'PreferDualStack' }))).toEqual(['10.0.0.0']);
    expect(a.allocate({ ...svc('q', 'dual', { policy: 'PreferDualStack' }), primaryFamily: 'ipv6' })).toEqual(['fd00::']);
  });
});
