/**
 * @packageDocumentation
 * @lbkit/memberlist: SWIM + Lifeguard cluster membership modelled on hashicorp/memberlist, with a
 * deterministic in-memory simulation.
 */
export { Memberlist, pushPullScale } from './memberlist.js';
export type { Delegate, MemberlistEvents, MemberlistOptions, MemberlistStats } from './memberlist.js';
export {
  buildVsn,
  defaultLANTimings,
  fastLANTimings,
  metallbProfile,
  serfProfile,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
} from './config.js';
export type { Profile, Timings } from './config.js';
export { realClock, seededRandom } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { NodeStateType, estimateSize } from './engine/messages.js';
export type {
  AckMsg,
  AliveMsg,
  DeadMsg,
  IndirectPingMsg,
  Message,
  NackMsg,
  PingMsg,
  PushNodeState,
  PushPull,
  SuspectMsg,
  UserMsg,
} from './engine/messages.js';
export { addrKey } from './engine/transport.js';
export type { Address, EngineTransport } from './engine/transport.js';
export { Awareness } from './state/awareness.js';
export { BroadcastQueue, retransmitLimit } from './state/broadcast-queue.js';
export type { Broadcast } from './state/broadcast-queue.js';
export { Suspicion, suspicionTimeout, remainingSuspicionTimeout } from './state/suspicion.js';
export { verifyProtocol, bytesEqual, isDeadOrLeft } from './state/nodes.js';
export type { Member, NodeState } from './state/nodes.js';
export { VirtualClock } from './sim/virtual-clock.js';
export { SimNetwork, SimTransport } from './sim/network.js';
export type { Endpoint, SimNetworkOptions, SimNetworkStats } from './sim/network.js';
export { SimCluster } from './sim/cluster.js';
export type { SimClusterOptions } from './sim/cluster.js';
export { createMemberlist, parseAddress } from './create.js';
export type { CreateMemberlistOptions, NetMemberlist } from './create.js';
export { createMemberlistWorker, defaultWorkerUrl, MemberlistWorker } from './worker/host.js';
export type { CreateMemberlistWorkerOptions, MemberlistWorkerEvents } from './worker/host.js';
export type { WorkerStats } from './worker/protocol.js';
export { NetTransport } from './net/transport.js';
export type { NetTransportOptions, TransportStats } from './net/transport.js';
export { Keyring, metallbKey, metallbSecretToKey } from './security/keyring.js';
export type { EncryptionVersion } from './security/keyring.js';
export { SerfDelegate } from './serf/delegate.js';
export type { SerfDelegateOptions } from './serf/delegate.js';
export {
  SERF_TAG_MAGIC,
  SerfMessageType,
  decodeSerfClocks,
  decodeSerfTags,
  encodeSerfJoin,
  encodeSerfLeave,
  encodeSerfPushPull,
  encodeSerfTags,
} from './serf/codec.js';
export type { SerfClocks, SerfIntent } from './serf/codec.js';
export type { StreamMessage } from './wire/index.js';
