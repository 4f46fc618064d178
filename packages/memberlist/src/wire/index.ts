/** Wire layer of @lbkit/memberlist: msgpack, messages, packet and stream framing, LZW, CRC32. */
export * from './messages.js';
export { Writer, mpDecode, ShortBufferError } from './msgpack.js';
export type { MpValue } from './msgpack.js';
export { lzwCompress, lzwDecompress } from './lzw.js';
export { crc32 } from './crc32.js';
export {
  encodePacket, decodePacket, encodeCompound, decodeCompound, compressPayload, decompressPayload, addLabel, removeLabel,
  addCrc, MAX_COMPOUND_PARTS,
} from './packet.js';
export type { WireOptions, PacketEncodeOptions, DecodedPacket } from './packet.js';
export { encodeStreamMessage, tryDecodeStream, MAX_STREAM_BYTES } from './stream.js';
export type { StreamMessage, StreamEncodeOptions, StreamDecodeResult } from './stream.js';
