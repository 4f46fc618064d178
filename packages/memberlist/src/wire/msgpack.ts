/**
 * Minimal msgpack codec reproducing go-msgpack's "old spec" output as used by hashicorp/memberlist:
 * strings and byte slices are both written as raw (fixstr / raw16 0xda / raw32 0xdb), never str8 or bin;
 * unsigned and non-negative signed integers use the smallest unsigned form.
 */

const TE = new TextEncoder();
const TD = new TextDecoder();

/** Thrown when the input ends before a complete value; stream readers wait for more bytes. */
export class ShortBufferError extends Error {
  constructor(what: string) {
    super(`msgpack: truncated input while reading ${what}`);
    this.name = 'ShortBufferError';
  }
}

/** A decoded msgpack value; raw strings stay bytes (Uint8Array), map keys become JS strings. */
export type MpValue = null | boolean | number | Uint8Array | MpValue[] | Map<string, MpValue>;

/** Growable byte writer used by the encoders. */
export class Writer {
  private buf = new Uint8Array(256);
  /** Bytes written so far. */
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
  }
  /** Appends one byte. */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  /** Appends a big-endian uint16. */
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  /** Appends a big-endian uint32. */
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  /** Appends raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** Writes a non-negative integer as go-msgpack does (fixint, 0xcc, 0xcd, 0xce, 0xcf). */
  uint(v: number): void {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`msgpack: ${v} is not a non-negative integer`);
    if (v <= 0x7f) this.u8(v);
    else if (v <= 0xff) { this.u8(0xcc); this.u8(v); }
    else if (v <= 0xffff) { this.u8(0xcd); this.u16(v); }
    else if (v <= 0xffffffff) { this.u8(0xce); this.u32(v); }
    else { this.u8(0xcf); this.u32(Math.floor(v / 2 ** 32)); this.u32(v >>> 0); }
  }
  /** Writes a raw string/bytes (fixstr, 0xda, 0xdb), or nil for `null`. */
  raw(b: Uint8Array | string | null): void {
    if (b === null) { this.u8(0xc0); return; }
    const data = typeof b === 'string' ? TE.encode(b) : b;
    const n = data.length;
    if (n < 32) this.u8(0xa0 | n);
    else if (n <= 0xffff) { this.u8(0xda); this.u16(n); }
    else { this.u8(0xdb); this.u32(n); }
    this.bytes(data);
  }
  /** Writes a boolean. */
  bool(v: boolean): void {
    this.u8(v ? 0xc3 : 0xc2);
  }
  /** Writes a map header with `n` entries. */
  mapHeader(n: number): void {
    if (n < 16) this.u8(0x80 | n);
    else if (n <= 0xffff) { this.u8(0xde); this.u16(n); }
    else { this.u8(0xdf); this.u32(n); }
  }
  /** The written bytes (a copy-free view). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Decodes one msgpack value from `buf` at `off`; returns it and the offset after it. */
export function mpDecode(buf: Uint8Array, off = 0, depth = 0): { value: MpValue; end: number } {
  const d = new Decoder(buf, off);
  const value = d.value(depth);
  return { value, end: d.off };
}

/**
 * UTF-8 text of `buf[start, end)`; short ASCII strings (every struct field name, most node names)
 * are built without TextDecoder, which is slow for a few bytes.
 */
export function shortString(buf: Uint8Array, start: number, end: number): string {
  if (end - start > 32) return TD.decode(buf.subarray(start, end));
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return TD.decode(buf.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** Position-keeping decoder (no per-value closures or DataViews). */
class Decoder {
  constructor(readonly buf: Uint8Array, public off: number) {}

  private need(n: number, what: string): void {
    if (this.off + n > this.buf.length) throw new ShortBufferError(what);
  }

  private u8(): number {
    return this.buf[this.off++]!;
  }

  private u16(): number {
    const b = this.buf;
    const v = (b[this.off]! << 8) | b[this.off + 1]!;
    this.off += 2;
    return v;
  }

  private u32(): number {
    const b = this.buf;
    const o = this.off;
    this.off += 4;
    return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }

  private view(n: number): DataView {
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.off, n);
    this.off += n;
    return dv;
  }

  private raw(n: number): Uint8Array {
    this.need(n, 'raw bytes');
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  private array(n: number, depth: number): MpValue[] {
    const out: MpValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(n: number, depth: number): Map<string, MpValue> {
    const out = new Map<string, MpValue>();
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      let key: string;
      if (k instanceof Uint8Array) {
        // k is a view of buf ending at this.off
        key = shortString(this.buf, this.off - k.length, this.off);
      } else {
        key = String(k);
      }
      out.set(key, this.value(depth + 1));
    }
    return out;
  }

  value(depth: number): MpValue {
    if (depth > 64) throw new Error('msgpack: nesting deeper than 64');
    this.need(1, 'type byte');
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    if ((b & 0xe0) === 0xa0) return this.raw(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: this.need(1, 'uint8'); return this.u8();
      case 0xcd: this.need(2, 'uint16'); return this.u16();
      case 0xce: this.need(4, 'uint32'); return this.u32();
      case 0xcf: this.need(8, 'uint64'); return Number(this.view(8).getBigUint64(0));
      case 0xd0: this.need(1, 'int8'); return (this.u8() << 24) >> 24;
      case 0xd1: this.need(2, 'int16'); return (this.u16() << 16) >> 16;
      case 0xd2: this.need(4, 'int32'); return this.u32() | 0;
      case 0xd3: this.need(8, 'int64'); return Number(this.view(8).getBigInt64(0));
      case 0xca: this.need(4, 'float32'); return this.view(4).getFloat32(0);
      case 0xcb: this.need(8, 'float64'); return this.view(8).getFloat64(0);
      case 0xd9: case 0xc4: this.need(1, 'raw8 length'); return this.raw(this.u8());
      case 0xda: case 0xc5: this.need(2, 'raw16 length'); return this.raw(this.u16());
      case 0xdb: case 0xc6: this.need(4, 'raw32 length'); return this.raw(this.u32());
      case 0xdc: this.need(2, 'array16 length'); return this.array(this.u16(), depth);
      case 0xdd: this.need(4, 'array32 length'); return this.array(this.u32(), depth);
      case 0xde: this.need(2, 'map16 length'); return this.map(this.u16(), depth);
      case 0xdf: this.need(4, 'map32 length'); return this.map(this.u32(), depth);
      default:
        throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)}`);
    }
  }
}
