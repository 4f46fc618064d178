/**
 * LZW as Go's `compress/lzw` with `lzw.LSB` and literal width 8 (what memberlist's compressMsg uses):
 * clear = 256, eof = 257, 9..12-bit codes packed LSB first, a clear code first and eof last.
 */

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;

/** Compresses `data` exactly as Go's lzw.NewWriter(w, lzw.LSB, 8) would. */
export function lzwCompress(data: Uint8Array): Uint8Array {
  let out = new Uint8Array(Math.max(64, data.length >>> 1));
  let n = 0;
  const push = (byte: number): void => {
    if (n === out.length) {
      const nb = new Uint8Array(out.length * 2);
      nb.set(out);
      out = nb;
    }
    out[n++] = byte;
  };
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
      push(bits & 0xff);
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
  if (nBits > 0) push(bits & 0xff);
  return out.slice(0, n);
}

/** Thrown when decompressed output would exceed the caller's cap (an LZW bomb, or just too big). */
export class LzwOutputLimitError extends Error {
  constructor(readonly limit: number) {
    super(`lzw: output exceeds ${limit} bytes`);
    this.name = 'LzwOutputLimitError';
  }
}

/** Default cap of {@link lzwDecompress}: memberlist HEAD's 40 MiB decompressed-size limit. */
export const LZW_DEFAULT_MAX_OUTPUT = 40 << 20;

/**
 * Decompresses Go-style LSB/8 LZW. Throws on invalid codes or a missing eof code.
 *
 * The output cap is enforced *while* decoding: before a code's string is written the new length is
 * checked against `maxOutput`, so a bomb (a few KB that would expand to gigabytes) is rejected
 * after at most `maxOutput` bytes of work and memory. Output goes to one typed buffer that grows
 * by doubling (never above the cap); every dictionary entry is a (start, length) slice of the
 * output already written, so a code is emitted with one `copyWithin` and the dictionary costs
 * two 4096-entry integer arrays.
 */
export function lzwDecompress(data: Uint8Array, maxOutput = LZW_DEFAULT_MAX_OUTPUT): Uint8Array {
  let out = new Uint8Array(Math.min(maxOutput, Math.max(256, data.length * 4)));
  let n = 0;
  const dStart = new Int32Array(4096);
  const dLen = new Int32Array(4096);
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let lastStart = -1; // start of the previous code's string in `out`, -1 after a clear
  let lastLen = 0;
  const reserve = (len: number): void => {
    if (n + len > maxOutput) throw new LzwOutputLimitError(maxOutput);
    if (n + len <= out.length) return;
    let size = out.length * 2;
    while (size < n + len) size *= 2;
    const nb = new Uint8Array(Math.min(size, maxOutput));
    nb.set(out.subarray(0, n));
    out = nb;
  };
  for (;;) {
    while (nBits < width) {
      if (pos >= data.length) throw new Error('lzw: input ended without an eof code');
      bits |= data[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    const curStart = n;
    let curLen: number;
    if (code < CLEAR) {
      reserve(1);
      out[n++] = code;
      curLen = 1;
    } else if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 512;
      lastStart = -1;
      continue;
    } else if (code === EOF) {
      return out.slice(0, n);
    } else if (code < hi && dLen[code]! > 0) {
      curLen = dLen[code]!;
      reserve(curLen);
      out.copyWithin(n, dStart[code]!, dStart[code]! + curLen);
      n += curLen;
    } else if (code === hi && lastStart >= 0) {
      // KwKwK: the previous string plus its own first byte.
      curLen = lastLen + 1;
      reserve(curLen);
      out.copyWithin(n, lastStart, lastStart + lastLen);
      out[n + lastLen] = out[lastStart]!;
      n += curLen;
    } else {
      throw new Error(`lzw: invalid code ${code}`);
    }
    if (lastStart >= 0) {
      // New entry = previous string + first byte of this one, which sits right after it in `out`.
      dStart[hi] = lastStart;
      dLen[hi] = lastLen + 1;
    }
    lastStart = curStart;
    lastLen = curLen;
    hi++;
    if (hi >= overflow) {
      if (width === 12) {
        lastStart = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
}
