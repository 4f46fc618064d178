/** Wire layer of @lbkit/memberlist: msgpack, messages, packet and stream framing, LZW, CRC32. */
export * from './messages.js';
export { Writer, mpDecode, ShortBufferError } from './msgpack.js';
export type { MpValue } from './msgpack.js';
export { lzwCompress, lzwDecompress, LzwOutputLimitError, LZW_DEFAULT_MAX_OUTPUT } from './lzw.js';
export { crc32, crc32Table, CRC32_NATIVE } from './crc32.js';
export {
  encodePacket, decodePacket, encodeCompound, decodeCompound, compressPayload, decompressPayload, addLabel, removeLabel,
  addCrc, MAX_COMPOUND_PARTS, MAX_PACKET_DECOMPRESSED,
} from './packet.js';
export type { WireOptions, PacketEncodeOptions, DecodedPacket } from './packet.js';
export { encodeStreamMessage, tryDecodeStream, StreamReader, StreamLabelError, MAX_STREAM_BYTES } from './stream.js';
export type { StreamMessage, StreamEncodeOptions, StreamDecodeResult, StreamReadOptions, StreamReadResult } from './stream.js';
export { MsgpackBoundary } from './msgpack-scan.js';
