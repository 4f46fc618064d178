/**
 * GratuitousAnnouncer batching (one `sendBatch` per round for all addresses taken together, one
 * timer) and the drain state of ArpResponder / ArpSpeaker (unicast requests to our MAC answered,
 * broadcast ones not, no gratuitous ARP), over fake transports; frames checked by offset.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'eventemitter3';
import { ArpResponder, ArpSpeaker, GratuitousAnnouncer, encode } from '@lbkit/arp';

class BatchTransport extends EventEmitter<{ frame: (f: Buffer, t: number) => void }> {
  sent: Buffer[] = [];
  batches: Buffer[][] = [];
  send(f: Buffer): void {
    this.sent.push(f);
  }
  sendBatch(frames: Buffer, len: number): Promise<number> {
    const b: Buffer[] = [];
    for (let o = 0; o < frames.length; o += len) b.push(Buffer.from(frames.subarray(o, o + len)));
    this.batches.push(b);
    return Promise.resolve(b.length);
  }
  close(): void {}
}

const ME = '02:00:00:00:00:01';
const CLIENT = '02:00:00:00:00:10';
const req = (tpa: string, dst = 'ff:ff:ff:ff:ff:ff'): Buffer => encode({ dst, src: CLIENT, op: 1, sha: CLIENT, spa: '10.0.0.10', tha: '00:00:00:00:00:00', tpa });
const ip4 = (b: Buffer, o: number): string => [...b.subarray(o, o + 4)].join('.');

afterEach(() => vi.useRealTimers());

describe('GratuitousAnnouncer.announceMany', () => {
  it('sends all addresses as one batch per round from one timer, MetalLB schedule', async () => {
    vi.useFakeTimers();
    const t = new BatchTransport();
    const a = new GratuitousAnnouncer(t, ME);
    const sent: string[] = [];
    a.on('sent', (ip) => sent.push(ip));
    const ips = Array.from({ length: 500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    a.announceMany(ips);
    expect(t.batches).toHaveLength(1);
    const b = t.batches[0]!;
    expect(b).toHaveLength(500);
    // each frame: broadcast ARP request, SHA = ours, SPA = TPA = the address, THA = ff:ff:ff:ff:ff:ff
    b.forEach((f, i) => {
      expect(f.length).toBe(42);
      expect(f.subarray(0, 6).toString('hex')).toBe('ffffffffffff');
      expect(f.readUInt16BE(12)).toBe(0x0806);
      expect(f.readUInt16BE(20)).toBe(1);
      expect(ip4(f, 28)).toBe(ips[i]);
      expect(ip4(f, 38)).toBe(ips[i]);
      expect(f.subarray(32, 38).toString('hex')).toBe('ffffffffffff');
    });
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.batches).toHaveLength(5); // 0, 1.1, 2.2, 3.3, 4.4 s
    expect(sent).toHaveLength(2500);
    a.cancel(ips[0]!);
    a.announceMany([]); // no-op
    expect(a.addresses()).toHaveLength(499);
    a.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancelling one address of a group keeps the others in the next rounds', async () => {
    vi.useFakeTimers();
    const t = new BatchTransport();
    const a = new GratuitousAnnouncer(t, ME);
    a.announceMany(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    a.cancel('10.0.0.2');
    await vi.advanceTimersByTimeAsync(1100);
    expect(t.batches[1]!.map((f) => ip4(f, 28))).toEqual(['10.0.0.1', '10.0.0.3']);
    a.stop();
  });
});

describe('drain', () => {
  it('ArpResponder: a draining address is answered only to unicast requests to our MAC', () => {
    const t = new BatchTransport();
    const r = new ArpResponder(t, ME).start();
    r.add('10.0.0.100');
    r.drainMany(['10.0.0.100', '10.0.0.200']); // an address never added is not drained
    expect(r.state('10.0.0.100')).toBe('draining');
    expect(r.state('10.0.0.200')).toBe('off');
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(0);
    t.emit('frame', req('10.0.0.100', ME), 0);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.subarray(0, 6).toString('hex')).toBe('020000000010');
    expect(r.stats).toMatchObject({ drainIgnored: 1, drainReplied: 1, replied: 1 });
    r.add('10.0.0.100'); // owned again: broadcast answered
    t.emit('frame', req('10.0.0.100'), 1);
    expect(t.sent).toHaveLength(2);
  });

  it('ArpSpeaker.drain stops the gratuitous ARPs at once; withdraw ends the drain', async () => {
    vi.useFakeTimers();
    const t = new BatchTransport();
    const s = new ArpSpeaker({ ifname: 'eth0', mac: ME, watchIntervalMs: 0, openTransport: () => t }).start();
    s.announceMany(['10.0.0.1', '10.0.0.2']);
    expect(t.batches).toHaveLength(1);
    s.drain(['10.0.0.1']);
    expect(s.drainingAddresses()).toEqual(['10.0.0.1']);
    expect(s.addresses()).toEqual(['10.0.0.2']);
    await vi.advanceTimersByTimeAsync(1100);
    expect(t.batches[1]!.map((f) => ip4(f, 28))).toEqual(['10.0.0.2']); // no GARP for the draining one
    t.emit('frame', req('10.0.0.1'), 1);
    expect(t.sent).toHaveLength(0);
    t.emit('frame', req('10.0.0.1', ME), 0);
    expect(t.sent).toHaveLength(1);
    s.withdraw('10.0.0.1');
    expect(s.drainingAddresses()).toEqual([]);
    t.emit('frame', req('10.0.0.1', ME), 0);
    expect(t.sent).toHaveLength(1);
    s.close();
  });
});
