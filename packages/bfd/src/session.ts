/** One BFD session as the {@link BfdManager} runs it: its configuration, state machine and counters. */
import { DIAG_NAMES, STATE_NAMES, State } from './codec/constants.js';
import type { AuthKey } from './codec/auth.js';
import { BfdFsm } from './fsm.js';

/** What a session is configured with. */
export interface SessionConfig {
  /** Peer IP address (IPv4 or IPv6). */
  peer: string;
  /** Local address to send from (default: chosen by the kernel). */
  local?: string;
  /** RFC 5883 multihop session (port 4784) instead of RFC 5881 single hop (port 3784). */
  multihop?: boolean;
  /** Multihop only: minimum TTL accepted on receive (default 254, i.e. one hop away). */
  minimumTtl?: number;
  /** UDP port the peer listens on (default 3784 / 4784). */
  remotePort?: number;
  /** Desired minimum transmit interval, ms (default 300). */
  transmitInterval?: number;
  /** Required minimum receive interval, ms (default 300). */
  receiveInterval?: number;
  /** Detection multiplier (default 3). */
  detectMultiplier?: number;
  /** Passive role: wait for the peer to speak first. */
  passive?: boolean;
  /**
   * Required Min Echo RX Interval to advertise, ms (default 0: we do not loop the peer's echo
   * packets). Set it only when this node's kernel forwards them back (`net.ipv4.ip_forward=1`).
   */
  echoReceiveInterval?: number;
  /**
   * Echo function (single-hop IPv4 only): send our echo packets every `echoInterval` ms (or
   * slower, if the peer's RequiredMinEchoRx says so) once the session is Up; the router loops them
   * back and a missing echo for `detectMultiplier` intervals takes the session Down (diag 2).
   * Needs the optional package `@lbkit/afpacket` and CAP_NET_RAW. Default: off.
   */
  echoInterval?: number;
  /** Authentication (RFC 5880 §6.7). */
  auth?: AuthKey;
}

/** Packet counters of a session. */
export interface SessionStats {
  packetsIn: number;
  packetsOut: number;
  /** Packets for this session dropped by a §6.8.6 rule (authentication, discriminators). */
  dropped: number;
  upCount: number;
  downCount: number;
  /** Downs from our detection timer expiring (the peer's packets stopped or came late). */
  detectionTimeouts: number;
  /** Downs signalled by the peer (its own detection timer expired, or AdminDown). */
  peerSignalledDowns: number;
  /** Longest gap between two packets we sent while Up, ms (since the last reset). */
  maxTxGapMs: number;
  /** Longest gap between two packets received while Up, ms (since the last reset). */
  maxRxGapMs: number;
  /** Our echo packets sent, and received back looped by the peer. */
  echoOut: number;
  echoIn: number;
  /** Downs because our echo packets stopped coming back (diag 2). */
  echoFailures: number;
}

/** A snapshot for status pages and metrics. */
export interface SessionStatus {
  key: string;
  peer: string;
  local?: string;
  multihop: boolean;
  state: string;
  remoteState: string;
  diag: string;
  localDiscriminator: number;
  remoteDiscriminator: number;
  /** Negotiated intervals in ms. */
  txIntervalMs: number;
  detectionTimeMs: number;
  /** Echo function: `off`, `active` (our echo packets are being sent) or why it cannot run. */
  echo: string;
  stats: SessionStats;
}

/** The session key: hop type, local and peer address. */
export function sessionKey(c: Pick<SessionConfig, 'peer' | 'local' | 'multihop'>): string {
  return `${c.multihop ? 'mh' : 'sh'}|${c.local ?? '*'}|${c.peer}`;
}

/** A session's mutable state; created by {@link BfdManager.addSession}. */
export class BfdSession {
  readonly key: string;
  readonly fsm: BfdFsm;
  readonly stats: SessionStats = { packetsIn: 0, packetsOut: 0, dropped: 0, upCount: 0, downCount: 0, detectionTimeouts: 0, peerSignalledDowns: 0, maxTxGapMs: 0, maxRxGapMs: 0, echoOut: 0, echoIn: 0, echoFailures: 0 };
  /** @internal time of the last packet sent / received (ms, monotonic) */
  lastTxAt = 0;
  /** @internal */
  lastRxAt = 0;
  /** @internal when the next periodic packet is due (ms, monotonic; Infinity: none scheduled) */
  txAt = Infinity;
  /** @internal when the armed detection check runs (ms, monotonic; Infinity: not armed) */
  detectAt = Infinity;
  /** @internal detection checks postponed because the event loop was late */
  detectTries = 0;
  /** @internal base TX interval the periodic timer was armed with */
  txBase = Infinity;
  /** @internal when our next echo packet is due / the echo check runs (ms, monotonic) */
  echoTxAt = Infinity;
  /** @internal */
  echoDetectAt = Infinity;
  /** @internal echo sequence number */
  echoSeq = 0n;
  /** @internal why the echo function cannot run (set once), or undefined */
  echoUnavailable: string | undefined;

  /** @param config the session's configuration @param discriminator its local discriminator */
  constructor(
    readonly config: SessionConfig,
    discriminator: number,
  ) {
    this.key = sessionKey(config);
    const { echoInterval, ...rest } = config;
    this.fsm = new BfdFsm({ ...rest, ...(echoInterval ? { echoTransmitInterval: echoInterval } : {}), localDiscriminator: discriminator });
  }

  /** True while the session is Up. */
  get up(): boolean {
    return this.fsm.state === State.Up;
  }

  /** A snapshot of state, timers and counters. */
  status(): SessionStatus {
    const f = this.fsm;
    const s: SessionStatus = {
      key: this.key,
      peer: this.config.peer,
      multihop: !!this.config.multihop,
      state: STATE_NAMES[f.state],
      remoteState: STATE_NAMES[f.remoteState],
      diag: DIAG_NAMES[f.diag] ?? String(f.diag),
      localDiscriminator: f.localDiscr,
      remoteDiscriminator: f.remoteDiscr,
      txIntervalMs: f.txIntervalMs(),
      detectionTimeMs: f.detectionTimeMs(),
      echo: !this.config.echoInterval ? 'off' : this.echoUnavailable ?? (f.lastEchoRx !== undefined ? 'active' : 'waiting (session not Up, or the peer does not loop echo packets)'),
      stats: { ...this.stats },
    };
    if (this.config.local) s.local = this.config.local;
    return s;
  }
}
