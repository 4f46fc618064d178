import { describe, expect, it } from 'vitest';
import { AuthType, BfdDecodeError, DIAG_NAMES, Diag, STATE_NAMES, State, decode, encode, encodeSigned, encodingLength, sequenceOk, verifyAuth, type ControlPacket } from '@lbkit/bfd';

const base: ControlPacket = {
  diag: Diag.ControlDetectionTimeExpired,
  state: State.Up,
  poll: true,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0xfffffffe,
  desiredMinTx: 100_000,
  requiredMinRx: 300_000,
  requiredMinEchoRx: 50_000,
};

describe('BFD control packet codec', () => {
  it('encodes the RFC 5880 §4.1 layout bit for bit', () => {
    const b = encode(base);
    expect(b.length).toBe(24);
    expect(encodingLength(base)).toBe(24);
    expect(b[0]).toBe((1 << 5) | 1); // version 1, diag 1
    expect(b[1]).toBe((3 << 6) | 0x20); // Up, Poll
    expect(b[2]).toBe(3);
    expect(b[3]).toBe(24);
    expect(b.readUInt32BE(4)).toBe(0x01020304);
    expect(b.readUInt32BE(8)).toBe(0xfffffffe);
    expect(b.readUInt32BE(12)).toBe(100_000);
    expect(b.readUInt32BE(16)).toBe(300_000);
    expect(b.readUInt32BE(20)).toBe(50_000);
  });

  it('round-trips every flag and state', () => {
    for (const state of [State.AdminDown, State.Down, State.Init, State.Up])
      for (const f of [{ poll: true, final: false }, { poll: false, final: true }, { poll: false, final: false }]) {
        const p = { ...base, ...f, state, cpi: true, demand: true };
        const d = decode(encode(p));
        expect(d).toMatchObject(p);
      }
  });

  it('decodes the first packet FRR bfdd 8.4 sent in the lab (tcpdump; Down, slow-start 1 s, echo RX 50 ms)', () => {
    const hex = '20400318' + 'ca2a073f' + '00000000' + '000f4240' + '000f4240' + '0000c350';
    const p = decode(Buffer.from(hex, 'hex'));
    expect(p).toMatchObject({ state: State.Down, diag: 0, poll: false, final: false, detectMult: 3, myDiscriminator: 0xca2a073f, yourDiscriminator: 0 });
    expect(p.desiredMinTx).toBe(1_000_000);
    expect(p.requiredMinRx).toBe(1_000_000);
    expect(p.requiredMinEchoRx).toBe(50_000);
    expect(encode(p).toString('hex')).toBe(hex);
  });

  it('rejects packets breaking §6.8.6 and names the field', () => {
    const good = encode(base);
    const bad = (mut: (b: Buffer) => void, field: string) => {
      const b = Buffer.from(good);
      mut(b);
      expect(() => decode(b)).toThrow(BfdDecodeError);
      try {
        decode(b);
      } catch (e) {
        expect((e as BfdDecodeError).field).toBe(field);
      }
    };
    bad((b) => (b[0] = (2 << 5) | 0), 'version');
    bad((b) => (b[2] = 0), 'detectMult');
    bad((b) => (b[1]! |= 1), 'multipoint');
    bad((b) => b.writeUInt32BE(0, 4), 'myDiscriminator');
    bad((b) => (b[3] = 30), 'length');
    bad((b) => (b[3] = 20), 'length');
    bad((b) => (b[1]! |= 0x30), 'flags');
    expect(() => decode(good.subarray(0, 10))).toThrow(/length/);
    // A bit set but no room for an auth section
    bad((b) => (b[1]! |= 0x04), 'length');
  });

  it('never throws anything but BfdDecodeError on random input', () => {
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(Math.floor(Math.random() * 60));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(Math.random() * 256);
      if (b.length > 3 && i % 2) {
        b[0] = 0x20;
        b[3] = Math.min(b.length, 24 + (b[3]! % 30));
      }
      try {
        decode(b);
      } catch (e) {
        expect(e).toBeInstanceOf(BfdDecodeError);
      }
    }
  });
});

describe('BFD authentication', () => {
  for (const type of [AuthType.KeyedMD5, AuthType.MeticulousKeyedMD5, AuthType.KeyedSHA1, AuthType.MeticulousKeyedSHA1] as const) {
    it(`signs and verifies ${AuthType[type]}`, () => {
      const key = { type, keyId: 7, secret: 'secret' } as const;
      const raw = encodeSigned(base, key, 41);
      const p = decode(raw);
      expect(p.auth).toMatchObject({ type, keyId: 7, sequence: 41 });
      expect(raw.length).toBe(24 + (type <= 3 ? 24 : 28));
      expect(raw[3]).toBe(raw.length);
      expect(verifyAuth(raw, p, key)).toBe(true);
      expect(verifyAuth(raw, p, { ...key, secret: 'secreT' })).toBe(false);
      expect(verifyAuth(raw, p, { ...key, keyId: 8 })).toBe(false);
      const tampered = Buffer.from(raw);
      tampered[17]! ^= 1;
      expect(verifyAuth(tampered, decode(tampered), key)).toBe(false);
    });
  }

  it('MD5 digest is the RFC 5880 §6.7.3 construction (key in the digest field, MD5 over the packet)', async () => {
    const { createHash } = await import('node:crypto');
    const raw = encodeSigned(base, { type: AuthType.KeyedMD5, keyId: 1, secret: 'abc' }, 5);
    const copy = Buffer.from(raw);
    Buffer.concat([Buffer.from('abc'), Buffer.alloc(13)]).copy(copy, 32);
    expect(createHash('md5').update(copy).digest().equals(raw.subarray(32, 48))).toBe(true);
  });

  it('simple password', () => {
    const key = { type: AuthType.SimplePassword, keyId: 1, secret: 'pw' } as const;
    const raw = encodeSigned(base, key, 0);
    expect(raw.length).toBe(24 + 5);
    const p = decode(raw);
    expect(verifyAuth(raw, p, key)).toBe(true);
    expect(verifyAuth(raw, p, { ...key, secret: 'px' })).toBe(false);
  });

  it('sequence window (3 × detectMult, wraps at 2^32)', () => {
    expect(sequenceOk(10, 10, 3, false)).toBe(true);
    expect(sequenceOk(10, 10, 3, true)).toBe(false);
    expect(sequenceOk(19, 10, 3, true)).toBe(true);
    expect(sequenceOk(20, 10, 3, true)).toBe(false);
    expect(sequenceOk(9, 10, 3, false)).toBe(false);
    expect(sequenceOk(2, 0xfffffffe, 3, true)).toBe(true);
  });

  it('names states and diagnostics as RFC 5880 §4.1 does', () => {
    expect(STATE_NAMES).toEqual({ 0: 'AdminDown', 1: 'Down', 2: 'Init', 3: 'Up' });
    expect(Diag.ReverseConcatenatedPathDown).toBe(8);
    expect(DIAG_NAMES).toEqual({
      0: 'No Diagnostic',
      1: 'Control Detection Time Expired',
      2: 'Echo Function Failed',
      3: 'Neighbor Signaled Session Down',
      4: 'Forwarding Plane Reset',
      5: 'Path Down',
      6: 'Concatenated Path Down',
      7: 'Administratively Down',
      8: 'Reverse Concatenated Path Down',
    });
  });
});
