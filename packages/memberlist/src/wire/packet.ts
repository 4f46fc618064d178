/**
 * UDP packet layering (net.go `rawSendMsgPacket` / `ingestPacket` / `handleCommand`), innermost first:
 * message(s) → compound (`07 | n | n×u16 len | msgs`) → compress (`09 | {Algo,Buf}`, only if smaller)
 * → CRC (`0c | crc32 BE | rest`) → encryption (`vsn | nonce | ct | tag`, AAD = label) → label
 * (`f4 | len | label`). Decoding reverses the layers.
 */
import type { Keyring, EncryptionVersion } from '../security/keyring.js';
import { crc32 } from './crc32.js';
import { lzwCompress, lzwDecompress, LZW_DEFAULT_MAX_OUTPUT } from './lzw.js';
import { decodeCompressBody, decodeMessage, encodeCompress, MessageType, writeMessage, type Message } from './messages.js';
import { Writer } from './msgpack.js';

/** Options shared by packet and stream encoding/decoding. */
export interface WireOptions {
  /** Cluster label (memberlist ≥ 0.3.0); '' or absent = none. 1..255 bytes. */
  label?: string;
  /** Keyring; when it has keys, outgoing data is encrypted and incoming data must decrypt. */
  keyring?: Keyring;
  /** Encryption version for outgoing data (default 1). */
  encryptionVersion?: EncryptionVersion;
  /** Accept unencrypted input even with a keyring (GossipVerifyIncoming = false). */
  allowPlaintextIn?: boolean;
  /**
   * memberlist's SkipInboundLabelCheck: inbound data must carry *no* label header (something else
   * already stripped it) and is treated as carrying ours, also as encryption AAD; a header that is
   * present is refused ("unexpected double label header"), as in Go.
   */
  skipInboundLabelCheck?: boolean;
}

/** Options for building an outgoing packet. */
export interface PacketEncodeOptions extends WireOptions {
  /** Add the CRC32 layer (memberlist does so when the peer's PMax ≥ 5). */
  crc?: boolean;
  /** Try LZW compression and keep it when smaller (EnableCompression, default true in Go). */
  compress?: boolean;
}

/** Result of decoding a packet: the messages found, and per-part errors that were skipped. */
export interface DecodedPacket {
  messages: Message[];
  /** Errors of individual compound parts / nested messages that were dropped. */
  errors: string[];
  /** Whether a CRC layer was present (and verified). */
  hadCrc: boolean;
  /** Whether the packet was encrypted. */
  encrypted: boolean;
  /** Whether a compress layer was present. */
  compressed: boolean;
}

/** Maximum parts in one compound message. */
export const MAX_COMPOUND_PARTS = 255;

const te = new TextEncoder();

/** Builds `07 | n | lens | parts`; throws when there are more than 255 parts or a part exceeds 65535 bytes. */
export function encodeCompound(parts: Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) throw new Error(`compound: ${parts.length} parts exceed ${MAX_COMPOUND_PARTS}`);
  const w = new Writer();
  w.u8(MessageType.Compound);
  w.u8(parts.length);
  for (const p of parts) {
    if (p.length > 0xffff) throw new Error(`compound: part of ${p.length} bytes exceeds 65535`);
    w.u16(p.length);
  }
  for (const p of parts) w.bytes(p);
  return Uint8Array.from(w.finish());
}

/** Splits a compound body (after the type byte); `truncated` counts parts missing from the buffer. */
export function decodeCompound(buf: Uint8Array, off = 1): { parts: Uint8Array[]; truncated: number } {
  if (buf.length < off + 1) throw new Error('compound: missing part count');
  const n = buf[off]!;
  let p = off + 1;
  if (buf.length < p + 2 * n) throw new Error(`compound: truncated length table (${n} parts)`);
  const lens: number[] = [];
  for (let i = 0; i < n; i++, p += 2) lens.push((buf[p]! << 8) | buf[p + 1]!);
  const parts: Uint8Array[] = [];
  for (const l of lens) {
    if (p + l > buf.length) break;
    parts.push(buf.subarray(p, p + l));
    p += l;
  }
  return { parts, truncated: n - parts.length };
}

/** Wraps a payload in `09 | compress{Algo:0, Buf:lzw(payload)}`. */
export function compressPayload(payload: Uint8Array): Uint8Array {
  return encodeCompress({ algo: 0, buf: lzwCompress(payload) });
}

/**
 * Decompressed bytes one UDP packet may expand to, summed over every compress layer in it (nested
 * or in compound parts). A datagram is at most 64 KiB and Go only compresses what it sends in one,
 * so real packets stay far below this; an LZW bomb is cut off here instead of at 40 MiB.
 */
export const MAX_PACKET_DECOMPRESSED = 1 << 20;

/**
 * Unwraps a compress message (`buf[0] === 9`), returning the decompressed inner bytes. The cap
 * (default 40 MiB, memberlist HEAD's) is enforced while decompressing ({@link lzwDecompress}).
 */
export function decompressPayload(buf: Uint8Array, maxOutput = LZW_DEFAULT_MAX_OUTPUT): Uint8Array {
  const { msg } = decodeCompressBody(buf, 1);
  if (msg.algo !== 0) throw new Error(`compress.Algo: unsupported algorithm ${msg.algo}`);
  return lzwDecompress(msg.buf, maxOutput);
}

/** Prefixes `f4 | len | label` (no-op for an empty label). */
export function addLabel(buf: Uint8Array, label: string | undefined): Uint8Array {
  if (!label) return buf;
  const l = te.encode(label);
  if (l.length > 255) throw new Error(`label: ${l.length} bytes exceeds 255`);
  const out = new Uint8Array(2 + l.length + buf.length);
  out[0] = MessageType.HasLabel;
  out[1] = l.length;
  out.set(l, 2);
  out.set(buf, 2 + l.length);
  return out;
}

/** Strips a label header if present: returns the label ('' if none) and the rest. */
export function removeLabel(buf: Uint8Array): { label: string; rest: Uint8Array } {
  if (buf.length < 1 || buf[0] !== MessageType.HasLabel) return { label: '', rest: buf };
  if (buf.length < 2) throw new Error('label: truncated header');
  const n = buf[1]!;
  if (n < 1) throw new Error('label: zero-length label');
  if (buf.length < 2 + n) throw new Error('label: truncated label');
  return { label: new TextDecoder().decode(buf.subarray(2, 2 + n)), rest: buf.subarray(2 + n) };
}

/** Prefixes `0c | crc32(rest)`. */
export function addCrc(buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + buf.length);
  out[0] = MessageType.HasCrc;
  new DataView(out.buffer).setUint32(1, crc32(buf));
  out.set(buf, 5);
  return out;
}

/**
 * Builds a complete UDP payload from one or more encoded messages (a single message is sent as is,
 * several as a compound), applying compression, CRC, encryption and label as configured.
 */
export function encodePacket(msgs: (Message | Uint8Array)[], opts: PacketEncodeOptions = {}): Uint8Array {
  const enc = msgs.map((m) => {
    if (m instanceof Uint8Array) return m;
    const w = new Writer();
    writeMessage(w, m);
    return Uint8Array.from(w.finish());
  });
  if (enc.length === 0) throw new Error('packet: no messages');
  let buf = enc.length === 1 ? enc[0]! : encodeCompound(enc);
  if (opts.compress) {
    const c = compressPayload(buf);
    if (c.length < buf.length) buf = c;
  }
  if (opts.crc) buf = addCrc(buf);
  if (opts.keyring && opts.keyring.getKeys().length) {
    buf = opts.keyring.encrypt(buf, te.encode(opts.label ?? ''), opts.encryptionVersion ?? 1);
  }
  return addLabel(buf, opts.label);
}

/**
 * Decodes a received UDP payload through every layer. Throws (with a descriptive message) when the
 * packet as a whole must be dropped: label mismatch, decryption failure, CRC mismatch, bad framing.
 * Individual bad parts of a compound are skipped and listed in `errors`.
 */
export function decodePacket(buf: Uint8Array, opts: WireOptions = {}): DecodedPacket {
  const res: DecodedPacket = { messages: [], errors: [], hadCrc: false, encrypted: false, compressed: false };
  const removed = removeLabel(buf);
  const rest = removed.rest;
  let label = removed.label;
  if (opts.skipInboundLabelCheck) {
    if (label !== '') throw new Error('packet: unexpected double packet label header');
    label = opts.label ?? '';
  } else if (label !== (opts.label ?? '')) {
    throw new Error(`packet: label "${label}" does not match ours "${opts.label ?? ''}"`);
  }
  let p = rest;
  if (opts.keyring && opts.keyring.getKeys().length) {
    try {
      p = opts.keyring.decrypt(p, te.encode(label));
      res.encrypted = true;
    } catch (err) {
      if (!opts.allowPlaintextIn) throw err;
    }
  }
  if (p.length < 1) throw new Error('packet: empty');
  if (p[0] === MessageType.HasCrc) {
    if (p.length < 5) throw new Error('packet: truncated CRC header');
    const want = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(1);
    const body = p.subarray(5);
    const got = crc32(body);
    if (want !== got) throw new Error(`packet: CRC mismatch (header 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
    res.hadCrc = true;
    p = body;
  }
  handle(p, res, 0, { left: MAX_PACKET_DECOMPRESSED });
  return res;
}

function handle(p: Uint8Array, res: DecodedPacket, depth: number, budget: { left: number }): void {
  if (depth > 4) throw new Error('packet: nesting too deep');
  if (p.length < 1) throw new Error('packet: empty message');
  switch (p[0]) {
    case MessageType.Compound: {
      const { parts, truncated } = decodeCompound(p);
      if (truncated) res.errors.push(`compound: ${truncated} truncated parts`);
      for (const part of parts) {
        try {
          handle(part, res, depth + 1, budget);
        } catch (err) {
          res.errors.push((err as Error).message);
        }
      }
      return;
    }
    case MessageType.Compress:
      res.compressed = true;
      {
        const inner = decompressPayload(p, budget.left);
        budget.left -= inner.length;
        handle(inner, res, depth + 1, budget);
      }
      return;
    default:
      res.messages.push(decodeMessage(p));
  }
}
