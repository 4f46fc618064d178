import { afterEach, describe, expect, it } from 'vitest';
import { BgpSpeaker, type ReceivedUpdate } from '@lbkit/bgp';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function waitFor<T>(fn: () => T | undefined, ms = 10_000, what = 'condition'): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timeout waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function pair(o: { asnA?: number; asnB?: number; holdTime?: number } = {}) {
  const asnA = o.asnA ?? 64512;
  const asnB = o.asnB ?? 64513;
  const a = new BgpSpeaker({ asn: asnA, routerId: '10.255.0.1', listen: { port: 0, address: '127.0.0.1' } });
  a.addPeer({ address: '127.0.0.2', asn: asnB, passive: true, holdTime: o.holdTime ?? 9 });
  await a.start();
  const b = new BgpSpeaker({ asn: asnB, routerId: '10.255.0.2' });
  b.addPeer({ address: '127.0.0.1', asn: asnA, port: a.listenPort, sourceAddress: '127.0.0.2', holdTime: o.holdTime ?? 9, nextHop6: 'fd00::2' });
  cleanups.push(async () => {
    await b.stop();
    await a.stop();
  });
  return { a, b };
}

describe('two speakers on loopback', () => {
  it('establish, exchange routes with attributes, batch, withdraw, and Cease on stop', async () => {
    const { a, b } = await pair();
    const updates: ReceivedUpdate[] = [];
    a.on('update', (_p, u) => updates.push(u));
    const est = new Promise<void>((r) => a.once('established', () => r()));
    await b.start();
    await est;
    expect(a.peerStatus('127.0.0.2')!.state).toBe('Established');
    expect(b.peerStatus('127.0.0.1')!.holdTime).toBe(9);
    for (let i = 0; i < 300; i++) b.announce(`10.96.${i >> 8}.${i & 255}/32`, { communities: ['64512:100'], largeCommunities: ['64512:1:2'], med: 5 });
    b.announce('fd0a:96::10/128', { communities: ['64512:200'] });
    await waitFor(() => a.peerStatus('127.0.0.2')!.stats.prefixesReceived === 301 || undefined, 10_000, '301 routes');
    const all = updates.flatMap((u) => u.announced);
    const r = all.find((x) => x.prefix === '10.96.0.7/32')!;
    expect(r.nextHop).toBe('127.0.0.2');
    expect(r.asPath).toEqual([64513]);
    expect(r.med).toBe(5);
    expect(r.communities).toEqual([64512 * 65536 + 100]);
    expect(r.largeCommunities).toEqual(['64512:1:2']);
    const r6 = all.find((x) => x.prefix === 'fd0a:96::10/128')!;
    expect(r6.nextHop).toBe('fd00::2');
    // 300 /32 with one attribute set fit in one UPDATE; the same tick's changes were coalesced
    const v4Updates = updates.filter((u) => u.announced.some((x) => x.prefix.startsWith('10.96.')));
    expect(v4Updates.length).toBe(1);
    expect(updates.map((u) => u.endOfRib).filter(Boolean).sort()).toEqual(['1/1', '2/1']);
    b.withdraw('10.96.0.7/32');
    await waitFor(() => updates.some((u) => u.withdrawn.includes('10.96.0.7/32')) || undefined, 5000, 'withdraw');
    expect(a.peerStatus('127.0.0.2')!.stats.prefixesReceived).toBe(300);
    expect(b.peerStatus('127.0.0.1')!.stats.prefixesSent).toBe(300);
    const notes: { code: number; subcode: number; text?: string }[] = [];
    a.on('notification', (_p, n) => notes.push(n));
    const down = new Promise<string>((r) => a.once('down', (_p, reason) => r(reason)));
    await b.stop('maintenance');
    expect(await down).toMatch(/NOTIFICATION 6\/2/);
    expect(notes).toEqual([{ direction: 'received', code: 6, subcode: 2, text: 'maintenance' }]);
  });

  it('sends LOCAL_PREF and an empty AS_PATH on iBGP only', async () => {
    const { a, b } = await pair({ asnA: 64512, asnB: 64512 });
    const updates: ReceivedUpdate[] = [];
    a.on('update', (_p, u) => updates.push(u));
    await b.start();
    b.announce('10.96.0.10/32', { localPref: 250 });
    await waitFor(() => updates.find((u) => u.announced.length), 10_000, 'route');
    const r = updates.flatMap((u) => u.announced)[0]!;
    expect(r.localPref).toBe(250);
    expect(r.asPath).toEqual([]);
  });

  it('announce({peers}) restricts a prefix to those peers; removePeer sends Cease 6/3', async () => {
    const { a, b } = await pair();
    const updates: ReceivedUpdate[] = [];
    a.on('update', (_p, u) => updates.push(u));
    await b.start();
    await waitFor(() => updates.some((u) => u.endOfRib === '1/1') || undefined, 10_000, 'End-of-RIB');
    b.announce('10.96.0.1/32', {}, { peers: ['127.0.0.9'] });
    b.announce('10.96.0.2/32', {}, { peers: ['127.0.0.1'] });
    await waitFor(() => updates.some((u) => u.announced.length) || undefined, 10_000, 'route');
    await new Promise((r) => setTimeout(r, 100));
    expect(updates.flatMap((u) => u.announced.map((x) => x.prefix))).toEqual(['10.96.0.2/32']);
    const n = new Promise((r) => a.once('notification', (_p, x) => r(x)));
    await b.removePeer('127.0.0.1');
    expect(await n).toEqual({ direction: 'received', code: 6, subcode: 3 });
    expect(b.status()).toEqual([]);
  });

  it('TCP-MD5 on loopback: the listener key admits the right password and silently drops a wrong one', async () => {
    const a = new BgpSpeaker({ asn: 64512, routerId: '10.255.0.1', listen: { port: 0, address: '127.0.0.1' } });
    a.addPeer({ address: '127.0.0.2', asn: 64513, passive: true, password: 'right-key' });
    a.addPeer({ address: '127.0.0.4', asn: 64513, passive: true, password: 'right-key' });
    await a.start();
    const good = new BgpSpeaker({ asn: 64513, routerId: '10.255.0.2' });
    good.addPeer({ address: '127.0.0.1', asn: 64512, port: a.listenPort, sourceAddress: '127.0.0.2', password: 'right-key' });
    const bad = new BgpSpeaker({ asn: 64513, routerId: '10.255.0.4' });
    bad.addPeer({ address: '127.0.0.1', asn: 64512, port: a.listenPort, sourceAddress: '127.0.0.4', password: 'wrong-key', connectRetry: 60 });
    cleanups.push(async () => {
      await good.stop();
      await bad.stop();
      await a.stop();
    });
    await good.start();
    await bad.start();
    await waitFor(() => a.peerStatus('127.0.0.2')!.state === 'Established' || undefined, 10_000, 'MD5 session');
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.peerStatus('127.0.0.4')!.state).toBe('Active');
    expect(bad.peerStatus('127.0.0.1')!.state).toBe('Connect'); // SYNs with a wrong MAC are dropped
  });

  it('rejects bad configuration with clear errors', () => {
    expect(() => new BgpSpeaker({ asn: 0, routerId: '10.0.0.1' })).toThrow(/asn/);
    expect(() => new BgpSpeaker({ asn: 1, routerId: '0.0.0.0' })).toThrow(/routerId/);
    const s = new BgpSpeaker({ asn: 64512, routerId: '10.0.0.1' });
    expect(() => s.addPeer({ address: '10.0.0.2', asn: 1, holdTime: 2 })).toThrow(/holdTime/);
    expect(() => s.addPeer({ address: 'nope', asn: 1 })).toThrow(/address/);
    expect(() => s.announce('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => s.announce('10.0.0.1/32', { communities: ['70000:1'] })).toThrow(/community/);
    expect(() => s.announce('10.0.0.1/32', { largeCommunities: ['1:2'] })).toThrow(/largeCommunities/);
  });

  it('rejects a peer AS mismatch with OPEN error 2/2', async () => {
    const a = new BgpSpeaker({ asn: 64512, routerId: '10.255.0.1', listen: { port: 0, address: '127.0.0.1' } });
    a.addPeer({ address: '127.0.0.2', asn: 65000, passive: true });
    await a.start();
    const b = new BgpSpeaker({ asn: 64513, routerId: '10.255.0.2' });
    b.addPeer({ address: '127.0.0.1', asn: 64512, port: a.listenPort, sourceAddress: '127.0.0.2', backoff: { initialMs: 60_000 } });
    cleanups.push(async () => {
      await b.stop();
      await a.stop();
    });
    const sent = new Promise((r) => a.once('notification', (_p, n) => r(n)));
    const got = new Promise((r) => b.once('notification', (_p, n) => r(n)));
    await b.start();
    expect(await sent).toEqual({ direction: 'sent', code: 2, subcode: 2 });
    expect(await got).toMatchObject({ direction: 'received', code: 2, subcode: 2 });
  });
});
