/**
 * Robustness of the session layer's decoders: random mutations of valid messages must either
 * decode or raise a WireError carrying a NOTIFICATION, never any other exception.
 */
import { describe, expect, it } from 'vitest';
import { WireError, decodeOpen, decodeNotification, Framer } from '../src/session/wire.js';
import { decodeUpdate } from '../src/session/update.js';

// Deterministic PRNG (mulberry32) so failures are reproducible.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// UPDATE body: ORIGIN, AS_PATH [64513], NEXT_HOP, COMMUNITIES, MP_REACH v6 fd0a:96::10/128, NLRI 10.96.0.10/32
const attrs = Buffer.concat([
  Buffer.from('40010100', 'hex'), // ORIGIN IGP
  Buffer.from('400206020100' + '00fc01', 'hex'), // AS_PATH AS_SEQUENCE [64513] (4-octet)
  Buffer.from('4003040a00000b', 'hex'), // NEXT_HOP 10.0.0.11
  Buffer.from('c00804fc000064', 'hex'), // COMMUNITIES 64512:100
  Buffer.from('800e26000201' + '10' + 'fd0a0000000000000000000000000011' + '00' + '80' + 'fd0a0096000000000000000000000010', 'hex'),
]);
const UPDATE = Buffer.concat([Buffer.from([0, 0, attrs.length >> 8, attrs.length & 255]), attrs, Buffer.from('200a60000a', 'hex')]);
const OPEN = Buffer.from('04fc00000a0a00000b0e020c0104000100014104 0000fc00'.replace(/ /g, ''), 'hex');

function mutate(b: Buffer, r: () => number): Buffer {
  const m = Buffer.from(b);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = r();
    const pos = Math.floor(r() * m.length);
    if (op < 0.6) m[pos] = Math.floor(r() * 256);
    else if (op < 0.8) return m.subarray(0, pos);
    else return Buffer.concat([m, Buffer.from([Math.floor(r() * 256)])]);
  }
  return m;
}

describe('decoders never throw anything but WireError', () => {
  it('the valid samples decode', () => {
    const u = decodeUpdate(UPDATE, true);
    expect(u.announced.map((x) => x.prefix).sort()).toEqual(['10.96.0.10/32', 'fd0a:96::10/128']);
    expect(decodeOpen(OPEN).asn4).toBe(64512);
  });

  it('5000 mutated UPDATEs, OPENs and NOTIFICATIONs', () => {
    const r = rng(42);
    let errors = 0;
    for (let i = 0; i < 5000; i++) {
      for (const f of [() => decodeUpdate(mutate(UPDATE, r), r() < 0.5), () => decodeOpen(mutate(OPEN, r)), () => decodeNotification(mutate(Buffer.from([6, 2, 3, 97, 98, 99]), r))]) {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
          expect((e as WireError).notification.code).toBeGreaterThan(0);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(100); // the mutations really hit error paths
  });

  it('the framer rejects random byte streams with a header NOTIFICATION', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const f = new Framer();
      const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256)));
      try {
        f.push(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        expect((e as WireError).notification.code).toBe(1);
      }
    }
  });
});
