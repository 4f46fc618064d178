/**
 * The RFC 5880 §6.8 session state machine, without I/O and without a clock: the caller passes
 * `now` (ms) and the decoded packets, asks {@link BfdFsm.nextPacket} what to send, and calls
 * {@link BfdFsm.checkDetection} when the detection deadline passes. Intervals are µs internally.
 *
 * Covers: Down/Init/Up/AdminDown transitions, detection time, slow start (≥ 1 s while not Up),
 * Poll/Final for timer changes (old values stay in force until the Final arrives when the change
 * could otherwise cause a false detection), passive role, transmit jitter, authentication with
 * the sequence window. Demand mode is not implemented: the D bit is never sent, and a peer asking
 * for it is answered in asynchronous mode (allowed by §6.6: demand is only active when both set D).
 */
import { AuthType, Diag, State } from './codec/constants.js';
import type { ControlPacket } from './codec/control.js';
import { isMeticulous, sequenceOk, verifyAuth, type AuthKey } from './codec/auth.js';

/** Timers and role of one session (milliseconds, as in MetalLB's BFDProfile). */
export interface FsmOptions {
  /** Local discriminator, non-zero and unique on this system. */
  localDiscriminator: number;
  /** Desired minimum transmit interval, ms (default 300). */
  transmitInterval?: number;
  /** Required minimum receive interval, ms (default 300). */
  receiveInterval?: number;
  /** Detection multiplier (default 3). */
  detectMultiplier?: number;
  /** Required Min Echo RX Interval advertised, ms (0: this system does not loop echo packets). */
  echoReceiveInterval?: number;
  /**
   * Desired interval of our own echo packets, ms (0 or absent: the echo function is off). Echo
   * packets go out only while Up and while the peer advertises a non-zero RequiredMinEchoRx, at the
   * slower of the two (RFC 5880 §6.8.9).
   */
  echoTransmitInterval?: number;
  /** Passive role: send nothing until the peer has spoken (RFC 5880 §6.1). */
  passive?: boolean;
  /** Authentication key; when set, every packet is signed and unsigned ones are dropped. */
  auth?: AuthKey;
}

/** A state change reported by the machine. */
export interface Transition {
  from: State;
  to: State;
  diag: Diag;
}

/** What a received packet did. */
export interface ReceiveResult {
  /** Why the packet was dropped (rule of §6.8.6), or undefined when accepted. */
  dropped?: string;
  transition?: Transition;
  /** Send a control packet now (a Final answering a Poll, or a state change). */
  sendNow: boolean;
}

const SLOW_TX = 1_000_000;
const ms = (v: number): number => Math.round(v * 1000);

/** One BFD session's state variables (RFC 5880 §6.8.1) and rules. */
export class BfdFsm {
  state: State = State.Down;
  remoteState: State = State.Down;
  readonly localDiscr: number;
  remoteDiscr = 0;
  diag: Diag = Diag.None;
  detectMult: number;
  /** Configured desired TX / required RX, µs. */
  private cfgTx: number;
  private cfgRx: number;
  /** Advertised values (in packets). */
  private advTx: number;
  private advRx: number;
  /** Values in force for timing (differ from advertised during a Poll sequence). */
  private effTx: number;
  private effRx: number;
  readonly echoRx: number;
  /** Our desired echo TX interval, µs (0: echo function off). */
  readonly echoTx: number;
  /** Time of the last looped echo packet received (ms), or when echo started; undefined when inactive. */
  lastEchoRx: number | undefined;
  remoteMinRx = 1;
  remoteMinTx = 0;
  remoteEchoRx = 0;
  remoteDetectMult = 0;
  remoteDemand = false;
  /** A Poll sequence is in progress (P bit set in what we send). */
  polling = false;
  private finalPending = false;
  /** Time of the last accepted packet (ms), undefined before the first. */
  lastRx: number | undefined;
  readonly passive: boolean;
  readonly auth: AuthKey | undefined;
  private xmitSeq: number;
  private rcvSeq = 0;
  private seqKnown = false;

  /** @param o discriminator, timers, role and key */
  constructor(o: FsmOptions) {
    if (!Number.isInteger(o.localDiscriminator) || o.localDiscriminator < 1 || o.localDiscriminator > 0xffffffff)
      throw new Error(`BFD session: localDiscriminator ${o.localDiscriminator} must be 1..2^32-1`);
    this.localDiscr = o.localDiscriminator;
    this.detectMult = o.detectMultiplier ?? 3;
    if (!Number.isInteger(this.detectMult) || this.detectMult < 1 || this.detectMult > 255) throw new Error(`BFD session: detectMultiplier ${this.detectMult} out of 1..255`);
    this.cfgTx = checkInterval(o.transmitInterval ?? 300, 'transmitInterval');
    this.cfgRx = checkInterval(o.receiveInterval ?? 300, 'receiveInterval');
    this.echoRx = o.echoReceiveInterval ? checkInterval(o.echoReceiveInterval, 'echoReceiveInterval') : 0;
    this.echoTx = o.echoTransmitInterval ? checkInterval(o.echoTransmitInterval, 'echoTransmitInterval') : 0;
    this.advTx = this.effTx = Math.max(this.cfgTx, SLOW_TX);
    this.advRx = this.effRx = this.cfgRx;
    this.passive = o.passive ?? false;
    this.auth = o.auth;
    this.xmitSeq = (Math.random() * 0x100000000) >>> 0;
  }

  /** Interval between our periodic packets before jitter, ms; Infinity when we must not send. */
  txIntervalMs(): number {
    if (this.remoteMinRx === 0) return Infinity;
    if (this.passive && this.remoteDiscr === 0) return Infinity;
    return Math.max(this.effTx, this.remoteMinRx) / 1000;
  }

  /**
   * Jittered interval for the next periodic packet (§6.8.7): 75–100 % of the interval, 75–90 %
   * when the detect multiplier is 1. `r` is a uniform random number in [0, 1).
   */
  jitteredTxMs(r = Math.random()): number {
    const t = this.txIntervalMs();
    return t * (0.75 + (this.detectMult === 1 ? 0.15 : 0.25) * r);
  }

  /**
   * Interval between our echo packets, ms: the slower of our desired echo interval and the peer's
   * RequiredMinEchoRx; Infinity when the echo function is off, the session not Up or the peer does
   * not loop echo packets (RequiredMinEchoRx 0).
   */
  echoTxIntervalMs(): number {
    if (this.echoTx === 0 || this.state !== State.Up || this.remoteEchoRx === 0) return Infinity;
    return Math.max(this.echoTx, this.remoteEchoRx) / 1000;
  }

  /** Echo detection time, ms: our multiplier × the echo interval (a local matter, §6.8.9). */
  echoDetectionTimeMs(): number {
    return this.detectMult * this.echoTxIntervalMs();
  }

  /** When the echo function fails unless a looped echo packet arrives, ms; Infinity if echo is not running. */
  echoDeadline(): number {
    if (this.lastEchoRx === undefined || !Number.isFinite(this.echoTxIntervalMs())) return Infinity;
    return this.lastEchoRx + this.echoDetectionTimeMs();
  }

  /** Echo packets start (or restart) at `now`: the echo detection time counts from here. */
  echoStarted(now: number): void {
    this.lastEchoRx = now;
  }

  /** Echo packets stopped (session left Up, peer stopped looping): no echo detection. */
  echoStopped(): void {
    this.lastEchoRx = undefined;
  }

  /** One of our echo packets came back looped by the peer. */
  echoReceived(now: number): void {
    if (this.lastEchoRx !== undefined) this.lastEchoRx = now;
  }

  /** Applies the echo detection time at `now`; returns the transition (Down, diag 2) when echo failed. */
  checkEchoDetection(now: number): Transition | undefined {
    return now < this.echoDeadline() ? undefined : this.detectionExpired(Diag.EchoFunctionFailed);
  }

  /** Detection time in ms (remote multiplier × max(our RX, their TX)); Infinity before any packet. */
  detectionTimeMs(): number {
    if (this.remoteDetectMult === 0) return Infinity;
    return (this.remoteDetectMult * Math.max(this.effRx, this.remoteMinTx)) / 1000;
  }

  /** When the session must be declared down unless a packet arrives, ms; Infinity if not running. */
  detectionDeadline(): number {
    if (this.lastRx === undefined || (this.state !== State.Up && this.state !== State.Init)) return Infinity;
    return this.lastRx + this.detectionTimeMs();
  }

  /** Applies the detection timer at `now`; returns the transition when the session went down. */
  checkDetection(now: number): Transition | undefined {
    return now < this.detectionDeadline() ? undefined : this.detectionExpired(Diag.ControlDetectionTimeExpired);
  }

  /** Down with `diag`; the peer is forgotten (§6.8.1: its discriminator zeroed) until it speaks again. */
  private detectionExpired(diag: Diag): Transition {
    const t = this.go(State.Down, diag);
    this.remoteDiscr = 0;
    this.remoteMinRx = 1;
    this.remoteState = State.Down;
    return t;
  }

  /**
   * Processes a decoded packet (§6.8.6 from the discriminator checks on). `raw` (the UDP payload)
   * is needed to verify a digest when authentication is configured.
   */
  receive(p: ControlPacket, now: number, raw?: Uint8Array): ReceiveResult {
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.localDiscr) return { dropped: 'Your Discriminator does not match', sendNow: false };
    if (p.yourDiscriminator === 0 && p.state !== State.Down && p.state !== State.AdminDown) return { dropped: 'Your Discriminator zero in a packet neither Down nor AdminDown', sendNow: false };
    if (this.auth) {
      if (!p.auth) return { dropped: 'authentication required, A bit clear', sendNow: false };
      if (!raw || !verifyAuth(raw, p, this.auth)) return { dropped: 'authentication failed', sendNow: false };
      if (p.auth.type !== AuthType.SimplePassword) {
        if (this.seqKnown && this.lastRx !== undefined && now - this.lastRx > 2 * this.detectionTimeMs()) this.seqKnown = false;
        if (this.seqKnown && !sequenceOk(p.auth.sequence, this.rcvSeq, this.detectMult, isMeticulous(p.auth.type)))
          return { dropped: 'authentication sequence number out of window', sendNow: false };
        this.rcvSeq = p.auth.sequence;
        this.seqKnown = true;
      }
    } else if (p.auth) return { dropped: 'A bit set, no authentication configured', sendNow: false };

    const hadRemote = this.remoteDiscr !== 0;
    this.remoteDiscr = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteDemand = p.demand;
    this.remoteMinRx = p.requiredMinRx;
    this.remoteMinTx = p.desiredMinTx;
    this.remoteEchoRx = p.requiredMinEchoRx;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.polling) {
      this.polling = false;
      this.effTx = this.advTx;
      this.effRx = this.advRx;
    }
    this.lastRx = now;
    let sendNow = p.poll || (this.passive && !hadRemote);
    if (p.poll) this.finalPending = true;
    if (this.state === State.AdminDown) return { dropped: 'session is AdminDown', sendNow: false };
    let transition: Transition | undefined;
    if (p.state === State.AdminDown) {
      if (this.state !== State.Down) transition = this.go(State.Down, Diag.NeighborSignaledSessionDown);
    } else if (this.state === State.Down) {
      if (p.state === State.Down) transition = this.go(State.Init, this.diag);
      else if (p.state === State.Init) transition = this.go(State.Up, Diag.None);
    } else if (this.state === State.Init) {
      if (p.state === State.Init || p.state === State.Up) transition = this.go(State.Up, Diag.None);
    } else if (p.state === State.Down) transition = this.go(State.Down, Diag.NeighborSignaledSessionDown);
    if (transition) sendNow = true;
    return transition ? { transition, sendNow } : { sendNow };
  }

  /** The next control packet to send; consumes a pending Final. Sign it with {@link authSequence}. */
  nextPacket(): ControlPacket {
    const final = this.finalPending;
    this.finalPending = false;
    return {
      diag: this.diag,
      state: this.state,
      poll: this.polling && !final,
      final,
      cpi: false,
      demand: false,
      detectMult: this.detectMult,
      myDiscriminator: this.localDiscr,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTx: this.advTx,
      requiredMinRx: this.advRx,
      requiredMinEchoRx: this.echoRx,
    };
  }

  /** The sequence number for the next signed packet (incremented for every packet). */
  authSequence(): number {
    this.xmitSeq = (this.xmitSeq + 1) >>> 0;
    return this.xmitSeq;
  }

  /**
   * Changes the timers (ms). While the session is up a Poll sequence starts; a slower TX or a
   * faster RX takes effect only when the peer's Final arrives (§6.8.3).
   */
  setTimers(t: { transmitInterval?: number; receiveInterval?: number; detectMultiplier?: number }): void {
    if (t.detectMultiplier !== undefined) {
      if (!Number.isInteger(t.detectMultiplier) || t.detectMultiplier < 1 || t.detectMultiplier > 255) throw new Error(`BFD session: detectMultiplier ${t.detectMultiplier} out of 1..255`);
      this.detectMult = t.detectMultiplier;
    }
    if (t.transmitInterval !== undefined) this.cfgTx = checkInterval(t.transmitInterval, 'transmitInterval');
    if (t.receiveInterval !== undefined) this.cfgRx = checkInterval(t.receiveInterval, 'receiveInterval');
    this.applyTimers(this.state === State.Up ? this.cfgTx : Math.max(this.cfgTx, SLOW_TX), this.cfgRx);
  }

  private applyTimers(tx: number, rx: number): void {
    if (tx === this.advTx && rx === this.advRx) return;
    const live = this.state === State.Up || this.state === State.Init;
    this.advTx = tx;
    this.advRx = rx;
    if (!live) {
      this.effTx = tx;
      this.effRx = rx;
      return;
    }
    // faster TX and slower RX are safe at once; the others wait for the Final
    if (tx < this.effTx) this.effTx = tx;
    if (rx > this.effRx) this.effRx = rx;
    this.polling = true;
  }

  /** Takes the session administratively down (Diag 7): the peer sees AdminDown, not a failure. */
  adminDown(diag: Diag = Diag.AdministrativelyDown): Transition | undefined {
    if (this.state === State.AdminDown) return undefined;
    return this.go(State.AdminDown, diag);
  }

  /** Leaves AdminDown (to Down). */
  adminUp(): Transition | undefined {
    if (this.state !== State.AdminDown) return undefined;
    return this.go(State.Down, Diag.None);
  }

  private go(to: State, diag: Diag): Transition {
    const from = this.state;
    this.state = to;
    this.diag = diag;
    if (to !== State.Up) this.lastEchoRx = undefined;
    if (to === State.Up) this.applyTimers(this.cfgTx, this.cfgRx);
    else if (from === State.Up || to === State.AdminDown || to === State.Down) {
      // slow start again while not Up (§6.8.3)
      this.polling = false;
      this.advTx = this.effTx = Math.max(this.cfgTx, SLOW_TX);
      this.advRx = this.effRx = this.cfgRx;
    }
    return { from, to, diag };
  }
}

function checkInterval(v: number, field: string): number {
  if (!Number.isFinite(v) || v < 1 || v > 60_000) throw new Error(`BFD session: ${field} ${v} ms out of 1..60000`);
  return ms(v);
}
