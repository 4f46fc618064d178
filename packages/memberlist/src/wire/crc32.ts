/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as Go's crc32.ChecksumIEEE. Uses Node's
 * native `zlib.crc32` where the runtime has it (Node ≥ 20.15 / ≥ 22.2), else a table-driven loop.
 */
import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The table-driven implementation (always available; used when `zlib.crc32` is missing). */
export function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

type NativeCrc = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc }).crc32;

/** Whether {@link crc32} uses Node's native `zlib.crc32`. */
export const CRC32_NATIVE = typeof native === 'function';

/** Returns the IEEE CRC-32 of `data` as an unsigned 32-bit number. */
export const crc32: (data: Uint8Array) => number = CRC32_NATIVE
  ? (data) => native!(data) >>> 0
  : crc32Table;
