/**
 * memberlist encryption (security.go, keyring.go): AES-GCM with 16/24/32-byte keys, a keyring whose
 * first key is primary (encrypts) while every key is tried on decrypt.
 * Ciphertext = `version(1) | nonce(12) | GCM.Seal(plaintext, AAD)` (ciphertext ‖ 16-byte tag).
 * Version 0 PKCS7-pads the plaintext to 16 bytes (ProtocolVersion 1), version 1 does not (default).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type CipherGCMTypes } from "node:crypto";

/** Encryption version byte: 0 = PKCS7 padded, 1 = unpadded (memberlist default). */
export type EncryptionVersion = 0 | 1;

const NONCE = 12;
const TAG = 16;

/** Bytes added by encryption: version 1 → 29; version 0 → 29 + up to 16 padding bytes. */
export function encryptOverhead(vsn: EncryptionVersion): number {
  return vsn === 0 ? 45 : 29;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new Error(`keyring: key must be 16, 24 or 32 bytes (AES-128/192/256), got ${key.length}`);
  }
}

/** Encrypts `plain` with `key` (AAD = `aad`), producing `vsn | nonce | ct | tag`. */
export function encryptPayload(vsn: EncryptionVersion, key: Uint8Array, plain: Uint8Array, aad: Uint8Array, nonce?: Uint8Array): Uint8Array {
  checkKey(key);
  const iv = nonce ?? randomBytes(NONCE);
  let data = plain;
  if (vsn === 0) {
    const pad = 16 - (plain.length % 16);
    data = new Uint8Array(plain.length + pad);
    data.set(plain);
    data.fill(pad, plain.length);
  }
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as CipherGCMTypes, key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(data), c.final()]);
  const out = new Uint8Array(1 + NONCE + ct.length + TAG);
  out[0] = vsn;
  out.set(iv, 1);
  out.set(ct, 1 + NONCE);
  out.set(c.getAuthTag(), 1 + NONCE + ct.length);
  return out;
}

/** Tries to decrypt `msg` with one key; returns null when authentication fails. Throws on bad framing. */
export function decryptWithKey(key: Uint8Array, msg: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (msg.length < 1 + NONCE + TAG) throw new Error(`encrypted message: ${msg.length} bytes is shorter than version+nonce+tag`);
  const vsn = msg[0]!;
  if (vsn > 1) throw new Error(`encrypted message: unsupported encryption version ${vsn}`);
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as CipherGCMTypes, key, msg.subarray(1, 1 + NONCE));
  d.setAAD(aad);
  d.setAuthTag(msg.subarray(msg.length - TAG));
  let plain: Buffer;
  try {
    plain = Buffer.concat([d.update(msg.subarray(1 + NONCE, msg.length - TAG)), d.final()]);
  } catch {
    return null;
  }
  if (vsn === 0) {
    const pad = plain.length ? plain[plain.length - 1]! : 0;
    if (pad < 1 || pad > 16 || pad > plain.length) throw new Error('encrypted message: bad PKCS7 padding');
    return new Uint8Array(plain.subarray(0, plain.length - pad));
  }
  return new Uint8Array(plain);
}

/** A memberlist keyring: `keys[0]` is the primary key. */
export class Keyring {
  private keys: Uint8Array[] = [];

  /** @param keys initial keys, primary first (each 16, 24 or 32 bytes). */
  constructor(keys: Uint8Array[] = []) {
    for (const k of keys) this.addKey(k);
  }
  /** Adds a key (no-op if present); the first key added becomes primary. */
  addKey(key: Uint8Array): void {
    checkKey(key);
    if (!this.keys.some((k) => Buffer.compare(k, key) === 0)) this.keys.push(Uint8Array.from(key));
  }
  /** Makes an installed key the primary key. */
  useKey(key: Uint8Array): void {
    const i = this.keys.findIndex((k) => Buffer.compare(k, key) === 0);
    if (i < 0) throw new Error('keyring: useKey of a key that is not installed');
    const [k] = this.keys.splice(i, 1);
    this.keys.unshift(k!);
  }
  /** Removes a non-primary key. */
  removeKey(key: Uint8Array): void {
    const i = this.keys.findIndex((k) => Buffer.compare(k, key) === 0);
    if (i === 0) throw new Error('keyring: cannot remove the primary key');
    if (i > 0) this.keys.splice(i, 1);
  }
  /** All keys, primary first. */
  getKeys(): Uint8Array[] {
    return this.keys.slice();
  }
  /** The primary key, if any. */
  primaryKey(): Uint8Array | undefined {
    return this.keys[0];
  }
  /** Encrypts with the primary key. */
  encrypt(plain: Uint8Array, aad: Uint8Array, vsn: EncryptionVersion = 1): Uint8Array {
    const k = this.keys[0];
    if (!k) throw new Error('keyring: no primary key');
    return encryptPayload(vsn, k, plain, aad);
  }
  /** Decrypts with each key in turn; throws when none authenticates. */
  decrypt(msg: Uint8Array, aad: Uint8Array): Uint8Array {
    for (const k of this.keys) {
      const p = decryptWithKey(k, msg, aad);
      if (p) return p;
    }
    throw new Error('encrypted message: no installed key decrypts it');
  }
}

/**
 * MetalLB's secret → AES key derivation (speakerlist.go): `sha256.New().Sum([]byte(secret))[:32]`.
 * Go's `Sum(b)` *appends* SHA-256("") to `b`, so the key is the first 32 bytes of
 * `secret ‖ e3b0c442…b855` — i.e. the first 32 bytes of the secret when it is ≥ 32 bytes long.
 */
export function metallbSecretToKey(secret: string | Uint8Array): Uint8Array {
  const s = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const h = createHash('sha256').digest();
  const all = new Uint8Array(s.length + h.length);
  all.set(s);
  all.set(h, s.length);
  return all.slice(0, 32);
}

/**
 * MetalLB's memberlist key from the `secretkey` of its `memberlist` Secret, or `null` for an empty
 * secret (MetalLB then runs unencrypted). Same derivation as {@link metallbSecretToKey}: the first
 * 32 bytes of `secret ‖ SHA-256("")` (research notes: /work/shared/research/metallb.md "Encryption
 * key" and memberlist.md §1.7 "MetalLB key derivation quirk"; speakerlist.go
 * `sha256.New().Sum([]byte(secret))[:32]`). The controller-generated 22-character secret gives
 * its 22 ASCII bytes followed by `e3 b0 c4 42 98 fc 1c 14 9a fb`.
 */
export function metallbKey(secret: string | Uint8Array): Uint8Array | null {
  if (secret.length === 0) return null;
  return metallbSecretToKey(secret);
}
