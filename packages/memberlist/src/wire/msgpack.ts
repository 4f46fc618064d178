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
  if (depth > 64) throw new Error('msgpack: nesting deeper than 64');
  const need = (n: number, what: string): void => {
    if (off + n > buf.length) throw new ShortBufferError(what);
  };
  need(1, 'type byte');
  const b = buf[off++]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rawN = (n: number): { value: MpValue; end: number } => {
    need(n, 'raw bytes');
    return { value: buf.subarray(off, off + n), end: off + n };
  };
  const arr = (n: number): { value: MpValue; end: number } => {
    const out: MpValue[] = [];
    for (let i = 0; i < n; i++) {
      const r = mpDecode(buf, off, depth + 1);
      out.push(r.value);
      off = r.end;
    }
    return { value: out, end: off };
  };
  const map = (n: number): { value: MpValue; end: number } => {
    const out = new Map<string, MpValue>();
    for (let i = 0; i < n; i++) {
      const k = mpDecode(buf, off, depth + 1);
      const v = mpDecode(buf, k.end, depth + 1);
      off = v.end;
      const key = k.value instanceof Uint8Array ? TD.decode(k.value) : String(k.value);
      out.set(key, v.value);
    }
    return { value: out, end: off };
  };
  if (b <= 0x7f) return { value: b, end: off };
  if (b >= 0xe0) return { value: b - 256, end: off };
  if ((b & 0xe0) === 0xa0) return rawN(b & 0x1f);
  if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
  if ((b & 0xf0) === 0x80) return map(b & 0x0f);
  switch (b) {
    case 0xc0: return { value: null, end: off };
    case 0xc2: return { value: false, end: off };
    case 0xc3: return { value: true, end: off };
    case 0xcc: need(1, 'uint8'); return { value: buf[off]!, end: off + 1 };
    case 0xcd: need(2, 'uint16'); return { value: dv.getUint16(off), end: off + 2 };
    case 0xce: need(4, 'uint32'); return { value: dv.getUint32(off), end: off + 4 };
    case 0xcf: need(8, 'uint64'); return { value: Number(dv.getBigUint64(off)), end: off + 8 };
    case 0xd0: need(1, 'int8'); return { value: dv.getInt8(off), end: off + 1 };
    case 0xd1: need(2, 'int16'); return { value: dv.getInt16(off), end: off + 2 };
    case 0xd2: need(4, 'int32'); return { value: dv.getInt32(off), end: off + 4 };
    case 0xd3: need(8, 'int64'); return { value: Number(dv.getBigInt64(off)), end: off + 8 };
    case 0xca: need(4, 'float32'); return { value: dv.getFloat32(off), end: off + 4 };
    case 0xcb: need(8, 'float64'); return { value: dv.getFloat64(off), end: off + 8 };
    case 0xd9: case 0xc4: need(1, 'raw8 length'); { const n = buf[off]!; off += 1; return rawN(n); }
    case 0xda: case 0xc5: need(2, 'raw16 length'); { const n = dv.getUint16(off); off += 2; return rawN(n); }
    case 0xdb: case 0xc6: need(4, 'raw32 length'); { const n = dv.getUint32(off); off += 4; return rawN(n); }
    case 0xdc: need(2, 'array16 length'); { const n = dv.getUint16(off); off += 2; return arr(n); }
    case 0xdd: need(4, 'array32 length'); { const n = dv.getUint32(off); off += 4; return arr(n); }
    case 0xde: need(2, 'map16 length'); { const n = dv.getUint16(off); off += 2; return map(n); }
    case 0xdf: need(4, 'map32 length'); { const n = dv.getUint32(off); off += 4; return map(n); }
    default:
      throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)}`);
  }
}
