/**
 * Session-layer adapter over the codec (`../codec`): stream framing, and the OPEN / KEEPALIVE /
 * NOTIFICATION / ROUTE-REFRESH conversions between the codec's messages and what the FSM uses
 * (`OpenInfo`, `NotificationInfo`, `afi/safi` strings). It holds no encoding of its own.
 */
import { HEADER_LENGTH, MAX_MESSAGE, MessageType } from '../codec/constants.js';
import { NotificationError } from '../codec/errors.js';
import * as header from '../codec/header.js';
import * as keepalive from '../codec/keepalive.js';
import * as notification from '../codec/notification.js';
import * as open from '../codec/open.js';
import * as routeRefresh from '../codec/route-refresh.js';
import { codeOf as capabilityCode, type Capability } from '../codec/capabilities.js';
import { ipv4ToNumber, numberToIpv4 } from '../codec/ip.js';
import type { NotificationInfo } from './fsm.js';
import type { OpenInfo } from './open-check.js';

export { bytesToIp, ipBytes, ipv4ToNumber, numberToIpv4 } from '../codec/ip.js';
export { shutdownData } from '../codec/notification.js';

/** BGP message types. */
export const MSG = MessageType;

/** The decoders' error: `notification` is what RFC 4271 §6 says to send (the codec's NotificationError). */
export const WireError = NotificationError;
/** The decoders' error type. */
export type WireError = NotificationError;

/** Stream framer: push TCP bytes, get whole messages (type + body) or a {@link WireError}. */
export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  /** Largest accepted message (4096, or 65535 with RFC 8654). */
  maxLength = MAX_MESSAGE;

  /** Appends bytes and returns every complete message; throws WireError (1/x) on a bad header. */
  push(chunk: Buffer): { type: number; body: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: { type: number; body: Buffer }[] = [];
    let off = 0;
    while (this.buf.length - off >= HEADER_LENGTH) {
      const h = header.decode(this.buf, off, { maxLength: this.maxLength });
      if (this.buf.length - off < h.length) break;
      out.push({ type: h.type, body: Buffer.from(this.buf.subarray(off + HEADER_LENGTH, off + h.length)) });
      off += h.length;
    }
    this.buf = this.buf.subarray(off);
    return out;
  }
}

/** What we put in our OPEN. */
export interface OpenParams {
  asn: number;
  holdTime: number;
  bgpId: number;
  /** `afi/safi` pairs, e.g. `1/1`, `2/1`. */
  families: string[];
  gracefulRestart?: { restartTime: number } | undefined;
  /** Advertise the 4-octet AS capability (RFC 6793). Default true. */
  as4?: boolean | undefined;
}

function family(f: string): { afi: number; safi: number } {
  const [afi, safi] = f.split('/').map(Number) as [number, number];
  return { afi, safi };
}

/** Encodes our OPEN: MP per family, route refresh, 4-octet AS (unless `as4: false`) and GR, in one optional parameter. */
export function encodeOpen(p: OpenParams): Buffer {
  const caps: Capability[] = p.families.map((f) => ({ type: 'multiprotocol', ...family(f) }));
  caps.push({ type: 'route-refresh' });
  if (p.as4 !== false) caps.push({ type: 'as4', asn: p.asn >>> 0 });
  if (p.gracefulRestart) {
    caps.push({
      type: 'graceful-restart',
      restarting: false,
      notification: false,
      restartTime: p.gracefulRestart.restartTime & 0xfff,
      families: p.families.map((f) => ({ ...family(f), forwarding: false })),
    });
  }
  return open.encode({ type: 'open', myAsn: open.myAsnField(p.asn), holdTime: p.holdTime, bgpId: numberToIpv4(p.bgpId >>> 0), capabilities: caps });
}

/** Decodes an OPEN body into what the FSM checks (throws WireError 2/x). */
export function decodeOpen(body: Buffer): OpenInfo {
  const m = open.decodeBody(body);
  const info: OpenInfo = {
    version: m.version ?? 4,
    myAsn: m.myAsn,
    holdTime: m.holdTime,
    bgpId: ipv4ToNumber(m.bgpId),
    capabilities: [],
    families: [],
  };
  for (const c of m.capabilities) {
    info.capabilities.push(capabilityCode(c));
    if (c.type === 'as4') info.asn4 = c.asn;
    if (c.type === 'multiprotocol') info.families.push(`${c.afi}/${c.safi}`);
  }
  return info;
}

/** A KEEPALIVE. */
export const KEEPALIVE = keepalive.encode();

/** Encodes a NOTIFICATION. */
export function encodeNotification(n: NotificationInfo): Buffer {
  return notification.encode({ type: 'notification', code: n.code, subcode: n.subcode, ...(n.data ? { data: n.data } : {}) });
}

/** Decodes a NOTIFICATION body; `text` is the RFC 8203/9003 shutdown communication if any. */
export function decodeNotification(body: Buffer): NotificationInfo & { text?: string } {
  const m = notification.decodeBody(body);
  const n: NotificationInfo & { text?: string } = { code: m.code, subcode: m.subcode, data: m.data ?? new Uint8Array(0) };
  if (m.shutdownText !== undefined) n.text = m.shutdownText;
  return n;
}

/** Decodes a ROUTE-REFRESH body into `afi/safi` (throws WireError 7/1). */
export function decodeRouteRefresh(body: Buffer): string {
  const m = routeRefresh.decodeBody(body);
  return `${m.afi}/${m.safi}`;
}

/** Encodes a ROUTE-REFRESH for `afi/safi`. */
export function encodeRouteRefresh(f: string): Buffer {
  return routeRefresh.encode({ type: 'route-refresh', ...family(f) });
}
