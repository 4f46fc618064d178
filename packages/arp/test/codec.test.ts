import { describe, expect, it } from 'vitest';
import { ArpDecodeError, decode, encode, encodingLength, gratuitousRequest, gratuitousReply } from '@lbkit/arp';

// A real ARP request captured with tcpdump -xx: who-has 10.66.0.100 tell 10.66.0.10 from 02:66:00:00:00:10.
const captured = Buffer.from(
  'ffffffffffff026600000010080600010800060400010266000000100a42000a0000000000000a420064',
  'hex',
);

describe('ARP codec', () => {
  it('decodes a captured request', () => {
    expect(decode(captured)).toEqual({
      dst: 'ff:ff:ff:ff:ff:ff', src: '02:66:00:00:00:10', op: 1,
      sha: '02:66:00:00:00:10', spa: '10.66.0.10', tha: '00:00:00:00:00:00', tpa: '10.66.0.100',
    });
  });
  it('encodes to the same bytes and round-trips; accepts trailing padding', () => {
    const f = decode(captured);
    expect(encode(f).equals(captured)).toBe(true);
    expect(encodingLength(f)).toBe(42);
    const padded = Buffer.concat([captured, Buffer.alloc(18)]);
    expect(decode(padded)).toEqual(f);
    const at = Buffer.alloc(50);
    encode(f, at, 4);
    expect(decode(at, 4)).toEqual(f);
  });
  it('gratuitous frames have SPA = TPA and the documented THA', () => {
    const r = decode(gratuitousRequest('02:00:00:00:00:01', '10.0.0.5'));
    expect(r).toMatchObject({ dst: 'ff:ff:ff:ff:ff:ff', op: 1, spa: '10.0.0.5', tpa: '10.0.0.5', tha: 'ff:ff:ff:ff:ff:ff', sha: '02:00:00:00:00:01' });
    const p = decode(gratuitousReply('02:00:00:00:00:01', '10.0.0.5'));
    expect(p).toMatchObject({ op: 2, tha: '02:00:00:00:00:01', spa: '10.0.0.5', tpa: '10.0.0.5' });
  });
  it('rejects every truncation and bad field with ArpDecodeError naming the field', () => {
    for (let n = 0; n < 42; n++) {
      expect(() => decode(captured.subarray(0, n))).toThrow(ArpDecodeError);
    }
    const bad = (off: number, v: number, field: RegExp): void => {
      const b = Buffer.from(captured);
      b[off] = v;
      expect(() => decode(b)).toThrow(field);
    };
    bad(13, 0x00, /ethertype/);
    bad(15, 6, /htype/);
    bad(16, 0x86, /ptype/);
    bad(18, 8, /hlen/);
    bad(19, 16, /plen/);
    bad(21, 3, /op/);
  });
  it('never throws anything but ArpDecodeError on random input', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(captured);
      for (let k = 0; k < 3; k++) b[rnd() % 42] = rnd();
      const cut = b.subarray(0, rnd() % 60);
      try {
        decode(cut);
      } catch (e) {
        expect(e).toBeInstanceOf(ArpDecodeError);
      }
    }
  });
  it('encode validates fields', () => {
    const f = decode(captured);
    expect(() => encode({ ...f, spa: '10.0.0.256' })).toThrow(/spa/);
    expect(() => encode({ ...f, sha: 'nope' })).toThrow(/sha/);
    expect(() => encode({ ...f, op: 3 })).toThrow(/op/);
  });
});
