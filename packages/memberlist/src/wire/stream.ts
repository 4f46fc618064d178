/**
 * TCP stream framing (net.go `handleConn`, `readStream`, `rawSendMsgStream`): one request/response
 * per connection, `[label] [encrypt(0a | u32 len | vsn|nonce|ct|tag) | plaintext]`, where the
 * plaintext may be `09 | compress{…}` around the real message. Plaintext is self-delimiting msgpack;
 * AAD of an encrypted stream message = `0a | len(4)` ‖ label.
 */
import { compressPayload, decompressPayload, removeLabel, addLabel, type WireOptions } from './packet.js';
import {
  decodeErrBody, decodeMessage, decodePushPullBody, decodeStreamUserBody, encodeErr, encodeMessage, encodePushPull,
  encodeStreamUser, MessageType, type AckMsg, type PingMsg, type PushPull,
} from './messages.js';
import { mpDecode, ShortBufferError } from './msgpack.js';

/** A message carried on a stream. */
export type StreamMessage =
  | { type: 'pushPull'; pushPull: PushPull }
  | { type: 'ping'; ping: PingMsg }
  | { type: 'ack'; ack: AckMsg }
  | { type: 'user'; payload: Uint8Array }
  | { type: 'err'; error: string };

/** Options for writing a stream message. */
export interface StreamEncodeOptions extends WireOptions {
  /** LZW-compress the message (Go does so whenever EnableCompression, the default). */
  compress?: boolean;
}

/** Maximum encrypted stream message (memberlist's maxPushStateBytes, 20 MiB, plus overhead). */
export const MAX_STREAM_BYTES = (20 << 20) + 1024;

const te = new TextEncoder();

function plainOf(m: StreamMessage): Uint8Array {
  switch (m.type) {
    case 'pushPull': return encodePushPull(m.pushPull);
    case 'ping': return encodeMessage(m.ping);
    case 'ack': return encodeMessage(m.ack);
    case 'user': return encodeStreamUser(m.payload);
    case 'err': return encodeErr(m.error);
  }
}

/** Encodes a full stream message (label, encryption and compression as configured). */
export function encodeStreamMessage(m: StreamMessage, opts: StreamEncodeOptions = {}): Uint8Array {
  let buf = plainOf(m);
  if (opts.compress) buf = compressPayload(buf);
  if (opts.keyring && opts.keyring.getKeys().length) {
    const vsn = opts.encryptionVersion ?? 1;
    // Ciphertext length is known in advance: version 1 adds 29 bytes, version 0 pads to 16 first.
    const ctLen = vsn === 1 ? buf.length + 29 : buf.length + (16 - (buf.length % 16)) + 29;
    const header = new Uint8Array(5);
    header[0] = MessageType.Encrypt;
    new DataView(header.buffer).setUint32(1, ctLen);
    const aad = new Uint8Array(5 + te.encode(opts.label ?? '').length);
    aad.set(header);
    aad.set(te.encode(opts.label ?? ''), 5);
    const ct = opts.keyring.encrypt(buf, aad, vsn);
    buf = new Uint8Array(5 + ct.length);
    buf.set(header);
    buf.set(ct, 5);
  }
  return addLabel(buf, opts.label);
}

/** Result of {@link tryDecodeStream}: `null` means more bytes are needed. */
export type StreamDecodeResult = { msg: StreamMessage; end: number; encrypted: boolean } | null;

/**
 * Tries to decode one stream message from the bytes received so far. Returns null when the
 * buffer is incomplete; throws a descriptive Error when the stream is malformed (the caller
 * answers with an errResp or closes).
 */
export function tryDecodeStream(buf: Uint8Array, opts: WireOptions = {}): StreamDecodeResult {
  try {
    return decodeStreamInner(buf, opts);
  } catch (err) {
    if (err instanceof ShortBufferError) return null;
    throw err;
  }
}

function decodeStreamInner(buf: Uint8Array, opts: WireOptions): StreamDecodeResult {
  if (buf.length === 0) return null;
  if (buf[0] === MessageType.HasLabel && (buf.length < 2 || buf.length < 2 + buf[1]!)) return null;
  const { label, rest } = removeLabel(buf);
  const labelLen = buf.length - rest.length;
  if (!opts.skipInboundLabelCheck && label !== (opts.label ?? '')) {
    throw new Error(`stream: label "${label}" does not match ours "${opts.label ?? ''}"`);
  }
  if (rest.length === 0) return null;
  const hasKeys = !!opts.keyring && opts.keyring.getKeys().length > 0;
  if (rest[0] === MessageType.Encrypt) {
    if (!hasKeys) throw new Error('stream: encrypted message but no keyring configured');
    if (rest.length < 5) return null;
    const n = new DataView(rest.buffer, rest.byteOffset, rest.byteLength).getUint32(1);
    if (n > MAX_STREAM_BYTES) throw new Error(`stream: encrypted length ${n} exceeds ${MAX_STREAM_BYTES}`);
    if (rest.length < 5 + n) return null;
    const lab = te.encode(label);
    const aad = new Uint8Array(5 + lab.length);
    aad.set(rest.subarray(0, 5));
    aad.set(lab, 5);
    const plain = opts.keyring!.decrypt(rest.subarray(5, 5 + n), aad);
    const inner = decodePlain(plain, true);
    if (!inner) throw new Error('stream: encrypted message is truncated inside');
    return { msg: inner.msg, end: labelLen + 5 + n, encrypted: true };
  }
  if (hasKeys && !opts.allowPlaintextIn) throw new Error('stream: plaintext message but encryption is required');
  const r = decodePlain(rest, false);
  return r ? { msg: r.msg, end: labelLen + r.end, encrypted: false } : null;
}

function decodePlain(p: Uint8Array, complete: boolean): { msg: StreamMessage; end: number } | null {
  if (p.length === 0) return null;
  if (p[0] === MessageType.Compress) {
    // Find the end of the compress struct first (throws ShortBufferError if incomplete).
    const end = mpDecode(p, 1).end;
    const inner = decompressPayload(p.subarray(0, end));
    const r = decodeBody(inner);
    if (r.end !== inner.length && !complete) { /* trailing bytes inside a compressed frame are ignored, as Go does */ }
    return { msg: r.msg, end };
  }
  return decodeBody(p);
}

function decodeBody(p: Uint8Array): { msg: StreamMessage; end: number } {
  if (p.length === 0) throw new ShortBufferError('stream message type');
  switch (p[0]) {
    case MessageType.PushPull: {
      const r = decodePushPullBody(p, 1);
      return { msg: { type: 'pushPull', pushPull: r.msg }, end: r.end };
    }
    case MessageType.Ping:
    case MessageType.AckResp: {
      const end = mpDecode(p, 1).end;
      const m = decodeMessage(p.subarray(0, end));
      return m.type === 'ping' ? { msg: { type: 'ping', ping: m }, end } : { msg: { type: 'ack', ack: m as AckMsg }, end };
    }
    case MessageType.User: {
      const r = decodeStreamUserBody(p, 1);
      return { msg: { type: 'user', payload: r.payload }, end: r.end };
    }
    case MessageType.Err: {
      const r = decodeErrBody(p, 1);
      return { msg: { type: 'err', error: r.error }, end: r.end };
    }
    default:
      throw new Error(`stream: message type ${p[0]} not supported on a stream`);
  }
}
