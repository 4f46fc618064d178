/**
 * NOTIFICATION message (RFC 4271 §4.5) and the shutdown communication of RFC 8203 / RFC 9003:
 * Cease subcodes 2 (Administrative Shutdown) and 4 (Administrative Reset) may carry a length byte
 * and up to 255 bytes of UTF-8 text.
 */
import { asBuffer, copyBytes } from './bytes.js';
import { HEADER_LENGTH, MessageType } from './constants.js';
import { badField, fail } from './errors.js';
import { bodyOf, startMessage } from './header.js';

/** A NOTIFICATION message. */
export interface NotificationMessage {
  type: 'notification';
  /** Error code (see `ERROR_CODES`). */
  code: number;
  /** Error subcode (see `ERROR_SUBCODES`; 0 = unspecific). */
  subcode: number;
  /** Data after code and subcode (for a shutdown communication: length byte + text). */
  data?: Uint8Array;
  /**
   * RFC 8203/9003 shutdown communication (Cease 2 or 4). When encoding, it replaces `data`; when
   * decoding, it is set only if `data` holds a well-formed one.
   */
  shutdownText?: string;
}

/** Largest shutdown communication in bytes (RFC 9003). */
export const MAX_SHUTDOWN_TEXT = 255;

/** Whether `code/subcode` may carry an RFC 8203 shutdown communication. */
export function hasShutdownText(code: number, subcode: number): boolean {
  return code === 6 && (subcode === 2 || subcode === 4);
}

/** Shutdown-communication data: length byte + UTF-8 text, cut to 255 bytes on a character boundary. */
export function shutdownData(text: string): Buffer {
  let t = Buffer.from(text, 'utf8');
  if (t.length > MAX_SHUTDOWN_TEXT) {
    let cut = MAX_SHUTDOWN_TEXT;
    while (cut > 0 && (t[cut]! & 0xc0) === 0x80) cut--;
    t = t.subarray(0, cut);
  }
  const b = Buffer.allocUnsafe(1 + t.length);
  b[0] = t.length;
  t.copy(b, 1);
  return b;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The shutdown text in `data`, or undefined when `data` is not a well-formed communication (the
 * length byte must cover exactly the rest, and the text must be valid UTF-8).
 */
export function parseShutdownData(data: Uint8Array): string | undefined {
  if (data.length < 1 || data[0]! + 1 !== data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + data[0]!));
  } catch {
    return undefined;
  }
}

function dataOf(m: NotificationMessage): Uint8Array {
  if (m.shutdownText !== undefined) {
    if (!hasShutdownText(m.code, m.subcode)) badField(`NOTIFICATION.shutdownText: only for Cease 6/2 and 6/4, not ${m.code}/${m.subcode}`);
    return shutdownData(m.shutdownText);
  }
  return m.data ?? new Uint8Array(0);
}

/** Total bytes of the encoded message. */
export function encodingLength(m: NotificationMessage): number {
  return HEADER_LENGTH + 2 + dataOf(m).length;
}

/** Encodes the whole message at `offset`; returns the buffer. */
export function encode(m: NotificationMessage, buf?: Buffer, offset = 0): Buffer {
  for (const k of ['code', 'subcode'] as const) {
    if (!Number.isInteger(m[k]) || m[k] < 0 || m[k] > 255) badField(`NOTIFICATION.${k}: ${m[k]} is not 0..255`);
  }
  const data = dataOf(m);
  const total = HEADER_LENGTH + 2 + data.length;
  if (total > 4096) badField(`NOTIFICATION.data: ${data.length} bytes make the message exceed 4096`);
  const b = startMessage(MessageType.NOTIFICATION, total, buf, offset);
  b[offset + 19] = m.code;
  b[offset + 20] = m.subcode;
  b.set(data, offset + 21);
  return b;
}

/** Decodes a whole NOTIFICATION (header included) at `offset`. */
export function decode(buf: Uint8Array, offset = 0): NotificationMessage {
  return decodeBody(bodyOf(buf, offset, MessageType.NOTIFICATION));
}

/** Decodes a NOTIFICATION body. Only a body shorter than 2 bytes is an error (1/2). */
export function decodeBody(body: Uint8Array): NotificationMessage {
  const b = asBuffer(body);
  if (b.length < 2) fail(`NOTIFICATION: body of ${b.length} bytes is shorter than 2`, 1, 2);
  const m: NotificationMessage = { type: 'notification', code: b[0]!, subcode: b[1]!, data: copyBytes(b, 2, b.length) };
  if (hasShutdownText(m.code, m.subcode) && b.length > 2) {
    const t = parseShutdownData(m.data!);
    if (t !== undefined) m.shutdownText = t;
  }
  return m;
}
