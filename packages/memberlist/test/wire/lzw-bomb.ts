/**
 * Builds an LZW bomb in Go's LSB/8 format: after each clear code, a literal 0 followed by the
 * codes 258, 259, … 4094, each the previous string plus one more 0 (the KwKwK case), so one
 * ~5.5 KB table expands to ~7.4 MB of zero bytes. Used to check that decompression is capped
 * while it runs.
 */
export function lzwBomb(tables: number): { data: Uint8Array; expandedLength: number } {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  let expandedLength = 0;
  for (let t = 0; t < tables; t++) {
    write(256); // clear (at the current width), then the decoder is back to 9 bits
    width = 9;
    let hi = 257;
    let overflow = 512;
    write(0);
    expandedLength += 1;
    hi++;
    let len = 1;
    while (hi < 4095) {
      write(hi); // KwKwK: previous string + its first byte
      len++;
      expandedLength += len;
      hi++;
      if (hi >= overflow && width < 12) {
        width++;
        overflow <<= 1;
      }
    }
  }
  write(257); // eof
  if (nBits > 0) out.push(bits & 0xff);
  return { data: Uint8Array.from(out), expandedLength };
}
