import { formatMac, parseMac } from '@lbkit/afpacket';

/** ARP opcodes. */
export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;

/** An Ethernet II frame carrying an ARP packet for IPv4 over Ethernet (htype 1, ptype 0x0800). */
export interface ArpFrame {
  /** Ethernet destination MAC (`aa:bb:..`). */
  dst: string;
  /** Ethernet source MAC. */
  src: string;
  /** 1 = request, 2 = reply. */
  op: number;
  /** Sender hardware address. */
  sha: string;
  /** Sender protocol (IPv4) address, dotted quad. */
  spa: string;
  /** Target hardware address. */
  tha: string;
  /** Target protocol (IPv4) address. */
  tpa: string;
}

/** A frame that is not a well-formed Ethernet/ARP-for-IPv4 packet; `field` names what was wrong. */
export class ArpDecodeError extends Error {
  constructor(readonly field: string, message: string) {
    super(`ARP frame ${field}: ${message}`);
    this.name = 'ArpDecodeError';
  }
}

const ETH_HLEN = 14;
const ARP_LEN = 28;

/** Bytes of an encoded frame (42: 14 Ethernet + 28 ARP; no padding is added, the NIC pads). */
export function encodingLength(_frame?: ArpFrame): number {
  return ETH_HLEN + ARP_LEN;
}

/** Parses a dotted-quad IPv4 address into 4 bytes; throws naming `field`. */
export function parseIPv4(ip: string, field = 'address'): Buffer {
  // fast path: four decimal octets without leading junk (the common case, no allocation but the result)
  if (typeof ip === 'string' && ip.length >= 7 && ip.length <= 15) {
    const out = Buffer.allocUnsafe(4);
    let part = 0;
    let val = 0;
    let digits = 0;
    let ok = true;
    for (let i = 0; i <= ip.length && ok; i++) {
      const c = i < ip.length ? ip.charCodeAt(i) : 46;
      if (c === 46) {
        if (digits === 0 || val > 255 || part > 3) ok = false;
        else out[part++] = val;
        val = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57 && digits < 3) {
        val = val * 10 + (c - 48);
        digits++;
      } else ok = false;
    }
    if (ok && part === 4) return out;
  }
  const parts = typeof ip === 'string' ? ip.split('.') : [];
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new TypeError(`ARP ${field}: invalid IPv4 address "${String(ip)}"`);
  }
  return Buffer.from(parts.map(Number));
}

function fmtIPv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function mac(m: string, field: string): Buffer {
  try {
    return parseMac(m);
  } catch {
    throw new TypeError(`ARP ${field}: invalid MAC address "${String(m)}"`);
  }
}

/** Encodes an Ethernet + ARP frame into `buf` at `offset` (or a new Buffer). */
export function encode(frame: ArpFrame, buf?: Buffer, offset = 0): Buffer {
  if (frame.op !== ArpOp.REQUEST && frame.op !== ArpOp.REPLY) throw new RangeError(`ARP op: ${frame.op} is not 1 or 2`);
  const out = buf ?? Buffer.alloc(encodingLength(frame) + offset);
  if (out.length < offset + encodingLength(frame)) throw new RangeError('ARP encode: buffer too small');
  mac(frame.dst, 'dst').copy(out, offset);
  mac(frame.src, 'src').copy(out, offset + 6);
  out.writeUInt16BE(0x0806, offset + 12);
  const a = offset + ETH_HLEN;
  out.writeUInt16BE(1, a);
  out.writeUInt16BE(0x0800, a + 2);
  out[a + 4] = 6;
  out[a + 5] = 4;
  out.writeUInt16BE(frame.op, a + 6);
  mac(frame.sha, 'sha').copy(out, a + 8);
  parseIPv4(frame.spa, 'spa').copy(out, a + 14);
  mac(frame.tha, 'tha').copy(out, a + 18);
  parseIPv4(frame.tpa, 'tpa').copy(out, a + 24);
  return out;
}

/**
 * Decodes an Ethernet II frame holding ARP for IPv4 over Ethernet. Trailing padding is allowed.
 * Throws {@link ArpDecodeError} (never anything else) for anything malformed.
 */
export function decode(buf: Uint8Array, offset = 0): ArpFrame {
  if (!(buf instanceof Uint8Array)) throw new ArpDecodeError('buffer', 'not a Uint8Array');
  const len = buf.length - offset;
  if (len < ETH_HLEN) throw new ArpDecodeError('ethernet header', `truncated (${Math.max(len, 0)} < 14 bytes)`);
  const type = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  if (type !== 0x0806) throw new ArpDecodeError('ethertype', `0x${type.toString(16).padStart(4, '0')} is not ARP (0x0806)`);
  if (len < ETH_HLEN + 8) throw new ArpDecodeError('arp header', `truncated (${len - ETH_HLEN} < 8 bytes)`);
  const a = offset + ETH_HLEN;
  const htype = (buf[a]! << 8) | buf[a + 1]!;
  const ptype = (buf[a + 2]! << 8) | buf[a + 3]!;
  if (htype !== 1) throw new ArpDecodeError('htype', `${htype} is not Ethernet (1)`);
  if (ptype !== 0x0800) throw new ArpDecodeError('ptype', `0x${ptype.toString(16)} is not IPv4 (0x0800)`);
  if (buf[a + 4] !== 6) throw new ArpDecodeError('hlen', `${buf[a + 4]} is not 6`);
  if (buf[a + 5] !== 4) throw new ArpDecodeError('plen', `${buf[a + 5]} is not 4`);
  const op = (buf[a + 6]! << 8) | buf[a + 7]!;
  if (op !== 1 && op !== 2) throw new ArpDecodeError('op', `${op} is not request (1) or reply (2)`);
  if (len < ETH_HLEN + ARP_LEN) throw new ArpDecodeError('arp body', `truncated (${len - ETH_HLEN} < 28 bytes)`);
  return {
    dst: formatMac(buf, offset),
    src: formatMac(buf, offset + 6),
    op,
    sha: formatMac(buf, a + 8),
    spa: fmtIPv4(buf, a + 14),
    tha: formatMac(buf, a + 18),
    tpa: fmtIPv4(buf, a + 24),
  };
}
