/** Malformed input never crashes: random garbage in every field yields ConfigErrors (naming the object) or a config. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { Controller } from '../src/controller.js';
import { ConfigErrors } from '../src/errors.js';
import { MemoryEventRecorder } from '../src/events.js';
import { IpamAllocator } from '../src/adapters/ipam-allocator.js';
import { shouldAnnounceL2 } from '../src/election.js';
import { emptySnapshot, type Service, type Snapshot } from '../src/types.js';
import { pool, snap } from './helpers.js';

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;

function garbage(depth = 0): unknown {
  const atoms = [null, undefined, 0, -1, 1.5, 2 ** 40, '', 'x', '10.0.0.0/24', '1.2.3.4-1.2.3.1', 'large:1:2', ':', true, false, [], {}];
  if (depth > 2 || rnd() < 0.5) return pick(atoms);
  if (rnd() < 0.5) return Array.from({ length: Math.floor(rnd() * 3) }, () => garbage(depth + 1));
  const keys = ['addresses', 'autoAssign', 'serviceAllocation', 'priority', 'namespaces', 'serviceSelectors', 'matchLabels', 'matchExpressions', 'key', 'operator', 'values', 'nodeSelectors', 'interfaces', 'communities', 'name', 'value', 'myASN', 'peerASN', 'peerAddress', 'holdTime', 'keepaliveTime', 'aggregationLength', 'localPref', 'peers', 'preferredNodeSelectors', 'weight', 'preference'];
  return Object.fromEntries(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => [pick(keys), garbage(depth + 1)]));
}

describe('robustness', () => {
  it('parseConfig on 3000 random objects: only ConfigErrors, each naming kind and object', () => {
    const kinds: Array<[keyof Snapshot, string]> = [
      ['pools', 'IPAddressPool'],
      ['l2Advertisements', 'L2Advertisement'],
      ['bgpAdvertisements', 'BGPAdvertisement'],
      ['bgpPeers', 'BGPPeer'],
      ['communities', 'Community'],
      ['bfdProfiles', 'BFDProfile'],
    ];
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const s = emptySnapshot();
      const [field, kind] = pick(kinds);
      (s[field] as unknown[]).push({ kind, metadata: { name: `o${i}`, namespace: 'metallb-system' }, spec: garbage() });
      try {
        parseConfig(s);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigErrors);
        for (const x of (e as ConfigErrors).errors) expect(x.message.startsWith(`${kind} metallb-system/o${i}: `)).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('controller and election on 2000 random services: no throw, warnings instead', () => {
    const cfg = parseConfig(snap({ pools: [pool('p', ['10.0.0.0/24'])] }));
    const events = new MemoryEventRecorder();
    const c = new Controller({ allocator: new IpamAllocator(), events });
    c.setConfig(cfg);
    for (let i = 0; i < 2000; i++) {
      const svc: Service = { kind: 'Service', metadata: { name: `s${i}`, namespace: 'default', annotations: rnd() < 0.3 ? { 'metallb.io/loadBalancerIPs': String(garbage()) } : undefined }, spec: garbage() as never, status: garbage() as never };
      expect(() => c.setBalancer(`default/s${i}`, svc)).not.toThrow();
      expect(() => shouldAnnounceL2({ myNode: 'n', svc, ips: ['10.0.0.1'], config: cfg, nodes: new Map(), slices: [{ kind: 'EndpointSlice', metadata: { name: 'x', namespace: 'default', labels: { 'kubernetes.io/service-name': `s${i}` } }, endpoints: garbage() as never }], members: ['n'] })).not.toThrow();
    }
  });
});
