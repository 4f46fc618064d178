/**
 * Decoded protocol messages as the engine sees them (field-for-field the memberlist structs of
 * research §1.3; the wire codec in `src/wire` turns them into bytes).
 */

/** Node state as in memberlist's NodeStateType. */
export enum NodeStateType {
  Alive = 0,
  Suspect = 1,
  Dead = 2,
  Left = 3,
}

/** Direct ping. */
export interface PingMsg {
  type: 'ping';
  seqNo: number;
  node: string;
  sourceAddr?: string;
  sourcePort?: number;
  sourceNode?: string;
}
/** Request to ping `node` at target:port on our behalf. */
export interface IndirectPingMsg {
  type: 'indirectPing';
  seqNo: number;
  target: string;
  port: number;
  node: string;
  nack: boolean;
  sourceAddr?: string;
  sourcePort?: number;
  sourceNode?: string;
}
/** Ack of a ping. */
export interface AckMsg {
  type: 'ack';
  seqNo: number;
  payload?: Uint8Array;
}
/** Negative ack from an indirect prober that got no answer in time. */
export interface NackMsg {
  type: 'nack';
  seqNo: number;
}
/** Suspicion gossip. */
export interface SuspectMsg {
  type: 'suspect';
  incarnation: number;
  node: string;
  from: string;
}
/** Alive gossip (also announces address, meta and version vector). */
export interface AliveMsg {
  type: 'alive';
  incarnation: number;
  node: string;
  addr: string;
  port: number;
  meta: Uint8Array;
  vsn: number[];
}
/** Dead gossip; `from === node` means a graceful leave. */
export interface DeadMsg {
  type: 'dead';
  incarnation: number;
  node: string;
  from: string;
}
/** Application payload gossiped through the broadcast queue. */
export interface UserMsg {
  type: 'user';
  payload: Uint8Array;
}

/** Any packet-level message. */
export type Message = PingMsg | IndirectPingMsg | AckMsg | NackMsg | SuspectMsg | AliveMsg | DeadMsg | UserMsg;

/** One entry of a push/pull state exchange. */
export interface PushNodeState {
  name: string;
  addr: string;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeStateType;
  vsn: number[];
}

/** A push/pull request or reply. */
export interface PushPull {
  join: boolean;
  nodes: PushNodeState[];
  userState: Uint8Array;
}

/**
 * Approximate encoded size in bytes (msgpack map keyed by Go field names), used to budget
 * piggybacked broadcasts when no codec is plugged in.
 */
export function estimateSize(m: Message): number {
  switch (m.type) {
    case 'ping':
      return 60 + m.node.length + (m.sourceNode?.length ?? 0);
    case 'indirectPing':
      return 90 + m.node.length + (m.sourceNode?.length ?? 0);
    case 'ack':
      return 18 + (m.payload?.length ?? 0);
    case 'nack':
      return 10;
    case 'suspect':
    case 'dead':
      return 30 + m.node.length + m.from.length;
    case 'alive':
      return 60 + m.node.length + m.meta.length + 16;
    case 'user':
      return 1 + m.payload.length;
  }
}
