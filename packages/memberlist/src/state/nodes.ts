/** The node state table entry and helpers. */
import { NodeStateType } from '../engine/messages.js';

/** What the engine knows about one member (including itself). */
export interface NodeState {
  name: string;
  addr: string;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeStateType;
  /** Version vector `[PMin, PMax, PCur, DMin, DMax, DCur]`. */
  vsn: number[];
  /** Clock time of the last state change. */
  stateChange: number;
}

/** A read-only snapshot of a member handed to applications. */
export type Member = Readonly<Omit<NodeState, 'vsn'>> & { readonly vsn: readonly number[] };

/** True for Dead or Left. */
export function isDeadOrLeft(s: NodeStateType): boolean {
  return s === NodeStateType.Dead || s === NodeStateType.Left;
}

/** Byte-wise equality of two byte arrays. */
export function bytesEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * memberlist `verifyProtocol`: every alive node's current protocol and delegate version must lie
 * within the intersection of all alive nodes' ranges. Returns an error message or null.
 */
export function verifyProtocol(nodes: { name: string; vsn: readonly number[] }[]): string | null {
  if (nodes.length === 0) return null;
  let maxpmin = 0, minpmax = 255, maxdmin = 0, mindmax = 255;
  for (const n of nodes) {
    const v = n.vsn;
    if (v.length < 6) return `Node '${n.name}' has a short version vector (${v.length} < 6)`;
    maxpmin = Math.max(maxpmin, v[0]!);
    minpmax = Math.min(minpmax, v[1]!);
    maxdmin = Math.max(maxdmin, v[3]!);
    mindmax = Math.min(mindmax, v[4]!);
  }
  for (const n of nodes) {
    const v = n.vsn;
    if (v[2]! < maxpmin || v[2]! > minpmax)
      return `Node '${n.name}' protocol version (${v[2]}) is incompatible: [${maxpmin}, ${minpmax}]`;
    if (v[5]! < maxdmin || v[5]! > mindmax)
      return `Node '${n.name}' delegate protocol version (${v[5]}) is incompatible: [${maxdmin}, ${mindmax}]`;
  }
  return null;
}
