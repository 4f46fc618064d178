import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decode, encode, NdpResponder, NdpSpeaker, UnsolicitedAnnouncer, type NdpTransport } from '../src/index.js';

class FakeTransport implements NdpTransport {
  sent: Buffer[] = [];
  joins: string[] = [];
  leaves: string[] = [];
  handler: ((f: Buffer) => void) | undefined;
  send(frame: Buffer): void { this.sent.push(frame); }
  onFrame(h: (f: Buffer) => void): void { this.handler = h; }
  addMembership(mac: string): void { this.joins.push(mac); }
  dropMembership(mac: string): void { this.leaves.push(mac); }
  deliver(f: Buffer): void { this.handler!(f); }
}

const MY = '02:66:00:00:00:11';
const CLIENT = '02:66:00:00:00:10';
const VIP = 'fd00:66::100';

describe('NdpResponder', () => {
  it('answers a multicast NS with a solicited NA (S=1 O=1 R=0, TLLA, hop 255) to the SLLA', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    t.deliver(encode({ type: 'ns', ethDst: '33:33:ff:00:01:00', ethSrc: CLIENT, src: 'fd00:66::10', dst: 'ff02::1:ff00:100', target: VIP, sourceLinkLayer: CLIENT }));
    expect(t.sent).toHaveLength(1);
    const na = decode(t.sent[0]!);
    expect(na).toMatchObject({ type: 'na', ethSrc: MY, ethDst: CLIENT, src: VIP, dst: 'fd00:66::10', target: VIP, solicited: true, override: true, router: false, targetLinkLayer: MY, hopLimit: 255 });
    expect(r.stats.answered).toBe(1);
  });
  it('answers a unicast NUD NS without SLLA to the Ethernet source', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    t.deliver(encode({ type: 'ns', ethDst: MY, ethSrc: '02:aa:00:00:00:01', src: 'fe80::aa', dst: VIP, target: VIP }));
    const na = decode(t.sent[0]!);
    expect(na.ethDst).toBe('02:aa:00:00:00:01');
    expect(na.dst).toBe('fe80::aa');
    expect(na.solicited).toBe(true);
  });
  it('answers a DAD NS to ff02::1 with S=0', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    t.deliver(encode({ type: 'ns', ethDst: '33:33:ff:00:01:00', ethSrc: CLIENT, src: '::', dst: 'ff02::1:ff00:100', target: VIP }));
    const na = decode(t.sent[0]!);
    expect(na).toMatchObject({ dst: 'ff02::1', ethDst: '33:33:00:00:00:01', solicited: false, override: true });
  });
  it('ignores NS for other targets, its own frames and NAs; counts malformed frames without throwing', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    t.deliver(encode({ type: 'ns', ethDst: '33:33:ff:00:02:00', ethSrc: CLIENT, src: 'fd00:66::10', dst: 'ff02::1:ff00:200', target: 'fd00:66::200' }));
    t.deliver(encode({ type: 'ns', ethDst: '33:33:ff:00:01:00', ethSrc: MY, src: 'fd00:66::11', dst: 'ff02::1:ff00:100', target: VIP }));
    t.deliver(encode({ type: 'na', ethDst: '33:33:00:00:00:01', ethSrc: CLIENT, src: 'fe80::1', dst: 'ff02::1', target: VIP, override: true }));
    expect(r.stats.ignored).toBe(3);
    const bad = encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP, hopLimit: 1 });
    expect(() => t.deliver(bad)).not.toThrow();
    expect(() => t.deliver(Buffer.alloc(3))).not.toThrow();
    expect(() => t.deliver(undefined as unknown as Buffer)).not.toThrow();
    expect(r.stats.malformed).toBe(3);
    const echo = encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP });
    echo[54] = 128; // ICMPv6 echo request: not NDP, counted apart from malformed
    t.deliver(echo);
    expect(r.stats.other).toBe(1);
    expect(r.stats.malformed).toBe(3);
    expect(t.sent).toHaveLength(0);
    // still answers afterwards
    t.deliver(encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP }));
    expect(t.sent).toHaveLength(1);
  });
  it('refcounts solicited-node memberships shared by two VIPs', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add('fd00:1::12:3456');
    r.add('fd00:2::12:3456'); // same last 24 bits
    r.add('fd00:2::12:3456'); // idempotent
    r.add('fd00::1');
    expect(t.joins).toEqual(['33:33:ff:12:34:56', '33:33:ff:00:00:01']);
    r.remove('fd00:1::12:3456');
    expect(t.leaves).toEqual([]);
    r.remove('fd00:2::12:3456');
    expect(t.leaves).toEqual(['33:33:ff:12:34:56']);
    expect([...r.memberships().keys()]).toEqual(['33:33:ff:00:00:01']);
    r.remove('fd00:2::12:3456');
    expect(t.leaves).toHaveLength(1);
  });
});

describe('UnsolicitedAnnouncer', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });
  it('sends at once then every 1.1 s for 5 s, with O=1 S=0 R=0 to ff02::1 from the link-local', () => {
    const t = new FakeTransport();
    const a = new UnsolicitedAnnouncer({ transport: t, mac: MY, linkLocal: 'fe80::66:ff:fe00:11' });
    a.announce(VIP);
    expect(t.sent).toHaveLength(1);
    const na = decode(t.sent[0]!);
    expect(na).toMatchObject({ type: 'na', ethDst: '33:33:00:00:00:01', dst: 'ff02::1', src: 'fe80::66:ff:fe00:11', target: VIP, override: true, solicited: false, router: false, targetLinkLayer: MY, hopLimit: 255 });
    vi.advanceTimersByTime(1099);
    expect(t.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(t.sent).toHaveLength(2);
    vi.advanceTimersByTime(20_000);
    expect(t.sent).toHaveLength(1 + 4); // floor(5000/1100) = 4 repeats, then silence
  });
  it('refreshes periodically when asked and stops on withdraw', () => {
    const t = new FakeTransport();
    const a = new UnsolicitedAnnouncer({ transport: t, mac: MY, linkLocal: () => 'fe80::1', intervalMs: 100, burstMs: 300, refreshMs: 1000 });
    a.announce(VIP);
    vi.advanceTimersByTime(300);
    expect(t.sent).toHaveLength(4);
    vi.advanceTimersByTime(2000);
    expect(t.sent).toHaveLength(6);
    a.withdraw(VIP);
    vi.advanceTimersByTime(10_000);
    expect(t.sent).toHaveLength(6);
  });
  it('reports a failing send through onError instead of throwing from a timer', () => {
    const errs: Error[] = [];
    const t = new FakeTransport();
    t.send = () => { throw new Error('ENETDOWN'); };
    const a = new UnsolicitedAnnouncer({ transport: t, mac: MY, linkLocal: 'fe80::1', onError: (e) => errs.push(e) });
    a.announce(VIP);
    vi.advanceTimersByTime(1100);
    expect(errs.map((e) => e.message)).toEqual(['ENETDOWN', 'ENETDOWN']);
    a.close();
  });
});

describe('NdpSpeaker', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });
  it('announces, answers, withdraws, and re-joins/re-announces on link up', () => {
    const t = new FakeTransport();
    const s = new NdpSpeaker({ transport: t, mac: MY, linkLocal: 'fe80::11', burstMs: 0 });
    s.announce(VIP);
    expect(t.joins).toEqual(['33:33:ff:00:01:00']);
    expect(t.sent).toHaveLength(1);
    t.deliver(encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP }));
    expect(t.sent).toHaveLength(2);
    s.linkUp();
    expect(t.joins).toEqual(['33:33:ff:00:01:00']);
    s.linkUp(true);
    expect(t.joins).toEqual(['33:33:ff:00:01:00', '33:33:ff:00:01:00']);
    expect(t.sent).toHaveLength(4);
    expect(decode(t.sent[2]!).solicited).toBe(false);
    s.withdraw(VIP);
    expect(t.leaves).toEqual(['33:33:ff:00:01:00']);
    t.deliver(encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP }));
    expect(t.sent).toHaveLength(4);
    expect(s.addresses()).toEqual([]);
    s.close();
  });
});

describe('fromPacketSocket', () => {
  it('adapts a PacketSocket-shaped emitter and drops outgoing copies', async () => {
    const { EventEmitter } = await import('node:events');
    const { fromPacketSocket } = await import('../src/index.js');
    const em = new EventEmitter();
    const sent: Buffer[] = [];
    const joins: string[] = [];
    const sock = Object.assign(em, {
      send: (f: Buffer) => { sent.push(f); },
      addMembership: (m: string) => { joins.push(m); },
      dropMembership: () => {},
    });
    const r = new NdpResponder({ transport: fromPacketSocket(sock as never), mac: MY });
    r.add(VIP);
    expect(joins).toEqual(['33:33:ff:00:01:00']);
    const ns = encode({ type: 'ns', ethDst: MY, ethSrc: CLIENT, src: 'fd00:66::10', dst: VIP, target: VIP });
    em.emit('frame', ns, 4); // outgoing copy: ignored
    expect(sent).toHaveLength(0);
    em.emit('frame', ns, 0);
    expect(sent).toHaveLength(1);
    expect(decode(sent[0]!).targetLinkLayer).toBe(MY);
  });
});

describe('followInterface', () => {
  it('re-announces (without re-joining) on every "up" event', async () => {
    const { EventEmitter } = await import('node:events');
    const { followInterface } = await import('../src/index.js');
    const t = new FakeTransport();
    const s = new NdpSpeaker({ transport: t, mac: MY, linkLocal: 'fe80::11', burstMs: 0 });
    const w = new EventEmitter();
    followInterface(s, w);
    s.announce(VIP);
    w.emit('up', { ifname: 'eth0' });
    w.emit('up', { ifname: 'eth0' });
    expect(t.sent).toHaveLength(3);
    expect(t.joins).toHaveLength(1);
    s.close();
  });
});
