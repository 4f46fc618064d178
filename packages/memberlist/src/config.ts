/**
 * Configuration: memberlist's DefaultLANConfig timings, version-vector profiles (serf vs MetalLB)
 * and a fast-LAN profile tuned for sub-second failure detection.
 */

/** Engine timings and limits (all durations in milliseconds). */
export interface Timings {
  /** Interval between probes (memberlist ProbeInterval). */
  probeInterval: number;
  /** Time to wait for a direct ack before going indirect (ProbeTimeout). */
  probeTimeout: number;
  /** Number of peers asked to ping indirectly (IndirectChecks). */
  indirectChecks: number;
  /** Broadcast retransmit multiplier (RetransmitMult). */
  retransmitMult: number;
  /** Suspicion timeout multiplier (SuspicionMult). */
  suspicionMult: number;
  /** Upper bound multiplier of the suspicion timeout (SuspicionMaxTimeoutMult). */
  suspicionMaxTimeoutMult: number;
  /** Gossip interval (GossipInterval). */
  gossipInterval: number;
  /** Peers per gossip round (GossipNodes). */
  gossipNodes: number;
  /** How long dead nodes still receive gossip (GossipToTheDeadTime). */
  gossipToTheDeadTime: number;
  /** Anti-entropy interval before cluster-size scaling (PushPullInterval); 0 disables. */
  pushPullInterval: number;
  /** Push/pull and TCP ping timeout (TCPTimeout). */
  tcpTimeout: number;
  /** Lifeguard awareness maximum multiplier (AwarenessMaxMultiplier). */
  awarenessMaxMultiplier: number;
  /** Disable the TCP fallback ping (DisableTcpPings). */
  disableTcpPings: boolean;
  /** Packet budget for piggybacked gossip (UDPBufferSize). */
  udpBufferSize: number;
  /** Time after which a dead node's name may be re-bound to a new address (0 = never). */
  deadNodeReclaimTime: number;
  /**
   * Partition heal (not in hashicorp/memberlist; serf's reconnect, but fast): every this many ms
   * the engine pings a few nodes it declared dead (not those that left) at their last address;
   * one that acks gets two push/pulls, which exchange the refutations, so both sides of a healed
   * partition see each other alive again within about one interval. 0 disables.
   */
  reconnectInterval: number;
  /** How long a failed node's address is kept for reconnect pings (ms; serf: 24 h). */
  reconnectTimeout: number;
}

/** Version vector and metadata advertised in alive messages. */
export interface Profile {
  /** memberlist protocol version in use (PCur). */
  protocolVersion: number;
  /** Delegate protocol min/max/current (serf: 2/5/5 (agent protocol), MetalLB: 0/0/0). */
  delegateMin: number;
  delegateMax: number;
  delegateVersion: number;
  /** Initial node metadata (serf: `0xff` + msgpack tags map). */
  meta: Uint8Array;
}

/** Supported memberlist protocol range. */
export const PROTOCOL_VERSION_MIN = 1;
/** Supported memberlist protocol range. */
export const PROTOCOL_VERSION_MAX = 5;

/** memberlist `DefaultLANConfig()` timings. */
export function defaultLANTimings(): Timings {
  return {
    probeInterval: 1000,
    probeTimeout: 500,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    gossipInterval: 200,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    pushPullInterval: 30_000,
    tcpTimeout: 10_000,
    awarenessMaxMultiplier: 8,
    disableTcpPings: false,
    udpBufferSize: 1400,
    deadNodeReclaimTime: 0,
    reconnectInterval: 1000,
    reconnectTimeout: 24 * 3600_000,
  };
}

/**
 * Fast-LAN timings: 100 ms probes, 40 ms direct timeout, SuspicionMult 3 (min suspicion 300 ms
 * for n ≤ 10, 600 ms at 100 nodes, 900 ms at 1000), gossip every 20 ms to 4 peers. Expected
 * detection ≈ 0.15 s probe + suspicion, i.e. sub-second up to ~100 nodes once confirmations
 * arrive. Needs RTT well below 40 ms (one L2 segment). False positives at 1 % loss are kept out
 * by indirect probes (3 relays), nacks, and Lifeguard suspicion (measured in the bench).
 */
export function fastLANTimings(): Timings {
  return {
    ...defaultLANTimings(),
    probeInterval: 100,
    probeTimeout: 40,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 6,
    gossipInterval: 20,
    gossipNodes: 4,
    gossipToTheDeadTime: 5_000,
    pushPullInterval: 15_000,
    tcpTimeout: 1_000,
    reconnectInterval: 100,
  };
}

/** serf agent profile: Vsn [1,5,2,2,5,5] and empty tags meta `ff 80`. */
export function serfProfile(): Profile {
  return { protocolVersion: 2, delegateMin: 2, delegateMax: 5, delegateVersion: 5, meta: Uint8Array.of(0xff, 0x80) };
}

/** MetalLB speaker profile: Vsn [1,5,2,0,0,0], no meta. */
export function metallbProfile(): Profile {
  return { protocolVersion: 2, delegateMin: 0, delegateMax: 0, delegateVersion: 0, meta: new Uint8Array(0) };
}

/** Builds the 6-byte version vector `[PMin, PMax, PCur, DMin, DMax, DCur]`. */
export function buildVsn(p: Profile): number[] {
  return [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, p.protocolVersion, p.delegateMin, p.delegateMax, p.delegateVersion];
}
