/**
 * hashicorp/memberlist message codec (net.go). Every struct is a msgpack map keyed by the Go field
 * name, keys in byte-wise sorted order (go-msgpack `sfiSortedByEncName`):
 *
 * | type | Go struct         | fields (sorted as on the wire) |
 * |-----:|-------------------|--------------------------------|
 * | 0    | ping              | Node string, SeqNo uint32, SourceAddr []byte*, SourceNode string*, SourcePort uint16* (*omitempty) |
 * | 1    | indirectPingReq   | Nack bool, Node string, Port uint16, SeqNo uint32, SourceAddr*, SourceNode*, SourcePort*, Target []byte |
 * | 2    | ackResp           | Payload []byte (nil → 0xc0), SeqNo uint32 |
 * | 3    | suspect           | From string, Incarnation uint32, Node string |
 * | 4    | alive             | Addr []byte, Incarnation uint32, Meta []byte, Node string, Port uint16, Vsn []uint8 (6 bytes) |
 * | 5    | dead              | From string, Incarnation uint32, Node string |
 * | 6    | pushPullHeader    | Join bool, Nodes int, UserStateLen int (+ Nodes × pushNodeState + user state) |
 * | 8    | user              | raw bytes (UDP) / userMsgHeader{UserMsgLen int} + bytes (TCP) |
 * | 9    | compress          | Algo uint8 (0 = LZW), Buf []byte |
 * | 11   | nackResp          | SeqNo uint32 |
 * | 13   | errResp           | Error string |
 *
 * pushNodeState: Addr, Incarnation, Meta, Name, Port, State (NodeStateType int), Vsn.
 * The decoded shapes are the engine's message types (`src/engine/messages.ts`); IP addresses
 * (`Addr`, `Target`, `SourceAddr`: 4 or 16 raw bytes) are presented as strings.
 */
import { isIP } from 'node:net';
import type {
  AckMsg, AliveMsg, DeadMsg, IndirectPingMsg, Message, NackMsg, PingMsg, PushNodeState, PushPull, SuspectMsg, UserMsg,
} from '../engine/messages.js';
import { NodeStateType } from '../engine/messages.js';
import { mpDecode, shortString, ShortBufferError, Writer, type MpValue } from './msgpack.js';

export type { AckMsg, AliveMsg, DeadMsg, IndirectPingMsg, Message, NackMsg, PingMsg, PushNodeState, PushPull, SuspectMsg, UserMsg };
export { NodeStateType };

/** memberlist's `messageType` byte (net.go, "ONLY APPEND TO THIS LIST"). */
export enum MessageType {
  Ping = 0,
  IndirectPing = 1,
  AckResp = 2,
  Suspect = 3,
  Alive = 4,
  Dead = 5,
  PushPull = 6,
  Compound = 7,
  User = 8,
  Compress = 9,
  Encrypt = 10,
  NackResp = 11,
  HasCrc = 12,
  Err = 13,
  HasLabel = 244,
}

/** `compress{Algo, Buf}`: Algo 0 = LZW. */
export interface CompressMsg {
  algo: number;
  buf: Uint8Array;
}

/** Protocol version vector length (PMin, PMax, PCur, DMin, DMax, DCur). */
export const VSN_LENGTH = 6;

const td = new TextDecoder();

/** IPv4/IPv6 text → 4/16 raw bytes (as Go's net.IP stores them). Empty string → empty bytes. */
export function ipToBytes(ip: string): Uint8Array {
  if (ip === '') return new Uint8Array(0);
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v === 6) {
    let s = ip;
    let tail: number[] = [];
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (v4) {
      const b = v4[1]!.split('.').map(Number);
      tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
      s = s.slice(0, -v4[1]!.length) + '0:0';
    }
    const [head, rest] = s.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
    const words = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill('0'), ...r];
    const out = new Uint8Array(16);
    words.forEach((w, i) => {
      const n = parseInt(w, 16);
      out[i * 2] = n >> 8;
      out[i * 2 + 1] = n & 0xff;
    });
    if (tail.length) {
      out[12] = tail[0]! >> 8; out[13] = tail[0]! & 0xff; out[14] = tail[1]! >> 8; out[15] = tail[1]! & 0xff;
    }
    return out;
  }
  throw new Error(`address "${ip}" is not an IPv4 or IPv6 literal`);
}

/** 4 or 16 raw bytes → IP text; an empty slice gives ''. Other lengths are an error. */
export function bytesToIp(b: Uint8Array, field: string): string {
  if (b.length === 0) return '';
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return Array.from(b.subarray(12)).join('.');
    const w: string[] = [];
    for (let i = 0; i < 16; i += 2) w.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    // Compress the longest run of zero words.
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (w[i] !== '0') { i++; continue; }
      let j = i;
      while (j < 8 && w[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
      i = j;
    }
    if (best < 0) return w.join(':');
    return `${w.slice(0, best).join(':')}::${w.slice(best + bestLen).join(':')}`;
  }
  throw new Error(`${field}: ${b.length}-byte address is neither IPv4 nor IPv6`);
}

// ---- field readers -----------------------------------------------------------------------------

function asMap(v: MpValue, what: string): Map<string, MpValue> {
  if (!(v instanceof Map)) throw new Error(`${what}: expected a msgpack map`);
  return v;
}
function fUint(m: Map<string, MpValue>, obj: string, key: string): number {
  const v = m.get(key);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${obj}.${key}: expected an integer`);
  return v;
}
function fBytes(m: Map<string, MpValue>, obj: string, key: string): Uint8Array | null {
  const v = m.get(key);
  if (v === undefined || v === null) return null;
  if (!(v instanceof Uint8Array)) throw new Error(`${obj}.${key}: expected raw bytes`);
  return v;
}
function fStr(m: Map<string, MpValue>, obj: string, key: string): string {
  const b = fBytes(m, obj, key);
  return b ? td.decode(b) : '';
}
function fBool(m: Map<string, MpValue>, obj: string, key: string): boolean {
  const v = m.get(key);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`${obj}.${key}: expected a bool`);
  return v;
}
function fIp(m: Map<string, MpValue>, obj: string, key: string): string {
  const b = fBytes(m, obj, key);
  return b ? bytesToIp(b, `${obj}.${key}`) : '';
}
function copy(b: Uint8Array | null): Uint8Array {
  return b ? Uint8Array.from(b) : new Uint8Array(0);
}

// ---- encoders ------------------------------------------------------------------------------------

type Field = [string, (w: Writer) => void];

function writeStruct(w: Writer, fields: Field[]): void {
  w.mapHeader(fields.length);
  for (const [k, f] of fields) {
    w.raw(k);
    f(w);
  }
}
/** go-msgpack writes nil slices as nil; we treat an empty slice as nil (Go's zero value). */
function rawOrNil(b: Uint8Array | undefined): (w: Writer) => void {
  return (w) => w.raw(b && b.length ? b : null);
}

function sourceFields(m: { sourceAddr?: string; sourcePort?: number; sourceNode?: string }): Field[] {
  const f: Field[] = [];
  if (m.sourceAddr) f.push(['SourceAddr', (w) => w.raw(ipToBytes(m.sourceAddr!))]);
  if (m.sourceNode) f.push(['SourceNode', (w) => w.raw(m.sourceNode!)]);
  if (m.sourcePort) f.push(['SourcePort', (w) => w.uint(m.sourcePort!)]);
  return f;
}

function vsnBytes(vsn: number[]): Uint8Array {
  return Uint8Array.from(vsn);
}

/** Appends one message (type byte + body) to `w`. */
export function writeMessage(w: Writer, m: Message): void {
  switch (m.type) {
    case 'ping':
      w.u8(MessageType.Ping);
      writeStruct(w, [['Node', (x) => x.raw(m.node)], ['SeqNo', (x) => x.uint(m.seqNo)], ...sourceFields(m)]);
      return;
    case 'indirectPing':
      w.u8(MessageType.IndirectPing);
      writeStruct(w, [
        ['Nack', (x) => x.bool(m.nack)],
        ['Node', (x) => x.raw(m.node)],
        ['Port', (x) => x.uint(m.port)],
        ['SeqNo', (x) => x.uint(m.seqNo)],
        ...sourceFields(m),
        ['Target', (x) => x.raw(ipToBytes(m.target))],
      ]);
      return;
    case 'ack':
      w.u8(MessageType.AckResp);
      writeStruct(w, [['Payload', rawOrNil(m.payload)], ['SeqNo', (x) => x.uint(m.seqNo)]]);
      return;
    case 'nack':
      w.u8(MessageType.NackResp);
      writeStruct(w, [['SeqNo', (x) => x.uint(m.seqNo)]]);
      return;
    case 'suspect':
    case 'dead':
      w.u8(m.type === 'suspect' ? MessageType.Suspect : MessageType.Dead);
      writeStruct(w, [['From', (x) => x.raw(m.from)], ['Incarnation', (x) => x.uint(m.incarnation)], ['Node', (x) => x.raw(m.node)]]);
      return;
    case 'alive':
      w.u8(MessageType.Alive);
      writeStruct(w, [
        ['Addr', (x) => x.raw(ipToBytes(m.addr))],
        ['Incarnation', (x) => x.uint(m.incarnation)],
        ['Meta', rawOrNil(m.meta)],
        ['Node', (x) => x.raw(m.node)],
        ['Port', (x) => x.uint(m.port)],
        ['Vsn', rawOrNil(vsnBytes(m.vsn))],
      ]);
      return;
    case 'user':
      w.u8(MessageType.User);
      w.bytes(m.payload);
      return;
  }
}

/** Encodes one packet-level message: type byte + msgpack body (user messages: type byte + raw bytes). */
export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  writeMessage(w, m);
  return Uint8Array.from(w.finish());
}

/**
 * Decodes one packet-level message (types 0–5, 8, 11). `buf[0]` is the type byte. Throws a
 * descriptive Error for malformed input or for types that are not packet messages
 * (compound, compress, CRC and label are layers handled by `decodePacket`).
 */
export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < 1) throw new Error('message: empty buffer');
  const t = buf[0]!;
  if (t === MessageType.User) return { type: 'user', payload: Uint8Array.from(buf.subarray(1)) };
  const body = (name: string): Map<string, MpValue> => asMap(mpDecode(buf, 1).value, name);
  switch (t) {
    case MessageType.Ping: {
      const m = body('ping');
      const out: PingMsg = { type: 'ping', seqNo: fUint(m, 'ping', 'SeqNo'), node: fStr(m, 'ping', 'Node') };
      const sa = fIp(m, 'ping', 'SourceAddr');
      if (sa) out.sourceAddr = sa;
      const sp = fUint(m, 'ping', 'SourcePort');
      if (sp) out.sourcePort = sp;
      const sn = fStr(m, 'ping', 'SourceNode');
      if (sn) out.sourceNode = sn;
      return out;
    }
    case MessageType.IndirectPing: {
      const o = 'indirectPingReq';
      const m = body(o);
      const out: IndirectPingMsg = {
        type: 'indirectPing', seqNo: fUint(m, o, 'SeqNo'), target: fIp(m, o, 'Target'), port: fUint(m, o, 'Port'),
        node: fStr(m, o, 'Node'), nack: fBool(m, o, 'Nack'),
      };
      const sa = fIp(m, o, 'SourceAddr');
      if (sa) out.sourceAddr = sa;
      const sp = fUint(m, o, 'SourcePort');
      if (sp) out.sourcePort = sp;
      const sn = fStr(m, o, 'SourceNode');
      if (sn) out.sourceNode = sn;
      return out;
    }
    case MessageType.AckResp: {
      const m = body('ackResp');
      const out: AckMsg = { type: 'ack', seqNo: fUint(m, 'ackResp', 'SeqNo') };
      const p = fBytes(m, 'ackResp', 'Payload');
      if (p && p.length) out.payload = Uint8Array.from(p);
      return out;
    }
    case MessageType.NackResp:
      return { type: 'nack', seqNo: fUint(body('nackResp'), 'nackResp', 'SeqNo') };
    case MessageType.Suspect:
    case MessageType.Dead: {
      const o = t === MessageType.Suspect ? 'suspect' : 'dead';
      const m = body(o);
      return { type: o, incarnation: fUint(m, o, 'Incarnation'), node: fStr(m, o, 'Node'), from: fStr(m, o, 'From') };
    }
    case MessageType.Alive: {
      const m = body('alive');
      return {
        type: 'alive', incarnation: fUint(m, 'alive', 'Incarnation'), node: fStr(m, 'alive', 'Node'),
        addr: fIp(m, 'alive', 'Addr'), port: fUint(m, 'alive', 'Port'), meta: copy(fBytes(m, 'alive', 'Meta')),
        vsn: Array.from(fBytes(m, 'alive', 'Vsn') ?? []),
      };
    }
    default:
      throw new Error(`message: type ${t} is not a packet message`);
  }
}

/** Encodes `compress{Algo, Buf}` with its type byte 9. */
export function encodeCompress(c: CompressMsg): Uint8Array {
  const w = new Writer();
  w.u8(MessageType.Compress);
  writeStruct(w, [['Algo', (x) => x.uint(c.algo)], ['Buf', (x) => x.raw(c.buf)]]);
  return Uint8Array.from(w.finish());
}

/** Decodes a `compress` body starting at `off` (after the type byte); returns it and the end offset. */
export function decodeCompressBody(buf: Uint8Array, off: number): { msg: CompressMsg; end: number } {
  const r = mpDecode(buf, off);
  const m = asMap(r.value, 'compress');
  return { msg: { algo: fUint(m, 'compress', 'Algo'), buf: fBytes(m, 'compress', 'Buf') ?? new Uint8Array(0) }, end: r.end };
}

/** Writes `errResp{Error}` with type byte 13. */
export function encodeErr(error: string): Uint8Array {
  const w = new Writer();
  w.u8(MessageType.Err);
  writeStruct(w, [['Error', (x) => x.raw(error)]]);
  return Uint8Array.from(w.finish());
}

/** Encodes a push/pull request or reply: `06 | header | Nodes × pushNodeState | user state`. */
export function encodePushPull(p: PushPull): Uint8Array {
  const w = new Writer();
  w.u8(MessageType.PushPull);
  writeStruct(w, [
    ['Join', (x) => x.bool(p.join)],
    ['Nodes', (x) => x.uint(p.nodes.length)],
    ['UserStateLen', (x) => x.uint(p.userState.length)],
  ]);
  for (const n of p.nodes) {
    writeStruct(w, [
      ['Addr', (x) => x.raw(ipToBytes(n.addr))],
      ['Incarnation', (x) => x.uint(n.incarnation)],
      ['Meta', rawOrNil(n.meta)],
      ['Name', (x) => x.raw(n.name)],
      ['Port', (x) => x.uint(n.port)],
      ['State', (x) => x.uint(n.state)],
      ['Vsn', rawOrNil(vsnBytes(n.vsn))],
    ]);
  }
  w.bytes(p.userState);
  return Uint8Array.from(w.finish());
}

/** Hard limits from memberlist HEAD (hardening against hostile streams). */
export const MAX_PUSH_STATE_NODES = 1 << 20;
/** Maximum user state / user message size accepted on a stream. */
export const MAX_USER_BYTES = 20 << 20;

/** Decoded `pushPullHeader`. */
export interface PushPullHeader {
  join: boolean;
  nodes: number;
  userStateLen: number;
}

/** Decodes a `pushPullHeader` map at `off` and checks its counts against the hard limits. */
export function decodePushPullHeader(buf: Uint8Array, off: number): { header: PushPullHeader; end: number } {
  const h = mpDecode(buf, off);
  const hm = asMap(h.value, 'pushPullHeader');
  const count = fUint(hm, 'pushPullHeader', 'Nodes');
  const userLen = fUint(hm, 'pushPullHeader', 'UserStateLen');
  if (count < 0 || count > MAX_PUSH_STATE_NODES) throw new Error(`pushPullHeader.Nodes: ${count} out of range`);
  if (userLen < 0 || userLen > MAX_USER_BYTES) throw new Error(`pushPullHeader.UserStateLen: ${userLen} out of range`);
  return { header: { join: fBool(hm, 'pushPullHeader', 'Join'), nodes: count, userStateLen: userLen }, end: h.end };
}

/**
 * Reuse of values repeated from one `pushNodeState` to the next (same name, IPv4 address or
 * version vector), so a large state does not allocate them again; pass one per push/pull.
 * Shared `vsn` arrays are frozen (the engine copies them before keeping them).
 */
export class NodeStateCache {
  nameBytes: Uint8Array = new Uint8Array(0);
  name = '';
  readonly ipv4 = new Map<number, string>();
  readonly vsn = new Map<number, number[]>();
}

/** Decodes one `pushNodeState` map at `off` (the result holds no reference to `buf`). */
export function decodePushNodeState(buf: Uint8Array, off: number, cache?: NodeStateCache): { node: PushNodeState; end: number } {
  return fastPushNodeState(buf, off, cache ?? new NodeStateCache()) ?? slowPushNodeState(buf, off);
}

function cachedName(c: NodeStateCache, buf: Uint8Array, rs: number, rl: number): string {
  const last = c.nameBytes;
  if (last.length === rl) {
    let same = true;
    for (let i = 0; i < rl; i++) if (last[i] !== buf[rs + i]) { same = false; break; }
    if (same) return c.name;
  }
  c.nameBytes = buf.slice(rs, rs + rl);
  c.name = shortString(buf, rs, rs + rl);
  return c.name;
}

function cachedIpv4(c: NodeStateCache, buf: Uint8Array, rs: number): string {
  const key = ((buf[rs]! << 24) >>> 0) + ((buf[rs + 1]! << 16) | (buf[rs + 2]! << 8) | buf[rs + 3]!);
  let v = c.ipv4.get(key);
  if (v === undefined) {
    v = `${buf[rs]}.${buf[rs + 1]}.${buf[rs + 2]}.${buf[rs + 3]}`;
    if (c.ipv4.size < 4096) c.ipv4.set(key, v);
  }
  return v;
}

function cachedVsn(c: NodeStateCache, buf: Uint8Array, rs: number, rl: number): number[] {
  if (rl !== VSN_LENGTH) {
    const v: number[] = [];
    for (let j = 0; j < rl; j++) v.push(buf[rs + j]!);
    return v;
  }
  let key = 0;
  for (let j = 0; j < VSN_LENGTH; j++) key = key * 256 + buf[rs + j]!;
  let v = c.vsn.get(key);
  if (v === undefined) {
    v = Object.freeze(Array.from(buf.subarray(rs, rs + rl))) as number[];
    if (c.vsn.size < 256) c.vsn.set(key, v);
  }
  return v;
}

/** Shared empty metadata of decoded node states (allocating 10^5 empty typed arrays costs GC time). */
const NO_META = new Uint8Array(0);

/** True when `buf[start, start+len)` is the ASCII text `key`. */
function keyIs(buf: Uint8Array, start: number, len: number, key: string): boolean {
  if (len !== key.length) return false;
  for (let i = 0; i < len; i++) if (buf[start + i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * Direct decoder for the common shape of a `pushNodeState` (fixmap, fixstr keys, unsigned ints,
 * raw or nil values): no intermediate Map or views, since push/pull states can hold 10^5 of them.
 * Returns null on any other shape, and the generic decoder then decodes it (or names the error).
 * Throws ShortBufferError when the value is incomplete. Unknown keys are skipped, as Go does.
 */
function fastPushNodeState(buf: Uint8Array, off: number, cache: NodeStateCache): { node: PushNodeState; end: number } | null {
  const len = buf.length;
  let p = off;
  if (p >= len) throw new ShortBufferError('pushNodeState');
  const h = buf[p++]!;
  if ((h & 0xf0) !== 0x80) return null;
  const node: PushNodeState = { name: '', addr: '', port: 0, meta: NO_META, incarnation: 0, state: 0 as NodeStateType, vsn: [] };
  for (let i = 0; i < (h & 0x0f); i++) {
    if (p >= len) throw new ShortBufferError('pushNodeState key');
    const kb = buf[p]!;
    if ((kb & 0xe0) !== 0xa0) return null;
    const ks = p + 1;
    const kl = kb & 0x1f;
    p = ks + kl;
    if (p >= len) throw new ShortBufferError('pushNodeState value');
    const vb = buf[p]!;
    let num = -1;
    let rs = -1;
    let rl = 0;
    if (vb <= 0x7f) { num = vb; p += 1; }
    else if (vb === 0xcc) { if (p + 2 > len) throw new ShortBufferError('uint8'); num = buf[p + 1]!; p += 2; }
    else if (vb === 0xcd) { if (p + 3 > len) throw new ShortBufferError('uint16'); num = (buf[p + 1]! << 8) | buf[p + 2]!; p += 3; }
    else if (vb === 0xce) {
      if (p + 5 > len) throw new ShortBufferError('uint32');
      num = ((buf[p + 1]! << 24) >>> 0) + ((buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!);
      p += 5;
    } else if ((vb & 0xe0) === 0xa0) { rl = vb & 0x1f; rs = p + 1; }
    else if (vb === 0xda || vb === 0xc5) { if (p + 3 > len) throw new ShortBufferError('raw16'); rl = (buf[p + 1]! << 8) | buf[p + 2]!; rs = p + 3; }
    else if (vb === 0xc0) { p += 1; }
    else return null;
    if (rs >= 0) {
      p = rs + rl;
      if (p > len) throw new ShortBufferError('raw bytes');
    }
    const isNum = num >= 0;
    const isRaw = rs >= 0;
    if (keyIs(buf, ks, kl, 'Name')) {
      if (isNum) return null;
      node.name = isRaw ? cachedName(cache, buf, rs, rl) : '';
    } else if (keyIs(buf, ks, kl, 'Addr')) {
      if (isNum) return null;
      node.addr = !isRaw ? '' : rl === 4 ? cachedIpv4(cache, buf, rs) : bytesToIp(buf.subarray(rs, rs + rl), 'pushNodeState.Addr');
    } else if (keyIs(buf, ks, kl, 'Port')) {
      if (isRaw) return null;
      node.port = isNum ? num : 0;
    } else if (keyIs(buf, ks, kl, 'Meta')) {
      if (isNum) return null;
      node.meta = isRaw && rl > 0 ? buf.slice(rs, rs + rl) : NO_META;
    } else if (keyIs(buf, ks, kl, 'Incarnation')) {
      if (isRaw) return null;
      node.incarnation = isNum ? num : 0;
    } else if (keyIs(buf, ks, kl, 'State')) {
      if (isRaw) return null;
      node.state = (isNum ? num : 0) as NodeStateType;
    } else if (keyIs(buf, ks, kl, 'Vsn')) {
      if (isNum) return null;
      node.vsn = isRaw ? cachedVsn(cache, buf, rs, rl) : [];
    }
  }
  return { node, end: p };
}

function slowPushNodeState(buf: Uint8Array, off: number): { node: PushNodeState; end: number } {
  const r = mpDecode(buf, off);
  const o = 'pushNodeState';
  const m = asMap(r.value, o);
  return {
    node: {
      name: fStr(m, o, 'Name'), addr: fIp(m, o, 'Addr'), port: fUint(m, o, 'Port'), meta: copy(fBytes(m, o, 'Meta')),
      incarnation: fUint(m, o, 'Incarnation'), state: fUint(m, o, 'State') as NodeStateType,
      vsn: Array.from(fBytes(m, o, 'Vsn') ?? []),
    },
    end: r.end,
  };
}

/** Decodes a `userMsgHeader` map at `off`, returning `UserMsgLen` (checked against the limit). */
export function decodeStreamUserHeader(buf: Uint8Array, off: number): { length: number; end: number } {
  const r = mpDecode(buf, off);
  const n = fUint(asMap(r.value, 'userMsgHeader'), 'userMsgHeader', 'UserMsgLen');
  if (n < 0 || n > MAX_USER_BYTES) throw new Error(`userMsgHeader.UserMsgLen: ${n} out of range`);
  return { length: n, end: r.end };
}

/**
 * Decodes a push/pull body starting at `off` (just after the type byte 6). Throws
 * ShortBufferError when more bytes are needed.
 */
export function decodePushPullBody(buf: Uint8Array, off: number): { msg: PushPull; end: number } {
  const { header, end } = decodePushPullHeader(buf, off);
  let p = end;
  const nodes: PushNodeState[] = [];
  const cache = new NodeStateCache();
  for (let i = 0; i < header.nodes; i++) {
    const r = decodePushNodeState(buf, p, cache);
    p = r.end;
    nodes.push(r.node);
  }
  const userLen = header.userStateLen;
  if (p + userLen > buf.length) {
    throw new ShortBufferError('push/pull user state');
  }
  return { msg: { join: header.join, nodes, userState: Uint8Array.from(buf.subarray(p, p + userLen)) }, end: p + userLen };
}

/** Encodes a reliable user message for streams: `08 | userMsgHeader{UserMsgLen} | bytes`. */
export function encodeStreamUser(payload: Uint8Array): Uint8Array {
  const w = new Writer();
  w.u8(MessageType.User);
  writeStruct(w, [['UserMsgLen', (x) => x.uint(payload.length)]]);
  w.bytes(payload);
  return Uint8Array.from(w.finish());
}

/** Decodes an errResp body at `off`. */
export function decodeErrBody(buf: Uint8Array, off: number): { error: string; end: number } {
  const r = mpDecode(buf, off);
  return { error: fStr(asMap(r.value, 'errResp'), 'errResp', 'Error'), end: r.end };
}

/** Decodes a stream user message body at `off`. */
export function decodeStreamUserBody(buf: Uint8Array, off: number): { payload: Uint8Array; end: number } {
  const r = decodeStreamUserHeader(buf, off);
  const n = r.length;
  if (r.end + n > buf.length) throw new ShortBufferError('user message');
  return { payload: Uint8Array.from(buf.subarray(r.end, r.end + n)), end: r.end + n };
}
