import { describe, expect, it } from 'vitest';
import { assemble, interpret, jeq, ld, ret, arpFilter, arpRequestFilter, icmpv6NsFilter, icmpv6TypesFilter, parseMac, formatMac } from '@lbkit/afpacket';

function eth(type: number, payload: number[]): Uint8Array {
  const b = Buffer.alloc(14 + payload.length);
  b.writeUInt16BE(type, 12);
  Buffer.from(payload).copy(b, 14);
  return b;
}
function arp(op: number): Uint8Array {
  const p = new Array(28).fill(0);
  p[6] = 0; p[7] = op;
  return eth(0x0806, p);
}
function icmp6(type: number, nh = 58): Uint8Array {
  const p = new Array(48).fill(0);
  p[6] = nh; p[40] = type;
  return eth(0x86dd, p);
}

describe('bpf assembler', () => {
  it('serialises sock_filter layout (u16 code, u8 jt, u8 jf, u32 k, little endian host)', () => {
    const buf = assemble([ld(2, 12), jeq(0x0806, 0, 1), ret(0xffff), ret(0)]);
    expect(buf.length).toBe(32);
    // Same bytes as `tcpdump -dd arp` opcodes: { 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 1, 0x00000806 }
    expect([...buf.subarray(0, 8)]).toEqual([0x28, 0, 0, 0, 12, 0, 0, 0]);
    expect([...buf.subarray(8, 16)]).toEqual([0x15, 0, 0, 1, 0x06, 0x08, 0, 0]);
    expect(buf.readUInt16LE(16)).toBe(0x06);
    expect(buf.readUInt32LE(20)).toBe(0xffff);
  });
  it('rejects bad programs', () => {
    expect(() => assemble([])).toThrow(/instructions/);
    expect(() => assemble([ld(2, 12)])).toThrow(/ret/);
    expect(() => assemble([jeq(1, 5, 0), ret(0)])).toThrow(/leaves the program/);
    expect(() => jeq(1, 256, 0)).toThrow(RangeError);
    expect(() => ret(-1)).toThrow(RangeError);
  });
  it('arp filters accept ARP and reject the rest', () => {
    expect(interpret(arpFilter(), arp(1))).toBeGreaterThan(0);
    expect(interpret(arpFilter(), arp(2))).toBeGreaterThan(0);
    expect(interpret(arpFilter(), icmp6(135))).toBe(0);
    expect(interpret(arpRequestFilter(), arp(1))).toBeGreaterThan(0);
    expect(interpret(arpRequestFilter(), arp(2))).toBe(0);
    expect(interpret(arpRequestFilter(), new Uint8Array(10))).toBe(0); // truncated
  });
  it('icmpv6 filters', () => {
    expect(interpret(icmpv6NsFilter(), icmp6(135))).toBeGreaterThan(0);
    expect(interpret(icmpv6NsFilter(), icmp6(136))).toBe(0);
    expect(interpret(icmpv6NsFilter(), icmp6(135, 0))).toBe(0); // hop-by-hop header first
    expect(interpret(icmpv6NsFilter(), arp(1))).toBe(0);
    const f = icmpv6TypesFilter([135, 136]);
    expect(interpret(f, icmp6(135))).toBeGreaterThan(0);
    expect(interpret(f, icmp6(136))).toBeGreaterThan(0);
    expect(interpret(f, icmp6(134))).toBe(0);
    expect(interpret(f, arp(1))).toBe(0);
    expect(() => assemble(f)).not.toThrow();
  });
  it('mac helpers', () => {
    expect([...parseMac('02:66:00:0a:ff:1')]).toEqual([2, 0x66, 0, 10, 255, 1]);
    expect(formatMac(Buffer.from([2, 0x66, 0, 10, 255, 1]))).toBe('02:66:00:0a:ff:01');
    expect(() => parseMac('02:66:00')).toThrow(/invalid MAC/);
    expect(() => parseMac('zz:66:00:00:00:00')).toThrow(/invalid MAC/);
  });
});
