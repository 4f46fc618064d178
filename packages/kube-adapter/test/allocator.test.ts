/** IpamAllocator (the IpAllocator façade over @lbkit/ipam): lowest-free allocation, reuse after release, avoidBuggyIPs, capacity counters (MetalLB TestPoolCount). */
import { describe, expect, it } from 'vitest';
import { IpamAllocator } from '../src/adapters/ipam-allocator.js';
import type { AllocRequest, IpAllocator } from '../src/allocator.js';
import { parseConfig } from '../src/config.js';
import { pool, snap } from './helpers.js';

const req = (key: string, over: Partial<AllocRequest> = {}): AllocRequest => ({ key, namespace: 'default', labels: {}, family: 'ipv4', policy: 'SingleStack', primary: 'ipv4', ports: [{ protocol: 'TCP', port: 80 }], sharingKey: '', backendKey: '', ...over });

function alloc(pools: ReturnType<typeof pool>[]): IpAllocator {
  const a: IpAllocator = new IpamAllocator();
  a.setPools([...parseConfig(snap({ pools })).pools.values()]);
  return a;
}

describe('IpamAllocator', () => {
  it('always hands out the lowest free address, also after releases', () => {
    const a = alloc([pool('p', ['10.0.0.0/28'])]);
    const got = Array.from({ length: 10 }, (_, i) => a.allocate(req(`s${i}`))[0]);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`));
    a.unassign('s3');
    a.unassign('s7');
    expect(a.allocate(req('x'))).toEqual(['10.0.0.3']);
    expect(a.allocate(req('y'))).toEqual(['10.0.0.7']);
    expect(a.allocate(req('z'))).toEqual(['10.0.0.10']);
    // a sharing service lands on the first compatible shared IP, below the cursor
    const b = alloc([pool('p', ['10.0.0.0/30'])]);
    b.allocate(req('a', { sharingKey: 'k' }));
    b.allocate(req('b'));
    expect(b.allocate(req('c', { sharingKey: 'k', ports: [{ protocol: 'TCP', port: 443 }] }))).toEqual(['10.0.0.0']);
  });

  it('TestBuggyIPs: .0/.255 never handed out from avoidBuggyIPs pools', () => {
    const a = alloc([pool('t1', ['1.2.3.0/31']), pool('t2', ['1.2.3.254/31']), pool('t3', ['1.2.4.0/31'], { avoidBuggyIPs: true }), pool('t4', ['1.2.4.254/31'], { avoidBuggyIPs: true })]);
    const got = Array.from({ length: 6 }, (_, i) => a.allocate(req(`s${i}`))[0]).sort();
    expect(got).toEqual(['1.2.3.0', '1.2.3.1', '1.2.3.254', '1.2.3.255', '1.2.4.1', '1.2.4.254']);
    expect(() => a.allocate(req('s7'))).toThrow('no available IPs');
  });

  it('TestPoolCount capacity math', () => {
    const total = (pools: ReturnType<typeof pool>[]) => alloc(pools).stats()[0]!;
    expect(total([pool('p', ['1.2.3.0/24'])]).total).toBe(256);
    expect(total([pool('p', ['1.2.3.0/24', '2.3.4.128/25'])]).total).toBe(384);
    expect(total([pool('p', ['1.2.3.0/24', '2.3.4.128/25'], { avoidBuggyIPs: true })]).total).toBe(381);
    expect(total([pool('p', ['1.2.3.0/31', '1000::/127'], { avoidBuggyIPs: true })])).toMatchObject({ total: 3, ipv4Total: 1, ipv6Total: 2 });
  });

  it('TestPoolMetrics: in-use counts distinct IPs (sharing counts once)', () => {
    const a = alloc([pool('p', ['1.2.3.4/30', '1000::4/126'])]);
    for (const [i, port] of [80, 81, 82].entries()) a.assign(req(`s${i}`, { sharingKey: 'k', ports: [{ protocol: 'TCP', port }] }), ['1.2.3.4']);
    expect(a.stats()[0]).toMatchObject({ total: 8, inUse: 1, services: 3 });
    a.unassign('s0');
    a.unassign('s1');
    expect(a.stats()[0]).toMatchObject({ inUse: 1 });
    a.unassign('s2');
    expect(a.stats()[0]).toMatchObject({ inUse: 0 });
  });
});
