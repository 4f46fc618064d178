import { describe, expect, it } from 'vitest';
import { Allocator, parsePools, type PoolSpec } from '../src/index.js';
import { svc, tcp, udp } from './helpers.js';

const specs: PoolSpec[] = [
  { name: 'test', addresses: ['1.2.3.4/31', '1000::4/127'] },
  { name: 'test2', addresses: ['1.2.4.0/24', '1000::4:0/120'], avoidBuggyIPs: true },
  { name: 'test3', addresses: ['1.2.5.0/24', '1000::5:0/120'], avoidBuggyIPs: true, serviceAllocation: { namespaces: ['test-ns1'] } },
  { name: 'test4', addresses: ['1.2.6.0/24', '1000::6:0/120'], avoidBuggyIPs: true, serviceAllocation: { serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } },
  { name: 'test5', addresses: ['1.2.7.0/24', '1000::7:0/120'], serviceAllocation: { priority: 20, namespaces: ['test-ns1'], serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } },
  { name: 'test6', addresses: ['1.2.8.0/24', '1000::9:0/120'], serviceAllocation: { priority: 20, namespaces: ['test-ns2'], serviceSelectors: [{ matchLabels: { foo: 'bar' } }] } },
];

describe('TestAssignment (MetalLB allocator_test.go)', () => {
  it('runs the sequence for IPv4, IPv6, dual-stack and pool compatibility', () => {
    const pools = parsePools(specs);
    const snapshot = JSON.stringify(pools, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Set ? [...v] : v));
    const a = new Allocator(pools);
    type Step = [string, string, string[], boolean, { ports?: ReturnType<typeof tcp>[]; sk?: string; bk?: string; ns?: string; labels?: Record<string, string> }?];
    const seq = (fam: 'ipv4' | 'ipv6', base: string[], buggy: boolean): Step[] => {
      const [x, y, z, shared, free] = base as [string, string, string, string, string];
      const steps: Step[] = [
        ['assign s1', 's1', [x], true], ['s1 idempotent reassign', 's1', [x], true], ["s2 can't grab s1's IP", 's2', [x], false],
        ['s2 can get the other IP', 's2', [y], true], ["s1 now can't grab s2's IP", 's1', [y], false], ['s1 frees its IP', 's1', [], true],
        ["s2 can grab s1's former IP", 's2', [x], true], ["s1 can now grab s2's former IP", 's1', [y], true],
      ];
      if (buggy) steps.push(['s3 cannot grab a 0 buggy IP', 's3', ['1.2.4.0'], false], ['s3 cannot grab a 255 buggy IP', 's3', ['1.2.4.255'], false]);
      steps.push(
        ['s3 can grab another IP in that pool', 's3', [z], true],
        ['s4 takes an IP, with sharing', 's4', [shared], true, { ports: [tcp(80)], sk: 'sharing', bk: 'backend' }],
        ['s4 changes its sharing key in place', 's4', [shared], true, { ports: [tcp(80)], sk: 'share', bk: 'backend' }],
        ["s3 can't share with s4 (port conflict)", 's3', [shared], false, { ports: [tcp(80)], sk: 'share', bk: 'backend' }],
        ["s3 can't share with s4 (wrong sharing key)", 's3', [shared], false, { ports: [tcp(443)], sk: 'othershare', bk: 'backend' }],
        ["s3 can't share with s4 (wrong backend key)", 's3', [shared], false, { ports: [tcp(443)], sk: 'share', bk: 'otherbackend' }],
        ['s3 takes the same IP as s4', 's3', [shared], true, { ports: [tcp(443)], sk: 'share', bk: 'backend' }],
        ['s3 can change its ports while keeping the same IP', 's3', [shared], true, { ports: [udp(53)], sk: 'share', bk: 'backend' }],
        ["s3 can't change its sharing key while keeping the same IP", 's3', [shared], false, { ports: [udp(53)], sk: 'othershare', bk: 'backend' }],
        ["s3 can't change its backend key while keeping the same IP", 's3', [shared], false, { ports: [udp(53)], sk: 'share', bk: 'otherbackend' }],
        ["s4 takes s3's former IP", 's4', [free], true, { ports: [tcp(80)], sk: 'share', bk: 'backend' }],
      );
      void fam;
      return steps;
    };
    const run = (steps: Step[], fam: 'ipv4' | 'ipv6' | 'dual') => {
      for (const [desc, name, ips, ok, o] of steps) {
        const s = svc(name, fam, { ...(o ?? {}) });
        if (ips.length === 0) { a.unassign(s.key); expect(a.ipsOf(s.key), desc).toBeUndefined(); continue; }
        const before = a.ipsOf(s.key);
        if (ok) {
          expect(() => a.assign(s, ips), desc).not.toThrow();
          expect(a.ipsOf(s.key), desc).toEqual(ips);
        } else {
          expect(() => a.assign(s, ips), desc).toThrow();
          expect(a.ipsOf(s.key), desc).toEqual(before);
        }
        expect(JSON.stringify(pools, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Set ? [...v] : v))).toBe(snapshot);
      }
    };
    run(seq('ipv4', ['1.2.3.4', '1.2.3.5', '1.2.4.254', '1.2.4.3', '1.2.4.254'], true), 'ipv4');
    for (const k of ['s1', 's2', 's3', 's4']) a.unassign(`default/${k}`);
    run(seq('ipv6', ['1000::4', '1000::5', '1000::4:ff', '1000::4:3', '1000::4:ff'], false), 'ipv6');
    for (const k of ['s1', 's2', 's3', 's4']) a.unassign(`default/${k}`);
    run([
      ['ip dual-stack assign s1', 's1', ['1.2.3.4', '1000::4'], true],
      ['ip dual-stack assign s1 from different pools', 's1', ['1.2.4.5', '1000::4'], false],
    ], 'dual');
    run([
      ['pinned on same namespace', 's5', ['1.2.5.10'], true, { ns: 'test-ns1' }],
      ['pinned on different namespace', 's6', ['1.2.5.11'], false, { ns: 'test-ns2' }],
      ['pinned with same service label', 's7', ['1.2.6.10'], true, { labels: { team: 'metallb' } }],
      ['pinned with different service label', 's8', ['1.2.6.11'], false, { labels: { team: 'red' } }],
      ['pinned with namespace and service label', 's9', ['1.2.7.10'], true, { ns: 'test-ns1', labels: { team: 'metallb' } }],
      ['pinned with namespace and incompatible service label', 's10', ['1.2.8.10'], false, { ns: 'test-ns2', labels: { team: 'metallb' } }],
      ['pinned with service label and incompatible namespace', 's11', ['1.2.8.10'], false, { ns: 'test-ns1', labels: { foo: 'bar' } }],
    ], 'ipv4');
  });

  it('reports MetalLB error texts', () => {
    const a = new Allocator(specs);
    a.assign(svc('s1', 'ipv4', { ports: [tcp(80)], sk: 'k' }), ['1.2.3.4']);
    expect(() => a.assign(svc('s2', 'ipv4', { ports: [tcp(80)], sk: 'k' }), ['1.2.3.4'])).toThrow('port TCP/80 is already in use on "1.2.3.4"');
    expect(() => a.assign(svc('s2', 'ipv4', { ports: [tcp(81)] }), ['1.2.3.4'])).toThrow(`can't change sharing key for "default/s2", address also in use by default/s1`);
    expect(() => a.assign(svc('s2', 'ipv4'), ['9.9.9.9'])).toThrow('["9.9.9.9"] is not allowed in config');
    expect(() => a.assign(svc('s2', 'ipv4'), ['1.2.4.0'])).toThrow('is not allowed in config');
    expect(() => a.assign(svc('s2', 'ipv4'), ['1.2.3.5', '1.2.4.1'])).toThrow('same address family');
    expect(() => a.assign(svc('s2', 'ipv4'), ['nope'])).toThrow('invalid IP');
    expect(a.servicesOn('1.2.3.4')).toEqual(['default/s1']);
  });
});
