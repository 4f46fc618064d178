/**
 * Binds one {@link BgpFsm} to a TCP socket and real timers: performs the FSM's actions, frames and
 * decodes incoming bytes into FSM events. Malformed input becomes a `DecodeError` event (the FSM
 * sends the decoder's NOTIFICATION and closes), never an exception.
 */
import type net from 'node:net';
import { BgpFsm, type FsmAction, type FsmConfig, type FsmEvent, type FsmTimer, type NotificationInfo, type BgpState } from './fsm.js';
import type { OpenInfo } from './open-check.js';
import { decodeUpdate, type ReceivedUpdate } from './update.js';
import {
  decodeNotification,
  decodeOpen,
  decodeRouteRefresh,
  encodeNotification,
  encodeOpen,
  Framer,
  KEEPALIVE,
  MSG,
  WireError,
} from './wire.js';

/** Callbacks from a connection to its owner (the peer). */
export interface ConnectionHooks {
  /** Opens the outgoing TCP connection (FSM action `connect`). */
  dial(): net.Socket;
  /** Fields of our OPEN besides the hold time. */
  openParams(): { asn: number; bgpId: number; families: string[]; gracefulRestart?: { restartTime: number } | undefined; as4?: boolean | undefined };
  /** Called for every state change. */
  onState(c: Connection, from: BgpState, to: BgpState): void;
  /** Called before an OPEN is fed to the FSM; return false to drop it (collision handled elsewhere). */
  onOpen(c: Connection, open: OpenInfo): boolean;
  onEstablished(c: Connection, holdTime: number, open: OpenInfo): void;
  onDown(c: Connection, reason: string, sent?: NotificationInfo, received?: NotificationInfo & { text?: string }): void;
  onUpdate(c: Connection, u: ReceivedUpdate): void;
  onRouteRefresh(c: Connection, family: string): void;
  onNotificationSent(c: Connection, n: NotificationInfo): void;
  /** Counts every message in/out. */
  onMessage(c: Connection, dir: 'in' | 'out', type: number): void;
  onError(c: Connection, err: Error): void;
  /** Our addresses besides the socket's local one (e.g. a configured IPv6 next hop): received routes with these next hops are ignored. */
  ownAddresses?(c: Connection): string[];
}

/** One TCP connection (or connection attempt) of a peer, with its own FSM and timers. */
export class Connection {
  readonly fsm: BgpFsm;
  socket: net.Socket | undefined;
  private framer = new Framer();
  private timers = new Map<FsmTimer, NodeJS.Timeout>();
  private pendingUpdate: ReceivedUpdate | undefined;
  private pendingRefresh = '';
  private lastNotification: (NotificationInfo & { text?: string }) | undefined;

  constructor(
    config: FsmConfig,
    private readonly hooks: ConnectionHooks,
    /** True when this connection was accepted from the listener. */
    readonly inbound = false,
  ) {
    this.fsm = new BgpFsm(config);
  }

  /** Both sides advertised the 4-octet AS capability (RFC 6793): AS numbers in AS_PATH take 4 octets. */
  get as4(): boolean {
    return (this.fsm.peerOpen?.capabilities.includes(65) ?? false) && this.hooks.openParams().as4 !== false;
  }

  /** Current FSM state. */
  get state(): BgpState {
    return this.fsm.state;
  }

  /** Feeds an event to the FSM and performs the resulting actions. */
  dispatch(ev: FsmEvent): void {
    const from = this.fsm.state;
    let actions: FsmAction[];
    try {
      actions = this.fsm.handle(ev);
    } catch (e) {
      this.hooks.onError(this, e as Error);
      return;
    }
    const to = this.fsm.state;
    if (from !== to) this.hooks.onState(this, from, to);
    for (const a of actions) this.perform(a);
  }

  /** Adopts an already-connected inbound socket and tells the FSM. */
  adopt(socket: net.Socket): void {
    this.attach(socket);
    this.dispatch({ type: 'TcpConnectionConfirmed' });
  }

  /** Writes raw bytes on the session socket (UPDATEs from the speaker). Returns false when buffered. */
  write(buf: Buffer, type: number): boolean {
    if (!this.socket || this.socket.destroyed) return false;
    this.hooks.onMessage(this, 'out', type);
    return this.socket.write(buf);
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.framer = new Framer();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(socket, d));
    socket.on('error', (e) => {
      if (this.socket === socket) this.dispatch({ type: 'TcpConnectionFails', error: e.message });
    });
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.dispatch({ type: 'TcpConnectionFails', error: 'connection closed by peer' });
      }
    });
  }

  private perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect': {
        try {
          const s = this.hooks.dial();
          this.attach(s);
          s.once('connect', () => {
            if (this.socket === s) this.dispatch({ type: 'TcpConnectionConfirmed' });
          });
        } catch (e) {
          this.hooks.onError(this, e as Error);
          setImmediate(() => this.dispatch({ type: 'TcpConnectionFails', error: (e as Error).message }));
        }
        return;
      }
      case 'send': {
        const m = a.message;
        if (m.kind === 'open') this.write(encodeOpen({ ...this.hooks.openParams(), holdTime: m.holdTime }), MSG.OPEN);
        else if (m.kind === 'keepalive') this.write(KEEPALIVE, MSG.KEEPALIVE);
        else {
          this.write(encodeNotification(m.notification), MSG.NOTIFICATION);
          this.hooks.onNotificationSent(this, m.notification);
        }
        return;
      }
      case 'close': {
        const s = this.socket;
        this.socket = undefined;
        if (s) {
          s.end();
          setTimeout(() => s.destroy(), 2000).unref();
        }
        return;
      }
      case 'startTimer': {
        clearTimeout(this.timers.get(a.timer));
        const ev: FsmEvent['type'] =
          a.timer === 'hold'
            ? 'HoldTimerExpires'
            : a.timer === 'keepalive'
              ? 'KeepaliveTimerExpires'
              : a.timer === 'connectRetry'
                ? 'ConnectRetryTimerExpires'
                : 'IdleHoldTimerExpires';
        this.timers.set(
          a.timer,
          setTimeout(() => {
            this.timers.delete(a.timer);
            this.dispatch({ type: ev } as FsmEvent);
          }, a.ms),
        );
        return;
      }
      case 'stopTimer':
        clearTimeout(this.timers.get(a.timer));
        this.timers.delete(a.timer);
        return;
      case 'established':
        this.hooks.onEstablished(this, a.holdTime, a.open);
        return;
      case 'down': {
        const rec = a.received ? this.lastNotification : undefined;
        this.hooks.onDown(this, a.reason, a.sent, rec);
        return;
      }
      case 'deliver':
        if (a.what === 'update' && this.pendingUpdate) this.hooks.onUpdate(this, this.pendingUpdate);
        if (a.what === 'route-refresh') this.hooks.onRouteRefresh(this, this.pendingRefresh);
        this.pendingUpdate = undefined;
        return;
    }
  }

  private onData(socket: net.Socket, d: Buffer): void {
    if (this.socket !== socket) return;
    let msgs: { type: number; body: Buffer }[];
    try {
      msgs = this.framer.push(d);
    } catch (e) {
      const w = e as WireError;
      this.dispatch({ type: 'DecodeError', notification: w.notification ?? { code: 1, subcode: 1 }, message: w.message });
      return;
    }
    for (const m of msgs) {
      if (this.socket !== socket) return; // closed by a previous message
      this.hooks.onMessage(this, 'in', m.type);
      try {
        this.onMessage(m.type, m.body);
      } catch (e) {
        if (e instanceof WireError) {
          this.dispatch({ type: 'DecodeError', notification: e.notification, message: e.message });
        } else {
          this.hooks.onError(this, e as Error);
          this.dispatch({ type: 'DecodeError', notification: { code: 6, subcode: 8 }, message: (e as Error).message });
        }
      }
    }
  }

  private onMessage(type: number, body: Buffer): void {
    switch (type) {
      case MSG.OPEN: {
        const open = decodeOpen(body);
        if (!this.hooks.onOpen(this, open)) return;
        this.dispatch({ type: 'BGPOpen', open });
        return;
      }
      case MSG.KEEPALIVE:
        this.dispatch({ type: 'KeepAliveMsg' });
        return;
      case MSG.UPDATE: {
        if (this.fsm.state !== 'Established') {
          this.dispatch({ type: 'UpdateMsg' }); // FSM error 5/x
          return;
        }
        const as4 = this.as4;
        const ibgp = this.fsm.config.localAsn === this.fsm.config.peerAsn;
        const own = this.hooks.ownAddresses?.(this) ?? [];
        const local = this.socket?.localAddress;
        this.pendingUpdate = decodeUpdate(body, as4, { ibgp, ownAddresses: local ? [local, ...own] : own });
        this.dispatch({ type: 'UpdateMsg' });
        return;
      }
      case MSG.NOTIFICATION: {
        this.lastNotification = decodeNotification(body);
        this.dispatch({ type: 'NotifMsg', notification: this.lastNotification });
        return;
      }
      case MSG.ROUTE_REFRESH:
        this.pendingRefresh = decodeRouteRefresh(body);
        this.dispatch({ type: 'RouteRefreshMsg' });
        return;
    }
  }

  /** Stops every timer (used when the connection object is discarded). */
  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.socket) {
      this.socket.destroy();
      this.socket = undefined;
    }
  }
}
