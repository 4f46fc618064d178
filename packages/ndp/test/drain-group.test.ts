/**
 * NdpResponder: NS accepted only on the target's solicited-node group or unicast to the target
 * (a wrong group is ignored), and the drain state (unicast NUD NS to our MAC answered, multicast not);
 * UnsolicitedAnnouncer batching (one sendBatch per round, checksums valid).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decode, encode, NdpResponder, UnsolicitedAnnouncer, type NdpTransport } from '../src/index.js';

class FakeTransport implements NdpTransport {
  sent: Buffer[] = [];
  joins: string[] = [];
  leaves: string[] = [];
  batches: Buffer[][] = [];
  handler: ((f: Buffer) => void) | undefined;
  send(frame: Buffer): void {
    this.sent.push(frame);
  }
  onFrame(h: (f: Buffer) => void): void {
    this.handler = h;
  }
  addMembership(mac: string): void {
    this.joins.push(mac);
  }
  dropMembership(mac: string): void {
    this.leaves.push(mac);
  }
  deliver(f: Buffer): void {
    this.handler!(f);
  }
}

const MY = '02:66:00:00:00:11';
const CLIENT = '02:66:00:00:00:10';
const VIP = 'fd00:66::100';
const ns = (dst: string, ethDst: string) => encode({ type: 'ns', ethDst, ethSrc: CLIENT, src: 'fd00:66::10', dst, target: VIP, sourceLinkLayer: CLIENT });

afterEach(() => vi.useRealTimers());

describe('NdpResponder destination checks and drain', () => {
  it('ignores an NS sent to another solicited-node group, answers the right group and unicast', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    t.deliver(ns('ff02::1:ff00:101', '33:33:ff:00:01:01'));
    t.deliver(ns('ff02::1', '33:33:00:00:00:01'));
    expect(t.sent).toHaveLength(0);
    expect(r.stats.wrongGroup).toBe(2);
    t.deliver(ns('ff02::1:ff00:100', '33:33:ff:00:01:00'));
    t.deliver(ns(VIP, MY));
    expect(t.sent).toHaveLength(2);
  });

  it('draining: unicast NS to our MAC answered, group NS not; the group stays joined until removal', () => {
    const t = new FakeTransport();
    const r = new NdpResponder({ transport: t, mac: MY });
    r.add(VIP);
    r.drainMany([VIP]);
    expect(r.state(VIP)).toBe('draining');
    t.deliver(ns('ff02::1:ff00:100', '33:33:ff:00:01:00'));
    expect(t.sent).toHaveLength(0);
    t.deliver(ns(VIP, MY));
    expect(t.sent).toHaveLength(1);
    expect(decode(t.sent[0]!)).toMatchObject({ type: 'na', solicited: true, override: true, target: VIP });
    expect(r.stats).toMatchObject({ drainIgnored: 1, drainReplied: 1 });
    expect(t.leaves).toEqual([]);
    r.remove(VIP);
    expect(t.leaves).toEqual(['33:33:ff:00:01:00']);
  });
});

describe('UnsolicitedAnnouncer.announceMany', () => {
  it('one batch per round with valid NAs for every address, one timer', async () => {
    vi.useFakeTimers();
    const t = new FakeTransport() as FakeTransport & { sendBatch(f: Buffer, len: number): Promise<number> };
    t.sendBatch = (frames, len) => {
      const b: Buffer[] = [];
      for (let o = 0; o < frames.length; o += len) b.push(Buffer.from(frames.subarray(o, o + len)));
      t.batches.push(b);
      return Promise.resolve(b.length);
    };
    const a = new UnsolicitedAnnouncer({ transport: t, mac: MY, linkLocal: 'fe80::11' });
    const ips = Array.from({ length: 200 }, (_, i) => `fd00:66::${(0x1000 + i).toString(16)}`);
    a.announceMany(ips);
    expect(t.batches).toHaveLength(1);
    t.batches[0]!.forEach((f, i) => {
      const m = decode(f); // checks the ICMPv6 checksum and hop limit
      expect(m).toMatchObject({ type: 'na', target: ips[i], override: true, solicited: false, dst: 'ff02::1', src: 'fe80::11', targetLinkLayer: MY });
    });
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.batches).toHaveLength(5);
    a.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
