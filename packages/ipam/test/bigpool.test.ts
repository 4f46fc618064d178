import { describe, expect, it } from 'vitest';
import { Allocator, RunSet } from '../src/index.js';
import { svc, tcp } from './helpers.js';

describe('huge pools are never enumerated', () => {
  it('allocates 10k from a /64 lowest-first; held state stays one run', () => {
    const a = new Allocator([{ name: 'v6', addresses: ['2001:db8:1:2::/64'] }]);
    const N = 10_000;
    for (let i = 0; i < N; i++) expect(a.allocate(svc(`s${i}`, 'ipv6')), `s${i}`).toEqual([`2001:db8:1:2::${i === 0 ? '' : i.toString(16)}`]);
    expect(a.heldRuns()).toEqual({ ipv4: 0, ipv6: 1 });
    const st = a.poolStats('v6')!;
    expect(st.assignedIPv6).toBe(BigInt(N));
    expect(st.availableIPv6).toBe((1n << 64n) - BigInt(N));
    // free a hole in the middle: it is reused first, and the structure has 2 runs while it is open
    a.unassign('default/s5000');
    expect(a.heldRuns().ipv6).toBe(2);
    expect(a.allocate(svc('again', 'ipv6'))).toEqual(['2001:db8:1:2::1388']);
    expect(a.heldRuns().ipv6).toBe(1);
  });

  it('a request at the top of a /64 and a /8 works without walking the range', () => {
    const a = new Allocator([{ name: 'v6', addresses: ['fd00::/64'] }, { name: 'v4', addresses: ['10.0.0.0/8'], avoidBuggyIPs: true }]);
    expect(a.assign(svc('top', 'ipv6'), ['fd00::ffff:ffff:ffff:ffff'])).toEqual(['fd00::ffff:ffff:ffff:ffff']);
    expect(a.assign(svc('top4', 'ipv4'), ['10.255.255.254'])).toEqual(['10.255.255.254']);
    expect(a.allocate(svc('low', 'ipv6'))).toEqual(['fd00::']);
    expect(a.allocate(svc('low4', 'ipv4'))).toEqual(['10.0.0.1']);
    expect(a.heldRuns()).toEqual({ ipv4: 2, ipv6: 2 });
    expect(a.poolStats('v4')!.availableIPv4).toBe((1n << 24n) - 2n * 65536n - 2n);
  });

  it('allocates 10k from a /8 with avoidBuggyIPs, skipping .0 and .255 across /24 boundaries', () => {
    const a = new Allocator([{ name: 'big', addresses: ['10.0.0.0/8'], avoidBuggyIPs: true }]);
    let prev = -1;
    for (let i = 0; i < 10_000; i++) {
      const [ip] = a.allocate(svc(`s${i}`, 'ipv4'));
      const o = ip!.split('.').map(Number);
      expect(o[3] === 0 || o[3] === 255, ip).toBe(false);
      const v = ((o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
    expect(a.ipsOf('default/s9999')).toEqual([`10.0.39.${9999 - 39 * 254 + 1}`]);
    // runs are broken only at the skipped buggy addresses: one per /24 touched
    expect(a.heldRuns().ipv4).toBe(40);
  });

  it('sharing services co-locate on the lowest compatible IP of a /64', () => {
    const a = new Allocator([{ name: 'v6', addresses: ['fd00::/64'] }]);
    const first = a.allocate(svc('a', 'ipv6', { ports: [tcp(80)], sk: 'k' }));
    expect(a.allocate(svc('b', 'ipv6', { ports: [tcp(443)], sk: 'k' }))).toEqual(first);
    expect(a.allocate(svc('c', 'ipv6', { ports: [tcp(80)], sk: 'k' }))).toEqual(['fd00::1']);
    expect(a.allocate(svc('d', 'ipv6', { ports: [tcp(80)] }))).toEqual(['fd00::2']);
    expect(a.servicesOn('fd00::')).toEqual(['default/a', 'default/b']);
  });

  it('RunSet merges and splits runs', () => {
    const r = new RunSet();
    for (const x of [5n, 7n, 6n, 1n]) r.add(x);
    expect(r.runCount).toBe(2);
    expect(r.nextFree(5n)).toBe(8n);
    expect(r.nextFree(2n)).toBe(2n);
    r.delete(6n);
    expect(r.runCount).toBe(3);
    expect(r.has(6n)).toBe(false);
    expect(r.has(7n)).toBe(true);
  });
});
