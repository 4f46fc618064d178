/** KEEPALIVE message (RFC 4271 §4.4): the header alone. */
import { HEADER_LENGTH, MessageType } from './constants.js';
import { fail } from './errors.js';
import { bodyOf, startMessage } from './header.js';

/** A KEEPALIVE message. */
export interface KeepaliveMessage {
  type: 'keepalive';
}

/** Always 19. */
export function encodingLength(_m?: KeepaliveMessage): number {
  return HEADER_LENGTH;
}

/** Encodes a KEEPALIVE at `offset`; returns the buffer. */
export function encode(_m: KeepaliveMessage = { type: 'keepalive' }, buf?: Buffer, offset = 0): Buffer {
  return startMessage(MessageType.KEEPALIVE, HEADER_LENGTH, buf, offset);
}

/** Decodes a whole KEEPALIVE (header included) at `offset`. */
export function decode(buf: Uint8Array, offset = 0): KeepaliveMessage {
  return decodeBody(bodyOf(buf, offset, MessageType.KEEPALIVE));
}

/** Checks a KEEPALIVE body: it must be empty (1/2 otherwise). */
export function decodeBody(body: Uint8Array): KeepaliveMessage {
  if (body.length !== 0) fail(`KEEPALIVE: body of ${body.length} bytes (must be empty)`, 1, 2, Uint8Array.of(0, 19 + body.length));
  return { type: 'keepalive' };
}
