/**
 * Incremental reader of one memberlist stream message (net.go `handleConn` → `readStream` →
 * `readRemoteState` / `readUserMsg`), fed the chunks a socket delivers.
 *
 * Linear in the message size however it is chunked: bytes are appended to one buffer that grows by
 * doubling, and parsing resumes where it stopped — the label header and type byte are read once,
 * an encrypted frame waits for its declared length, a plaintext message is delimited by a
 * resumable msgpack scan ({@link MsgpackBoundary}) and each `pushNodeState` of a push/pull is
 * decoded as soon as its bytes are in (so a large state is decoded while it trickles in, not all at
 * once at the end). Size limits are checked before bytes are waited for.
 *
 * Labels as Go (label.go, transport.go): the side that opens a stream writes the label header once
 * at its start, the side that answers writes none. So an inbound stream may start with a label
 * header (absent = label ''); a reply ({@link StreamReadOptions.reply}) normally has none and is
 * authenticated with our own label (a header there is accepted only if it equals ours).
 */
import type { PushNodeState } from '../engine/messages.js';
import { decompressPayload, type WireOptions } from './packet.js';
import {
  decodeErrBody, decodeMessage, decodePushNodeState, decodePushPullHeader, decodePushPullBody, decodeStreamUserBody,
  decodeStreamUserHeader, MessageType, NodeStateCache, type AckMsg, type PushPullHeader,
} from './messages.js';
import { MsgpackBoundary } from './msgpack-scan.js';
import { ShortBufferError } from './msgpack.js';
import type { StreamMessage } from './stream.js';

/** Maximum stream message (memberlist's maxPushStateBytes, 20 MiB, plus framing overhead). */
export const MAX_STREAM_BYTES = (20 << 20) + 1024;

/** Options of {@link StreamReader}. */
export interface StreamReadOptions extends WireOptions {
  /**
   * True when reading the reply on a stream we opened: Go answers without a label header, and the
   * encryption AAD uses our own label. False (default): a stream a peer opened to us.
   */
  reply?: boolean;
  /** Largest message accepted, label header excluded (default {@link MAX_STREAM_BYTES}). */
  maxBytes?: number;
}

/** A complete message read by {@link StreamReader}. */
export interface StreamReadResult {
  msg: StreamMessage;
  /** Bytes of the stream the message used (label header included). */
  end: number;
  encrypted: boolean;
  /** The stream's label (the one to authenticate a reply with). */
  label: string;
}

/** A stream refused for its label (Go closes such a stream without an errResp). */
export class StreamLabelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamLabelError';
  }
}

type State = 'label' | 'type' | 'encrypted' | 'object' | 'ppHeader' | 'ppNodes' | 'tail' | 'userHeader' | 'done';

const te = new TextEncoder();
const td = new TextDecoder();

/** Reads one stream message from successive chunks; see the module comment. */
export class StreamReader {
  private buf = new Uint8Array(0);
  private len = 0;
  private state: State = 'label';
  /** Offset of the message's type byte (after the label header). */
  private start = 0;
  /** Parse position (meaning depends on the state). */
  private pos = 0;
  private label = '';
  private scan: MsgpackBoundary | null = null;
  private ppHeader: PushPullHeader | null = null;
  private nodes: PushNodeState[] = [];
  private readonly nodeCache = new NodeStateCache();
  /** End offset of the user state / user message body while waiting for it. */
  private tailEnd = 0;
  private result: StreamReadResult | null = null;
  private readonly maxBytes: number;
  /** Bytes dropped from the front of `buf` (decoded node states); offsets are relative to what is kept. */
  private dropped = 0;

  constructor(private readonly opts: StreamReadOptions = {}) {
    this.maxBytes = opts.maxBytes ?? MAX_STREAM_BYTES;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.len + this.dropped;
  }

  /** Bytes currently buffered (decoded push/pull node states are not kept). */
  get buffered(): number {
    return this.len;
  }

  /** `pushNodeState`s of a plaintext push/pull decoded so far. */
  get nodesDecoded(): number {
    return this.nodes.length;
  }

  /**
   * Appends a chunk and parses as far as possible. Returns the message once it is complete (bytes
   * after it are ignored), null while more bytes are needed. Throws a descriptive Error when the
   * stream is malformed, mislabelled, fails to decrypt or exceeds the size limit.
   */
  push(chunk: Uint8Array): StreamReadResult | null {
    if (this.result) return this.result;
    this.append(chunk);
    const r = this.advance();
    if (!r && this.len - this.start > this.maxBytes) {
      throw new Error(`stream: message exceeds ${this.maxBytes} bytes`);
    }
    return r;
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // While node states are decoded one by one, the bytes before `pos` are done with: drop them
    // when the buffer would grow or they are most of it (each byte is moved at most once per halving).
    if (this.state === 'ppNodes' && this.pos > 0 && (this.len + chunk.length > this.buf.length || this.pos > this.buf.length >> 1)) {
      const n = this.pos;
      this.buf.copyWithin(0, n, this.len);
      this.len -= n;
      this.start -= n;
      this.pos = 0;
      this.scan?.rebase(n);
      this.dropped += n;
    }
    if (this.len + chunk.length > this.buf.length) {
      let size = Math.max(4096, this.buf.length * 2);
      while (size < this.len + chunk.length) size *= 2;
      const nb = new Uint8Array(size);
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  private ours(): string {
    return this.opts.label ?? '';
  }

  private hasKeys(): boolean {
    return !!this.opts.keyring && this.opts.keyring.getKeys().length > 0;
  }

  private finish(msg: StreamMessage, end: number, encrypted: boolean): StreamReadResult {
    this.state = 'done';
    this.result = { msg, end: end + this.dropped, encrypted, label: this.label };
    this.nodes = [];
    return this.result;
  }

  /** Checks that a declared length still fits the limit before waiting for its bytes. */
  private fits(end: number, what: string): void {
    if (end - this.start > this.maxBytes) throw new Error(`stream: ${what} exceeds ${this.maxBytes} bytes`);
  }

  private advance(): StreamReadResult | null {
    const b = this.buf;
    for (;;) {
      switch (this.state) {
        case 'label': {
          if (this.len < 1) return null;
          let got: string | null = null;
          if (b[0] === MessageType.HasLabel) {
            if (this.len < 2) return null;
            const n = b[1]!;
            if (n < 1) throw new StreamLabelError('stream: label header cannot be empty when present');
            if (this.len < 2 + n) return null;
            got = td.decode(b.subarray(2, 2 + n));
            this.start = 2 + n;
          }
          let label = got ?? (this.opts.reply ? this.ours() : '');
          if (this.opts.skipInboundLabelCheck && !this.opts.reply) {
            // As Go's handleConn: the header must already be gone; the stream then counts as ours.
            if (got !== null) throw new StreamLabelError('stream: unexpected double stream label header');
            label = this.ours();
          } else if (label !== this.ours()) {
            throw new StreamLabelError(`stream: label "${label}" does not match ours "${this.ours()}"`);
          }
          this.label = label;
          this.pos = this.start;
          this.state = 'type';
          break;
        }
        case 'type': {
          if (this.len <= this.start) return null;
          const t = b[this.start]!;
          if (t === MessageType.Encrypt) {
            if (!this.hasKeys()) throw new Error('stream: encrypted message but no keyring configured');
            this.state = 'encrypted';
            break;
          }
          if (this.hasKeys() && !this.opts.allowPlaintextIn) {
            throw new Error('stream: plaintext message but encryption is required');
          }
          this.pos = this.start + 1;
          this.scan = new MsgpackBoundary(this.pos);
          switch (t) {
            case MessageType.Compress:
            case MessageType.Ping:
            case MessageType.AckResp:
            case MessageType.Err:
              this.state = 'object';
              break;
            case MessageType.PushPull:
              this.state = 'ppHeader';
              break;
            case MessageType.User:
              this.state = 'userHeader';
              break;
            default:
              throw new Error(`stream: message type ${t} not supported on a stream`);
          }
          break;
        }
        case 'encrypted': {
          const s = this.start;
          if (this.len < s + 5) return null;
          const n = ((b[s + 1]! << 24) >>> 0) + ((b[s + 2]! << 16) | (b[s + 3]! << 8) | b[s + 4]!);
          if (n > this.maxBytes) throw new Error(`stream: encrypted length ${n} exceeds ${this.maxBytes}`);
          if (this.len < s + 5 + n) return null;
          const lab = te.encode(this.label);
          const aad = new Uint8Array(5 + lab.length);
          aad.set(b.subarray(s, s + 5));
          aad.set(lab, 5);
          const plain = this.opts.keyring!.decrypt(b.subarray(s + 5, s + 5 + n), aad);
          return this.finish(decodeWhole(plain), s + 5 + n, true);
        }
        case 'object': {
          const end = this.scan!.scan(b, this.len);
          if (end < 0) return null;
          return this.finish(decodeWhole(b.subarray(this.start, end)), end, false);
        }
        case 'ppHeader': {
          const end = this.scan!.scan(b, this.len);
          if (end < 0) return null;
          const { header } = decodePushPullHeader(b.subarray(0, end), this.pos);
          this.ppHeader = header;
          this.pos = end;
          this.scan = header.nodes > 0 ? new MsgpackBoundary(end) : null;
          this.state = 'ppNodes';
          break;
        }
        case 'ppNodes': {
          const h = this.ppHeader!;
          while (this.nodes.length < h.nodes) {
            const end = this.scan!.scan(b, this.len);
            if (end < 0) return null;
            this.nodes.push(decodePushNodeState(b.subarray(0, end), this.pos, this.nodeCache).node);
            this.pos = end;
            this.scan = new MsgpackBoundary(end);
          }
          this.tailEnd = this.pos + h.userStateLen;
          this.fits(this.tailEnd, 'push/pull user state');
          this.state = 'tail';
          break;
        }
        case 'userHeader': {
          const end = this.scan!.scan(b, this.len);
          if (end < 0) return null;
          const { length } = decodeStreamUserHeader(b.subarray(0, end), this.pos);
          this.pos = end;
          this.tailEnd = end + length;
          this.fits(this.tailEnd, 'user message');
          this.ppHeader = null;
          this.state = 'tail';
          break;
        }
        case 'tail': {
          if (this.len < this.tailEnd) return null;
          const body = b.slice(this.pos, this.tailEnd);
          const h = this.ppHeader;
          const msg: StreamMessage = h
            ? { type: 'pushPull', pushPull: { join: h.join, nodes: this.nodes, userState: body } }
            : { type: 'user', payload: body };
          return this.finish(msg, this.tailEnd, false);
        }
        case 'done':
          return this.result;
      }
    }
  }
}

/** Decodes a complete plaintext message (possibly `09 | compress{…}` around it). */
function decodeWhole(p: Uint8Array): StreamMessage {
  try {
    if (p.length === 0) throw new Error('stream: empty message');
    if (p[0] === MessageType.Compress) return decodeBody(decompressPayload(p));
    return decodeBody(p);
  } catch (err) {
    if (err instanceof ShortBufferError) throw new Error(`stream: message truncated inside its frame (${err.message})`);
    throw err;
  }
}

/** Decodes a plaintext message body that is entirely in `p` (trailing bytes are ignored, as Go does). */
function decodeBody(p: Uint8Array): StreamMessage {
  if (p.length === 0) throw new Error('stream: empty message');
  switch (p[0]) {
    case MessageType.PushPull:
      return { type: 'pushPull', pushPull: decodePushPullBody(p, 1).msg };
    case MessageType.Ping:
    case MessageType.AckResp: {
      const m = decodeMessage(p);
      return m.type === 'ping' ? { type: 'ping', ping: m } : { type: 'ack', ack: m as AckMsg };
    }
    case MessageType.User:
      return { type: 'user', payload: decodeStreamUserBody(p, 1).payload };
    case MessageType.Err:
      return { type: 'err', error: decodeErrBody(p, 1).error };
    default:
      throw new Error(`stream: message type ${p[0]} not supported on a stream`);
  }
}
