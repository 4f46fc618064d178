/**
 * LZW as Go's `compress/lzw` with `lzw.LSB` and literal width 8 (what memberlist's compressMsg uses):
 * clear = 256, eof = 257, 9..12-bit codes packed LSB first, a clear code first and eof last.
 */

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;

/** Compresses `data` exactly as Go's lzw.NewWriter(w, lzw.LSB, 8) would. */
export function lzwCompress(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let table = new Map<number, number>();
  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Returns false when the code space was exhausted and the table was reset. */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      write(CLEAR);
      width = 9;
      hi = EOF;
      overflow = 512;
      table = new Map();
      return false;
    }
    return true;
  };
  write(CLEAR);
  if (data.length > 0) {
    let code = data[0]!;
    for (let i = 1; i < data.length; i++) {
      const lit = data[i]!;
      const key = code * 256 + lit;
      const hit = table.get(key);
      if (hit !== undefined) {
        code = hit;
        continue;
      }
      write(code);
      code = lit;
      if (!incHi()) continue;
      table.set(key, hi);
    }
    write(code);
    incHi();
  }
  write(EOF);
  if (nBits > 0) out.push(bits & 0xff);
  return Uint8Array.from(out);
}

/**
 * Decompresses Go-style LSB/8 LZW. Throws on invalid codes or a missing eof code; output is
 * capped at `maxOutput` bytes (memberlist caps decompressed packets at 40 MiB).
 */
export function lzwDecompress(data: Uint8Array, maxOutput = 40 << 20): Uint8Array {
  const out: number[] = [];
  const dict: (Uint8Array | undefined)[] = new Array(4096);
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let last: Uint8Array | null = null;
  for (;;) {
    while (nBits < width) {
      if (pos >= data.length) throw new Error('lzw: input ended without an eof code');
      bits |= data[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    let cur: Uint8Array;
    if (code < CLEAR) {
      cur = Uint8Array.of(code);
    } else if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 512;
      last = null;
      continue;
    } else if (code === EOF) {
      return Uint8Array.from(out);
    } else if (code < hi && dict[code]) {
      cur = dict[code]!;
    } else if (code === hi && last) {
      cur = new Uint8Array(last.length + 1);
      cur.set(last);
      cur[last.length] = last[0]!;
    } else {
      throw new Error(`lzw: invalid code ${code}`);
    }
    if (out.length + cur.length > maxOutput) throw new Error(`lzw: output exceeds ${maxOutput} bytes`);
    for (const c of cur) out.push(c);
    if (last) {
      const e = new Uint8Array(last.length + 1);
      e.set(last);
      e[last.length] = cur[0]!;
      dict[hi] = e;
    }
    last = cur;
    hi++;
    if (hi >= overflow) {
      if (width === 12) {
        last = null;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
}
