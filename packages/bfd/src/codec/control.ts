/**
 * Pure codec of the RFC 5880 §4 control packet, including the authentication section
 * (simple password, keyed / meticulous keyed MD5 and SHA1). Intervals are in microseconds, as on
 * the wire. No I/O, no clock.
 */
import { AuthType, BFD_VERSION, CONTROL_LENGTH, type Diag, type State } from './constants.js';

/** The authentication section of a control packet (RFC 5880 §4.2–4.4). */
export type AuthSection =
  | { type: AuthType.SimplePassword; keyId: number; password: Buffer }
  | {
      type: AuthType.KeyedMD5 | AuthType.MeticulousKeyedMD5 | AuthType.KeyedSHA1 | AuthType.MeticulousKeyedSHA1;
      keyId: number;
      sequence: number;
      /** 16 bytes (MD5) or 20 bytes (SHA1): the digest, or the key while signing. */
      digest: Buffer;
    };

/** A decoded BFD control packet. */
export interface ControlPacket {
  version?: number;
  diag: Diag;
  state: State;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent. */
  cpi: boolean;
  /** Demand mode. */
  demand: boolean;
  /** Multipoint (must be 0). */
  multipoint?: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Desired Min TX Interval, µs. */
  desiredMinTx: number;
  /** Required Min RX Interval, µs. */
  requiredMinRx: number;
  /** Required Min Echo RX Interval, µs (0: this system does not loop echo packets back). */
  requiredMinEchoRx: number;
  auth?: AuthSection;
}

/** A packet that breaks an RFC 5880 §6.8.6 reception rule; the message names the field. */
export class BfdDecodeError extends Error {
  /** @param field the packet field at fault */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`BFD control packet: ${field}: ${message}`);
    this.name = 'BfdDecodeError';
  }
}

const DIGEST_LEN: Record<number, number> = {
  [AuthType.KeyedMD5]: 16,
  [AuthType.MeticulousKeyedMD5]: 16,
  [AuthType.KeyedSHA1]: 20,
  [AuthType.MeticulousKeyedSHA1]: 20,
};

/** Length of an authentication section. */
export function authLength(a: AuthSection): number {
  if (a.type === AuthType.SimplePassword) return 3 + a.password.length;
  return 8 + DIGEST_LEN[a.type]!;
}

/** Bytes needed to encode `p`. */
export function encodingLength(p: ControlPacket): number {
  return CONTROL_LENGTH + (p.auth ? authLength(p.auth) : 0);
}

/** Encodes a control packet into `buf` at `offset` (allocated when omitted). */
export function encode(p: ControlPacket, buf?: Buffer, offset = 0): Buffer {
  const len = encodingLength(p);
  const b = buf ?? Buffer.alloc(len);
  if (p.detectMult < 1 || p.detectMult > 255) throw new RangeError(`BFD control packet: detectMult ${p.detectMult} out of 1..255`);
  b[offset] = ((p.version ?? BFD_VERSION) << 5) | (p.diag & 0x1f);
  b[offset + 1] =
    ((p.state & 3) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.cpi ? 0x08 : 0) |
    (p.auth ? 0x04 : 0) |
    (p.demand ? 0x02 : 0) |
    (p.multipoint ? 0x01 : 0);
  b[offset + 2] = p.detectMult;
  b[offset + 3] = len;
  b.writeUInt32BE(p.myDiscriminator >>> 0, offset + 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, offset + 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, offset + 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, offset + 16);
  b.writeUInt32BE(p.requiredMinEchoRx >>> 0, offset + 20);
  const a = p.auth;
  if (a) {
    const o = offset + CONTROL_LENGTH;
    b[o] = a.type;
    b[o + 1] = authLength(a);
    b[o + 2] = a.keyId;
    if (a.type === AuthType.SimplePassword) {
      if (a.password.length < 1 || a.password.length > 16) throw new RangeError('BFD control packet: password must be 1..16 bytes');
      a.password.copy(b, o + 3);
    } else {
      const dl = DIGEST_LEN[a.type]!;
      if (a.digest.length !== dl) throw new RangeError(`BFD control packet: digest must be ${dl} bytes`);
      b[o + 3] = 0;
      b.writeUInt32BE(a.sequence >>> 0, o + 4);
      a.digest.copy(b, o + 8);
    }
  }
  return b;
}

/**
 * Decodes a control packet and applies the structural checks of RFC 5880 §6.8.6 (version,
 * length, detect multiplier, multipoint, My Discriminator). Throws {@link BfdDecodeError}.
 */
export function decode(buf: Uint8Array): ControlPacket {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < CONTROL_LENGTH) throw new BfdDecodeError('length', `${b.length} bytes, need at least ${CONTROL_LENGTH}`);
  const version = b[0]! >> 5;
  if (version !== BFD_VERSION) throw new BfdDecodeError('version', `${version}, expected ${BFD_VERSION}`);
  const flags = b[1]!;
  const hasAuth = (flags & 0x04) !== 0;
  const len = b[3]!;
  if (len < (hasAuth ? CONTROL_LENGTH + 2 : CONTROL_LENGTH)) throw new BfdDecodeError('length', `field ${len} too small`);
  if (len > b.length) throw new BfdDecodeError('length', `field ${len} exceeds the ${b.length}-byte payload`);
  const detectMult = b[2]!;
  if (detectMult === 0) throw new BfdDecodeError('detectMult', 'zero');
  if (flags & 0x01) throw new BfdDecodeError('multipoint', 'M bit set');
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) throw new BfdDecodeError('myDiscriminator', 'zero');
  const p: ControlPacket = {
    version,
    diag: (b[0]! & 0x1f) as Diag,
    state: (flags >> 6) as State,
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    cpi: (flags & 0x08) !== 0,
    demand: (flags & 0x02) !== 0,
    multipoint: false,
    detectMult,
    myDiscriminator,
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTx: b.readUInt32BE(12),
    requiredMinRx: b.readUInt32BE(16),
    requiredMinEchoRx: b.readUInt32BE(20),
  };
  if (p.poll && p.final) throw new BfdDecodeError('flags', 'Poll and Final both set');
  if (hasAuth) p.auth = decodeAuth(b.subarray(CONTROL_LENGTH, len));
  return p;
}

function decodeAuth(a: Buffer): AuthSection {
  const type = a[0]!;
  const alen = a[1]!;
  if (alen > a.length) throw new BfdDecodeError('auth.length', `${alen} exceeds the section (${a.length})`);
  if (type === AuthType.SimplePassword) {
    if (alen < 4 || alen > 19) throw new BfdDecodeError('auth.length', `${alen} for simple password`);
    return { type, keyId: a[2]!, password: Buffer.from(a.subarray(3, alen)) };
  }
  const dl = DIGEST_LEN[type];
  if (dl === undefined) throw new BfdDecodeError('auth.type', `unknown type ${type}`);
  if (alen !== 8 + dl) throw new BfdDecodeError('auth.length', `${alen}, expected ${8 + dl}`);
  return {
    type: type as AuthType.KeyedMD5,
    keyId: a[2]!,
    sequence: a.readUInt32BE(4),
    digest: Buffer.from(a.subarray(8, 8 + dl)),
  };
}
