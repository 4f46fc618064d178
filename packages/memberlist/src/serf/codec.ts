/**
 * Pure codecs for the few serf-layer payloads a memberlist node needs to be a good citizen of a
 * serf cluster (hashicorp/serf v0.9.4 `serf/messages.go`, `serf.go` encodeTags/decodeTags):
 * node tags carried in memberlist `Meta`, the leave/join intents gossiped as memberlist user
 * messages, and the push/pull user state. Encoding follows go-msgpack's old spec (see `../wire/msgpack.ts`).
 */
import { Writer, mpDecode, type MpValue } from '../wire/msgpack.js';

/** serf message type byte (first byte of a serf payload inside a memberlist user message). */
export enum SerfMessageType {
  Leave = 0,
  Join = 1,
  PushPull = 2,
  UserEvent = 3,
  Query = 4,
  QueryResponse = 5,
  ConflictResponse = 6,
  KeyRequest = 7,
  KeyResponse = 8,
  Relay = 9,
}

/** serf's tag magic byte: `Meta = 0xff | msgpack map[string]string` (serf protocol ≥ 3). */
export const SERF_TAG_MAGIC = 0xff;

const TD = new TextDecoder('utf-8', { fatal: true });

/** Encodes serf tags as node metadata: `ff` + msgpack map (keys sorted for reproducible bytes). */
export function encodeSerfTags(tags: Record<string, string>): Uint8Array {
  const w = new Writer();
  w.u8(SERF_TAG_MAGIC);
  const keys = Object.keys(tags).sort();
  w.mapHeader(keys.length);
  for (const k of keys) {
    const v = tags[k];
    if (typeof v !== 'string') throw new TypeError(`serf tags: value of tag "${k}" must be a string`);
    w.raw(k);
    w.raw(v);
  }
  return w.finish().slice();
}

/**
 * Decodes node metadata as serf does: with the magic byte, a msgpack string map; otherwise the
 * whole meta is the legacy `role` tag. Throws an Error naming the field when the map is malformed.
 */
export function decodeSerfTags(meta: Uint8Array): Record<string, string> {
  if (meta.length === 0 || meta[0] !== SERF_TAG_MAGIC) return { role: new TextDecoder().decode(meta) };
  const { value } = mpDecode(meta, 1);
  if (value === null) return {};
  if (!(value instanceof Map)) throw new Error('serf tags: Meta after 0xff is not a msgpack map');
  const out: Record<string, string> = {};
  for (const [k, v] of value) {
    if (!(v instanceof Uint8Array)) throw new Error(`serf tags: value of tag "${k}" is not a string`);
    out[k] = TD.decode(v);
  }
  return out;
}

/** serf `messageLeave` / `messageJoin` intent. */
export interface SerfIntent {
  /** Lamport time of the intent. */
  ltime: number;
  /** Node the intent is about. */
  node: string;
  /** Leave only: ask peers to forget the node at once (`serf force-leave -prune`). */
  prune?: boolean;
}

/** Encodes a leave intent: `00 | {LTime, Node, Prune}`. */
export function encodeSerfLeave(m: SerfIntent): Uint8Array {
  const w = new Writer();
  w.u8(SerfMessageType.Leave);
  w.mapHeader(3);
  w.raw('LTime');
  w.uint(m.ltime);
  w.raw('Node');
  w.raw(m.node);
  w.raw('Prune');
  w.bool(!!m.prune);
  return w.finish().slice();
}

/** Encodes a join intent: `01 | {LTime, Node}`. */
export function encodeSerfJoin(m: SerfIntent): Uint8Array {
  const w = new Writer();
  w.u8(SerfMessageType.Join);
  w.mapHeader(2);
  w.raw('LTime');
  w.uint(m.ltime);
  w.raw('Node');
  w.raw(m.node);
  return w.finish().slice();
}

/**
 * Encodes a minimal serf push/pull user state (`02 | messagePushPull`): our Lamport clocks, the
 * status times we know (usually just our own) and no left members or buffered events.
 */
export function encodeSerfPushPull(s: { ltime: number; statusLTimes: Record<string, number>; eventLTime?: number; queryLTime?: number }): Uint8Array {
  const w = new Writer();
  w.u8(SerfMessageType.PushPull);
  w.mapHeader(6);
  w.raw('EventLTime');
  w.uint(s.eventLTime ?? 0);
  w.raw('Events');
  w.u8(0xc0);
  w.raw('LTime');
  w.uint(s.ltime);
  w.raw('LeftMembers');
  w.u8(0xc0);
  w.raw('QueryLTime');
  w.uint(s.queryLTime ?? 0);
  w.raw('StatusLTimes');
  const names = Object.keys(s.statusLTimes).sort();
  w.mapHeader(names.length);
  for (const n of names) {
    w.raw(n);
    w.uint(s.statusLTimes[n]!);
  }
  return w.finish().slice();
}

/** Lamport times found in a serf payload (user message or push/pull state). */
export interface SerfClocks {
  /** serf message type byte. */
  type: number;
  /** Membership clock (`LTime`), if present. */
  ltime?: number;
  /** Event clock (push/pull `EventLTime`). */
  eventLTime?: number;
  /** Query clock (push/pull `QueryLTime`). */
  queryLTime?: number;
  /** Node named by a join/leave intent. */
  node?: string;
}

function num(m: Map<string, MpValue>, k: string): number | undefined {
  const v = m.get(k);
  return typeof v === 'number' && v >= 0 ? v : undefined;
}

/**
 * Reads the Lamport clocks of a serf payload (leave, join, push/pull, user event, query). Returns
 * only the type for payloads without a top-level map (e.g. relay). Throws on malformed msgpack.
 */
export function decodeSerfClocks(buf: Uint8Array): SerfClocks {
  if (buf.length === 0) throw new Error('serf message: empty payload');
  const type = buf[0]!;
  if (type === SerfMessageType.Relay || type > SerfMessageType.Relay) return { type };
  const { value } = mpDecode(buf, 1);
  if (!(value instanceof Map)) throw new Error(`serf message type ${type}: body is not a msgpack map`);
  const out: SerfClocks = { type };
  const lt = num(value, 'LTime');
  if (lt !== undefined) out.ltime = lt;
  const ev = num(value, 'EventLTime');
  if (ev !== undefined) out.eventLTime = ev;
  const q = num(value, 'QueryLTime');
  if (q !== undefined) out.queryLTime = q;
  const node = value.get('Node');
  if (node instanceof Uint8Array) out.node = new TextDecoder().decode(node);
  return out;
}
