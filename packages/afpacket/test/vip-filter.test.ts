import { describe, expect, it } from 'vitest';
import { assemble, interpret } from '../src/bpf.js';
import { arpTargetFilter, coarsen, ipv4Key, keyRanges, nsTargetFilter } from '../src/vip-filter.js';

/** An ARP request frame (42 bytes) for target `tpa` (32-bit key), written by offset. */
function arpReq(tpa: number, op = 1): Buffer {
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  f.writeUInt32BE(tpa >>> 0, 38);
  return f;
}

/** A minimal IPv6 NS frame (78 bytes) whose target ends in `low`. */
function ns(low: number, type = 135): Buffer {
  const f = Buffer.alloc(78);
  f.writeUInt16BE(0x86dd, 12);
  f[14] = 0x60;
  f[20] = 58;
  f[21] = 255;
  f[54] = type;
  f.writeUInt32BE(0xfd000000, 62);
  f.writeUInt32BE(low >>> 0, 74);
  return f;
}

// deterministic pseudo-random keys
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

describe('VIP filters (BPF built from owned addresses)', () => {
  it('merges consecutive keys into ranges and coarsens by the smallest gaps', () => {
    expect(keyRanges([5, 3, 4, 10, 12, 11, 20])).toEqual([[3, 5], [10, 12], [20, 20]]);
    expect(coarsen([[3, 5], [10, 12], [20, 20]], 2)).toEqual([[3, 12], [20, 20]]);
    expect(coarsen([[3, 5], [10, 12], [20, 20]], 1)).toEqual([[3, 20]]);
  });

  it('is exact for 1500 scattered VIPs: accepts each owned target, rejects others and non-requests', () => {
    const r = rng(7);
    const keys = Array.from({ length: 1500 }, () => r());
    const f = arpTargetFilter(keys);
    expect(f.exact).toBe(true);
    expect(f.program.length).toBeLessThanOrEqual(4000);
    expect(() => assemble(f.program)).not.toThrow();
    for (const k of keys) expect(interpret(f.program, arpReq(k))).toBeGreaterThan(0);
    const owned = new Set(keys);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const k = r();
      if (owned.has(k)) continue;
      expect(interpret(f.program, arpReq(k))).toBe(0);
      rejected++;
    }
    expect(rejected).toBeGreaterThan(2900);
    expect(interpret(f.program, arpReq(keys[0]!, 2))).toBe(0); // a reply, not a request
    expect(interpret(f.program, ns(keys[0]!))).toBe(0); // not ARP
  });

  it('5000 VIPs from one pool compile to a handful of instructions and match the range exactly', () => {
    const first = ipv4Key('10.20.0.1');
    const keys = Array.from({ length: 5000 }, (_, i) => first + i);
    const f = arpTargetFilter(keys);
    expect(f).toMatchObject({ exact: true, ranges: 1 });
    expect(f.program.length).toBeLessThan(20);
    expect(interpret(f.program, arpReq(first))).toBeGreaterThan(0);
    expect(interpret(f.program, arpReq(first + 4999))).toBeGreaterThan(0);
    expect(interpret(f.program, arpReq(first - 1))).toBe(0);
    expect(interpret(f.program, arpReq(first + 5000))).toBe(0);
  });

  it('20000 scattered VIPs fit the 4096-instruction limit as a superset that still accepts every owned target', () => {
    const r = rng(11);
    const keys = Array.from({ length: 20_000 }, () => r());
    const f = arpTargetFilter(keys);
    expect(f.exact).toBe(false);
    expect(f.program.length).toBeLessThanOrEqual(4000);
    expect(() => assemble(f.program)).not.toThrow();
    for (const k of keys) expect(interpret(f.program, arpReq(k))).toBeGreaterThan(0);
    // a superset, but not "accept everything"
    let passed = 0;
    for (let i = 0; i < 2000; i++) passed += interpret(f.program, arpReq(r())) > 0 ? 1 : 0;
    expect(passed).toBeLessThan(2000);
  });

  it('NS filter matches the low 32 bits of the target; other ICMPv6 types and unowned targets are dropped', () => {
    const f = nsTargetFilter([0x00010042, 0x00010043]);
    expect(interpret(f.program, ns(0x00010042))).toBeGreaterThan(0);
    expect(interpret(f.program, ns(0x00010043))).toBeGreaterThan(0);
    expect(interpret(f.program, ns(0x00010044))).toBe(0);
    expect(interpret(f.program, ns(0x00010042, 136))).toBe(0);
    expect(interpret(nsTargetFilter([]).program, ns(0x00010042))).toBe(0);
  });
});
