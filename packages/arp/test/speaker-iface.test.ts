// ArpSpeaker following the interface's life, with a fake interface reader and fake transports
// (the watcher's poll timer runs on vitest's fake clock).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'eventemitter3';
import { ArpSpeaker, decode, encode } from '@lbkit/arp';
import { failingSends, fakeIface as iface, fakeOpener, recordEvents, type FakeTable } from '../../../test-utils/l2-fakes.js';

class FakeTransport extends EventEmitter<{ frame: (f: Buffer, t: number) => void }> {
  sent: Buffer[] = [];
  closed = false;
  constructor(readonly ifindex: number) {
    super();
  }
  send(f: Buffer): void {
    if (this.closed) throw new Error('socket is closed');
    this.sent.push(f);
  }
  close(): void {
    this.closed = true;
  }
}

const MAC1 = '02:00:00:00:00:01';
const MAC2 = '02:00:00:00:00:02';
const CLIENT = '02:00:00:00:00:10';
const VIP = '10.0.0.100';
const req = (): Buffer => encode({ dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT, op: 1, sha: CLIENT, spa: '10.0.0.10', tha: '00:00:00:00:00:00', tpa: VIP });

describe('ArpSpeaker follows the interface', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(macOpt?: string) {
    const state: FakeTable = { cur: iface(5, MAC1) };
    const { opened: transports, open } = fakeOpener(state, (ifindex) => new FakeTransport(ifindex));
    const s = new ArpSpeaker({
      ifname: 'eth0',
      watchIntervalMs: 100,
      repeatForMs: 0,
      readInterface: () => state.cur,
      openTransport: open,
      ...(macOpt ? { mac: macOpt } : {}),
    });
    const events = recordEvents(s, ['down', 'removed', 'reopened', 'reannounced', 'error']);
    return { s: s.start(), state, transports, events };
  }

  it('drops the socket when the interface is deleted and reopens + re-announces with the new MAC when it is re-created', () => {
    const { s, state, transports, events } = setup();
    s.announce(VIP);
    expect(transports).toHaveLength(1);
    expect(decode(transports[0]!.sent[0]!)).toMatchObject({ op: 1, sha: MAC1, spa: VIP, tpa: VIP });

    state.cur = undefined; // ip link del eth0
    vi.advanceTimersByTime(100);
    expect(transports[0]!.closed).toBe(true);
    expect(s.isOpen).toBe(false);
    expect(events.splice(0)).toEqual(['down', 'removed']);
    // announce/withdraw while the interface is absent neither throw nor send
    s.announce('10.0.0.101');
    s.withdraw('10.0.0.101');
    expect(s.addresses()).toEqual([VIP]);
    vi.advanceTimersByTime(1000);
    expect(transports).toHaveLength(1);

    state.cur = iface(9, MAC2, false); // ip link add eth0 ... (still down)
    vi.advanceTimersByTime(100);
    expect(transports).toHaveLength(2);
    expect(transports[1]!.ifindex).toBe(9);
    expect(transports[1]!.sent).toHaveLength(0); // link not usable yet: nothing sent
    expect(events.splice(0)).toEqual(['reopened 02:00:00:00:00:02']);
    state.cur = iface(9, MAC2, true); // ip link set eth0 up
    vi.advanceTimersByTime(100);
    expect(events.splice(0)).toEqual([`reannounced ${VIP}`]);
    expect(transports[1]!.sent.map((f) => decode(f))).toEqual([
      { dst: 'ff:ff:ff:ff:ff:ff', src: MAC2, op: 1, sha: MAC2, spa: VIP, tha: 'ff:ff:ff:ff:ff:ff', tpa: VIP },
    ]);
    // the new socket answers requests with the new MAC; counters stayed cumulative
    transports[1]!.emit('frame', req(), 1);
    expect(decode(transports[1]!.sent[1]!)).toMatchObject({ op: 2, sha: MAC2, dst: CLIENT, spa: VIP });
    expect(s.currentMac()).toBe(MAC2);
    transports[0]!.emit('frame', req(), 1); // the old socket is detached
    expect(s.stats()).toMatchObject({ received: 1, replied: 1 });
    s.close();
    expect(transports[1]!.closed).toBe(true);
  });

  it('re-created between two polls (usable at once): one reopening, one re-announcement', () => {
    const { s, state, transports, events } = setup();
    s.announce(VIP);
    state.cur = iface(12, MAC2);
    vi.advanceTimersByTime(100);
    expect(transports[0]!.closed).toBe(true);
    expect(events).toEqual(['down', 'reopened 02:00:00:00:00:02', `reannounced ${VIP}`]);
    expect(transports[1]!.sent.map((f) => decode(f).sha)).toEqual([MAC2]);
    s.close();
  });

  it('a MAC change reopens with the new MAC unless a fixed MAC was given', () => {
    const a = setup();
    a.s.announce(VIP);
    a.state.cur = iface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(a.transports).toHaveLength(2);
    expect(a.transports[1]!.sent.map((f) => decode(f).sha)).toEqual([MAC2]);
    a.s.close();
    const b = setup(MAC1);
    b.s.announce(VIP);
    b.state.cur = iface(5, MAC2);
    vi.advanceTimersByTime(100);
    expect(b.transports).toHaveLength(1);
    b.s.close();
  });

  it('a failing reopen is reported as an error event, and the next re-creation recovers', () => {
    const { s, state, transports, events } = setup();
    s.announce(VIP);
    state.cur = undefined;
    vi.advanceTimersByTime(100);
    // appears without a MAC (sysfs address unreadable): open fails, reported, no throw from the timer
    state.cur = { ...iface(20, ''), mac: '' };
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(events.at(-1)).toBe('error ArpSpeaker: interface eth0 not found');
    state.cur = iface(21, MAC2);
    vi.advanceTimersByTime(100);
    expect(transports.at(-1)!.sent.map((f) => decode(f).sha)).toEqual([MAC2]);
    s.close();
  });
});

describe('ArpSpeaker send errors explained by the link state', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it('ENETDOWN while the link just went down is not an error (immediate poll → down); while up it is reported', () => {
    const state: FakeTable = { cur: iface(5, MAC1) };
    const t = new FakeTransport(5);
    const fail = failingSends(t);
    const events: string[] = [];
    const s = new ArpSpeaker({ ifname: 'eth0', watchIntervalMs: 60_000, readInterface: () => state.cur, openTransport: () => t });
    s.on('down', () => events.push('down'));
    s.on('error', (e) => events.push(`error ${e.message}`));
    s.start();
    s.announce(VIP);
    fail.message = 'sendto(AF_PACKET): Network is down (errno 100)';
    state.cur = iface(5, MAC1, false); // the watcher's next tick is a minute away
    vi.advanceTimersByTime(1101); // the burst's next GARP fails (at 1100), its setImmediate poll runs
    expect(events).toEqual(['down']); // noticed at once through the immediate poll, no error
    state.cur = iface(5, MAC1, true);
    vi.advanceTimersByTime(60_000); // tick: up → re-announce fails although the link looks up
    vi.advanceTimersByTime(1);
    // the re-announcement at 60 s and the burst frame at 61.1 s both fail: each is reported
    expect(events.slice(1)).toEqual(['error sendto(AF_PACKET): Network is down (errno 100)', 'error sendto(AF_PACKET): Network is down (errno 100)']);
    fail.message = 'sendto(AF_PACKET): Message too long (errno 90)';
    s.announce('10.0.0.5'); // not a link-state error: reported synchronously
    expect(events.at(-1)).toBe('error sendto(AF_PACKET): Message too long (errno 90)');
    s.close();
  });
});
