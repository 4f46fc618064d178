/**
 * IPv4 addresses as plain numbers (0 … 2^32-1) for the allocator's hot path, plus the "clean index" space
 * that skips MetalLB's buggy `.0`/`.255` addresses: clean addresses of consecutive /24s are consecutive
 * indexes, so held addresses of an avoidBuggyIPs pool form unbroken runs there.
 */

/** Parses dotted-quad IPv4 text (after trimming, like {@link tryParseIP}); no leading zeros. Returns -1 when invalid. */
export function parseV4Number(text: string): number {
  const s = text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32) ? text.trim() : text;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let lead0 = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && lead0) return -1;
      if (digits === 0) lead0 = c === 48;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

const OCTET: string[] = Array.from({ length: 256 }, (_, i) => String(i));
const OCTET_DOT: string[] = OCTET.map((o) => `${o}.`);

/** Dotted-quad text of an IPv4 number (table lookups, three concatenations). */
export function formatV4(n: number): string {
  return OCTET_DOT[n >>> 24]! + OCTET_DOT[(n >>> 16) & 255]! + OCTET_DOT[(n >>> 8) & 255]! + OCTET[n & 255]!;
}

/** True for `.0` and `.255` (MetalLB's buggy IPs). */
export function isBuggyV4(n: number): boolean {
  const last = n & 255;
  return last === 0 || last === 255;
}

/** Clean index of a non-buggy IPv4 address: 254 indexes per /24. */
export function cleanIndex(n: number): number {
  return Math.floor(n / 256) * 254 + (n & 255) - 1;
}

/** Inverse of {@link cleanIndex}. */
export function fromCleanIndex(i: number): number {
  const hi = Math.floor(i / 254);
  return hi * 256 + (i - hi * 254) + 1;
}

/** Lowest non-buggy address >= n (may exceed 2^32-1 when there is none). */
export function cleanAtOrAbove(n: number): number {
  const last = n & 255;
  return last === 0 ? n + 1 : last === 255 ? n + 2 : n;
}

/** Highest non-buggy address <= n (may be negative when there is none). */
export function cleanAtOrBelow(n: number): number {
  const last = n & 255;
  return last === 255 ? n - 1 : last === 0 ? n - 2 : n;
}
