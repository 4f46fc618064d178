import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { MemoryEventRecorder } from '../src/events.js';
import { metallbMetrics, Registry } from '../src/metrics.js';
import { Speaker, type BgpAnnouncer, type L2Announcer, type Membership, type SpeakerStatusSink } from '../src/speaker.js';
import type { PeerConfig } from '../src/config.js';
import type { BgpRoute } from '../src/bgp-decision.js';
import { electionHash } from '../src/election.js';
import { l2ad, NS, node, pool, slice, snap, svc } from './helpers.js';

/** Records calls; models a drain window (withdraw without `drain: false` keeps the VIP in `draining`). */
class FakeL2 implements L2Announcer {
  readonly log: string[] = [];
  readonly active = new Set<string>();
  readonly draining = new Set<string>();
  announce(ip: string, ifs: string[]) {
    this.active.add(ip);
    this.draining.delete(ip);
    this.log.push(`announce ${ip} ${ifs.join(',')}`);
  }
  withdraw(ip: string, opts: { drain?: boolean } = {}) {
    const was = this.active.delete(ip);
    if (opts.drain === false) this.draining.delete(ip);
    else if (was) this.draining.add(ip);
    this.log.push(opts.drain === false ? `withdraw ${ip}` : `drain ${ip}`);
  }
  close() {}
}

/** The same with the batch call: one `announceMany` per batch and interface list. */
class FakeBatchL2 extends FakeL2 {
  readonly batches: number[] = [];
  announceMany(ips: string[], ifs: string[]) {
    this.batches.push(ips.length);
    for (const ip of ips) this.announce(ip, ifs);
    return ips.filter((ip) => !ip.endsWith('.13')); // .13 "has no interface here"
  }
}

class FakeBgp implements BgpAnnouncer {
  sessions: string[] = [];
  routes = new Map<string, BgpRoute[]>();
  update(s: PeerConfig[], r: Map<string, BgpRoute[]>) {
    this.sessions = s.map((p) => p.name);
    this.routes = r;
  }
  sessionStates() {
    return this.sessions.map((p) => ({ peer: p, up: true, prefixes: this.routes.get(p)?.length ?? 0 }));
  }
  close() {}
}

class FakeMembers implements Membership {
  cbs: Array<() => void> = [];
  left = false;
  constructor(public list: string[]) {}
  members() {
    return this.list;
  }
  onChange(cb: () => void) {
    this.cbs.push(cb);
  }
  set(list: string[]) {
    this.list = list;
    for (const cb of this.cbs) cb();
  }
  async leave() {
    this.left = true;
  }
  async close() {}
}

class FakeStatus implements SpeakerStatusSink {
  l2 = new Map<string, string[]>();
  bgp = new Map<string, string[]>();
  setL2Status(s: { metadata?: { name?: string } }, n: string, ifs: string[] | null) {
    const k = `${s.metadata?.name}@${n}`;
    if (ifs) this.l2.set(k, ifs);
    else this.l2.delete(k);
  }
  setBgpStatus(s: { metadata?: { name?: string } }, n: string, peers: string[] | null) {
    const k = `${s.metadata?.name}@${n}`;
    if (peers) this.bgp.set(k, peers);
    else this.bgp.delete(k);
  }
}

const VIP = '192.168.10.0';
const nodes = ['n1', 'n2', 'n3'].map((n) => node(n));
const order = ['n1', 'n2', 'n3'].sort((a, b) => (electionHash(a, VIP) < electionHash(b, VIP) ? -1 : 1));
const cfg = parseConfig(
  snap({
    pools: [pool('p', ['192.168.10.0/24'])],
    l2Advertisements: [l2ad('l2')],
    bgpAdvertisements: [{ kind: 'BGPAdvertisement', metadata: { name: 'b', namespace: NS }, spec: { localPref: 50 } }],
    bgpPeers: [{ kind: 'BGPPeer', metadata: { name: 'tor', namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1' } }],
  }),
);
const web = svc('web', { ingress: [VIP] });
const slices = [slice('web', [{ node: 'n1' }, { node: 'n2' }, { node: 'n3' }])];

function mk(me: string, members: FakeMembers | undefined, drainMs = 0, l2StartupGraceMs?: number) {
  const l2 = new FakeL2();
  const bgp = new FakeBgp();
  const status = new FakeStatus();
  const events = new MemoryEventRecorder();
  const registry = new Registry();
  const sp = new Speaker({ node: me, l2, bgp, membership: members, status, events, metrics: metallbMetrics(registry), drainMs, l2StartupGraceMs });
  return { sp, l2, bgp, status, events, registry };
}

describe('Speaker', () => {
  it('the election winner announces L2, writes ServiceL2Status, event and metric; all nodes advertise BGP', async () => {
    const m = new FakeMembers(['n1', 'n2', 'n3']);
    const all = ['n1', 'n2', 'n3'].map((n) => ({ n, ...mk(n, m) }));
    for (const x of all) await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    for (const x of all) {
      const leader = x.n === order[0];
      expect(x.l2.active.has(VIP)).toBe(leader);
      expect(x.status.l2.has(`web@${x.n}`)).toBe(leader);
      expect(x.events.events.some((e) => e.reason === 'nodeAssigned' && e.message.includes('layer2'))).toBe(leader);
      // BGP: every node, with the peer and localPref
      expect(x.bgp.sessions).toEqual(['tor']);
      expect(x.bgp.routes.get('tor')).toEqual([{ prefix: '192.168.10.0/32', localPref: 50, communities: [], largeCommunities: [], peers: [] }]);
      expect(x.status.bgp.get(`web@${x.n}`)).toEqual(['tor']);
      const text = await x.registry.render();
      expect(text.includes(`metallb_speaker_announced{ip="${VIP}",node="${x.n}",protocol="layer2",service="default/web"} 1`)).toBe(leader);
      expect(text).toContain(`metallb_speaker_announced{ip="${VIP}",node="${x.n}",protocol="bgp",service="default/web"} 1`);
      expect(text).toContain('metallb_bgp_session_up{peer="tor"} 1');
    }
  });

  it('leader loss: the next node by hash takes over when memberlist drops the leader', async () => {
    const m = new FakeMembers(['n1', 'n2', 'n3']);
    const second = mk(order[1]!, m);
    await second.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    expect(second.l2.active.has(VIP)).toBe(false);
    m.set(order.slice(1));
    await second.sp.sync();
    expect(second.l2.active.has(VIP)).toBe(true);
  });

  it('a leader that loses the election withdraws at once in drain mode; a VIP no longer in use is withdrawn with drain: false', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m, 5000); // drainMs is the shutdown drain: never waited for on a lost election
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    expect(x.l2.active.has(VIP)).toBe(true);
    // order[0] is the hash winner; make it lose by marking it excluded
    const excluded = nodes.map((n) => (n.metadata!.name === order[0] ? node(order[0]!, { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }) : n));
    m.list = ['n1', 'n2', 'n3'];
    const t0 = Date.now();
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes: excluded });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(x.status.l2.has(`web@${order[0]}`)).toBe(false);
    // ownership moved: the announcer's drain window (unicast only) instead of a full answer
    expect(x.l2.log.at(-1)).toBe(`drain ${VIP}`);
    expect(x.l2.draining.has(VIP)).toBe(true);
    expect(x.sp.answeringIPs()).toEqual([]);
    // the service is deleted while the VIP drains here: the address is no longer in use, the drain ends
    await x.sp.sync({ config: cfg, services: [], endpointSlices: slices, nodes: excluded });
    expect(x.l2.log.at(-1)).toBe(`withdraw ${VIP}`);
    expect(x.l2.draining.has(VIP)).toBe(false);
    // taken back, then the service deleted: no new owner, so no drain window
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    expect(x.l2.active.has(VIP)).toBe(true);
    expect(x.l2.draining.has(VIP)).toBe(false);
    await x.sp.sync({ config: cfg, services: [], endpointSlices: slices, nodes });
    expect(x.l2.log.at(-1)).toBe(`withdraw ${VIP}`);
    expect(x.l2.active.size + x.l2.draining.size).toBe(0);
    // not a LoadBalancer any more, and the IP gone: the same
    for (const changed of [svc('web', { ingress: [VIP], type: 'ClusterIP' }), svc('web', {})]) {
      await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
      expect(x.l2.active.has(VIP)).toBe(true);
      await x.sp.sync({ config: cfg, services: [changed], endpointSlices: slices, nodes });
      expect(x.l2.log.at(-1)).toBe(`withdraw ${VIP}`);
      expect(x.l2.active.size + x.l2.draining.size).toBe(0);
    }
  });

  it('announces a batch with one announceMany per interface list; a VIP it could not announce gets the announceFailed event', async () => {
    const m = new FakeMembers([order[0]!]);
    const l2 = new FakeBatchL2();
    const events = new MemoryEventRecorder();
    const sp = new Speaker({ node: order[0]!, l2, membership: m, events });
    const many = Array.from({ length: 40 }, (_, i) => svc(`s${i}`, { ingress: [`192.168.10.${i + 1}`] }));
    const sl = many.map((s) => slice(s.metadata!.name!, [{ node: 'n1' }, { node: 'n2' }, { node: 'n3' }]));
    await sp.sync({ config: cfg, services: many, endpointSlices: sl, nodes });
    expect(l2.active.size).toBe(40);
    expect(l2.batches).toEqual([40]);
    expect(events.events.filter((e) => e.reason === 'announceFailed').map((e) => e.message)).toEqual([expect.stringContaining('"192.168.10.13"')]);
    // a re-join re-announces everything owned here, again as one batch
    m.set([order[0]!]);
    (m as unknown as { cbs: Array<(c: unknown) => void> }).cbs.forEach((cb) => cb({ joined: ['n9'], left: [] }));
    await sp.drained();
    await new Promise((r) => setTimeout(r, 20));
    expect(l2.batches).toEqual([40, 40]);
  });

  it('a member leaving re-runs only the elections it had won; the result equals a full re-run', async () => {
    const m = new FakeMembers(['n1', 'n2', 'n3']);
    const many = Array.from({ length: 60 }, (_, i) => svc(`s${i}`, { ingress: [`192.168.10.${i + 1}`] }));
    const sl = many.map((s) => slice(s.metadata!.name!, [{ node: 'n1' }, { node: 'n2' }, { node: 'n3' }]));
    const x = mk('n2', m);
    await x.sp.sync({ config: cfg, services: many, endpointSlices: sl, nodes });
    const wonByN1 = many.filter((s) => x.sp.decisions.get(`default/${s.metadata!.name}`)?.l2?.candidates[0] === 'n1').length;
    expect(wonByN1).toBeGreaterThan(5);
    const before = x.sp.processed;
    m.list = ['n2', 'n3'];
    for (const cb of m.cbs as Array<(c: unknown) => void>) cb({ joined: [], left: ['n1'] });
    await x.sp.drained();
    expect(x.sp.processed - before).toBe(wonByN1);
    // the same announcements as a speaker that re-ran every election
    const full = mk('n2', new FakeMembers(['n2', 'n3']));
    await full.sp.sync({ config: cfg, services: many, endpointSlices: sl, nodes });
    expect([...x.l2.active].sort()).toEqual([...full.l2.active].sort());
    expect(x.l2.active.size).toBeGreaterThan(20);
  });

  it('shutdown: leaves membership first, drains (unicast only) for drainMs, then withdraws', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m, 200);
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    const t0 = Date.now();
    const done = x.sp.shutdown();
    await new Promise((r) => setTimeout(r, 50));
    expect(m.left).toBe(true);
    expect(x.l2.draining.has(VIP)).toBe(true);
    expect(x.l2.active.has(VIP)).toBe(false);
    await done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(x.l2.draining.has(VIP)).toBe(false);
    expect(x.l2.log.slice(-2)).toEqual([`drain ${VIP}`, `withdraw ${VIP}`]);
  });

  it('withdraws when the IP leaves every pool, when the service is deleted, and re-announces a changed IP', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m);
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    const moved = svc('web', { ingress: ['192.168.10.7'] });
    await x.sp.sync({ config: cfg, services: [moved], endpointSlices: slices, nodes });
    expect(x.l2.log.slice(-2)[0]).toBe(`withdraw ${VIP}`);
    const outside = svc('web', { ingress: ['10.9.9.9'] });
    await x.sp.sync({ config: cfg, services: [outside], endpointSlices: slices, nodes });
    expect(x.l2.active.size).toBe(0);
    expect(x.sp.decisions.get('default/web')).toEqual({ bgp: 'ipNotAllowed' });
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    expect(x.l2.active.size).toBe(1);
    await x.sp.sync({ config: cfg, services: [], endpointSlices: slices, nodes });
    expect(x.l2.active.size).toBe(0);
    expect(x.bgp.routes.get('tor')).toEqual([]);
    // the deleted service's status objects are removed too
    expect(x.status.l2.size).toBe(0);
    expect(x.status.bgp.size).toBe(0);
  });

  it('a shared IP is announced once and withdrawn only when its last service goes', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m);
    const a = svc('web', { ingress: [VIP] });
    const b = svc('web2', { ingress: [VIP] });
    const sl = [...slices, slice('web2', [{ node: 'n1' }])];
    await x.sp.sync({ config: cfg, services: [a, b], endpointSlices: sl, nodes });
    expect(x.l2.log.filter((l) => l.startsWith('announce'))).toHaveLength(1);
    await x.sp.sync({ config: cfg, services: [b], endpointSlices: sl, nodes });
    expect(x.l2.active.has(VIP)).toBe(true);
    await x.sp.sync({ config: cfg, services: [], endpointSlices: sl, nodes });
    expect(x.l2.active.has(VIP)).toBe(false);
  });

  it('a new config that orphans an announced IP is held back until the controller clears the service (MetalLB SetConfig)', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m);
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    expect(x.l2.active.has(VIP)).toBe(true);
    const other = parseConfig(snap({ pools: [pool('q', ['10.50.0.0/24'])], l2Advertisements: [l2ad('l2')] }));
    // the pool disappeared but the service still carries the old IP: keep announcing
    await x.sp.sync({ config: other, services: [web], endpointSlices: slices, nodes });
    expect(x.l2.active.has(VIP)).toBe(true);
    // the controller cleared and re-assigned the service: the new config applies
    const moved = svc('web', { ingress: ['10.50.0.0'] });
    await x.sp.sync({ config: other, services: [moved], endpointSlices: slices, nodes });
    expect(x.l2.active.has(VIP)).toBe(false);
    expect(x.l2.active.has('10.50.0.0')).toBe(true);
  });

  it('announceFailed (Warning) when the announcer has none of the requested interfaces', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m);
    x.l2.announce = (ip: string) => {
      x.l2.log.push(`refused ${ip}`);
      return false;
    };
    await x.sp.sync({ config: cfg, services: [web], endpointSlices: slices, nodes });
    const ev = x.events.events.find((e) => e.reason === 'announceFailed')!;
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(`the interfaces specified by LB IP "${VIP}" doesn't exist in assigned node "${order[0]}" with protocol "layer2"`);
  });
});

describe('Speaker startup hold (l2StartupGraceMs)', () => {
  const state = { config: cfg, services: [web], endpointSlices: slices, nodes };
  const l2Events = (x: ReturnType<typeof mk>) => x.events.events.filter((e) => e.reason === 'nodeAssigned' && e.message.includes('layer2'));

  it('restart before the join: nobody announces L2 while alone (BGP still advertised); after the join only the hash winner does', async () => {
    // each restarted speaker sees only itself until its join completes
    const views = order.map((n) => new FakeMembers([n]));
    const all = order.map((n, i) => ({ n, m: views[i]!, ...mk(n, views[i]!, 0, 60_000) }));
    for (const x of all) await x.sp.sync(state);
    for (const x of all) {
      expect(x.l2.log).toEqual([]);
      expect(x.status.l2.size).toBe(0);
      expect(l2Events(x)).toEqual([]);
      expect(x.sp.l2Held()).toBe(true);
      // held: no election is run (its result could not be trusted); every service is elected once the hold ends
      expect(x.sp.decisions.get('default/web')?.l2).toEqual({ announce: false, reason: 'startupHold', candidates: [] });
      // BGP is not held
      expect(x.bgp.routes.get('tor')?.map((r) => r.prefix)).toEqual(['192.168.10.0/32']);
      expect(x.status.bgp.get(`web@${x.n}`)).toEqual(['tor']);
    }
    // the joins complete: membership lists everyone and triggers a sync by itself
    for (const x of all) x.m.set(['n1', 'n2', 'n3']);
    for (const x of all) await x.sp.sync();
    for (const x of all) {
      const leader = x.n === order[0];
      expect(x.sp.l2Held()).toBe(false);
      expect(x.l2.log).toEqual(leader ? [`announce ${VIP} `] : []);
      expect(x.status.l2.has(`web@${x.n}`)).toBe(leader);
      expect(l2Events(x)).toHaveLength(leader ? 1 : 0);
    }
  });

  it('a join that lists only some of the nodes holds until the last one joins, or until the membership settled (1 s)', async () => {
    // the hash winner's speaker is not a member yet: deciding now would make order[1] announce the VIP
    const m = new FakeMembers([order[1]!]);
    const x = mk(order[1]!, m, 0, 60_000);
    await x.sp.sync(state);
    m.set([order[1]!, order[2]!]);
    await x.sp.sync();
    await new Promise((r) => setTimeout(r, 300));
    expect(x.l2.log).toEqual([]);
    expect(x.sp.l2Held()).toBe(true);
    // the winner joins: released at once, and order[1] does not announce
    m.set(['n1', 'n2', 'n3']);
    await x.sp.sync();
    expect(x.sp.l2Held()).toBe(false);
    expect(x.l2.log).toEqual([]);
    // a node whose speaker never joins: the gate opens after the membership settled
    const m2 = new FakeMembers([order[1]!, order[2]!]);
    const y = mk(order[1]!, m2, 0, 60_000);
    const t0 = Date.now();
    await y.sp.sync(state);
    while (!y.l2.active.has(VIP) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(y.l2.active.has(VIP)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('single-node cluster: announces by itself once the grace ends, never before', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m, 0, 200);
    const t0 = Date.now();
    await x.sp.sync(state);
    expect(x.l2.active.has(VIP)).toBe(false);
    // no further input: the grace timer alone releases the hold
    while (!x.l2.active.has(VIP) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(x.l2.active.has(VIP)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(195);
    expect(x.sp.l2Held()).toBe(false);
    expect(x.status.l2.get(`web@${order[0]}`)).toEqual([]);
    expect(l2Events(x)).toHaveLength(1);
  });

  it('one-shot: after the join, a leader failure is taken over at once (no second hold)', async () => {
    const m = new FakeMembers([order[1]!]);
    const second = mk(order[1]!, m, 0, 60_000);
    await second.sp.sync(state);
    m.set(['n1', 'n2', 'n3']);
    await second.sp.sync();
    expect(second.l2.active.has(VIP)).toBe(false);
    // the leader and the third node fail: the second is alone again, but the hold does not re-engage
    m.set([order[1]!]);
    await second.sp.sync();
    expect(second.l2.active.has(VIP)).toBe(true);
    expect(second.sp.decisions.get('default/web')?.l2).toMatchObject({ announce: true });
  });

  it('withdrawals are not held: a service deleted during the hold leaves nothing behind and BGP withdraws at once', async () => {
    const m = new FakeMembers([order[0]!]);
    const x = mk(order[0]!, m, 0, 60_000);
    await x.sp.sync(state);
    expect(x.bgp.routes.get('tor')).toHaveLength(1);
    await x.sp.sync({ ...state, services: [] });
    expect(x.bgp.routes.get('tor')).toEqual([]);
    expect(x.status.bgp.size).toBe(0);
    m.set(['n1', 'n2', 'n3']);
    await x.sp.sync();
    expect(x.l2.log).toEqual([]);
  });

  it('off with 0 and without membership; a shutdown during the hold announces nothing later', async () => {
    const off = mk(order[0]!, new FakeMembers([order[0]!]), 0, 0);
    await off.sp.sync(state);
    expect(off.l2.active.has(VIP)).toBe(true);
    // without memberlist every Node object is a candidate: nothing to wait for
    const noMl = mk(order[0]!, undefined, 0, 60_000);
    await noMl.sp.sync(state);
    expect(noMl.l2.active.has(VIP)).toBe(true);
    expect(noMl.sp.l2Held()).toBe(false);
    const stopped = mk(order[0]!, new FakeMembers([order[0]!]), 0, 100);
    await stopped.sp.sync(state);
    await stopped.sp.shutdown();
    await new Promise((r) => setTimeout(r, 250));
    expect(stopped.l2.log).toEqual([]);
  });

  it('rejects a bad grace with an error naming the option', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number])
      expect(() => new Speaker({ node: 'n1', membership: new FakeMembers(['n1']), l2StartupGraceMs: bad })).toThrow(/^Speaker: l2StartupGraceMs: expected a non-negative number of milliseconds, got /);
  });
});
