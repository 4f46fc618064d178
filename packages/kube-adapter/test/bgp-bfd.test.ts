import { afterEach, describe, expect, it } from 'vitest';
import { BfdManager } from '@lbkit/bfd';
import { BgpSpeaker } from '@lbkit/bgp';
import { LbkitBgpAnnouncer } from '../src/adapters/lbkit-bgp.js';
import { BfdPeers, DEFAULT_ECHO_INTERVAL, ipv4Forwarding, sessionFor } from '../src/adapters/bfd-peers.js';
import type { PeerConfig } from '../src/config.js';

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const peerCfg = (port: number, o: Partial<PeerConfig> = {}): PeerConfig => ({ name: 'tor', myASN: 64513, peerASN: 64512, peerAddress: '127.0.0.1', peerPort: port, holdTime: 90, keepaliveTime: 30, ebgpMultiHop: false, nodeSelectors: [], enableGracefulRestart: false, dualStackAddressFamily: false, ...o });
const route = (prefix: string, communities: string[] = []) => ({ prefix, communities, largeCommunities: [], peers: [] });

async function until<T>(fn: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A "router": a passive @lbkit/bgp speaker on loopback recording what it receives. */
async function router(asn = 64512, node = '127.0.0.1') {
  const sp = new BgpSpeaker({ asn, routerId: '192.0.2.254', listen: { address: '127.0.0.1', port: 0 } });
  sp.addPeer({ address: node, asn: 64513, passive: true });
  const rib = new Map<string, { communities: number[]; localPref?: number }>();
  const notifications: Array<{ code: number; subcode: number; direction: string }> = [];
  sp.on('update', (_p, u) => {
    for (const r of u.announced) rib.set(r.prefix, { communities: r.communities, ...(r.localPref !== undefined ? { localPref: r.localPref } : {}) });
    for (const w of u.withdrawn) rib.delete(w);
  });
  sp.on('notification', (_p, n) => notifications.push(n));
  await sp.start();
  closers.push(() => sp.stop('test done'));
  return { sp, rib, notifications, port: sp.listenPort };
}

const GSHUT = (65535 << 16) >>> 0;

describe('BFDProfile → BFD session settings', () => {
  it('maps MetalLB fields and defaults (300 ms, × 3), multihop with minimumTtl for ebgpMultiHop peers', () => {
    expect(sessionFor(peerCfg(179), {})).toEqual({ peer: '127.0.0.1', multihop: false, receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, passive: false });
    expect(sessionFor(peerCfg(179, { ebgpMultiHop: true, sourceAddress: '127.0.0.2' }), { receiveInterval: 100, transmitInterval: 50, detectMultiplier: 5, passiveMode: true, minimumTtl: 250 })).toEqual({
      peer: '127.0.0.1',
      local: '127.0.0.2',
      multihop: true,
      minimumTtl: 250,
      receiveInterval: 100,
      transmitInterval: 50,
      detectMultiplier: 5,
      passive: true,
    });
    expect(sessionFor(peerCfg(179, { ebgpMultiHop: true }), {}).minimumTtl).toBe(254);
  });

  it('echoMode: echo packets every echoInterval (default 50 ms); RequiredMinEchoRx only when this node forwards IPv4; never multihop or IPv6', () => {
    expect(sessionFor(peerCfg(179), { echoMode: true, echoInterval: 80 }, true)).toMatchObject({ echoInterval: 80, echoReceiveInterval: 80 });
    const noFwd = sessionFor(peerCfg(179), { echoMode: true }, false);
    expect(noFwd.echoInterval).toBe(DEFAULT_ECHO_INTERVAL);
    expect(noFwd.echoReceiveInterval).toBeUndefined(); // the router's echo packets would not come back
    expect(sessionFor(peerCfg(179, { ebgpMultiHop: true }), { echoMode: true }, true).echoInterval).toBeUndefined();
    expect(sessionFor(peerCfg(179, { peerAddress: 'fd00::1' }), { echoMode: true }, true).echoInterval).toBeUndefined();
    expect(sessionFor(peerCfg(179), { echoInterval: 80 }, true).echoInterval).toBeUndefined(); // echoMode off
    expect(ipv4Forwarding(() => '1\n')).toBe(true);
    expect(ipv4Forwarding(() => '0\n')).toBe(false);
    expect(ipv4Forwarding(() => { throw new Error('no /proc'); })).toBe(false);
  });

  it('BfdPeers: echoMode on a node that does not forward IPv4, or on a multihop peer, is logged once per profile', async () => {
    const logs: Array<{ level: string; msg: string }> = [];
    const log = { log: (level: string, msg: string) => void logs.push({ level, msg }), child: () => log };
    const base = 30000 + Math.floor(Math.random() * 20000);
    const peers = new BfdPeers(() => undefined, log, { ports: { singleHop: base, multihop: base + 1 }, remotePort: base + 2 }, () => false);
    closers.push(() => peers.close());
    const profiles = new Map([['echo', { echoMode: true, echoInterval: 80 }]]);
    const p1 = peerCfg(179, { bfdProfile: 'echo' });
    peers.update([p1], profiles);
    peers.update([p1], profiles);
    expect(logs.filter((l) => /ip_forward is 0/.test(l.msg))).toHaveLength(1);
    expect(peers.status()).toEqual([{ peer: '127.0.0.1', state: 'Down', diag: 'No Diagnostic' }]);
    const multi = new BfdPeers(() => undefined, log, { ports: { singleHop: base + 3, multihop: base + 4 }, remotePort: base + 5 }, () => true);
    closers.push(() => multi.close());
    multi.update([peerCfg(179, { bfdProfile: 'echo', ebgpMultiHop: true, peerAddress: '127.0.0.2' })], profiles);
    expect(logs.filter((l) => /single-hop IPv4 sessions only/.test(l.msg))).toHaveLength(1);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]); // both sessions were accepted
  });
});

describe('lbkit BGP backend: RFC 8326 graceful shutdown', () => {
  it('a route no longer wanted is re-announced with GRACEFUL_SHUTDOWN (and LOCAL_PREF 0 on iBGP), then withdrawn', async () => {
    const r = await router(64513, '127.0.0.2'); // iBGP: LOCAL_PREF is carried
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10', gracefulShutdownMs: 400 });
    closers.push(() => ann.close());
    const p = peerCfg(r.port, { peerASN: 64513, sourceAddress: '127.0.0.2' });
    await ann.update([p], new Map([['tor', [route('198.51.100.1/32', ['64512:7']), route('198.51.100.2/32')]]]));
    await until(() => r.rib.size === 2, 10_000, 'two routes');
    expect(r.rib.get('198.51.100.1/32')!.communities).not.toContain(GSHUT);
    await ann.update([p], new Map([['tor', [route('198.51.100.2/32')]]]));
    const t0 = Date.now();
    const g = await until(() => r.rib.get('198.51.100.1/32')?.communities.includes(GSHUT) && r.rib.get('198.51.100.1/32'), 5000, 'GRACEFUL_SHUTDOWN');
    expect(g.communities).toContain(((64512 << 16) | 7) >>> 0); // its own communities are kept
    expect(g.localPref).toBe(0);
    await until(() => !r.rib.has('198.51.100.1/32'), 5000, 'withdrawal');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(r.rib.get('198.51.100.2/32')!.communities).not.toContain(GSHUT);
  });

  it('a route wanted again during the drain is restored without GRACEFUL_SHUTDOWN and never withdrawn', async () => {
    const r = await router(64512, '127.0.0.2');
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10', gracefulShutdownMs: 300 });
    closers.push(() => ann.close());
    const p = peerCfg(r.port, { sourceAddress: '127.0.0.2' });
    await ann.update([p], new Map([['tor', [route('198.51.100.1/32')]]]));
    await until(() => r.rib.size === 1, 10_000, 'route');
    await ann.update([p], new Map([['tor', []]]));
    await until(() => r.rib.get('198.51.100.1/32')?.communities.includes(GSHUT), 5000, 'GRACEFUL_SHUTDOWN');
    await ann.update([p], new Map([['tor', [route('198.51.100.1/32')]]]));
    await until(() => r.rib.get('198.51.100.1/32') && !r.rib.get('198.51.100.1/32')!.communities.includes(GSHUT), 5000, 'restored');
    await new Promise((res) => setTimeout(res, 500));
    expect(r.rib.has('198.51.100.1/32')).toBe(true);
  });

  it('close() drains every route (GRACEFUL_SHUTDOWN, wait, withdraw) before the Cease', async () => {
    const r = await router(64512, '127.0.0.2');
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10', gracefulShutdownMs: 500 });
    const p = peerCfg(r.port, { sourceAddress: '127.0.0.2' });
    await ann.update([p], new Map([['tor', [route('198.51.100.1/32'), route('198.51.100.3/32')]]]));
    await until(() => r.rib.size === 2, 10_000, 'routes');
    const t0 = Date.now();
    const closed = ann.close();
    await until(() => [...r.rib.values()].every((x) => x.communities.includes(GSHUT)), 5000, 'all routes with GRACEFUL_SHUTDOWN');
    expect(r.sp.peerStatus('127.0.0.2')!.state).toBe('Established');
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    await until(() => r.rib.size === 0, 5000, 'all withdrawn');
    await until(() => r.notifications.find((n) => n.direction === 'received' && n.code === 6 && n.subcode === 2), 5000, 'Cease 6/2');
  });
});

describe('lbkit BGP backend: BFD', () => {
  it('a BFDProfile brings up a BFD session with the peer; BFD detecting a failure tears the BGP session down (Cease 6/10)', async () => {
    const r = await router();
    const base = 30000 + Math.floor(Math.random() * 20000);
    // the router's BFD: listens on base+1, sends to our base
    const rbfd = new BfdManager({ ports: { singleHop: base + 1 } });
    closers.push(() => rbfd.stop());
    const rs = rbfd.addSession({ peer: '127.0.0.1', remotePort: base, transmitInterval: 30, receiveInterval: 30, detectMultiplier: 3 });
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10', bfdPorts: { singleHop: base, remote: base + 1 } });
    closers.push(() => ann.close());
    const profiles = new Map([['fast', { receiveInterval: 30, transmitInterval: 30, detectMultiplier: 3 }]]);
    await ann.update([peerCfg(r.port, { bfdProfile: 'fast' })], new Map([['tor', [route('198.51.100.1/32')]]]), profiles);
    await until(() => r.sp.peerStatus('127.0.0.1')?.state === 'Established', 10_000, 'BGP Established');
    await until(() => rs.up && ann.bfdStates()[0]?.state === 'Up', 10_000, 'BFD Up');
    // the router's BFD goes silent (its forwarding plane died): our side detects it in ~90 ms
    for (const s of rbfd.sessions()) s.txAt = Infinity; // its queued transmissions go stale
    const t0 = Date.now();
    await until(() => r.notifications.find((n) => n.direction === 'received' && n.code === 6 && n.subcode === 10), 5000, 'Cease 6/10 (BFD Down)');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a missing BFDProfile leaves BGP alone and starts no BFD session', async () => {
    const r = await router(64512, '127.0.0.2');
    const ann = new LbkitBgpAnnouncer({ node: 'n1', routerID: '192.0.2.10' });
    closers.push(() => ann.close());
    await ann.update([peerCfg(r.port, { bfdProfile: 'nope', sourceAddress: '127.0.0.2' })], new Map([['tor', [route('198.51.100.1/32')]]]), new Map());
    await until(() => r.rib.size === 1, 10_000, 'route');
    expect(ann.bfdStates()).toEqual([]);
  });
});
