/**
 * The 19-byte message header (RFC 4271 §4.1): 16-byte all-ones marker, 2-byte total length,
 * 1-byte type. The decoder applies the §6.1 checks: 1/1 (marker), 1/2 (length, with the bad length
 * as data) and 1/3 (type, with the bad type as data).
 */
import { HEADER_LENGTH, MAX_MESSAGE, MessageType } from './constants.js';
import { asBuffer } from './bytes.js';
import { fail } from './errors.js';

/** A decoded header. */
export interface Header {
  /** Total message length including the header. */
  length: number;
  /** Message type code (1..5). */
  type: number;
}

/** Options of {@link decode}. */
export interface HeaderOptions {
  /** Largest acceptable message: 4096, or 65535 once RFC 8654 extended messages are negotiated. */
  maxLength?: number;
}

/** Smallest length of each message type (RFC 4271 §4, RFC 2918 §3). */
const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 19 };

/** Writes a header; returns the buffer (allocated when not given). */
export function encode(h: Header, buf?: Buffer, offset = 0): Buffer {
  const b = buf ?? Buffer.allocUnsafe(HEADER_LENGTH);
  b.fill(0xff, offset, offset + 16);
  b.writeUInt16BE(h.length, offset + 16);
  b[offset + 18] = h.type;
  return b;
}

/** Always 19. */
export function encodingLength(): number {
  return HEADER_LENGTH;
}

/**
 * Reads and validates the header at `offset` (only its 19 bytes are needed, so a stream framer can
 * call it before the body has arrived). Throws a NotificationError 1/1, 1/2 or 1/3.
 */
export function decode(buf: Uint8Array, offset = 0, opts: HeaderOptions = {}): Header {
  if (buf.length - offset < HEADER_LENGTH) fail('header: shorter than 19 bytes', 1, 2);
  for (let i = 0; i < 16; i++) if (buf[offset + i] !== 0xff) fail('header: marker is not all ones', 1, 1);
  const length = (buf[offset + 16]! << 8) | buf[offset + 17]!;
  const type = buf[offset + 18]!;
  const max = type === MessageType.OPEN || type === MessageType.KEEPALIVE ? MAX_MESSAGE : (opts.maxLength ?? MAX_MESSAGE);
  const min = MIN_LENGTH[type] ?? HEADER_LENGTH;
  if (length < min || length > max || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH)) {
    fail(`header: length ${length} is invalid for message type ${type}`, 1, 2, Uint8Array.of(length >> 8, length & 255));
  }
  if (type < MessageType.OPEN || type > MessageType.ROUTE_REFRESH) fail(`header: message type ${type} is unknown`, 1, 3, Uint8Array.of(type));
  return { length, type };
}

/**
 * Validates the header of a whole message at `offset` and returns a view of its body. Throws 1/x
 * for a bad header, 1/2 when the buffer is shorter than the header's length, and 1/3 when the type
 * is not `expected`.
 */
export function bodyOf(buf: Uint8Array, offset: number, expected: number, opts: HeaderOptions = {}): Buffer {
  const h = decode(buf, offset, opts);
  if (h.type !== expected) fail(`header: message type ${h.type}, expected ${expected}`, 1, 3, Uint8Array.of(h.type));
  if (buf.length - offset < h.length) {
    fail(`header: length ${h.length} exceeds the ${buf.length - offset} bytes available`, 1, 2, Uint8Array.of(h.length >> 8, h.length & 255));
  }
  return asBuffer(buf).subarray(offset + HEADER_LENGTH, offset + h.length);
}

/** Allocates (or checks) the output buffer for a message of `length` bytes and writes its header. */
export function startMessage(type: number, length: number, buf: Buffer | undefined, offset: number): Buffer {
  const b = buf ?? Buffer.allocUnsafe(length);
  if (b.length - offset < length) throw new RangeError(`encode: buffer has ${b.length - offset} bytes from offset ${offset}, message needs ${length}`);
  return encode({ length, type }, b, offset);
}
