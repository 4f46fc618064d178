/**
 * Capabilities (RFC 5492): `code, length, value` triples inside OPEN optional parameter 2. Decoded
 * into fields: multiprotocol (RFC 4760), route refresh (RFC 2918), extended message (RFC 8654),
 * graceful restart (RFC 4724, N bit of RFC 8538), 4-octet AS (RFC 6793), enhanced route refresh
 * (RFC 7313). Any other capability is kept as raw bytes so it round-trips.
 */
import { copyBytes } from './bytes.js';
import { CapabilityCode } from './constants.js';
import { badField, fail } from './errors.js';

/** An address family tuple. */
export interface AfiSafi {
  /** Address family identifier (1 IPv4, 2 IPv6). */
  afi: number;
  /** Subsequent address family identifier (1 unicast, 2 multicast). */
  safi: number;
}

/** One family of the graceful-restart capability. */
export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state was preserved. */
  forwarding: boolean;
}

/** A capability. */
export type Capability =
  | ({ type: 'multiprotocol' } & AfiSafi)
  | { type: 'route-refresh' }
  | { type: 'extended-message' }
  | { type: 'enhanced-route-refresh' }
  | {
      type: 'graceful-restart';
      /** R bit: the sender has restarted. */
      restarting: boolean;
      /** N bit (RFC 8538): graceful notification supported. */
      notification: boolean;
      /** Restart time in seconds (12 bits). */
      restartTime: number;
      families: GracefulRestartFamily[];
    }
  | { type: 'as4'; asn: number }
  | { type: 'unknown'; code: number; value: Uint8Array };

/** Capability code of `c`. */
export function codeOf(c: Capability): number {
  switch (c.type) {
    case 'multiprotocol':
      return CapabilityCode.MULTIPROTOCOL;
    case 'route-refresh':
      return CapabilityCode.ROUTE_REFRESH;
    case 'extended-message':
      return CapabilityCode.EXTENDED_MESSAGE;
    case 'enhanced-route-refresh':
      return CapabilityCode.ENHANCED_ROUTE_REFRESH;
    case 'graceful-restart':
      return CapabilityCode.GRACEFUL_RESTART;
    case 'as4':
      return CapabilityCode.AS4;
    case 'unknown':
      return c.code;
  }
}

function valueLength(c: Capability): number {
  switch (c.type) {
    case 'multiprotocol':
    case 'as4':
      return 4;
    case 'graceful-restart':
      return 2 + 4 * c.families.length;
    case 'unknown':
      return c.value.length;
    default:
      return 0;
  }
}

/** Bytes `c` takes on the wire (2 + value). */
export function encodingLength(c: Capability): number {
  return 2 + valueLength(c);
}

function u(v: number, bits: 8 | 16 | 32, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) badField(`capability ${what}: ${v} is not a ${bits}-bit unsigned integer`);
  return v;
}

/** Writes `c` at `offset`; returns the buffer (allocated when not given). */
export function encode(c: Capability, buf?: Buffer, offset = 0): Buffer {
  const len = valueLength(c);
  if (len > 255) badField(`capability ${codeOf(c)}: value of ${len} bytes exceeds 255`);
  const b = buf ?? Buffer.allocUnsafe(2 + len);
  b[offset] = u(codeOf(c), 8, 'code');
  b[offset + 1] = len;
  const p = offset + 2;
  switch (c.type) {
    case 'multiprotocol':
      b.writeUInt16BE(u(c.afi, 16, 'multiprotocol.afi'), p);
      b[p + 2] = 0;
      b[p + 3] = u(c.safi, 8, 'multiprotocol.safi');
      break;
    case 'as4':
      b.writeUInt32BE(u(c.asn, 32, 'as4.asn'), p);
      break;
    case 'graceful-restart': {
      const t = u(c.restartTime, 16, 'graceful-restart.restartTime');
      if (t > 0xfff) badField(`capability graceful-restart.restartTime: ${t} exceeds 4095`);
      b.writeUInt16BE((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | t, p);
      c.families.forEach((f, i) => {
        b.writeUInt16BE(u(f.afi, 16, 'graceful-restart.families.afi'), p + 2 + i * 4);
        b[p + 4 + i * 4] = u(f.safi, 8, 'graceful-restart.families.safi');
        b[p + 5 + i * 4] = f.forwarding ? 0x80 : 0;
      });
      break;
    }
    case 'unknown':
      b.set(c.value, p);
      break;
    default:
      break;
  }
  return b;
}

/**
 * Decodes the capability at `offset` (not past `end`). Throws NotificationError 2/0 when it
 * overruns or a known capability has the wrong length, 2/2 for a 4-octet AS of 0 (RFC 7607).
 */
export function decode(buf: Buffer, offset: number, end: number): { capability: Capability; bytes: number } {
  if (offset + 2 > end) fail('OPEN capability: truncated header', 2, 0);
  const code = buf[offset]!;
  const len = buf[offset + 1]!;
  const p = offset + 2;
  if (p + len > end) fail(`OPEN capability ${code}: length ${len} overruns the optional parameter`, 2, 0);
  const bad = (what: string): never => fail(`OPEN capability ${what}: invalid length ${len}`, 2, 0, buf.subarray(offset, p + len));
  let capability: Capability;
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (len !== 4) bad('multiprotocol (1)');
      capability = { type: 'multiprotocol', afi: buf.readUInt16BE(p), safi: buf[p + 3]! };
      break;
    case CapabilityCode.ROUTE_REFRESH:
    case CapabilityCode.EXTENDED_MESSAGE:
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      if (len !== 0) bad(`${code}`);
      capability = {
        type: code === CapabilityCode.ROUTE_REFRESH ? 'route-refresh' : code === CapabilityCode.EXTENDED_MESSAGE ? 'extended-message' : 'enhanced-route-refresh',
      };
      break;
    case CapabilityCode.AS4: {
      if (len !== 4) bad('4-octet AS (65)');
      const asn = buf.readUInt32BE(p);
      if (asn === 0) fail('OPEN capability 4-octet AS (65): AS 0 (RFC 7607)', 2, 2);
      capability = { type: 'as4', asn };
      break;
    }
    case CapabilityCode.GRACEFUL_RESTART: {
      if (len < 2 || (len - 2) % 4) bad('graceful-restart (64)');
      const w = buf.readUInt16BE(p);
      const families: GracefulRestartFamily[] = [];
      for (let q = p + 2; q < p + len; q += 4) families.push({ afi: buf.readUInt16BE(q), safi: buf[q + 2]!, forwarding: (buf[q + 3]! & 0x80) !== 0 });
      capability = { type: 'graceful-restart', restarting: (w & 0x8000) !== 0, notification: (w & 0x4000) !== 0, restartTime: w & 0xfff, families };
      break;
    }
    default:
      capability = { type: 'unknown', code, value: copyBytes(buf, p, p + len) };
  }
  return { capability, bytes: 2 + len };
}
