import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'eventemitter3';
import { ArpResponder, ArpSpeaker, GratuitousAnnouncer, decode, encode } from '@lbkit/arp';

class FakeTransport extends EventEmitter<{ frame: (f: Buffer, t: number) => void }> {
  sent: Buffer[] = [];
  closed = false;
  fail = false;
  send(f: Buffer): void {
    if (this.fail) throw new Error('ENETDOWN');
    this.sent.push(f);
  }
  close(): void {
    this.closed = true;
  }
}

const ME = '02:00:00:00:00:01';
const CLIENT = '02:00:00:00:00:10';
const req = (tpa: string, over: Partial<Parameters<typeof encode>[0]> = {}): Buffer =>
  encode({ dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT, op: 1, sha: CLIENT, spa: '10.0.0.10', tha: '00:00:00:00:00:00', tpa, ...over });

describe('ArpResponder', () => {
  it('answers only announced addresses, unicast to the requester SHA', () => {
    const t = new FakeTransport();
    const r = new ArpResponder(t, ME).start();
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(0);
    r.add('10.0.0.100');
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(1);
    expect(decode(t.sent[0]!)).toEqual({ dst: CLIENT, src: ME, op: 2, sha: ME, spa: '10.0.0.100', tha: CLIENT, tpa: '10.0.0.10' });
    t.emit('frame', req('10.0.0.101'), 1);
    r.remove('10.0.0.100');
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(1);
    expect(r.stats).toMatchObject({ received: 4, replied: 1, ignored: 3, malformed: 0 });
  });
  it('ignores its own frames, replies, gratuitous requests and frames to other unicast MACs', () => {
    const t = new FakeTransport();
    const r = new ArpResponder(t, ME).start();
    r.add('10.0.0.100');
    r.handle(req('10.0.0.100', { src: ME, sha: ME }));
    r.handle(req('10.0.0.100', { op: 2 }));
    r.handle(req('10.0.0.100', { spa: '10.0.0.100' }));
    r.handle(req('10.0.0.100', { dst: '02:00:00:00:00:99' }));
    expect(t.sent).toHaveLength(0);
    expect(r.stats.ignored).toBe(4);
  });
  it('counts malformed frames and keeps answering; send errors do not throw', () => {
    const t = new FakeTransport();
    const r = new ArpResponder(t, ME).start();
    r.add('10.0.0.100');
    const seen: string[] = [];
    r.on('malformed', (e) => seen.push(e.field));
    t.emit('frame', Buffer.alloc(3), 0);
    t.emit('frame', req('10.0.0.100').subarray(0, 30), 1);
    const wrongHw = req('10.0.0.100');
    wrongHw[15] = 6;
    t.emit('frame', wrongHw, 1);
    expect(r.stats.malformed).toBe(3);
    expect(seen).toEqual(['ethernet header', 'arp body', 'htype']);
    t.fail = true;
    expect(() => t.emit('frame', req('10.0.0.100'), 1)).not.toThrow();
    expect(r.stats.sendErrors).toBe(1);
    t.fail = false;
    t.emit('frame', req('10.0.0.100'), 1);
    expect(r.stats.replied).toBe(1);
    r.stop();
    t.emit('frame', req('10.0.0.100'), 1);
    expect(r.stats.received).toBe(5);
  });
});

describe('GratuitousAnnouncer', () => {
  afterEach(() => vi.useRealTimers());
  it('sends at once, then every 1.1 s for 5 s, then refreshes if asked', () => {
    vi.useFakeTimers();
    const t = new FakeTransport();
    const a = new GratuitousAnnouncer(t, ME, { refreshIntervalMs: 10_000 });
    a.announce('10.0.0.100');
    expect(t.sent).toHaveLength(1);
    expect(decode(t.sent[0]!)).toMatchObject({ op: 1, spa: '10.0.0.100', tpa: '10.0.0.100', tha: 'ff:ff:ff:ff:ff:ff', dst: 'ff:ff:ff:ff:ff:ff' });
    vi.advanceTimersByTime(1099);
    expect(t.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(t.sent).toHaveLength(2);
    vi.advanceTimersByTime(5000);
    expect(t.sent).toHaveLength(5); // 0, 1.1, 2.2, 3.3, 4.4 s
    vi.advanceTimersByTime(10_000);
    expect(t.sent).toHaveLength(6);
    a.cancel('10.0.0.100');
    vi.advanceTimersByTime(60_000);
    expect(t.sent).toHaveLength(6);
  });
  it('withReply adds an arping -A style reply; send errors are emitted', () => {
    const t = new FakeTransport();
    const a = new GratuitousAnnouncer(t, ME, { withReply: true, repeatForMs: 0 });
    a.announce('10.0.0.7');
    expect(t.sent.map((f) => decode(f).op)).toEqual([1, 2]);
    expect(decode(t.sent[1]!).tha).toBe(ME);
    t.fail = true;
    const errs: string[] = [];
    a.on('error', (e, ip) => errs.push(`${ip} ${e.message}`));
    expect(a.sendOnce('10.0.0.7')).toBe(false);
    expect(errs).toEqual(['10.0.0.7 ENETDOWN']);
    a.stop();
  });
});

describe('ArpSpeaker with a fake transport', () => {
  it('announce answers and sends GARP; withdraw stops answering', () => {
    const t = new FakeTransport();
    const s = new ArpSpeaker({ ifname: 'lo', mac: ME, watchIntervalMs: 0, repeatForMs: 0, openTransport: () => t }).start();
    const events: string[] = [];
    s.on('announced', (ip) => events.push(`announced ${ip}`));
    s.on('withdrawn', (ip) => events.push(`withdrawn ${ip}`));
    s.announce('10.0.0.100');
    expect(t.sent).toHaveLength(1);
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(2);
    s.withdraw('10.0.0.100');
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(2);
    expect(events).toEqual(['announced 10.0.0.100', 'withdrawn 10.0.0.100']);
    s.close();
    expect(t.closed).toBe(true);
  });
});

describe('GratuitousAnnouncer schedule (MetalLB: at once, then every 1.1 s while < 5 s)', () => {
  afterEach(() => vi.useRealTimers());
  it('sends at exactly 0, 1.1, 2.2, 3.3, 4.4 s, then refreshes every refreshIntervalMs, per address', () => {
    vi.useFakeTimers({ now: 0 });
    const times: Record<string, number[]> = {};
    const t = new FakeTransport();
    const a = new GratuitousAnnouncer(t, ME, { refreshIntervalMs: 30_000 });
    a.on('sent', (ip) => (times[ip] ??= []).push(Date.now()));
    a.announce('10.0.0.1');
    vi.advanceTimersByTime(500);
    a.announce('10.0.0.2');
    vi.advanceTimersByTime(70_000);
    expect(times['10.0.0.1']).toEqual([0, 1100, 2200, 3300, 4400, 34_400, 64_400]);
    expect(times['10.0.0.2']).toEqual([500, 1600, 2700, 3800, 4900, 34_900, 64_900]);
    // every frame is the request form with SPA = TPA = VIP to broadcast
    for (const f of t.sent) expect(decode(f)).toMatchObject({ op: 1, dst: 'ff:ff:ff:ff:ff:ff', sha: ME, tha: 'ff:ff:ff:ff:ff:ff' });
    // re-announcing restarts the burst from now instead of adding a second schedule
    a.announce('10.0.0.1');
    vi.advanceTimersByTime(2200);
    expect(times['10.0.0.1']!.slice(7)).toEqual([70_500, 71_600, 72_700]);
    a.stop();
    vi.advanceTimersByTime(100_000);
    expect(t.sent).toHaveLength(17);
  });
  it('without refresh the address goes quiet after the burst', () => {
    vi.useFakeTimers({ now: 0 });
    const t = new FakeTransport();
    const a = new GratuitousAnnouncer(t, ME);
    a.announce('10.0.0.1');
    vi.advanceTimersByTime(600_000);
    expect(t.sent).toHaveLength(5);
  });
});
