/** Issue #2 audit: behaviours the issue names that the MetalLB ports above do not pin down on their own. */
import { describe, expect, it } from 'vitest';
import { Allocator, parsePools, type PoolSpec } from '../src/index.js';
import { configError, svc, tcp } from './helpers.js';

describe('bad input names the pool and the value', () => {
  const bad: Array<[string, string]> = [
    ['malformed CIDR', '10.0.0.0/33'],
    ['malformed IPv6 CIDR', 'fd00::/129'],
    ['garbage', 'not-an-address'],
    ['CIDR without length', '10.0.0.0/'],
    ['reversed range', '10.0.0.9 - 10.0.0.1'],
    ['reversed IPv6 range', 'fd00::9-fd00::1'],
    ['wrong family (mixed range)', '10.0.0.1-fd00::1'],
    ['bad range end', '10.0.0.1-10.0.0.300'],
  ];
  for (const [what, value] of bad) {
    it(what, () => {
      const e = configError(() => parsePools([{ name: 'ok', addresses: ['192.168.0.0/24'] }, { name: 'web-pool', addresses: ['172.16.0.0/24', value] }]));
      expect(e).toMatchObject({ pool: 'web-pool', field: 'addresses', value });
      expect(e.message).toContain('"web-pool"');
      expect(e.message).toContain(JSON.stringify(value));
    });
  }
  it('overlaps across pools name both pools and both values (equal, contained, containing, IPv6)', () => {
    const cases: Array<[string, string]> = [['10.0.0.0/24', '10.0.0.0/24'], ['10.0.0.0/16', '10.0.3.7 - 10.0.3.9'], ['10.0.3.0/24', '10.0.0.0/16'], ['fd00::/64', 'fd00::ffff/128']];
    for (const [first, second] of cases) {
      const e = configError(() => parsePools([{ name: 'first-pool', addresses: [first] }, { name: 'second-pool', addresses: [second] }]));
      expect(e).toMatchObject({ pool: 'second-pool', value: second });
      for (const s of ['"first-pool"', '"second-pool"', JSON.stringify(first), JSON.stringify(second)]) expect(e.message, `${first} vs ${second}`).toContain(s);
    }
  });
  it('a config rejected by setPools leaves allocations and pools as they were', () => {
    const a = new Allocator([{ name: 'p', addresses: ['10.0.0.0/30'] }]);
    a.allocate(svc('x', 'ipv4'));
    const e = configError(() => a.setPools([{ name: 'p', addresses: ['10.0.0.0/30'] }, { name: 'q', addresses: ['10.0.0.5 - 10.0.0.1'] }]));
    expect(e.pool).toBe('q');
    expect(a.ipsOf('default/x')).toEqual(['10.0.0.0']);
    expect(a.getPools().map((p) => p.name)).toEqual(['p']);
  });
});

describe('re-validation when pools change', () => {
  const base: PoolSpec[] = [
    { name: 'a-v4', addresses: ['10.0.0.0/29'] },
    { name: 'b-dual', addresses: ['10.1.0.0/30', 'fd00:1::/126'] },
  ];
  it('keeps valid assignments untouched, reports evictions and moves, frees evicted IPs and recounts', () => {
    const a = new Allocator(base);
    const keep = a.allocate(svc('keep', 'ipv4', { ports: [tcp(80)], sk: 'k' }));
    const share = a.allocate(svc('share', 'ipv4', { ports: [tcp(443)], sk: 'k' }));
    expect(share).toEqual(keep);
    const gone = a.assign(svc('gone', 'ipv4'), ['10.0.0.6']);
    const dual = a.allocate(svc('d', 'dual'));
    expect(dual).toEqual(['10.1.0.0', 'fd00:1::']);
    // a-v4 shrinks to 10.0.0.0/30 (drops .6); the dual pool is split into a v4 half and a renamed v6 half.
    const r = a.setPools([
      { name: 'a-v4', addresses: ['10.0.0.0/30'] },
      { name: 'b-dual-v4', addresses: ['10.1.0.0/30'] },
      { name: 'b-dual-v6', addresses: ['fd00:1::/126'] },
    ]);
    expect(r.evicted.sort()).toEqual(['default/d', 'default/gone']);
    expect([...r.moved]).toEqual([]);
    expect(a.ipsOf('default/keep')).toEqual(keep);
    expect(a.servicesOn(keep[0]!)).toEqual(['default/keep', 'default/share']);
    expect(a.keysOf('default/share')).toEqual({ sharingKey: 'k', backendKey: '' });
    expect(a.ipsOf('default/gone')).toBeUndefined();
    expect(a.servicesOn(gone[0]!)).toEqual([]);
    expect(a.poolStats('a-v4')).toMatchObject({ assignedIPv4: 1n, availableIPv4: 3n });
    expect(a.poolStats('b-dual-v4')).toMatchObject({ assignedIPv4: 0n });
    // the evicted dual IPs are free again: the lowest-free choice hands them out first
    expect(a.allocate(svc('again', 'ipv6'))).toEqual(['fd00:1::']);
    // a rename is reported as a move, not an eviction, and the IP stays
    const r2 = a.setPools([{ name: 'renamed', addresses: ['10.0.0.0/30'] }, { name: 'b-dual-v6', addresses: ['fd00:1::/126'] }]);
    expect(r2.evicted).toEqual([]);
    expect(Object.fromEntries(r2.moved)).toEqual({ 'default/keep': 'renamed', 'default/share': 'renamed' });
    expect(a.poolOf('default/keep')).toBe('renamed');
    expect(a.ipsOf('default/share')).toEqual(keep);
    expect(a.poolStats('renamed')).toMatchObject({ assignedIPv4: 1n });
    expect(a.poolStats('a-v4')).toBeUndefined();
    // the held IP stays protected after the move: a non-sharing service cannot take it
    expect(() => a.assign(svc('thief', 'ipv4'), keep)).toThrow(`can't change sharing key`);
  });
});

describe('memory grows with allocations, not with pool size', () => {
  // Same operations in pools of 2^8, 2^24 and 2^64 addresses: the held-address structure is identical
  // (the structural measure the allocator exposes), and it empties when everything is released.
  const run = (addresses: string[], fam: 'ipv4' | 'ipv6') => {
    const a = new Allocator([{ name: 'p', addresses }]);
    for (let i = 0; i < 200; i++) a.allocate(svc(`s${i}`, fam));
    for (let i = 0; i < 200; i += 3) a.unassign(`default/s${i}`);
    const runs = a.heldRuns()[fam];
    const first = a.ipsOf('default/s1')!;
    for (let i = 0; i < 200; i++) a.unassign(`default/s${i}`);
    return { runs, first, after: a.heldRuns()[fam], services: a.services().length };
  };
  it('IPv6 /120, /64 and /8 give the same structure', () => {
    const small = run(['fd00::/120'], 'ipv6');
    // 200 lowest-first addresses, every third released (i = 0, 3, …, 198): held runs are {1,2}, {4,5}, …,
    // {196,197} (66 pairs) and {199}, i.e. 67 runs; s0's address (the pool's first) is free again.
    expect(small.runs).toBe(67);
    expect(run(['fd00::/64'], 'ipv6')).toEqual(small);
    expect(run(['fd00::/8'], 'ipv6')).toEqual(small);
    expect(small).toMatchObject({ after: 0, services: 0, first: ['fd00::1'] });
  });
  it('IPv4 /24 and /8 give the same structure', () => {
    const small = run(['10.0.0.0/24'], 'ipv4');
    expect(run(['10.0.0.0/8'], 'ipv4')).toEqual(small);
    expect(small).toMatchObject({ runs: 67, after: 0, first: ['10.0.0.1'] });
  });
});

describe('sharing through automatic allocation', () => {
  it('Local-policy services co-locate only with the same backend key; the same port forces a new IP', () => {
    const a = new Allocator([{ name: 'p', addresses: ['10.0.0.0/29'] }]);
    const web = a.allocate(svc('web', 'ipv4', { ports: [tcp(80)], sk: 'k', bk: 'app=web' }));
    expect(a.allocate(svc('web-tls', 'ipv4', { ports: [tcp(443)], sk: 'k', bk: 'app=web' }))).toEqual(web);
    expect(a.allocate(svc('db', 'ipv4', { ports: [tcp(5432)], sk: 'k', bk: 'app=db' }))).toEqual(['10.0.0.1']);
    expect(a.allocate(svc('cluster', 'ipv4', { ports: [tcp(8080)], sk: 'k' }))).toEqual(['10.0.0.2']);
    expect(a.allocate(svc('web2', 'ipv4', { ports: [tcp(80)], sk: 'k', bk: 'app=web' }))).toEqual(['10.0.0.3']);
    expect(a.servicesOn(web[0]!)).toEqual(['default/web', 'default/web-tls']);
  });
});
