import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { L2ElectionMemo, shouldAnnounceL2, sortL2Candidates, type L2DecisionInput } from '../src/election.js';
import { l2ad, node, pool, slice, snap, svc } from './helpers.js';

/** Independent oracle: Python's hashlib orders the nodes. */
function pythonOrder(ip: string, nodes: string[]): string[] {
  const code = 'import sys,hashlib,json\nip=sys.argv[1]\nns=json.loads(sys.argv[2])\nprint(json.dumps(sorted(ns,key=lambda n: hashlib.sha256((n+"#"+ip).encode()).digest())))';
  return JSON.parse(execFileSync('python3', ['-c', code, ip, JSON.stringify(nodes)], { encoding: 'utf8' })) as string[];
}

describe('sortL2Candidates', () => {
  it('matches MetalLB golden vectors (TestSortL2Candidates)', () => {
    expect(sortL2Candidates('10.0.0.1', ['node-a', 'node-b', 'node-c'])).toEqual(['node-b', 'node-a', 'node-c']);
    expect(sortL2Candidates('10.0.0.2', ['node-a', 'node-b', 'node-c'])).toEqual(['node-b', 'node-c', 'node-a']);
    expect(sortL2Candidates('10.20.30.1', ['edge-a', 'edge-b', 'worker-a', 'worker-b'], new Map([['edge-a', 100]]))).toEqual(['edge-a', 'edge-b', 'worker-a', 'worker-b']);
    expect(sortL2Candidates('10.20.30.1', ['node-a', 'node-b'], new Map([['node-a', 100], ['node-b', 100]]))).toEqual(['node-b', 'node-a']);
    expect(sortL2Candidates('10.20.30.1', ['edge-a', 'edge-b', 'worker-a'], new Map([['edge-a', 100], ['edge-b', 100]]))).toEqual(['edge-b', 'edge-a', 'worker-a']);
  });

  it('agrees with an independent sha256 (python hashlib) on many IPs, incl. IPv6 canonical form', () => {
    const nodes = ['kube-n1', 'kube-n2', 'kube-n3', 'worker-17', 'a'];
    for (const ip of ['192.168.10.200', '10.1.2.3', '172.16.0.1', '2001:db8::1', 'fd00:66::100']) {
      expect(sortL2Candidates(ip, nodes)).toEqual(pythonOrder(ip, nodes));
    }
    // non-canonical input is canonicalised the way Go prints it before hashing
    expect(sortL2Candidates('2001:0db8:0000:0000:0000:0000:0000:0001', nodes)).toEqual(pythonOrder('2001:db8::1', nodes));
  });
});

function input(my: string, over: Partial<L2DecisionInput> & { s?: ReturnType<typeof svc> } = {}): L2DecisionInput {
  const cfg =
    over.config ??
    parseConfig(snap({ pools: [pool('p', ['192.168.10.0/24'])], l2Advertisements: [l2ad('all')] }));
  const nodes = new Map(['n1', 'n2', 'n3'].map((n) => [n, node(n)]));
  const s = over.s ?? svc('web', { ingress: ['192.168.10.1'] });
  return {
    myNode: my,
    svc: s,
    ips: ['192.168.10.1'],
    config: cfg,
    nodes,
    slices: [slice('web', [{ node: 'n1' }, { node: 'n2' }, { node: 'n3' }])],
    members: ['n1', 'n2', 'n3'],
    ...over,
  };
}

describe('shouldAnnounceL2', () => {
  it('exactly one node announces: the first by hash', () => {
    const winner = pythonOrder('192.168.10.1', ['n1', 'n2', 'n3'])[0];
    const res = ['n1', 'n2', 'n3'].map((n) => shouldAnnounceL2(input(n)));
    expect(res.filter((r) => r.announce)).toHaveLength(1);
    expect(res[['n1', 'n2', 'n3'].indexOf(winner!)]!.announce).toBe(true);
    for (const r of res) if (!r.announce) expect(r.reason).toBe('notOwner');
  });

  it('a dead member (not in memberlist) is skipped; the next by hash wins', () => {
    const order = pythonOrder('192.168.10.1', ['n1', 'n2', 'n3']);
    const alive = order.slice(1);
    const res = alive.map((n) => shouldAnnounceL2(input(n, { members: alive })));
    expect(res.map((r) => r.announce)).toEqual([true, false]);
  });

  it('Local policy: only nodes with a ready local endpoint; not-ready but serving counts', () => {
    const s = svc('web', { ingress: ['192.168.10.1'], etp: 'Local' });
    const slices = [slice('web', [{ node: 'n1', ready: false }, { node: 'n2', ready: false, serving: true }, { node: 'n3', ready: false, serving: false }])];
    const res = ['n1', 'n2', 'n3'].map((n) => shouldAnnounceL2(input(n, { s, slices })));
    expect(res.map((r) => r.announce)).toEqual([false, true, false]);
    expect(res[1]!.candidates).toEqual(['n2']);
  });

  it('no serving endpoint at all: nobody announces', () => {
    const slices = [slice('web', [{ node: 'n1', ready: false, serving: false }])];
    for (const n of ['n1', 'n2', 'n3']) expect(shouldAnnounceL2(input(n, { slices }))).toMatchObject({ announce: false, reason: 'notOwner' });
  });

  it('excluded (exclude-from-external-load-balancers) and NetworkUnavailable nodes are not candidates', () => {
    const nodes = new Map([
      ['n1', node('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })],
      ['n2', node('n2', {}, [{ type: 'NetworkUnavailable', status: 'True' }])],
      ['n3', node('n3')],
    ]);
    const res = ['n1', 'n2', 'n3'].map((n) => shouldAnnounceL2(input(n, { nodes })));
    expect(res.map((r) => r.announce)).toEqual([false, false, true]);
    expect(res[2]!.candidates).toEqual(['n3']);
    // --ignore-exclude-lb puts n1 back
    const ign = shouldAnnounceL2(input('n3', { nodes, ignoreExcludeLB: true }));
    expect(ign.candidates.sort()).toEqual(['n1', 'n3']);
  });

  it('nodeSelectors restrict candidates; nodes outside get noMatchingAdvertisement; interfaces are reported', () => {
    const cfg = parseConfig(snap({ pools: [pool('p', ['192.168.10.0/24'])], l2Advertisements: [l2ad('sel', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'n2' } }], interfaces: ['eth1'] })] }));
    const r1 = shouldAnnounceL2(input('n1', { config: cfg }));
    expect(r1).toMatchObject({ announce: false, reason: 'noMatchingAdvertisement' });
    const r2 = shouldAnnounceL2(input('n2', { config: cfg }));
    expect(r2).toMatchObject({ announce: true, interfaces: ['eth1'], candidates: ['n2'] });
  });

  it('preferredNodeSelectors win over the hash', () => {
    const order = pythonOrder('192.168.10.1', ['n1', 'n2', 'n3']);
    const last = order[2]!;
    const cfg = parseConfig(
      snap({ pools: [pool('p', ['192.168.10.0/24'])], l2Advertisements: [l2ad('pref', { preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { 'kubernetes.io/hostname': last } } }] })] }),
    );
    expect(shouldAnnounceL2(input(last, { config: cfg }))).toMatchObject({ announce: true });
  });

  it('shared IP with serviceSelectors ads is not announced', () => {
    const cfg = parseConfig(snap({ pools: [pool('p', ['192.168.10.0/24'])], l2Advertisements: [l2ad('s', { serviceSelectors: [{ matchLabels: { app: 'web' } }] })] }));
    const s = svc('web', { ingress: ['192.168.10.1'], labels: { app: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' } });
    expect(shouldAnnounceL2(input('n1', { config: cfg, s }))).toMatchObject({ announce: false, reason: 'sharedIPWithServiceSelector' });
  });

  it('memberlist disabled: candidates are all Node objects', () => {
    const res = ['n1', 'n2', 'n3'].map((n) => shouldAnnounceL2(input(n, { members: null })));
    expect(res.filter((r) => r.announce)).toHaveLength(1);
    expect(res[0]!.candidates).toEqual(pythonOrder('192.168.10.1', ['n1', 'n2', 'n3']));
  });

  it('a memo of what elections share gives every service the decision a fresh election gives, and is not used for other inputs', () => {
    const cfg = parseConfig(
      snap({
        pools: [pool('a', ['192.168.10.0/24']), pool('b', ['192.168.20.0/24']), pool('c', ['192.168.30.0/24'])],
        l2Advertisements: [
          l2ad('a-all', { ipAddressPools: ['a'] }),
          l2ad('a-edge', { ipAddressPools: ['a'], nodeSelectors: [{ matchLabels: { role: 'edge' } }], interfaces: ['eth1'] }),
          l2ad('b-web', { ipAddressPools: ['b'], serviceSelectors: [{ matchLabels: { app: 'web' } }], preferredNodeSelectors: [{ weight: 10, preference: { matchLabels: { zone: 'z2' } } }] }),
          l2ad('b-db', { ipAddressPools: ['b'], serviceSelectors: [{ matchLabels: { app: 'db' } }], interfaces: ['eth2'] }),
        ],
      }),
    );
    const nodes = new Map([
      ['n1', node('n1', { role: 'edge', zone: 'z1' })],
      ['n2', node('n2', { zone: 'z2' })],
      ['n3', node('n3', { role: 'edge', 'node.kubernetes.io/exclude-from-external-load-balancers': '' })],
      ['n4', node('n4', { zone: 'z2' }, [{ type: 'NetworkUnavailable', status: 'True' }])],
      ['n5', node('n5', { role: 'edge', zone: 'z2' })],
    ]);
    const services = Array.from({ length: 60 }, (_, i) => {
      const ip = `192.168.${[10, 20, 30][i % 3]}.${i + 1}`;
      const s = svc(`s${i}`, { ingress: [ip], labels: { app: ['web', 'db', 'other'][i % 4] ?? 'web' }, ...(i % 5 === 0 ? { etp: 'Local' as const } : {}), ...(i % 7 === 0 ? { annotations: { 'metallb.io/allow-shared-ip': 'k' } } : {}) });
      const slices = [slice(`s${i}`, [{ node: 'n1' }, { node: `n${(i % 5) + 1}`, ready: i % 2 === 0 }])];
      return { s, ip, slices };
    });
    let announced = 0;
    const reasons = new Set<string>();
    for (const members of [['n1', 'n2', 'n3', 'n4', 'n5'], ['n2', 'n5'], null])
      for (const ignoreExcludeLB of [false, true])
        for (const my of nodes.keys()) {
          const base = { myNode: my, config: cfg, nodes, members, ignoreExcludeLB };
          const memo = new L2ElectionMemo(base);
          for (const { s, ip, slices } of services) {
            const inp: L2DecisionInput = { ...base, svc: s, ips: [ip], slices };
            const fresh = shouldAnnounceL2(inp);
            expect(shouldAnnounceL2({ ...inp, memo }), `${my} ${s.metadata!.name}`).toEqual(fresh);
            if (fresh.announce) announced++;
            else reasons.add(fresh.reason);
          }
          // a memo made for other members (or another node) is not used: the decision stays the fresh one
          const other = new L2ElectionMemo({ ...base, members: ['n1'], myNode: 'n1' });
          for (const { s, ip, slices } of services.slice(0, 12)) expect(shouldAnnounceL2({ ...base, svc: s, ips: [ip], slices, memo: other })).toEqual(shouldAnnounceL2({ ...base, svc: s, ips: [ip], slices }));
        }
    // the cases covered: winners, and each way of losing
    expect(announced).toBeGreaterThan(50);
    expect([...reasons].sort()).toEqual(['noMatchingAdvertisement', 'notOwner', 'sharedIPWithServiceSelector']);
  });
});
