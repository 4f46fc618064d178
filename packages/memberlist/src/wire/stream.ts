/**
 * TCP stream framing (net.go `handleConn`, `readStream`, `rawSendMsgStream`; label.go): one
 * request/response per connection. The opener writes `[label header] message`, the answerer writes
 * `message` only (Go never labels a reply); a message is `encrypt(0a | u32 len | vsn|nonce|ct|tag)`
 * or plaintext, and the plaintext may be `09 | compress{…}` around the real message. Plaintext is
 * self-delimiting msgpack; AAD of an encrypted stream message = `0a | len(4)` ‖ stream label (on
 * both directions, though only the request carries the header). Decoding: {@link StreamReader}.
 */
import { compressPayload, addLabel, type WireOptions } from './packet.js';
import { encodeErr, encodeMessage, encodePushPull, encodeStreamUser, MessageType, type AckMsg, type PingMsg, type PushPull } from './messages.js';
import { StreamReader, StreamLabelError, MAX_STREAM_BYTES, type StreamReadOptions } from './stream-reader.js';

export { StreamReader, StreamLabelError, MAX_STREAM_BYTES };
export type { StreamReadOptions, StreamReadResult } from './stream-reader.js';

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
  /**
   * Write the label header before the message (default true). False for a reply on a stream the
   * peer opened: Go writes the header once, on the side that opens the connection; the label still
   * goes into the encryption AAD.
   */
  labelHeader?: boolean;
}

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
  return opts.labelHeader === false ? buf : addLabel(buf, opts.label);
}

/** Result of {@link tryDecodeStream}: `null` means more bytes are needed. */
export type StreamDecodeResult = { msg: StreamMessage; end: number; encrypted: boolean } | null;

/**
 * Tries to decode one stream message from the bytes received so far (an optional label header at
 * the start, as on a stream a peer opened; `reply: true` for the answer on one we opened). Returns
 * null when the buffer is incomplete; throws a descriptive Error when the stream is malformed (the
 * caller answers with an errResp or closes). For bytes arriving in chunks use {@link StreamReader},
 * which does not re-parse.
 */
export function tryDecodeStream(buf: Uint8Array, opts: StreamReadOptions = {}): StreamDecodeResult {
  const r = new StreamReader(opts).push(buf);
  return r ? { msg: r.msg, end: r.end, encrypted: r.encrypted } : null;
}
