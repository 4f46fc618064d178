/**
 * Runs many BFD sessions over a handful of UDP sockets: one receive socket per address family
 * and hop type (3784 single hop, 4784 multihop, with a kernel TTL filter), and one transmit socket
 * per family and local address, bound to a source port in 49152–65535 shared by its sessions
 * (RFC 5881 §4: one source port per session; sharing it is allowed). Packets are demultiplexed by
 * Your Discriminator, or by peer address while the peer does not know ours yet.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { encodeSigned } from './codec/auth.js';
import { PORT_MULTIHOP, PORT_SINGLE_HOP, SOURCE_PORT_MAX, SOURCE_PORT_MIN, State } from './codec/constants.js';
import { decode, encode } from './codec/control.js';
import { checkKey } from './codec/auth.js';
import type { Transition } from './fsm.js';
import { BfdSession, sessionKey, type SessionConfig, type SessionStatus } from './session.js';
import { attachTtlFilter, setReceiveBuffer } from './ttl-filter.js';

/** Options of {@link BfdManager}. */
export interface ManagerOptions {
  /** Ports to listen on (defaults 3784 and 4784; tests on loopback use others). */
  ports?: { singleHop?: number; multihop?: number };
  /** Address to bind the receive sockets to (default all). */
  listenAddress?: { v4?: string; v6?: string };
  /** Source port range of transmit sockets (default 49152–65535). */
  sourcePorts?: [number, number];
  /** Enforce TTL 255 (single hop) / minimumTtl (multihop) on receive with a BPF filter (default true). */
  ttlCheck?: boolean;
  /** Receive buffer of the receive sockets, bytes (default 8 MiB; beyond rmem_max when privileged). */
  receiveBufferBytes?: number;
}

/** A state change, as emitted. */
export interface StateEvent extends Transition {
  session: BfdSession;
  /** The peer told us it is administratively down (RFC 5882: not a path failure). */
  peerAdminDown: boolean;
}

/** Events of {@link BfdManager}. */
export interface ManagerEvents {
  /** Any state change. */
  state: (e: StateEvent) => void;
  /** The session reached Up. */
  up: (session: BfdSession) => void;
  /** The session left Up (detection time expired, neighbour signalled down, or admin down). */
  down: (e: StateEvent) => void;
  /** Socket errors; never thrown. */
  error: (err: Error) => void;
}

/** Manager-wide counters. */
export interface ManagerStats {
  packetsIn: number;
  packetsOut: number;
  /** Undecodable packets (bad version, length, multiplier, discriminator...). */
  malformed: number;
  /** Packets that matched no session. */
  unmatched: number;
  sendErrors: number;
}

type Hop = 'sh' | 'mh';

/** The BFD engine: add sessions, listen to `up`/`down`. */
export class BfdManager extends EventEmitter<ManagerEvents> {
  private readonly byKey = new Map<string, BfdSession>();
  private readonly byDiscr = new Map<number, BfdSession>();
  /** `hop|peer` → sessions, for packets whose Your Discriminator is still 0 */
  private readonly byPeer = new Map<string, BfdSession[]>();
  private readonly rx = new Map<string, dgram.Socket>();
  /** receive socket id → the TTL its filter requires (the lowest minimumTtl of its sessions) */
  private readonly rxTtl = new Map<string, number>();
  private readonly tx = new Map<string, dgram.Socket>();
  private nextDiscr = ((Math.random() * 0x7fff0000) >>> 0) + 1;
  private closed = false;
  /** Manager-wide packet counters. */
  readonly stats: ManagerStats = { packetsIn: 0, packetsOut: 0, malformed: 0, unmatched: 0, sendErrors: 0 };

  /** @param opts ports, TTL check, source port range */
  constructor(private readonly opts: ManagerOptions = {}) {
    super();
  }

  /** Adds a session (or returns the existing one with the same hop type, local and peer address). */
  addSession(c: SessionConfig): BfdSession {
    if (this.closed) throw new Error('BFD manager is stopped');
    if (!net.isIP(c.peer)) throw new Error(`BFD session: peer ${JSON.stringify(c.peer)} is not an IP address`);
    if (c.local !== undefined && net.isIP(c.local) !== net.isIP(c.peer)) throw new Error(`BFD session ${c.peer}: local ${c.local} is not of the peer's family`);
    if (c.auth) checkKey(c.auth, `BFD session ${c.peer}: auth`);
    if (c.minimumTtl !== undefined && (!Number.isInteger(c.minimumTtl) || c.minimumTtl < 1 || c.minimumTtl > 255)) throw new Error(`BFD session ${c.peer}: minimumTtl ${c.minimumTtl} out of 1..255`);
    const key = sessionKey(c);
    const old = this.byKey.get(key);
    if (old) return old;
    while (this.byDiscr.has(this.nextDiscr) || this.nextDiscr === 0) this.nextDiscr = (this.nextDiscr + 1) >>> 0;
    const s = new BfdSession(c, this.nextDiscr);
    this.nextDiscr = (this.nextDiscr + 1) >>> 0;
    const fam = net.isIP(c.peer) as 4 | 6;
    const hop: Hop = c.multihop ? 'mh' : 'sh';
    this.rxSocket(fam, hop, c.multihop ? (c.minimumTtl ?? 254) : 255);
    this.txSocket(fam, c.local);
    this.byKey.set(key, s);
    this.byDiscr.set(s.fsm.localDiscr, s);
    const pk = `${hop}|${c.peer}`;
    this.byPeer.set(pk, [...(this.byPeer.get(pk) ?? []), s]);
    this.armTx(s);
    return s;
  }

  /** The session with this key ({@link sessionKey}), if any. */
  session(key: string): BfdSession | undefined {
    return this.byKey.get(key);
  }

  /** Finds a session by peer address (and hop type). */
  find(peer: string, multihop = false): BfdSession | undefined {
    return this.byPeer.get(`${multihop ? 'mh' : 'sh'}|${peer}`)?.[0];
  }

  /** All sessions. */
  sessions(): BfdSession[] {
    return [...this.byKey.values()];
  }

  /** Status snapshots of every session. */
  status(): SessionStatus[] {
    return this.sessions().map((s) => s.status());
  }

  /** Removes a session; the peer is first told AdminDown so it does not report a failure. */
  removeSession(key: string): void {
    const s = this.byKey.get(key);
    if (!s) return;
    const t = s.fsm.adminDown();
    if (t) this.transition(s, t);
    this.send(s);
    this.drop(s);
  }

  /** Puts a session administratively down (it keeps sending AdminDown) or back up. */
  setAdminDown(key: string, down: boolean): void {
    const s = this.byKey.get(key);
    if (!s) return;
    const t = down ? s.fsm.adminDown() : s.fsm.adminUp();
    if (!t) return;
    this.transition(s, t);
    this.send(s);
    this.armTx(s);
  }

  /** Changes a session's timers (a Poll sequence runs while the session is Up). */
  setTimers(key: string, t: { transmitInterval?: number; receiveInterval?: number; detectMultiplier?: number }): void {
    const s = this.byKey.get(key);
    if (!s) return;
    s.fsm.setTimers(t);
    this.send(s);
    this.armTx(s);
  }

  /** Resets the per-session gap maxima (`maxTxGapMs`, `maxRxGapMs`), e.g. at the start of a measurement. */
  resetGaps(): void {
    for (const s of this.byKey.values()) s.stats.maxTxGapMs = s.stats.maxRxGapMs = 0;
  }

  /** Sends AdminDown on every session, then closes the sockets. */
  async stop(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.byKey.values()]) this.removeSession(s.key);
    this.closed = true;
    // let the AdminDown datagrams leave before closing
    await new Promise((r) => setImmediate(r));
    const socks = [...this.rx.values(), ...this.tx.values()];
    this.rx.clear();
    this.tx.clear();
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private drop(s: BfdSession): void {
    clearTimeout(s.txTimer);
    clearTimeout(s.detectTimer);
    s.txTimer = s.detectTimer = undefined;
    this.byKey.delete(s.key);
    this.byDiscr.delete(s.fsm.localDiscr);
    const pk = `${s.config.multihop ? 'mh' : 'sh'}|${s.config.peer}`;
    const rest = (this.byPeer.get(pk) ?? []).filter((x) => x !== s);
    if (rest.length) this.byPeer.set(pk, rest);
    else this.byPeer.delete(pk);
  }

  private rxSocket(fam: 4 | 6, hop: Hop, minTtl: number): void {
    const id = `${fam}|${hop}`;
    const cur = this.rxTtl.get(id);
    if (cur !== undefined && minTtl < cur) {
      // a session accepting a lower TTL joined: widen the socket's filter (SO_ATTACH_FILTER replaces it)
      this.rxTtl.set(id, minTtl);
      const old = this.rx.get(id)!;
      if (this.opts.ttlCheck !== false && old.listenerCount('listening') > 0)
        try {
          attachTtlFilter(old, fam, minTtl);
        } catch {
          /* not bound yet: the listening handler attaches the current value */
        }
    }
    if (this.rx.has(id)) return;
    this.rxTtl.set(id, minTtl);
    const sock = dgram.createSocket({ type: fam === 4 ? 'udp4' : 'udp6', ipv6Only: fam === 6 });
    this.rx.set(id, sock);
    const port = hop === 'sh' ? (this.opts.ports?.singleHop ?? PORT_SINGLE_HOP) : (this.opts.ports?.multihop ?? PORT_MULTIHOP);
    sock.on('error', (e) => this.emit('error', e));
    sock.on('message', (m, r) => this.onMessage(m, r.address, hop));
    sock.on('listening', () => {
      try {
        // room for ~40k control packets: bursts from many sessions while the event loop is busy
        setReceiveBuffer(sock, this.opts.receiveBufferBytes ?? 8 << 20);
        if (this.opts.ttlCheck !== false) attachTtlFilter(sock, fam, this.rxTtl.get(id) ?? minTtl);
      } catch (e) {
        this.emit('error', e as Error);
      }
    });
    sock.bind({ port, address: fam === 4 ? (this.opts.listenAddress?.v4 ?? '0.0.0.0') : (this.opts.listenAddress?.v6 ?? '::') });
  }

  private txSocket(fam: 4 | 6, local: string | undefined): dgram.Socket {
    const id = `${fam}|${local ?? '*'}`;
    let sock = this.tx.get(id);
    if (sock) return sock;
    const s = dgram.createSocket({ type: fam === 4 ? 'udp4' : 'udp6', ipv6Only: fam === 6 });
    sock = s;
    this.tx.set(id, s);
    const [lo, hi] = this.opts.sourcePorts ?? [SOURCE_PORT_MIN, SOURCE_PORT_MAX];
    let tries = 0;
    const tryBind = (): void => {
      const port = lo + Math.floor(Math.random() * (hi - lo + 1));
      s.bind({ port, address: local ?? (fam === 4 ? '0.0.0.0' : '::'), exclusive: true });
    };
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE' && e.syscall === 'bind' && ++tries < 32) return tryBind();
      this.emit('error', e);
    });
    s.on('listening', () => {
      s.setTTL(255);
    });
    // peers send to 3784/4784, never to this port: nothing to read here
    tryBind();
    return s;
  }

  private onMessage(m: Buffer, from: string, hop: Hop): void {
    this.stats.packetsIn++;
    let p;
    try {
      p = decode(m);
    } catch {
      this.stats.malformed++;
      return;
    }
    const fromAddr = from.startsWith('::ffff:') ? from.slice(7) : from;
    let s: BfdSession | undefined;
    if (p.yourDiscriminator !== 0) {
      s = this.byDiscr.get(p.yourDiscriminator);
      if (s && (s.config.peer !== fromAddr || !!s.config.multihop !== (hop === 'mh'))) s = undefined;
    } else s = this.find(fromAddr, hop === 'mh');
    if (!s) {
      this.stats.unmatched++;
      return;
    }
    const now = performance.now();
    const r = s.fsm.receive(p, now, m);
    if (r.dropped) {
      s.stats.dropped++;
      return;
    }
    s.stats.packetsIn++;
    if (s.fsm.state === State.Up && s.lastRxAt > 0) s.stats.maxRxGapMs = Math.max(s.stats.maxRxGapMs, now - s.lastRxAt);
    s.lastRxAt = now;
    if (r.transition) this.transition(s, r.transition);
    if (r.sendNow) this.send(s);
    if (s.fsm.txIntervalMs() !== s.txBase) this.armTx(s);
    this.armDetect(s, now);
  }

  private transition(s: BfdSession, t: Transition): void {
    s.lastTxAt = s.lastRxAt = 0; // gaps are measured within one Up period only
    const e: StateEvent = { ...t, session: s, peerAdminDown: s.fsm.remoteState === State.AdminDown };
    if (t.to === State.Up) s.stats.upCount++;
    if (t.from === State.Up) {
      s.stats.downCount++;
      if (t.diag === 1) s.stats.detectionTimeouts++;
      else if (t.diag === 3) s.stats.peerSignalledDowns++;
    }
    this.emit('state', e);
    if (t.to === State.Up) this.emit('up', s);
    else if (t.from === State.Up) this.emit('down', e);
  }

  private send(s: BfdSession): void {
    if (this.closed) return;
    const f = s.fsm;
    const p = f.nextPacket();
    let buf: Buffer;
    try {
      buf = f.auth ? encodeSigned(p, f.auth, f.authSequence()) : encode(p);
    } catch (e) {
      this.emit('error', e as Error);
      return;
    }
    const c = s.config;
    const sock = this.txSocket(net.isIP(c.peer) as 4 | 6, c.local);
    s.stats.packetsOut++;
    this.stats.packetsOut++;
    const now = performance.now();
    if (f.state === State.Up && s.lastTxAt > 0) s.stats.maxTxGapMs = Math.max(s.stats.maxTxGapMs, now - s.lastTxAt);
    s.lastTxAt = now;
    try {
      sock.send(buf, c.remotePort ?? (c.multihop ? PORT_MULTIHOP : PORT_SINGLE_HOP), c.peer, (err) => {
        if (err) this.stats.sendErrors++;
      });
    } catch (e) {
      this.stats.sendErrors++;
      this.emit('error', e as Error);
    }
  }

  private armTx(s: BfdSession): void {
    clearTimeout(s.txTimer);
    s.txTimer = undefined;
    s.txBase = s.fsm.txIntervalMs();
    if (!Number.isFinite(s.txBase) || this.closed) return;
    const tick = (): void => {
      s.txTimer = undefined;
      if (!this.byKey.has(s.key)) return;
      this.send(s);
      s.txBase = s.fsm.txIntervalMs();
      if (Number.isFinite(s.txBase)) s.txTimer = setTimeout(tick, s.fsm.jitteredTxMs());
    };
    // the first packet goes out at once when nothing was sent yet, else after a jittered interval
    s.txTimer = setTimeout(tick, s.stats.packetsOut === 0 ? 0 : s.fsm.jitteredTxMs());
  }

  private armDetect(s: BfdSession, now: number): void {
    const at = s.fsm.detectionDeadline();
    if (!Number.isFinite(at)) return;
    if (s.detectTimer && s.detectAt <= at) return;
    clearTimeout(s.detectTimer);
    s.detectAt = at;
    s.detectTimer = setTimeout(() => this.onDetect(s, at, 0), Math.max(0, at - now) + 1);
  }

  /**
   * The detection timer fired. Timers run before the poll phase of libuv's loop, so after a stall
   * the peer's packets may be waiting, unread, on the socket: the decision is taken after one more
   * poll phase (setImmediate), and, when the timer itself fired late (a stall of more than a third
   * of the detection time), after up to 3 more loop turns — a busy loop must not pass for a dead peer.
   */
  private onDetect(s: BfdSession, at: number, tries: number): void {
    s.detectTimer = undefined;
    s.detectAt = Infinity;
    setImmediate(() => {
      if (!this.byKey.has(s.key) || s.detectTimer) return;
      const t = performance.now();
      if (t < s.fsm.detectionDeadline()) return this.armDetect(s, t);
      const late = t - at > s.fsm.detectionTimeMs() / 3;
      if (late && tries < 3) {
        s.detectAt = at;
        s.detectTimer = setTimeout(() => this.onDetect(s, at, tries + 1), 1);
        return;
      }
      const tr = s.fsm.checkDetection(t);
      if (tr) {
        this.transition(s, tr);
        this.send(s);
        this.armTx(s);
      } else this.armDetect(s, t);
    });
  }
}


