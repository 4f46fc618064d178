/** Address helpers: IPv6 text <-> 16-byte buffers (through @lbkit/ipam, lbkit's one IP parser) and MAC text <-> 6-byte buffers. */
import { addrBytes, addrFromBytes, formatAddr, tryParseIP } from '@lbkit/ipam';

/** Error raised for a malformed IPv6 or MAC address given by the caller. */
export class AddressError extends Error {
  /** @param field name of the offending argument or field */
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'AddressError';
  }
}

/** Parses an IPv6 address (with `::` compression, optional `%zone`, optional embedded IPv4 tail) into 16 bytes (parsed by @lbkit/ipam). */
export function parseIPv6(text: string, field = 'ipv6'): Buffer {
  if (typeof text !== 'string') throw new AddressError(field, 'not a string');
  const ip = tryParseIP(text.split('%')[0]!);
  if (!ip || ip.family !== 'ipv6') throw new AddressError(field, `not an IPv6 address: ${JSON.stringify(text)}`);
  return addrBytes(ip);
}

/** Formats 16 bytes as a canonical (RFC 5952, lower case, longest zero run compressed) IPv6 string. */
export function formatIPv6(buf: Uint8Array): string {
  if (buf.length !== 16) throw new AddressError('ipv6', `expected 16 bytes, got ${buf.length}`);
  return formatAddr(addrFromBytes(buf));
}

/** Normalises any IPv6 text to its canonical form (throws {@link AddressError} if invalid). */
export function canonicalIPv6(text: string, field = 'ipv6'): string {
  return formatIPv6(parseIPv6(text, field));
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes. */
export function parseMac(text: string, field = 'mac'): Buffer {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new AddressError(field, `bad MAC address ${JSON.stringify(text)}`);
  }
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex');
}

/** Formats 6 bytes as lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(buf: Uint8Array): string {
  if (buf.length !== 6) throw new AddressError('mac', `expected 6 bytes, got ${buf.length}`);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True for an IPv6 multicast address (ff00::/8). */
export function isMulticastIPv6(buf: Uint8Array): boolean {
  return buf[0] === 0xff;
}

/** True for the unspecified address `::`. */
export function isUnspecifiedIPv6(buf: Uint8Array): boolean {
  return buf.every((b) => b === 0);
}

/** Solicited-node multicast group `ff02::1:ffXX:XXXX` of an address (RFC 4291 §2.7.1), as 16 bytes. */
export function solicitedNodeBytes(addr: Uint8Array): Buffer {
  const out = Buffer.from('ff0200000000000000000001ff000000', 'hex');
  out[13] = addr[13]!;
  out[14] = addr[14]!;
  out[15] = addr[15]!;
  return out;
}

/** Solicited-node multicast address of `ip`, e.g. `fd00::1:2:3` → `ff02::1:ff02:3`. */
export function solicitedNodeAddress(ip: string): string {
  return formatIPv6(solicitedNodeBytes(parseIPv6(ip, 'ip')));
}

/** Ethernet multicast MAC of an IPv6 multicast address: `33:33` + its last 32 bits (RFC 2464 §7). */
export function multicastMacBytes(group: Uint8Array): Buffer {
  return Buffer.from([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}

/** MAC of the solicited-node group of `ip`: `33:33:ff:xx:xx:xx` with the address's last 24 bits. */
export function solicitedNodeMac(ip: string): string {
  return formatMac(multicastMacBytes(solicitedNodeBytes(parseIPv6(ip, 'ip'))));
}

/** The all-nodes group `ff02::1`. */
export const ALL_NODES = 'ff02::1';
/** Ethernet MAC of the all-nodes group, `33:33:00:00:00:01`. */
export const ALL_NODES_MAC = '33:33:00:00:00:01';

/**
 * Modified-EUI-64 link-local address `fe80::/64` derived from a MAC (RFC 4291 appendix A): the
 * kernel's default link-local when `addr_gen_mode` is eui64; used as a fallback source address.
 */
export function eui64LinkLocal(mac: string): string {
  const m = parseMac(mac, 'mac');
  const iid = Buffer.from([m[0]! ^ 0x02, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!]);
  return formatIPv6(Buffer.concat([Buffer.from('fe800000000000000000', 'hex').subarray(0, 8), iid]));
}
