/**
 * RFC 4271 §8 finite state machine for one BGP connection, written as a pure state machine:
 * {@link BgpFsm.handle} takes an event and returns the actions the caller must perform (dial,
 * send a message, start/stop a timer, close). It never touches a socket or a clock itself, so it is
 * tested table-driven with fake timers.
 */
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { NotificationInfo } from '../codec/errors.js';
import { validateOpen, type OpenInfo } from './open-check.js';

/** The six RFC 4271 session states. */
export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** The FSM timers. `idleHold` delays the automatic restart after an error (exponential backoff). */
export type FsmTimer = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

/** A NOTIFICATION to send or that was received (the codec's type: code, subcode, optional data). */
export type { NotificationInfo } from '../codec/errors.js';

/** Messages the FSM asks its owner to send (the owner encodes them). */
export type OutMessage =
  | { kind: 'open'; holdTime: number }
  | { kind: 'keepalive' }
  | { kind: 'notification'; notification: NotificationInfo };

/** Inputs of the FSM (a subset of RFC 4271 §8.1 events 1–28, named after them). */
export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'AutomaticStart' }
  | { type: 'ManualStop'; notification?: NotificationInfo }
  | { type: 'ConnectRetryTimerExpires' }
  | { type: 'HoldTimerExpires' }
  | { type: 'KeepaliveTimerExpires' }
  | { type: 'IdleHoldTimerExpires' }
  | { type: 'TcpConnectionConfirmed' }
  | { type: 'TcpConnectionFails'; error?: string }
  | { type: 'BGPOpen'; open: OpenInfo }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg' }
  | { type: 'RouteRefreshMsg' }
  | { type: 'NotifMsg'; notification: NotificationInfo }
  /** A message could not be decoded; `notification` is what the decoder says to send. */
  | { type: 'DecodeError'; notification: NotificationInfo; message?: string }
  /** §6.8: this connection lost a collision and must be closed with Cease/7. */
  | { type: 'OpenCollisionDump' };

/** Outputs of the FSM, performed in order by the owner. */
export type FsmAction =
  | { type: 'connect' }
  | { type: 'send'; message: OutMessage }
  | { type: 'close' }
  | { type: 'startTimer'; timer: FsmTimer; ms: number }
  | { type: 'stopTimer'; timer: FsmTimer }
  | { type: 'established'; holdTime: number; open: OpenInfo }
  | { type: 'down'; reason: string; sent?: NotificationInfo; received?: NotificationInfo }
  | { type: 'deliver'; what: 'update' | 'route-refresh' };

/** Static configuration of one FSM. */
export interface FsmConfig {
  /** Our AS (4-octet allowed). */
  localAsn: number;
  /** The AS the peer must announce (2/2 otherwise). */
  peerAsn: number;
  /** Our BGP identifier as an unsigned 32-bit number (collision and 2/3 checks). */
  localId: number;
  /** Proposed hold time in seconds: 0 or ≥ 3. */
  holdTime: number;
  /** Keepalive interval in seconds; default holdTime / 3. */
  keepalive?: number;
  /** Connect (dial) timeout in seconds (the ConnectRetry timer in the Connect state). Default 5. */
  connectRetry?: number;
  /** Never dial; wait for the peer in Active. */
  passive?: boolean;
  /** Restart automatically after an error (default true). */
  autoRestart?: boolean;
  /** Reconnect backoff after errors. */
  backoff?: BackoffOptions;
  /** Source of randomness for jitter (tests inject a constant). */
  random?: () => number;
}

/** Hold timer used in OpenSent (RFC 4271 §8.2.2 suggests 4 minutes). */
export const OPEN_SENT_HOLD_SECONDS = 240;

/** RFC 4271 §8 state machine for one BGP peer connection. */
export class BgpFsm {
  /** Current state. */
  state: BgpState = 'Idle';
  /** Negotiated hold time in seconds (valid from OpenConfirm on). */
  negotiatedHold = 0;
  /** The peer's OPEN, once received. */
  peerOpen: OpenInfo | undefined;
  /** Consecutive failures since the last Established (drives the backoff). */
  failures = 0;
  private stopped = true;

  constructor(readonly config: FsmConfig) {}

  /** Keepalive interval in ms for a negotiated hold time. */
  private keepaliveMs(): number {
    const ka = this.config.keepalive !== undefined ? Math.min(this.config.keepalive, this.negotiatedHold / 3) : this.negotiatedHold / 3;
    return Math.max(1000, Math.floor(ka * 1000));
  }

  /** Feeds one event; returns the actions to perform. Unknown combinations are ignored or answered per §8.2.2. */
  handle(ev: FsmEvent): FsmAction[] {
    const a: FsmAction[] = [];
    const s = this.state;
    if (ev.type === 'ManualStart' || ev.type === 'AutomaticStart') {
      if (ev.type === 'ManualStart') {
        this.stopped = false;
        this.failures = 0;
      }
      if (s !== 'Idle' || this.stopped) return a;
      a.push({ type: 'stopTimer', timer: 'idleHold' });
      if (this.config.passive) {
        this.state = 'Active';
      } else {
        this.state = 'Connect';
        a.push({ type: 'startTimer', timer: 'connectRetry', ms: (this.config.connectRetry ?? 5) * 1000 });
        a.push({ type: 'connect' });
      }
      return a;
    }
    if (ev.type === 'ManualStop') {
      this.stopped = true;
      if (s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established') {
        const n = ev.notification ?? { code: 6, subcode: 2 };
        a.push({ type: 'send', message: { kind: 'notification', notification: n } });
        return this.toIdle(a, 'administrative stop', { sent: n, noRestart: true });
      }
      if (s === 'Idle') {
        a.push({ type: 'stopTimer', timer: 'idleHold' });
        return a;
      }
      return this.toIdle(a, 'administrative stop', { noRestart: true });
    }
    if (ev.type === 'IdleHoldTimerExpires') {
      return s === 'Idle' ? this.handle({ type: 'AutomaticStart' }) : a;
    }
    if (s === 'Idle') return a; // §8.2.2: other events in Idle are ignored

    switch (ev.type) {
      case 'TcpConnectionConfirmed':
        if (s !== 'Connect' && s !== 'Active') return a;
        a.push({ type: 'stopTimer', timer: 'connectRetry' });
        a.push({ type: 'send', message: { kind: 'open', holdTime: this.config.holdTime } });
        a.push({ type: 'startTimer', timer: 'hold', ms: OPEN_SENT_HOLD_SECONDS * 1000 });
        this.state = 'OpenSent';
        return a;
      case 'TcpConnectionFails':
        if (s === 'Active' && this.config.passive) return a; // a stray inbound socket failed: keep waiting
        return this.toIdle(a, `connection failed${ev.error ? `: ${ev.error}` : ''}`);
      case 'ConnectRetryTimerExpires':
        if (s !== 'Connect') return a;
        return this.toIdle(a, 'connect timeout');
      case 'HoldTimerExpires': {
        if (s !== 'OpenSent' && s !== 'OpenConfirm' && s !== 'Established') return a;
        const n = { code: 4, subcode: 0 };
        a.push({ type: 'send', message: { kind: 'notification', notification: n } });
        return this.toIdle(a, 'hold timer expired', { sent: n });
      }
      case 'KeepaliveTimerExpires':
        if (s !== 'OpenConfirm' && s !== 'Established') return a;
        a.push({ type: 'send', message: { kind: 'keepalive' } });
        a.push({ type: 'startTimer', timer: 'keepalive', ms: this.keepaliveMs() });
        return a;
      case 'BGPOpen': {
        if (s !== 'OpenSent') return this.fsmError(a, s);
        const err = validateOpen(ev.open, this.config);
        if (err) {
          a.push({ type: 'send', message: { kind: 'notification', notification: err.notification } });
          return this.toIdle(a, `bad OPEN: ${err.reason}`, { sent: err.notification });
        }
        this.peerOpen = ev.open;
        this.negotiatedHold = Math.min(this.config.holdTime, ev.open.holdTime);
        a.push({ type: 'send', message: { kind: 'keepalive' } });
        if (this.negotiatedHold > 0) {
          a.push({ type: 'startTimer', timer: 'keepalive', ms: this.keepaliveMs() });
          a.push({ type: 'startTimer', timer: 'hold', ms: this.negotiatedHold * 1000 });
        } else {
          a.push({ type: 'stopTimer', timer: 'hold' });
        }
        this.state = 'OpenConfirm';
        return a;
      }
      case 'KeepAliveMsg':
        if (s === 'OpenConfirm') {
          this.restartHold(a);
          this.state = 'Established';
          this.failures = 0;
          a.push({ type: 'established', holdTime: this.negotiatedHold, open: this.peerOpen! });
          return a;
        }
        if (s === 'Established') {
          this.restartHold(a);
          return a;
        }
        return this.fsmError(a, s);
      case 'UpdateMsg':
      case 'RouteRefreshMsg':
        if (s !== 'Established') return this.fsmError(a, s);
        this.restartHold(a);
        a.push({ type: 'deliver', what: ev.type === 'UpdateMsg' ? 'update' : 'route-refresh' });
        return a;
      case 'NotifMsg':
        return this.toIdle(a, `NOTIFICATION ${ev.notification.code}/${ev.notification.subcode} received`, {
          received: ev.notification,
        });
      case 'DecodeError':
        if (s === 'Connect' || s === 'Active') return this.toIdle(a, ev.message ?? 'decode error');
        a.push({ type: 'send', message: { kind: 'notification', notification: ev.notification } });
        return this.toIdle(a, `malformed message: ${ev.message ?? `${ev.notification.code}/${ev.notification.subcode}`}`, {
          sent: ev.notification,
        });
      case 'OpenCollisionDump': {
        const n = { code: 6, subcode: 7 };
        if (s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established') {
          a.push({ type: 'send', message: { kind: 'notification', notification: n } });
        }
        return this.toIdle(a, 'connection collision', { sent: n, noRestart: true });
      }
    }
    return a;
  }

  private restartHold(a: FsmAction[]): void {
    if (this.negotiatedHold > 0) a.push({ type: 'startTimer', timer: 'hold', ms: this.negotiatedHold * 1000 });
  }

  /** RFC 6608: unexpected message → NOTIFICATION 5/(1|2|3). */
  private fsmError(a: FsmAction[], s: BgpState): FsmAction[] {
    const sub = s === 'OpenSent' ? 1 : s === 'OpenConfirm' ? 2 : s === 'Established' ? 3 : 0;
    const n = { code: 5, subcode: sub };
    if (s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established') {
      a.push({ type: 'send', message: { kind: 'notification', notification: n } });
    }
    return this.toIdle(a, `unexpected message in ${s}`, { sent: n });
  }

  private toIdle(
    a: FsmAction[],
    reason: string,
    o: { sent?: NotificationInfo; received?: NotificationInfo; noRestart?: boolean } = {},
  ): FsmAction[] {
    const wasUp = this.state;
    for (const t of ['connectRetry', 'hold', 'keepalive'] as const) a.push({ type: 'stopTimer', timer: t });
    a.push({ type: 'close' });
    this.state = 'Idle';
    this.negotiatedHold = 0;
    this.peerOpen = undefined;
    const down: FsmAction = { type: 'down', reason };
    if (o.sent) down.sent = o.sent;
    if (o.received) down.received = o.received;
    if (wasUp !== 'Idle') a.push(down);
    if (!o.noRestart && !this.stopped && this.config.autoRestart !== false) {
      this.failures++;
      const ms = this.config.passive ? 0 : backoffDelay(this.failures, this.config.backoff, this.config.random);
      a.push({ type: 'startTimer', timer: 'idleHold', ms });
    }
    return a;
  }
}
