/**
 * RFC 5880 §6.7 authentication: signing an encoded control packet and verifying a received one
 * (simple password, keyed and meticulous keyed MD5 / SHA1). Pure functions over buffers; the
 * sequence-number window lives in the state machine.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthType, CONTROL_LENGTH } from './constants.js';
import { encode, type AuthSection, type ControlPacket } from './control.js';

/** One configured key. */
export interface AuthKey {
  type: Exclude<AuthType, AuthType.None>;
  /** Key ID carried in the packet. */
  keyId: number;
  /** Password (1–16 bytes) or key (MD5 up to 16 bytes, SHA1 up to 20 bytes). */
  secret: Buffer | string;
}

/** True for the types whose sequence number must grow with every packet. */
export function isMeticulous(t: AuthType): boolean {
  return t === AuthType.MeticulousKeyedMD5 || t === AuthType.MeticulousKeyedSHA1;
}

function digestLen(t: AuthType): number {
  return t === AuthType.KeyedMD5 || t === AuthType.MeticulousKeyedMD5 ? 16 : 20;
}

/** Validates a key; throws naming the field. */
export function checkKey(k: AuthKey, where = 'auth'): void {
  const s = Buffer.from(k.secret);
  if (!(k.type >= 1 && k.type <= 5)) throw new Error(`${where}.type: ${k.type} is not an RFC 5880 authentication type`);
  if (!Number.isInteger(k.keyId) || k.keyId < 0 || k.keyId > 255) throw new Error(`${where}.keyId: ${k.keyId} out of 0..255`);
  const max = k.type === AuthType.SimplePassword ? 16 : digestLen(k.type);
  if (s.length < 1 || s.length > max) throw new Error(`${where}.secret: ${s.length} bytes, must be 1..${max}`);
}

function padded(secret: Buffer | string, n: number): Buffer {
  const out = Buffer.alloc(n);
  Buffer.from(secret).copy(out, 0, 0, n);
  return out;
}

/** Encodes `p` with an authentication section for `key` and sequence `seq`, digest computed. */
export function encodeSigned(p: ControlPacket, key: AuthKey, seq: number): Buffer {
  let auth: AuthSection;
  if (key.type === AuthType.SimplePassword) auth = { type: key.type, keyId: key.keyId, password: Buffer.from(key.secret) };
  else auth = { type: key.type, keyId: key.keyId, sequence: seq >>> 0, digest: padded(key.secret, digestLen(key.type)) };
  const buf = encode({ ...p, auth });
  if (key.type !== AuthType.SimplePassword) {
    const alg = digestLen(key.type) === 16 ? 'md5' : 'sha1';
    createHash(alg).update(buf).digest().copy(buf, CONTROL_LENGTH + 8);
  }
  return buf;
}

/**
 * Checks the authentication section of a received packet (`raw`: its bytes, `p`: its decoding)
 * against `key`: type, key ID, password or digest. The sequence window is not checked here.
 */
export function verifyAuth(raw: Uint8Array, p: ControlPacket, key: AuthKey): boolean {
  const a = p.auth;
  if (!a || a.type !== key.type || a.keyId !== key.keyId) return false;
  if (a.type === AuthType.SimplePassword) {
    const want = Buffer.from(key.secret);
    return a.password.length === want.length && timingSafeEqual(a.password, want);
  }
  const dl = digestLen(a.type);
  const len = CONTROL_LENGTH + 8 + dl;
  const copy = Buffer.from(raw.subarray(0, len));
  padded(key.secret, dl).copy(copy, CONTROL_LENGTH + 8);
  const got = createHash(dl === 16 ? 'md5' : 'sha1').update(copy).digest();
  return timingSafeEqual(got, a.digest);
}

/**
 * RFC 5880 §6.7.3/6.7.4 sequence check: `seq` is acceptable after `last` when it lies within
 * 3 × detectMult ahead (inclusive of `last` itself unless meticulous), modulo 2^32.
 */
export function sequenceOk(seq: number, last: number, detectMult: number, meticulous: boolean): boolean {
  const d = (seq - last) >>> 0;
  return meticulous ? d >= 1 && d <= 3 * detectMult : d <= 3 * detectMult;
}
