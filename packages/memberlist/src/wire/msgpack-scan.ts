/**
 * Resumable msgpack boundary scanner: finds where one msgpack value ends in a buffer that is still
 * being filled, without decoding it. Each call continues where the previous one stopped, so a
 * value arriving in many chunks is scanned once in total (linear), and the bytes of raw strings are
 * skipped, not visited. Accepts exactly the type bytes {@link mpDecode} accepts.
 */

/** Scans one msgpack value starting at a fixed offset; see {@link MsgpackBoundary.scan}. */
export class MsgpackBoundary {
  /** Values still to be seen before the top-level value is complete. */
  private remaining = 1;
  private off: number;

  /** @param start offset of the value's first byte */
  constructor(start: number) {
    this.off = start;
  }

  /** Shifts the scan position after the caller dropped `n` bytes from the front of its buffer. */
  rebase(n: number): void {
    this.off -= n;
  }

  /**
   * Continues scanning `buf[0, len)`. Returns the offset just past the value once all its bytes
   * are present, or -1 when more bytes are needed. Throws on a type byte msgpack does not define.
   */
  scan(buf: Uint8Array, len: number): number {
    while (this.remaining > 0) {
      const o = this.off;
      if (o >= len) return -1;
      const b = buf[o]!;
      let head = 1;
      let add = 0;
      let skip = 0;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
        // single-byte value
      } else if ((b & 0xe0) === 0xa0) {
        skip = b & 0x1f;
      } else if ((b & 0xf0) === 0x90) {
        add = b & 0x0f;
      } else if ((b & 0xf0) === 0x80) {
        add = 2 * (b & 0x0f);
      } else {
        switch (b) {
          case 0xcc: case 0xd0: head = 2; break;
          case 0xcd: case 0xd1: head = 3; break;
          case 0xce: case 0xd2: case 0xca: head = 5; break;
          case 0xcf: case 0xd3: case 0xcb: head = 9; break;
          case 0xd9: case 0xc4: case 0xda: case 0xc5: case 0xdb: case 0xc6:
          case 0xdc: case 0xdd: case 0xde: case 0xdf: {
            const w = b === 0xd9 || b === 0xc4 ? 1 : b === 0xda || b === 0xc5 || b === 0xdc || b === 0xde ? 2 : 4;
            head = 1 + w;
            if (o + head > len) return -1;
            const n = w === 1 ? buf[o + 1]! : w === 2 ? (buf[o + 1]! << 8) | buf[o + 2]!
              : ((buf[o + 1]! << 24) >>> 0) + ((buf[o + 2]! << 16) | (buf[o + 3]! << 8) | buf[o + 4]!);
            if (b === 0xdc || b === 0xdd) add = n;
            else if (b === 0xde || b === 0xdf) add = 2 * n;
            else skip = n;
            break;
          }
          default:
            throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)}`);
        }
      }
      if (o + head > len) return -1;
      this.remaining += add - 1;
      this.off = o + head + skip;
    }
    return this.off <= len ? this.off : -1;
  }
}
