/**
 * Runs many BFD sessions over a handful of UDP sockets: one receive socket per address family
 * and hop type (3784 single hop, 4784 multihop, with a kernel TTL filter), and one transmit socket
 * per family and local address, bound to a source port in 49152–65535 shared by its sessions
 * (RFC 5881 §4: one source port per session; sharing it is allowed). Packets are demultiplexed by
 * Your Discriminator, or by peer address while the peer does not know ours yet. All sessions'
 * transmit and detection deadlines share one Node timer ({@link TimerQueue}); the echo function
 * (single-hop IPv4) sends and reads its frames on one AF_PACKET socket per interface (`EchoPort`).
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
import { TimerQueue } from './timer-queue.js';
import { buildEchoFrame, encodeEchoPayload } from './codec/echo.js';
import { EchoPort, echoRoute, neighbourMac, type EchoArrival, type EchoRoute } from './echo-port.js';
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

/** What a queued deadline is for. */
enum Due {
  Tx,
  Detect,
  EchoTx,
  EchoDetect,
}
/** How long a router MAC read from the neighbour table is reused, ms. */
const MAC_TTL_MS = 5000;

/** Per-session echo state kept by the manager. */
interface EchoIo {
  route: EchoRoute;
  mac?: Buffer;
  macAt: number;
}

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
  /** every session's next transmit and detection deadline, driven by one Node timer */
  private readonly timers = new TimerQueue<BfdSession>();
  private wake: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  /** echo packet sockets by interface (opened on first use) */
  private readonly echoPorts = new Map<string, { port?: EchoPort; failed?: string }>();
  private readonly echoIo = new WeakMap<BfdSession, EchoIo>();
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
    if (c.echoInterval !== undefined && c.echoInterval !== 0 && (c.multihop || net.isIP(c.peer) !== 4))
      throw new Error(`BFD session ${c.peer}: the echo function runs on single-hop IPv4 sessions only`);
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
    clearTimeout(this.wake);
    this.wake = undefined;
    this.timers.clear();
    for (const e of this.echoPorts.values()) e.port?.close();
    this.echoPorts.clear();
    // let the AdminDown datagrams leave before closing
    await new Promise((r) => setImmediate(r));
    const socks = [...this.rx.values(), ...this.tx.values()];
    this.rx.clear();
    this.tx.clear();
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private drop(s: BfdSession): void {
    // its queued deadlines become stale (they no longer match txAt / detectAt)
    s.txAt = s.detectAt = s.echoTxAt = s.echoDetectAt = Infinity;
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
    if (s.echoTxAt === Infinity && !s.echoUnavailable && Number.isFinite(s.fsm.echoTxIntervalMs())) this.armEcho(s, now);
    if (s.fsm.txIntervalMs() !== s.txBase) this.armTx(s);
    this.armDetect(s, now);
  }

  private transition(s: BfdSession, t: Transition): void {
    s.lastTxAt = s.lastRxAt = 0; // gaps are measured within one Up period only
    const e: StateEvent = { ...t, session: s, peerAdminDown: s.fsm.remoteState === State.AdminDown };
    if (t.to !== State.Up) s.echoTxAt = s.echoDetectAt = Infinity; // echo runs only while Up
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

  /** Queues a deadline and makes sure the wake-up timer fires no later than it. */
  private schedule(at: number, s: BfdSession, kind: number): void {
    this.timers.push(at, s, kind);
    if (at < this.wakeAt && !this.closed) this.armWake(at);
  }

  private armWake(at: number): void {
    clearTimeout(this.wake);
    this.wakeAt = at;
    this.wake = at === Infinity ? undefined : setTimeout(this.onWake, Math.max(0, at - performance.now()));
  }

  /**
   * The one timer fired: every due transmission is sent in this turn, and every due detection
   * check is taken after the next poll phase (see {@link BfdManager.checkDetections}).
   */
  private readonly onWake = (): void => {
    this.wake = undefined;
    this.wakeAt = Infinity;
    const now = performance.now();
    let due: BfdSession[] | undefined;
    let dueEcho: BfdSession[] | undefined;
    for (let e = this.timers.popDue(now); e; e = this.timers.popDue(now)) {
      const s = e.item;
      if (e.kind === Due.Tx) {
        if (e.at !== s.txAt) continue; // stale: re-armed or removed
        s.txAt = Infinity;
        this.send(s);
        s.txBase = s.fsm.txIntervalMs();
        if (Number.isFinite(s.txBase)) {
          s.txAt = now + s.fsm.jitteredTxMs();
          this.timers.push(s.txAt, s, Due.Tx);
        }
      } else if (e.kind === Due.EchoTx) {
        if (e.at !== s.echoTxAt) continue;
        s.echoTxAt = Infinity;
        const iv = s.fsm.echoTxIntervalMs();
        if (!Number.isFinite(iv)) {
          s.fsm.echoStopped();
          s.echoDetectAt = Infinity;
          continue;
        }
        this.sendEcho(s, now);
        if (s.echoUnavailable) continue;
        s.echoTxAt = now + iv;
        this.timers.push(s.echoTxAt, s, Due.EchoTx);
      } else if (e.kind === Due.EchoDetect) {
        if (e.at !== s.echoDetectAt) continue;
        s.echoDetectAt = Infinity;
        (dueEcho ??= []).push(s);
      } else {
        if (e.at !== s.detectAt) continue;
        s.detectAt = Infinity;
        (due ??= []).push(s);
        // a late wake-up (a stall of more than a third of the detection time) postpones the
        // decision by up to 3 loop turns (counted in detectTries)
        if (s.detectTries > 0) s.detectTries++;
        else if (now - e.at > s.fsm.detectionTimeMs() / 3) s.detectTries = 1;
      }
    }
    if (due) {
      const list = due;
      setImmediate(() => this.checkDetections(list));
    }
    if (dueEcho) {
      const list = dueEcho;
      setImmediate(() => this.checkEchoes(list));
    }
    if (!this.closed) this.armWake(this.timers.peek());
  };

  private armEcho(s: BfdSession, now: number): void {
    s.echoTxAt = now;
    this.schedule(now, s, Due.EchoTx);
  }

  private echoUnavailable(s: BfdSession, why: string): void {
    s.echoUnavailable = why;
    s.echoTxAt = s.echoDetectAt = Infinity;
    s.fsm.echoStopped();
    this.emit('error', new Error(`BFD session ${s.config.peer}: echo function off: ${why}`));
  }

  /** The echo packet socket of `ifname`: undefined while it opens (the caller skips this round). */
  private echoPort(s: BfdSession, ifname: string): EchoPort | undefined {
    let e = this.echoPorts.get(ifname);
    if (!e) {
      const entry: { port?: EchoPort; failed?: string } = {};
      e = entry;
      this.echoPorts.set(ifname, entry);
      EchoPort.open(ifname, (a) => this.onEcho(a), (err) => this.emit('error', err)).then(
        (p) => {
          if (this.closed || this.echoPorts.get(ifname) !== entry) p.close();
          else entry.port = p;
        },
        (err: Error) => {
          entry.failed = err.message;
        },
      );
    }
    if (e.failed) this.echoUnavailable(s, e.failed);
    return e.port;
  }

  /** Sends one echo packet of `s` (when its interface, socket and the router's MAC are known). */
  private sendEcho(s: BfdSession, now: number): void {
    let io = this.echoIo.get(s);
    if (!io) {
      const route = echoRoute(s.config.peer, s.config.local);
      if (!route) return this.echoUnavailable(s, `no IPv4 interface ${s.config.local ? `with address ${s.config.local}` : `on the subnet of ${s.config.peer}`}`);
      io = { route, macAt: -Infinity };
      this.echoIo.set(s, io);
    }
    const port = this.echoPort(s, io.route.ifname);
    if (!port) return;
    if (!io.mac || now - io.macAt > MAC_TTL_MS) {
      io.mac = neighbourMac(s.config.peer, io.route.ifname) ?? io.mac;
      io.macAt = now;
    }
    if (!io.mac) return; // the neighbour entry appears with the control traffic
    const payload = encodeEchoPayload({ discriminator: s.fsm.localDiscr, sequence: ++s.echoSeq });
    try {
      port.send(buildEchoFrame({ srcMac: io.route.mac, dstMac: io.mac, ip: io.route.ip, payload }));
    } catch (e) {
      this.stats.sendErrors++;
      this.emit('error', e as Error);
      return;
    }
    s.stats.echoOut++;
    if (s.fsm.lastEchoRx === undefined) {
      // the echo detection time counts from the first echo packet sent
      s.fsm.echoStarted(now);
      s.echoDetectAt = s.fsm.echoDeadline() + 1;
      this.timers.push(s.echoDetectAt, s, Due.EchoDetect);
    }
  }

  private onEcho(a: EchoArrival): void {
    const s = this.byDiscr.get(a.payload.discriminator);
    if (!s || this.echoIo.get(s)?.route.ip !== a.ip) return;
    s.stats.echoIn++;
    s.fsm.echoReceived(performance.now());
  }

  /** Echo checks that fell due, after one poll phase (looped frames may be waiting unread). */
  private checkEchoes(list: BfdSession[]): void {
    const t = performance.now();
    for (const s of list) {
      if (this.byKey.get(s.key) !== s || s.echoDetectAt !== Infinity) continue;
      const dl = s.fsm.echoDeadline();
      if (!Number.isFinite(dl)) continue;
      if (t < dl) {
        s.echoDetectAt = dl + 1;
        this.schedule(s.echoDetectAt, s, Due.EchoDetect);
        continue;
      }
      const tr = s.fsm.checkEchoDetection(t);
      if (!tr) continue;
      s.stats.echoFailures++;
      this.transition(s, tr);
      this.send(s);
      this.armTx(s);
    }
  }

  private armTx(s: BfdSession): void {
    s.txBase = s.fsm.txIntervalMs();
    if (!Number.isFinite(s.txBase) || this.closed) {
      s.txAt = Infinity;
      return;
    }
    // the first packet goes out at once when nothing was sent yet, else after a jittered interval
    s.txAt = performance.now() + (s.stats.packetsOut === 0 ? 0 : s.fsm.jitteredTxMs());
    this.schedule(s.txAt, s, Due.Tx);
  }

  private armDetect(s: BfdSession, _now: number): void {
    const at = s.fsm.detectionDeadline();
    if (!Number.isFinite(at)) return;
    if (s.detectAt <= at) return; // an earlier check is armed: it re-arms for the new deadline
    s.detectAt = at + 1;
    this.schedule(s.detectAt, s, Due.Detect);
  }

  /**
   * Detection checks that fell due. Timers run before the poll phase of libuv's loop, so after a
   * stall the peer's packets may be waiting, unread, on the socket: the decision is taken after one
   * more poll phase (setImmediate), and, when the wake-up itself was late (a stall of more than a
   * third of the detection time), after up to 3 more loop turns — a busy loop must not pass for a
   * dead peer.
   */
  private checkDetections(list: BfdSession[]): void {
    const t = performance.now();
    for (const s of list) {
      if (this.byKey.get(s.key) !== s || s.detectAt !== Infinity) continue;
      if (t < s.fsm.detectionDeadline()) {
        s.detectTries = 0;
        this.armDetect(s, t);
        continue;
      }
      if (s.detectTries > 0 && s.detectTries <= 3) {
        s.detectAt = t + 1;
        this.schedule(s.detectAt, s, Due.Detect);
        continue;
      }
      s.detectTries = 0;
      const tr = s.fsm.checkDetection(t);
      if (tr) {
        this.transition(s, tr);
        this.send(s);
        this.armTx(s);
      } else this.armDetect(s, t);
    }
  }
}
