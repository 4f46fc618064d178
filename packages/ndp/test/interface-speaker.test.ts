// NdpInterfaceSpeaker following the interface's life, with a fake interface reader and fake
// transports; the watcher's poll timer and the NA bursts run on vitest's fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NdpInterfaceSpeaker, UnsolicitedAnnouncer, decode, encode, eui64LinkLocal, type NdpTransport } from '../src/index.js';
import { failingSends, fakeIface as iface, fakeOpener, recordEvents, type FakeTable } from '../../../test-utils/l2-fakes.js';

class FakeTransport implements NdpTransport {
  sent: Buffer[] = [];
  joins: string[] = [];
  leaves: string[] = [];
  closed = false;
  handler: ((f: Buffer) => void) | undefined;
  constructor(readonly ifindex: number) {}
  send(frame: Buffer): void {
    if (this.closed) throw new Error('socket is closed');
    this.sent.push(frame);
  }
  onFrame(h: (f: Buffer) => void): void { this.handler = h; }
  addMembership(mac: string): void { this.joins.push(mac); }
  dropMembership(mac: string): void { this.leaves.push(mac); }
  close(): void { this.closed = true; }
}

const MAC1 = '02:66:00:00:00:11';
const MAC2 = '02:66:00:00:00:22';
const CLIENT = '02:66:00:00:00:10';
const VIP = 'fd00:66::100';
const ns = () => encode({ type: 'ns', ethDst: '33:33:ff:00:01:00', ethSrc: CLIENT, src: 'fd00:66::10', dst: 'ff02::1:ff00:100', target: VIP, sourceLinkLayer: CLIENT });

describe('eui64LinkLocal', () => {
  it('derives fe80::/64 with the U/L bit flipped and ff:fe inserted (RFC 4291 appendix A example)', () => {
    expect(eui64LinkLocal('34:56:78:9a:bc:de')).toBe('fe80::3656:78ff:fe9a:bcde');
    expect(() => eui64LinkLocal('nope')).toThrow(/mac/);
  });
});

describe('NdpInterfaceSpeaker follows the interface', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  function setup(extra: { mac?: string } = {}) {
    const state: FakeTable = { cur: iface(5, MAC1) };
    const { opened: transports, open } = fakeOpener(state, (ifindex) => new FakeTransport(ifindex));
    const s = new NdpInterfaceSpeaker({
      ifname: 'eth0',
      watchIntervalMs: 100,
      linkLocal: 'fe80::1',
      readInterface: () => state.cur,
      openTransport: open,
      ...extra,
    });
    const events = recordEvents(s, ['down', 'removed', 'reopened', 'reannounced', 'error']);
    return { s: s.start(), state, transports, events };
  }

  it('sends the unsolicited NA burst at 0, 1.1, 2.2, 3.3, 4.4 s (O=1, S=0, hop 255, to ff02::1) and emits na', () => {
    const { s, transports } = setup();
    const at: number[] = [];
    s.on('na', (ip) => { expect(ip).toBe(VIP); at.push(Date.now()); });
    s.announce('fd00:66:0::100');
    vi.advanceTimersByTime(60_000);
    expect(at).toEqual([0, 1100, 2200, 3300, 4400]);
    for (const f of transports[0]!.sent) {
      expect(decode(f)).toMatchObject({ type: 'na', ethDst: '33:33:00:00:00:01', dst: 'ff02::1', src: 'fe80::1', hopLimit: 255, override: true, solicited: false, router: false, targetLinkLayer: MAC1 });
    }
    s.close();
  });

  it('deleted: socket dropped, VIPs kept; re-created with a new MAC: new socket, groups re-joined, NAs with the new MAC', () => {
    const { s, state, transports, events } = setup();
    s.announce(VIP);
    s.announce('fd00:77::100'); // same solicited-node group as VIP: one membership, refcount 2
    expect(transports[0]!.joins).toEqual(['33:33:ff:00:01:00']);
    expect([...s.memberships()]).toEqual([['33:33:ff:00:01:00', 2]]);
    transports[0]!.handler!(ns());
    expect(s.stats().answered).toBe(1);

    state.cur = undefined;
    vi.advanceTimersByTime(100);
    expect(transports[0]!.closed).toBe(true);
    expect(events.splice(0)).toEqual(['down', 'removed']);
    expect(s.isOpen).toBe(false);
    s.withdraw('fd00:77::100');
    expect(s.addresses()).toEqual([VIP]);
    const sentBefore = transports[0]!.sent.length;
    vi.advanceTimersByTime(10_000); // bursts were cancelled with the socket: nothing sent, nothing thrown
    expect(transports[0]!.sent).toHaveLength(sentBefore);

    state.cur = iface(9, MAC2);
    vi.advanceTimersByTime(100);
    expect(events.splice(0)).toEqual(['reopened 02:66:00:00:00:22', `reannounced ${VIP}`]);
    const t2 = transports[1]!;
    expect(t2.ifindex).toBe(9);
    expect(t2.joins).toEqual(['33:33:ff:00:01:00']); // re-joined once on the new socket
    expect(decode(t2.sent[0]!)).toMatchObject({ type: 'na', ethSrc: MAC2, targetLinkLayer: MAC2, target: VIP, override: true });
    t2.handler!(ns());
    expect(decode(t2.sent[1]!)).toMatchObject({ type: 'na', solicited: true, ethDst: CLIENT, targetLinkLayer: MAC2 });
    expect(s.stats().answered).toBe(2); // cumulative over the two sockets
    expect(s.currentMac()).toBe(MAC2);
    s.close();
    expect(t2.closed).toBe(true);
  });

  it('down pauses the burst, up re-announces without a second join; re-created while down waits for up', () => {
    const { s, state, transports, events } = setup();
    s.announce(VIP);
    state.cur = iface(5, MAC1, false);
    vi.advanceTimersByTime(100);
    const n = transports[0]!.sent.length;
    vi.advanceTimersByTime(10_000);
    expect(transports[0]!.sent).toHaveLength(n);
    state.cur = iface(5, MAC1, true);
    vi.advanceTimersByTime(100);
    expect(transports[0]!.sent).toHaveLength(n + 1);
    expect(transports[0]!.joins).toHaveLength(1);
    events.splice(0);
    state.cur = iface(7, MAC2, false); // re-created, still down
    vi.advanceTimersByTime(100);
    expect(events.splice(0)).toEqual(['down', 'reopened 02:66:00:00:00:22']);
    expect(transports[1]!.joins).toEqual(['33:33:ff:00:01:00']);
    expect(transports[1]!.sent).toHaveLength(0);
    s.announce('fd00:66::200'); // taken while down: joined, announced on up
    expect(transports[1]!.joins).toEqual(['33:33:ff:00:01:00', '33:33:ff:00:02:00']);
    expect(transports[1]!.sent).toHaveLength(0);
    state.cur = iface(7, MAC2, true);
    vi.advanceTimersByTime(100);
    expect(transports[1]!.sent.map((f) => decode(f).target).sort()).toEqual(['fd00:66::100', 'fd00:66::200']);
    s.close();
  });

  it('a MAC change reopens unless the MAC is fixed; a failing reopen is an error event', () => {
    const a = setup();
    a.s.announce(VIP);
    a.state.cur = iface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(a.transports).toHaveLength(2);
    expect(decode(a.transports[1]!.sent[0]!).targetLinkLayer).toBe(MAC2);
    a.state.cur = { ...iface(6, ''), mac: '' };
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(a.events.at(-1)).toBe('error NdpInterfaceSpeaker: interface eth0 not found');
    a.s.close();
    const b = setup({ mac: MAC1 });
    b.s.announce(VIP);
    b.state.cur = iface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(b.transports).toHaveLength(1);
    b.s.close();
  });
});

describe('UnsolicitedAnnouncer refresh schedule', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  it('burst at 0..4.4 s, then every refreshMs, stopping on withdraw', () => {
    const at: number[] = [];
    const t = new FakeTransport(1);
    const a = new UnsolicitedAnnouncer({ transport: t, mac: MAC1, linkLocal: 'fe80::1', refreshMs: 20_000, onSent: () => at.push(Date.now()) });
    a.announce(VIP);
    vi.advanceTimersByTime(50_000);
    expect(at).toEqual([0, 1100, 2200, 3300, 4400, 24_400, 44_400]);
    a.withdraw(VIP);
    vi.advanceTimersByTime(50_000);
    expect(at).toHaveLength(7);
  });
});

describe('NdpInterfaceSpeaker send errors explained by the link state', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  it('ENXIO after a deletion the watcher has not seen yet: immediate poll → removed, no error; other errors are reported', () => {
    const state: FakeTable = { cur: iface(5, MAC1) };
    const t = new FakeTransport(5);
    const fail = failingSends(t);
    const events: string[] = [];
    const s = new NdpInterfaceSpeaker({ ifname: 'eth0', watchIntervalMs: 60_000, linkLocal: 'fe80::1', readInterface: () => state.cur, openTransport: () => t });
    s.on('removed', () => events.push('removed'));
    s.on('error', (e) => events.push(`error ${e.message}`));
    s.start();
    fail.message = 'sendto(AF_PACKET): Message too long (errno 90)';
    s.announce(VIP);
    expect(events).toEqual(['error sendto(AF_PACKET): Message too long (errno 90)']);
    fail.message = 'sendto(AF_PACKET): No such device or address (errno 6)';
    state.cur = undefined;
    vi.advanceTimersByTime(1101); // burst frame at 1.1 s fails; its immediate poll sees the deletion
    expect(events.slice(1)).toEqual(['removed']);
    expect(t.closed).toBe(true);
    s.close();
  });
});
