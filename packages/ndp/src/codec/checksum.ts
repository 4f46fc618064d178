/** ICMPv6 checksum over the IPv6 pseudo-header (RFC 8200 §8.1, RFC 4443 §2.3). */

/**
 * One's-complement checksum of `body` (an ICMPv6 message whose checksum field may be anything:
 * pass `skipOffset` to treat those two bytes as zero) with the pseudo-header built from `src`, `dst`.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, body: Uint8Array, skipOffset = -1): number {
  let sum = 0;
  const add16 = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  };
  add16(src);
  add16(dst);
  const len = body.length;
  sum += (len >>> 16) & 0xffff;
  sum += len & 0xffff;
  sum += 58;
  for (let i = 0; i < len; i += 2) {
    if (i === skipOffset) continue;
    sum += (body[i]! << 8) | (i + 1 < len ? body[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
