/**
 * Messages between a {@link MemberlistWorker} (main thread) and its worker thread. Everything here
 * is structured-clone friendly: plain objects, strings, numbers and Uint8Arrays.
 */
import type { CreateMemberlistOptions } from '../create.js';
import type { Address } from '../engine/transport.js';
import type { AliveMsg } from '../engine/messages.js';
import type { Member } from '../state/nodes.js';
import type { MemberlistStats } from '../memberlist.js';
import type { TransportStats } from '../net/transport.js';

/**
 * Options the worker receives in `workerData`: the serialisable part of
 * {@link CreateMemberlistOptions} (a keyring travels as its key list).
 */
export type WorkerInit = Pick<
  CreateMemberlistOptions,
  'name' | 'bindAddr' | 'bindPort' | 'advertise' | 'profile' | 'timings' | 'secretKey' | 'label' | 'meta' | 'tags' | 'compress'
> & { keys?: Uint8Array[] };

/** Membership events forwarded from the engine. */
export type EngineEvent = 'join' | 'update' | 'leave' | 'fail' | 'suspect' | 'alive';

/** Worker → main. */
export type FromWorker =
  | { t: 'ready'; address: Address; members: Member[] }
  | { t: 'startError'; error: string }
  | { t: 'event'; ev: EngineEvent; member: Member; members: Member[]; at: number }
  | { t: 'conflict'; existing: Member; other: AliveMsg }
  | { t: 'refute'; kind: 'alive' | 'suspect' | 'dead'; incarnation: number }
  | { t: 'message'; payload: Uint8Array }
  | { t: 'reply'; id: number; ok: boolean; value?: unknown; error?: string };

/** Main → worker requests. */
export type ToWorker =
  | { t: 'join'; id: number; seeds: Array<Address | string> }
  | { t: 'leave'; id: number; timeoutMs?: number }
  | { t: 'close'; id: number }
  | { t: 'updateMeta'; id: number; meta: Uint8Array }
  | { t: 'broadcast'; id: number; payload: Uint8Array }
  | { t: 'stats'; id: number }
  | { t: 'members'; id: number };

/** What `stats` answers. */
export interface WorkerStats {
  memberlist: MemberlistStats;
  transport: TransportStats;
  healthScore: number;
  /** Largest gap between two consecutive worker event-loop ticks of 10 ms, ms (worker starvation). */
  maxLoopLagMs: number;
}
