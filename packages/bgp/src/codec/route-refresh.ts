/**
 * ROUTE-REFRESH message (RFC 2918) with the RFC 7313 subtype in the reserved byte (0 normal
 * request, 1 BoRR, 2 EoRR). A body other than 4 bytes is NOTIFICATION 7/1 with the message as data.
 */
import { asBuffer } from './bytes.js';
import { HEADER_LENGTH, MessageType } from './constants.js';
import { badField, fail } from './errors.js';
import { bodyOf, encode as encodeHeader, startMessage } from './header.js';

/** A ROUTE-REFRESH message. */
export interface RouteRefreshMessage {
  type: 'route-refresh';
  /** Address family identifier of the routes to re-send. */
  afi: number;
  /** Subsequent address family identifier. */
  safi: number;
  /** RFC 7313 subtype: 0 request (default), 1 begin of route refresh, 2 end of route refresh. */
  subtype?: number;
}

/** Always 23. */
export function encodingLength(_m?: RouteRefreshMessage): number {
  return HEADER_LENGTH + 4;
}

/** Encodes the whole message at `offset`; returns the buffer. */
export function encode(m: RouteRefreshMessage, buf?: Buffer, offset = 0): Buffer {
  if (!Number.isInteger(m.afi) || m.afi < 0 || m.afi > 0xffff) badField(`ROUTE-REFRESH.afi: ${m.afi} is not 0..65535`);
  if (!Number.isInteger(m.safi) || m.safi < 0 || m.safi > 255) badField(`ROUTE-REFRESH.safi: ${m.safi} is not 0..255`);
  const st = m.subtype ?? 0;
  if (!Number.isInteger(st) || st < 0 || st > 255) badField(`ROUTE-REFRESH.subtype: ${st} is not 0..255`);
  const b = startMessage(MessageType.ROUTE_REFRESH, HEADER_LENGTH + 4, buf, offset);
  b.writeUInt16BE(m.afi, offset + 19);
  b[offset + 21] = st;
  b[offset + 22] = m.safi;
  return b;
}

/** Decodes a whole ROUTE-REFRESH (header included) at `offset`. */
export function decode(buf: Uint8Array, offset = 0): RouteRefreshMessage {
  return decodeBody(bodyOf(buf, offset, MessageType.ROUTE_REFRESH));
}

/** Decodes a ROUTE-REFRESH body; anything but 4 bytes is 7/1 (RFC 7313 §5). */
export function decodeBody(body: Uint8Array): RouteRefreshMessage {
  const b = asBuffer(body);
  if (b.length !== 4) {
    const whole = Buffer.allocUnsafe(HEADER_LENGTH + b.length);
    encodeHeader({ length: whole.length, type: MessageType.ROUTE_REFRESH }, whole, 0);
    b.copy(whole, HEADER_LENGTH);
    fail(`ROUTE-REFRESH: body of ${b.length} bytes (must be 4)`, 7, 1, whole.subarray(0, 4096 - 21));
  }
  const m: RouteRefreshMessage = { type: 'route-refresh', afi: b.readUInt16BE(0), safi: b[3]! };
  if (b[2] !== 0) m.subtype = b[2]!;
  return m;
}
