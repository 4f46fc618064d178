/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into a 6-byte Buffer; throws naming the input otherwise. */
export function parseMac(mac: string): Buffer {
  const parts = mac.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`invalid MAC address "${mac}"`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats 6 bytes (from `offset`) as lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(buf: Uint8Array, offset = 0): string {
  if (buf.length < offset + 6) throw new RangeError(`formatMac: need 6 bytes at offset ${offset}, have ${buf.length - offset}`);
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(buf[offset + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

/** The broadcast MAC address ff:ff:ff:ff:ff:ff. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
