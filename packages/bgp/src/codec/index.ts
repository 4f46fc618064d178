/**
 * Pure BGP-4 message codec, in the style of `dns-packet`: every message type has
 * `encode(msg, buf?, offset?)`, `decode(buf, offset?)`, `decodeBody(body)` and
 * `encodingLength(msg)`, and the top-level {@link encode} / {@link decode} / {@link encodingLength}
 * work on the tagged union {@link Message}. Decoders are total: they return a message or throw a
 * {@link NotificationError} carrying the NOTIFICATION RFC 4271 §6 / RFC 7606 prescribe; RFC 7606
 * treat-as-withdraw and attribute-discard come back in `UpdateMessage.errors`.
 *
 * ```ts
 * import { codec } from '@lbkit/bgp';
 * const bytes = codec.encode({ type: 'keepalive' });
 * codec.decode(bytes); // { type: 'keepalive' }
 * ```
 */
import { asBuffer } from './bytes.js';
import { HEADER_LENGTH, MAX_MESSAGE, MessageType } from './constants.js';
import { badField } from './errors.js';
import * as header from './header.js';
import * as keepalive from './keepalive.js';
import type { KeepaliveMessage } from './keepalive.js';
import * as notification from './notification.js';
import type { NotificationMessage } from './notification.js';
import * as open from './open.js';
import type { OpenMessage } from './open.js';
import * as routeRefresh from './route-refresh.js';
import type { RouteRefreshMessage } from './route-refresh.js';
import * as update from './update.js';
import type { UpdateMessage, UpdateOptions } from './update.js';

export * as asPath from './as-path.js';
export type { AsPathSegment, AsPathSegmentType } from './as-path.js';
export * as attribute from './attributes.js';
export { ATTRIBUTES, attributeName } from './attributes.js';
export type { AttributeOptions, AttributeWire, PathAttribute, PathAttributeType } from './attributes.js';
export { decodeAttributes } from './attribute-decode.js';
export type { AttributeError, AttributeErrorAction, DecodedAttributes } from './attribute-decode.js';
export * as capability from './capabilities.js';
export type { AfiSafi, Capability, GracefulRestartFamily } from './capabilities.js';
export {
  formatCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
  WellKnownCommunity,
} from './communities.js';
export type { LargeCommunity } from './communities.js';
export * from './constants.js';
export { EncodeError, NotificationError } from './errors.js';
export type { NotificationInfo } from './errors.js';
export { bytesToIp, ipBytes, ipv4ToNumber, numberToIpv4 } from './ip.js';
export * as mpNlri from './mp-nlri.js';
export type { MpReach, MpUnreach } from './mp-nlri.js';
export { ERROR_CODES, ERROR_SUBCODES, notificationName } from './notification-names.js';
export * as prefix from './prefix.js';
export { header, keepalive, notification, open, routeRefresh, update };
export type { Header, HeaderOptions } from './header.js';
export type { KeepaliveMessage, NotificationMessage, OpenMessage, RouteRefreshMessage, UpdateMessage, UpdateOptions };
export { asPathOf, endOfRib, endOfRibFamily } from './update.js';
export { myAsnField, peerAsn } from './open.js';
export { shutdownData, parseShutdownData } from './notification.js';

/** Any BGP message. */
export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** Session facts decoding depends on. */
export interface DecodeOptions {
  /** 4-octet AS negotiated (RFC 6793); default true. */
  as4?: boolean;
  /** Largest message accepted: 4096 (default) or 65535 after RFC 8654 extended messages. */
  maxLength?: number;
  /** `true`: iBGP, LOCAL_PREF is mandatory in UPDATEs; `false`: eBGP, LOCAL_PREF is discarded (RFC 7606 §7.5). */
  ibgp?: boolean;
}

/** Session facts encoding depends on (only UPDATE uses them). */
export type EncodeOptions = Pick<UpdateOptions, 'as4' | 'maxLength'>;

/** Total bytes of the encoded message. */
export function encodingLength(m: Message, opts: EncodeOptions = {}): number {
  switch (m.type) {
    case 'open':
      return open.encodingLength(m);
    case 'update':
      return update.encodingLength(m, opts);
    case 'notification':
      return notification.encodingLength(m);
    case 'keepalive':
      return keepalive.encodingLength(m);
    case 'route-refresh':
      return routeRefresh.encodingLength(m);
    default:
      return badField(`message type "${(m as { type: unknown }).type}" is unknown`);
  }
}

/** Encodes any message (header included) at `offset` of `buf`, or into a new buffer. */
export function encode(m: Message, buf?: Buffer, offset = 0, opts: EncodeOptions = {}): Buffer {
  switch (m.type) {
    case 'open':
      return open.encode(m, buf, offset);
    case 'update':
      return update.encode(m, buf, offset, opts);
    case 'notification':
      return notification.encode(m, buf, offset);
    case 'keepalive':
      return keepalive.encode(m, buf, offset);
    case 'route-refresh':
      return routeRefresh.encode(m, buf, offset);
    default:
      return badField(`message type "${(m as { type: unknown }).type}" is unknown`);
  }
}

/** Decodes a message body of header type `type` (1..5). */
export function decodeBody(type: number, body: Uint8Array, opts: DecodeOptions = {}): Message {
  switch (type) {
    case MessageType.OPEN:
      return open.decodeBody(body);
    case MessageType.UPDATE:
      return update.decodeBody(body, opts);
    case MessageType.NOTIFICATION:
      return notification.decodeBody(body);
    case MessageType.KEEPALIVE:
      return keepalive.decodeBody(body);
    default:
      return routeRefresh.decodeBody(body);
  }
}

/**
 * Decodes the whole message at `offset` (header checks 1/1, 1/2, 1/3 first). Throws a
 * NotificationError for anything malformed, never another exception.
 */
export function decode(buf: Uint8Array, offset = 0, opts: DecodeOptions = {}): Message {
  const h = header.decode(buf, offset, { maxLength: opts.maxLength ?? MAX_MESSAGE });
  const body = header.bodyOf(buf, offset, h.type, { maxLength: opts.maxLength ?? MAX_MESSAGE });
  return decodeBody(h.type, asBuffer(body), opts);
}

/**
 * Splits `buf` into whole messages and decodes each; returns them with the number of bytes used
 * (a trailing partial message is left for the next call).
 */
export function decodeAll(buf: Uint8Array, opts: DecodeOptions = {}): { messages: Message[]; bytes: number } {
  const messages: Message[] = [];
  let p = 0;
  while (buf.length - p >= HEADER_LENGTH) {
    const h = header.decode(buf, p, { maxLength: opts.maxLength ?? MAX_MESSAGE });
    if (buf.length - p < h.length) break;
    messages.push(decode(buf, p, opts));
    p += h.length;
  }
  return { messages, bytes: p };
}
