/**
 * Controller conformance: MetalLB's TestControllerMutation cases (controller/controller_test.go,
 * research §1.11), TestControllerConfig, TestDeleteRecyclesIP, TestControllerReassign and
 * restart without churn. Runs against the production allocator (@lbkit/ipam through the façade).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { Controller } from '../src/controller.js';
import { MemoryEventRecorder } from '../src/events.js';
import { IpamAllocator } from '../src/adapters/ipam-allocator.js';
import type { IpAllocator } from '../src/allocator.js';

const ALLOCATORS: Array<[string, () => IpAllocator]> = [
  ['@lbkit/ipam', () => new IpamAllocator()],
];
import type { IPAddressPool, Service } from '../src/types.js';
import { pool, snap, svc } from './helpers.js';

/** Builds a config without the overlap check (pool5 overlaps pool1 in MetalLB's test). */
function cfgNoOverlapCheck(pools: IPAddressPool[]): Config {
  const base = parseConfig(snap({ pools: [] }));
  for (const p of pools) {
    const one = parseConfig(snap({ pools: [p] }));
    base.pools.set(p.metadata!.name!, one.pools.get(p.metadata!.name!)!);
  }
  return base;
}

const POOLS = [
  pool('pool1', ['1.2.3.0/31']),
  pool('pool2', ['3.4.5.6/32'], { autoAssign: false }),
  pool('pool3', ['1000::/127']),
  pool('pool4', ['2000::1/128'], { autoAssign: false }),
  pool('pool5', ['1.2.3.0/31', '1000::/127']),
  pool('pool6', ['7.8.9.0/31'], { serviceAllocation: { priority: 10, namespaces: ['test-ns1'] } }),
  pool('pool7', ['10.11.12.0/31'], { serviceAllocation: { priority: 11, namespaces: ['test-ns1'] } }),
  pool('pool8', ['13.14.15.0/31'], { serviceAllocation: { priority: 9, serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } }),
  pool('pool9', ['16.17.18.0/31'], { serviceAllocation: { namespaces: ['test-ns2'] } }),
  pool('pool10', ['19.20.21.0/31'], { serviceAllocation: { priority: 8, serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } }),
  pool('pool11', ['22.23.24.0/31'], { serviceAllocation: { priority: 8, namespaces: ['test-ns1'], serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } }),
  pool('pool12', ['25.26.27.0/31'], { serviceAllocation: { priority: 5, namespaces: ['test-ns1'], serviceSelectors: [{ matchLabels: { team: 'metallb' } }] } }),
];

const V4 = { clusterIPs: ['1.2.3.4'] };
const V6 = { clusterIPs: ['3000::1'] };
const DUAL = { clusterIPs: ['1.2.3.4', '3000::1'] };
const ANN_IPS = 'metallb.io/loadBalancerIPs';
const ANN_POOL = 'metallb.io/address-pool';

interface Case {
  name: string;
  in: Service | null;
  /** expected ingress IPs; null = no mutation at all; [] = status cleared */
  want: string[] | null;
  warn?: boolean;
}

const CASES: Case[] = [
  { name: 'deleted balancer', in: null, want: null },
  { name: 'simple non-LoadBalancer', in: svc('test', { ...V4, type: 'ClusterIP' }), want: null },
  { name: 'simple LoadBalancer', in: svc('test', V4), want: ['1.2.3.0'] },
  { name: 'request specific IP', in: svc('test', { ...V4, lbIP: '1.2.3.1' }), want: ['1.2.3.1'] },
  { name: 'request specific IP via custom annotation', in: svc('test', { ...V4, annotations: { [ANN_IPS]: '1.2.3.1' } }), want: ['1.2.3.1'] },
  { name: 'both spec.loadBalancerIP and annotation', in: svc('test', { ...V4, lbIP: '1.2.3.1', annotations: { [ANN_IPS]: '1.2.3.1' } }), want: null, warn: true },
  { name: 'request invalid IP', in: svc('test', { ...V4, lbIP: 'please sir may I have an IP' }), want: null, warn: true },
  { name: 'incompatible ip and address pool annotations', in: svc('test', { ...V4, lbIP: '1.2.3.1', annotations: { [ANN_POOL]: 'pool2' } }), want: null, warn: true },
  { name: 'invalid IP via annotation', in: svc('test', { ...V4, annotations: { [ANN_IPS]: 'invalid' } }), want: null, warn: true },
  { name: 'two IPs of same family via annotation', in: svc('test', { ...V4, annotations: { [ANN_IPS]: '1.2.3.0,1.2.3.1' } }), want: null, warn: true },
  { name: 'request infeasible IP', in: svc('test', { ...V4, lbIP: '1.2.3.4', ingress: ['1.2.3.1'] }), want: [], warn: true },
  { name: 'request IP from specific pool', in: svc('test', { ...V4, annotations: { [ANN_POOL]: 'pool1' } }), want: ['1.2.3.0'] },
  { name: 'switch to a different specific pool', in: svc('test', { ...V4, annotations: { [ANN_POOL]: 'pool2' }, ingress: ['1.2.3.0'] }), want: ['3.4.5.6'] },
  { name: 'unknown pool requested', in: svc('test', { ...V4, annotations: { [ANN_POOL]: 'does-not-exist' } }), want: null, warn: true },
  { name: 'invalid IP assigned', in: svc('test', { ...V4, ingress: ['2.3.4.5'] }), want: ['1.2.3.0'] },
  { name: 'invalid ingress state', in: svc('test', { ...V4, ingress: ['host:foo.example', '10.10.10.10'] }), want: ['1.2.3.0'] },
  { name: 'former LoadBalancer, now NodePort', in: svc('test', { ...V4, type: 'NodePort', ingress: ['1.2.3.0'] }), want: [] },
  { name: 'request layer2 service', in: svc('test', { ...V4, lbIP: '3.4.5.6' }), want: ['3.4.5.6'] },
  { name: 'Layer2 service with local traffic policy', in: svc('test', { ...V4, lbIP: '3.4.5.6', etp: 'Local', selector: { app: 'x' } }), want: ['3.4.5.6'] },
  { name: 'No ClusterIP', in: svc('test', { clusterIPs: [] }), want: null, warn: false },
  { name: 'request IP from wrong ip-family (v4 IP, v6 cluster)', in: svc('test', { ...V6, lbIP: '1.2.3.1' }), want: null, warn: true },
  { name: 'request IP from wrong ip-family (v4 IP, v6 cluster) via annotation', in: svc('test', { ...V6, annotations: { [ANN_IPS]: '1.2.3.1' } }), want: null, warn: true },
  { name: 'request IP from wrong ip-family (v6 IP, v4 cluster)', in: svc('test', { ...V4, lbIP: '1000::' }), want: null, warn: true },
  { name: 'request IP from wrong ip-family (v6 IP, v4 cluster) via annotation', in: svc('test', { ...V4, annotations: { [ANN_IPS]: '1000::' } }), want: null, warn: true },
  { name: 'IP from wrong family (v6) assigned on v4 service', in: svc('test', { ...V4, ingress: ['1000::'] }), want: ['1.2.3.0'] },
  { name: 'IP from wrong family (v4) assigned on v6 service', in: svc('test', { ...V6, ingress: ['1.2.3.0'] }), want: ['1000::'] },
  { name: 'simple dual-stack LoadBalancer', in: svc('test', { ...DUAL, policy: 'RequireDualStack' }), want: ['1.2.3.0', '1000::'] },
  { name: 'request IPs from specific pool (dual)', in: svc('test', { ...DUAL, policy: 'RequireDualStack', annotations: { [ANN_POOL]: 'pool5' } }), want: ['1.2.3.0', '1000::'] },
  { name: 'dual-stack with PreferDualStack', in: svc('test', { ...DUAL, policy: 'PreferDualStack' }), want: ['1.2.3.0', '1000::'] },
  { name: 'single-stack PreferDualStack in test-ns1', in: svc('test', { ...V4, ns: 'test-ns1', policy: 'PreferDualStack' }), want: ['7.8.9.0'] },
  { name: 'PreferDualStack, pool5, dual clusterIPs', in: svc('test', { ...DUAL, policy: 'PreferDualStack', annotations: { [ANN_POOL]: 'pool5' } }), want: ['1.2.3.0', '1000::'] },
  { name: 'PreferDualStack, single-stack v4 pool1, dual clusterIPs', in: svc('test', { ...DUAL, policy: 'PreferDualStack', annotations: { [ANN_POOL]: 'pool1' } }), want: ['1.2.3.0'] },
  { name: 'PreferDualStack, v6 pool3, v6 clusterIP', in: svc('test', { ...V6, policy: 'PreferDualStack', annotations: { [ANN_POOL]: 'pool3' } }), want: ['1000::'] },
  { name: 'PreferDualStack, pool5, single v4 clusterIP', in: svc('test', { ...V4, policy: 'PreferDualStack', annotations: { [ANN_POOL]: 'pool5' } }), want: ['1.2.3.0'] },
  { name: 'RequireDualStack with single clusterIP', in: svc('test', { ...V4, policy: 'RequireDualStack' }), want: null, warn: true },
  { name: 'specific spec.loadBalancerIP on dual service', in: svc('test', { ...DUAL, policy: 'RequireDualStack', lbIP: '1.2.3.0' }), want: null, warn: true },
  { name: 'annotation single IPv4 on dual service', in: svc('test', { ...DUAL, policy: 'RequireDualStack', annotations: { [ANN_IPS]: '1.2.3.0' } }), want: null, warn: true },
  { name: 'dual annotation (RequireDualStack)', in: svc('test', { ...DUAL, policy: 'RequireDualStack', annotations: { [ANN_IPS]: '1.2.3.0,1000::' } }), want: ['1.2.3.0', '1000::'] },
  { name: 'dual service, invalid ingress, v6-first clusterIPs', in: svc('test', { clusterIPs: ['3000::1', '5.6.7.8'], policy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'], ingress: ['host:foo', '1000::'] }), want: ['1.2.3.0', '1000::'] },
  { name: 'dual annotation on single-stack cluster', in: svc('test', { ...V4, annotations: { [ANN_IPS]: '1.2.3.0,1000::' } }), want: null, warn: true },
  { name: 'namespace-specific pool', in: svc('test', { ...V4, ns: 'test-ns1' }), want: ['7.8.9.0'] },
  { name: 'no-priority namespace pool', in: svc('test', { ...V4, ns: 'test-ns2' }), want: ['16.17.18.0'] },
  { name: 'service label pool', in: svc('test', { ...V4, labels: { team: 'metallb' } }), want: ['19.20.21.0'] },
  { name: 'namespace and label pool', in: svc('test', { ...V4, ns: 'test-ns1', labels: { team: 'metallb' } }), want: ['25.26.27.0'] },
  { name: '3 ingress IPs (cannot determine family)', in: svc('test', { ...V4, ingress: ['1.2.3.0', '1.2.3.1', '1.2.3.2'] }), want: ['1.2.3.0'], warn: true },
];

function check(tc: Case, res: ReturnType<Controller['setBalancer']>, warnings: number): void {
  if (tc.want === null) expect(res.update, 'no mutation expected').toBeUndefined();
  else {
    expect(res.update, 'a mutation is expected').toBeDefined();
    const ips = (res.update!.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
    expect(ips).toEqual(tc.want);
    if (tc.want.length) expect(res.update!.metadata?.annotations?.['metallb.io/ip-allocated-from-pool']).toBeTruthy();
    else expect(res.update!.metadata?.annotations?.['metallb.io/ip-allocated-from-pool']).toBeUndefined();
  }
  if (tc.warn === true) expect(warnings).toBeGreaterThan(0);
  if (tc.warn === false || (tc.warn === undefined && tc.want !== null)) expect(warnings).toBe(0);
}

for (const [allocName, createAllocator] of ALLOCATORS) {
  function newController(pools = POOLS) {
    const events = new MemoryEventRecorder();
    const c = new Controller({ allocator: createAllocator(), events });
    c.setConfig(cfgNoOverlapCheck(pools));
    return { c, events };
  }

  describe(`TestControllerMutation (MetalLB conformance, ${allocName})`, () => {
    for (const tc of CASES) {
      it(tc.name, () => {
        const { c, events } = newController();
        const res = c.setBalancer('test-ns/test', tc.in ? structuredClone(tc.in) : null);
        check(tc, res, events.events.filter((e) => e.type === 'Warning').length);
        // the input object is never mutated
        if (tc.in) expect(tc.in).toEqual(CASES.find((x) => x.name === tc.name)!.in);
      });
    }

    it('cases are a pure function of their input: shuffled 20 times through one controller', () => {
      const { c, events } = newController();
      let seed = 42;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let round = 0; round < 20; round++) {
        const order = [...CASES].sort(() => rnd() - 0.5);
        for (const tc of order) {
          const before = events.events.length;
          const res = c.setBalancer('test-ns/test', tc.in ? structuredClone(tc.in) : null);
          check(tc, res, events.events.slice(before).filter((e) => e.type === 'Warning').length);
        }
      }
    });

    it('events carry MetalLB reasons and texts', () => {
      const { c, events } = newController();
      c.setBalancer('default/test', svc('test', V4));
      expect(events.events).toContainEqual({ type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["1.2.3.0"]', object: 'default/test', kind: 'Service' });
      c.setBalancer('default/test2', svc('test2', { ...V4, annotations: { [ANN_POOL]: 'nope' } }));
      const w = events.events.find((e) => e.reason === 'AllocationFailed')!;
      expect(w.type).toBe('Warning');
      expect(w.message).toMatch(/^Failed to allocate IP for "default\/test2": /);
      c.setBalancer('default/test3', svc('test3', { ...V4, ingress: ['9.9.9.9'] }));
      const cl = events.events.find((e) => e.reason === 'ClearAssignment')!;
      expect(cl.type).toBe('Normal');
      expect(cl.message).toMatch(/^current IP for "default\/test3" not allowed by config, will attempt for new IP assignment: /);
    });
  });

  describe(`controller lifecycle (${allocName})`, () => {
    it('TestControllerConfig: no config → nothing; empty pools → cleared with ErrorNoRetry; null → ErrorNoRetry', () => {
      const events = new MemoryEventRecorder();
      const c = new Controller({ allocator: createAllocator(), events });
      expect(c.setBalancer('default/test', svc('test', V4))).toEqual({ state: 'Success' });
      expect(events.events).toHaveLength(0);
      expect(c.setConfig(parseConfig(snap({ pools: [pool('p', ['1.2.3.0/24'])] })))).toBe('ReprocessAll');
      const r = c.setBalancer('default/test', svc('test', V4));
      expect(r.update!.status!.loadBalancer!.ingress).toEqual([{ ip: '1.2.3.0' }]);
      expect(c.setConfig(parseConfig(snap({})))).toBe('ReprocessAll');
      const r2 = c.setBalancer('default/test', r.update!);
      expect(r2.state).toBe('ErrorNoRetry');
      expect(r2.update!.status!.loadBalancer).toEqual({});
      expect(c.setConfig(null)).toBe('ErrorNoRetry');
    });

    it('TestDeleteRecyclesIP: deleting the holder returns ReprocessAll and the pending service gets the IP', () => {
      const events = new MemoryEventRecorder();
      const c = new Controller({ allocator: createAllocator(), events });
      c.setConfig(parseConfig(snap({ pools: [pool('p', ['1.2.3.0/32'])] })));
      const a = c.setBalancer('default/a', svc('a', V4));
      expect(a.update!.status!.loadBalancer!.ingress).toEqual([{ ip: '1.2.3.0' }]);
      const b = c.setBalancer('default/b', svc('b', V4));
      expect(b.update).toBeUndefined();
      expect(events.events.some((e) => e.type === 'Warning' && e.reason === 'AllocationFailed')).toBe(true);
      expect(c.setBalancer('default/a', null).state).toBe('ReprocessAll');
      expect(c.setBalancer('default/b', svc('b', V4)).update!.status!.loadBalancer!.ingress).toEqual([{ ip: '1.2.3.0' }]);
    });

    it('TestControllerReassign: adding a pool keeps the IP; removing its pool moves the service', () => {
      const c = new Controller({ allocator: createAllocator(), events: new MemoryEventRecorder() });
      c.setConfig(parseConfig(snap({ pools: [pool('a', ['1.2.3.0/32'])] })));
      const s1 = c.setBalancer('default/s', svc('s', V4)).update!;
      expect(s1.metadata!.annotations!['metallb.io/ip-allocated-from-pool']).toBe('a');
      c.setConfig(parseConfig(snap({ pools: [pool('a', ['1.2.3.0/32']), pool('b', ['4.5.6.0/32'])] })));
      expect(c.setBalancer('default/s', s1).update).toBeUndefined();
      c.setConfig(parseConfig(snap({ pools: [pool('b', ['4.5.6.0/32'])] })));
      const s2 = c.setBalancer('default/s', s1).update!;
      expect(s2.status!.loadBalancer!.ingress).toEqual([{ ip: '4.5.6.0' }]);
      expect(s2.metadata!.annotations!['metallb.io/ip-allocated-from-pool']).toBe('b');
    });

    it('restart: ReprocessAll re-claims existing IPs first (zero churn) and honours loadBalancerClass', () => {
      const cfg = parseConfig(snap({ pools: [pool('p', ['10.0.0.0/30'])] }));
      // first life: 3 services get .0 .1 .2
      const c1 = new Controller({ allocator: createAllocator(), events: new MemoryEventRecorder() });
      c1.setConfig(cfg);
      const held = ['a', 'b', 'c'].map((n) => c1.setBalancer(`default/${n}`, svc(n, V4)).update!);
      const ipsBefore = held.map((s) => s.status!.loadBalancer!.ingress![0]!.ip);
      expect(new Set(ipsBefore).size).toBe(3);
      // a new pending service sorts first by name; a class-filtered service must be ignored
      const pending = svc('0-new', V4);
      const other = svc('zz-other', V4);
      other.spec!.loadBalancerClass = 'someone-else';
      const c2 = new Controller({ allocator: createAllocator(), events: new MemoryEventRecorder() });
      c2.setConfig(cfg);
      const res = c2.reprocessAll([pending, ...held, other]);
      expect(res.map((r) => r.key)).toEqual(['default/a', 'default/b', 'default/c', 'default/0-new']);
      for (const r of res.slice(0, 3)) expect(r.update).toBeUndefined(); // no churn: nothing to write
      expect(res[3]!.update!.status!.loadBalancer!.ingress![0]!.ip).toBe('10.0.0.3');
    });

    it('sharing: same key and compatible ports share one IP; changing the key reprocesses', () => {
      const c = new Controller({ allocator: createAllocator(), events: new MemoryEventRecorder() });
      c.setConfig(parseConfig(snap({ pools: [pool('p', ['10.0.0.0/31'])] })));
      const share = { 'metallb.io/allow-shared-ip': 'k' };
      const a = c.setBalancer('default/dns-tcp', svc('dns-tcp', { ...V4, annotations: share, lbIP: '10.0.0.1', ports: [{ port: 53, protocol: 'TCP' }] })).update!;
      const b = c.setBalancer('default/dns-udp', svc('dns-udp', { ...V4, annotations: share, lbIP: '10.0.0.1', ports: [{ port: 53, protocol: 'UDP' }] })).update!;
      expect(a.status!.loadBalancer!.ingress).toEqual([{ ip: '10.0.0.1' }]);
      expect(b.status!.loadBalancer!.ingress).toEqual([{ ip: '10.0.0.1' }]);
      const ev = new MemoryEventRecorder();
      const c2 = new Controller({ allocator: createAllocator(), events: ev });
      c2.setConfig(parseConfig(snap({ pools: [pool('p', ['10.0.0.1/32'])] })));
      c2.setBalancer('default/x', svc('x', { ...V4, annotations: share, ports: [{ port: 80 }] }));
      const y = c2.setBalancer('default/y', svc('y', { ...V4, annotations: share, ports: [{ port: 80 }] }));
      expect(y.update).toBeUndefined(); // port conflict
      const z = c2.setBalancer('default/z', svc('z', { ...V4, annotations: share, ports: [{ port: 443 }] }));
      expect(z.update!.status!.loadBalancer!.ingress).toEqual([{ ip: '10.0.0.1' }]);
    });
  });
}
