/**
 * Multi-peer BGP speaker: one local AS / router ID, any number of peers (active or passive), an
 * Adj-RIB-Out per peer with batched UPDATEs, End-of-RIB after the initial sync, ROUTE-REFRESH,
 * connection collision detection and clean Cease on shutdown.
 */
import net from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from './session/backoff.js';
import { Connection, type ConnectionHooks } from './session/connection.js';
import type { BgpState, FsmConfig, NotificationInfo } from './session/fsm.js';
import type { OpenInfo } from './session/open-check.js';
import { dial, Listener, setTtl, socketFd } from './session/transport.js';
import { AdjRibOut } from './session/adj-rib-out.js';
import { checkAttributes, normalizePrefix, type EncodeContext, type ReceivedUpdate, type RouteAttributes } from './session/update.js';
import { hasShutdownText, parseShutdownData } from './codec/notification.js';
import { encodeNotification, ipv4ToNumber, MSG, numberToIpv4, shutdownData } from './session/wire.js';

/** Address families by name. */
export type Family = 'ipv4' | 'ipv6';
const FAMILY_CODE: Record<Family, string> = { ipv4: '1/1', ipv6: '2/1' };

/** Speaker-wide options. */
export interface SpeakerOptions {
  /** Local AS (1..2^32-1). */
  asn: number;
  /** BGP identifier (IPv4 notation, non-zero). */
  routerId: string;
  /** Accept incoming connections here (passive peers and collisions). Omit to only dial. */
  listen?: { port?: number; address?: string };
}

/** Per-peer options. */
export interface PeerOptions {
  /** Peer IP address (also the key of the peer). */
  address: string;
  /** Peer AS. Equal to the speaker's AS means iBGP. */
  asn: number;
  /** TCP port to dial (default 179). */
  port?: number;
  /** Proposed hold time in seconds, 0 or ≥ 3 (default 90). */
  holdTime?: number;
  /** Keepalive interval in seconds (default holdTime/3). */
  keepalive?: number;
  /** Connect timeout in seconds (default 5). */
  connectRetry?: number;
  /** Reconnect backoff after errors (default 1 s doubling to 30 s, ±10 % jitter; reset once Established). */
  backoff?: BackoffOptions;
  /** Local address to bind outgoing connections to. */
  sourceAddress?: string;
  /** Router ID to use on this session instead of the speaker's. */
  routerId?: string;
  /** eBGP multihop: the IP TTL of the session (also settable via `ttl`). */
  ebgpMultihop?: number;
  /** Outgoing IP TTL (e.g. 255 with `minTtl` 254 for GTSM). */
  ttl?: number;
  /** RFC 5082 GTSM minimum incoming TTL. */
  minTtl?: number;
  /** RFC 2385 TCP-MD5 password. */
  password?: string;
  /** Never dial; wait for the peer to connect to the listener. */
  passive?: boolean;
  /** Families to negotiate (default both). */
  families?: Family[];
  /** Advertise the graceful-restart capability (helper / End-of-RIB only). */
  gracefulRestart?: boolean | { restartTime: number };
  /**
   * Advertise the 4-octet AS capability (RFC 6793). `false` makes this session a 2-octet one
   * whatever the peer says (AS_TRANS + AS4_PATH for a 4-octet local AS), like BIRD's `enable as4 off`:
   * needed for FRR with `dont-capability-negotiate`, which ignores AS4_PATH from a peer that
   * advertised the capability. Default (unset): advertise it, but with a 4-octet local AS, when a
   * peer whose OPEN lacked it answers 2/2 (Bad Peer AS, e.g. BIRD with `enable as4 off`), retry
   * without it from then on.
   */
  fourOctetAs?: boolean;
  /** IPv6 next hop for IPv6 routes on an IPv4 session (default: the session's address when IPv6). */
  nextHop6?: string;
}

/** Counters of one peer. */
export interface PeerStats {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  /** Prefixes currently advertised to the peer. */
  prefixesSent: number;
  /** Routes currently received from the peer. */
  prefixesReceived: number;
  /** Times the session reached Established. */
  establishedCount: number;
  /** Milliseconds since Established, 0 when down. */
  uptimeMs: number;
}

/** Public status of a peer. */
export interface PeerStatus {
  address: string;
  asn: number;
  state: BgpState;
  /** Negotiated hold time (s) while up. */
  holdTime: number;
  /** Peer's BGP identifier while up. */
  peerRouterId?: string;
  /** Local address of the session while connected. */
  localAddress?: string;
  stats: PeerStats;
}

/** A NOTIFICATION sent or received. */
export interface NotificationEvent {
  direction: 'sent' | 'received';
  code: number;
  subcode: number;
  /** RFC 8203 shutdown communication. */
  text?: string;
}

/** Typed events of {@link BgpSpeaker}. */
export interface SpeakerEvents {
  state: (peer: string, from: BgpState, to: BgpState) => void;
  established: (peer: string, status: PeerStatus) => void;
  down: (peer: string, reason: string) => void;
  notification: (peer: string, n: NotificationEvent) => void;
  update: (peer: string, update: ReceivedUpdate) => void;
  error: (err: Error, peer?: string) => void;
}

/**
 * An attribute set of the speaker's routes: its attributes and the peers it is restricted to. One
 * object is shared by every prefix announced with equal attributes and peers (interned), so a
 * million routes cost one map entry each, and prefixes of one set share UPDATEs.
 */
export interface Route {
  /** Path attributes announced with the prefixes. */
  attrs: RouteAttributes;
  /** Identity of the set: attributes and peers, as text. */
  key: string;
  /** Peers the prefixes are restricted to; undefined means every peer. */
  peers: Set<string> | undefined;
  /** Prefixes using this set. */
  refs: number;
}

/** Bytes of UPDATEs queued in a session's socket before the Adj-RIB-Out pump waits for 'drain'. */
const SEND_BUFFER = 256 * 1024;

function unmap(a: string | undefined): string | undefined {
  return a?.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function normAddr(a: string): string {
  const u = unmap(a)!;
  if (net.isIPv4(u)) return u;
  if (!net.isIPv6(u)) throw new Error(`address "${a}" is not an IP address`);
  return normalizePrefix(`${u}/128`).split('/')[0]!;
}

class Peer implements ConnectionHooks {
  main: Connection;
  other: Connection | undefined;
  readonly stats: PeerStats = {
    messagesIn: 0,
    messagesOut: 0,
    updatesIn: 0,
    updatesOut: 0,
    prefixesSent: 0,
    prefixesReceived: 0,
    establishedCount: 0,
    uptimeMs: 0,
  };
  establishedAt = 0;
  /** The last OPEN from the peer carried capability 65 (undefined before any OPEN). */
  private peerHadAs4: boolean | undefined;
  /** Learned: this peer rejects our 4-octet AS capability (see {@link PeerOptions.fourOctetAs}). */
  private as4Fallback = false;
  /** Adj-RIB-Out: what was sent, what changed, and the back-pressured send pump. */
  readonly out: AdjRibOut<Route>;
  received = new Set<string>();
  readonly families: string[];
  readonly fsmConfig: FsmConfig;

  constructor(
    readonly sp: BgpSpeaker,
    readonly opts: PeerOptions,
    readonly address: string,
  ) {
    const hold = opts.holdTime ?? 90;
    if (!Number.isInteger(hold) || (hold !== 0 && hold < 3) || hold > 65535) throw new Error(`holdTime ${hold}: must be 0 or 3..65535`);
    if (!Number.isInteger(opts.asn) || opts.asn < 1 || opts.asn > 0xffffffff) throw new Error(`asn ${opts.asn}: must be 1..4294967295`);
    this.families = (opts.families ?? ['ipv4', 'ipv6']).map((f) => {
      if (!(f in FAMILY_CODE)) throw new Error(`families: unknown family "${f}"`);
      return FAMILY_CODE[f];
    });
    const cfg: FsmConfig = {
      localAsn: sp.asn,
      peerAsn: opts.asn,
      localId: ipv4ToNumber(opts.routerId ?? sp.routerId),
      holdTime: hold,
      connectRetry: opts.connectRetry ?? 5,
      passive: opts.passive ?? false,
      backoff: opts.backoff ?? { initialMs: 1000, maxMs: DEFAULT_BACKOFF_MAX_MS, jitter: 0.2 },
    };
    if (opts.keepalive !== undefined) cfg.keepalive = opts.keepalive;
    this.fsmConfig = cfg;
    this.main = new Connection({ ...cfg }, this);
    this.out = new AdjRibOut<Route>({
      routeFor: (p) => sp.routeFor(p, this.address),
      allRoutes: () => sp.routeEntries(),
      applies: (r) => !r.peers || r.peers.has(this.address),
      context: () => this.sendContext(),
      // Pace on our own bound (not write()'s 16 KB): fewer wake-ups, at most ~SEND_BUFFER queued in Node.
      write: (b) => {
        const c = this.up;
        if (!c) return true;
        c.write(b, MSG.UPDATE);
        return (c.socket?.writableLength ?? 0) < SEND_BUFFER;
      },
      onDrain: (cb) => {
        const s = this.up?.socket;
        if (!s || s.destroyed) return void setImmediate(cb);
        const done = () => {
          s.off('drain', done);
          s.off('close', done);
          cb();
        };
        s.on('drain', done);
        s.on('close', done);
      },
      onError: (e) => {
        this.sp.emit('error', e, this.address);
      },
    });
  }

  get ibgp(): boolean {
    return this.opts.asn === this.sp.asn;
  }

  get up(): Connection | undefined {
    return this.main.state === 'Established' ? this.main : undefined;
  }

  status(): PeerStatus {
    const c = this.main;
    const s: PeerStatus = {
      address: this.address,
      asn: this.opts.asn,
      state: c.state,
      holdTime: c.fsm.negotiatedHold,
      stats: { ...this.stats, prefixesSent: this.out.sent.size, uptimeMs: this.establishedAt ? Date.now() - this.establishedAt : 0 },
    };
    if (c.fsm.peerOpen) s.peerRouterId = numberToIpv4(c.fsm.peerOpen.bgpId);
    const la = unmap(c.socket?.localAddress);
    if (la) s.localAddress = la;
    return s;
  }

  // ---- ConnectionHooks
  dial(): net.Socket {
    const ttl = this.opts.ttl ?? this.opts.ebgpMultihop;
    return dial({
      host: this.address,
      port: this.opts.port ?? 179,
      localAddress: this.opts.sourceAddress,
      ttl,
      minTtl: this.opts.minTtl,
      password: this.opts.password,
    });
  }

  openParams(): { asn: number; bgpId: number; families: string[]; gracefulRestart?: { restartTime: number }; as4?: boolean } {
    const gr = this.opts.gracefulRestart;
    const p: { asn: number; bgpId: number; families: string[]; gracefulRestart?: { restartTime: number }; as4?: boolean } = {
      asn: this.sp.asn,
      bgpId: this.fsmConfig.localId,
      families: this.families,
    };
    if (gr) p.gracefulRestart = typeof gr === 'object' ? gr : { restartTime: 120 };
    if (this.opts.fourOctetAs === false || this.as4Fallback) p.as4 = false;
    return p;
  }

  onState(c: Connection, from: BgpState, to: BgpState): void {
    if (c === this.main) this.sp.emit('state', this.address, from, to);
  }

  /** Replaces the main connection by `c` (after a collision or a failed dial). */
  private promote(c: Connection): void {
    const old = this.main;
    if (old === c) return;
    Object.assign(c.fsm.config, this.fsmConfig, { autoRestart: true });
    this.main = c;
    this.other = undefined;
    old.dispose();
    if (old.state !== c.state) this.sp.emit('state', this.address, old.state, c.state);
  }

  /** §6.8 collision detection, run when an OPEN arrives on either connection. */
  onOpen(c: Connection, open: OpenInfo): boolean {
    this.peerHadAs4 = open.capabilities.includes(65);
    if (c === this.main) {
      const o = this.other;
      if (!o) return true;
      if (o.state !== 'OpenSent' && o.state !== 'OpenConfirm') {
        this.other = undefined;
        o.dispose();
        return true;
      }
      return this.resolve(c, o, open);
    }
    if (c !== this.other) return false;
    const m = this.main;
    if (m.state === 'Established') {
      c.dispatch({ type: 'OpenCollisionDump' });
      return false;
    }
    if (m.state === 'OpenSent' || m.state === 'OpenConfirm') return this.resolve(c, m, open);
    // our own dial has not got as far: take the inbound connection
    this.promote(c);
    return true;
  }

  private resolve(c: Connection, other: Connection, open: OpenInfo): boolean {
    const keepLocalInitiated = resolveCollision(this.fsmConfig.localId, open.bgpId) === 'local-initiated';
    const loser = keepLocalInitiated ? (c.inbound ? c : other) : c.inbound ? other : c;
    const winner = loser === c ? other : c;
    // The dump closes `loser`; its 'down' hook promotes the winner when the loser was the main one.
    loser.dispatch({ type: 'OpenCollisionDump' });
    if (this.main === loser) this.promote(winner);
    if (this.other === loser) {
      this.other = undefined;
      loser.dispose();
    }
    return loser !== c;
  }

  onEstablished(c: Connection, _hold: number, open: OpenInfo): void {
    if (c !== this.main) return;
    void open;
    this.establishedAt = Date.now();
    this.stats.establishedCount++;
    this.received.clear();
    this.out.reset();
    this.sp.emit('established', this.address, this.status());
    this.out.startSync();
  }

  onDown(c: Connection, reason: string, _sent?: NotificationInfo, received?: NotificationInfo & { text?: string }): void {
    if (received) {
      const n: NotificationEvent = { direction: 'received', code: received.code, subcode: received.subcode };
      if (received.text !== undefined) n.text = received.text;
      this.sp.emit('notification', this.address, n);
    }
    if (c === this.other) {
      this.other = undefined;
      c.dispose();
      return;
    }
    if (c !== this.main) return;
    if (this.other && this.other.state !== 'Idle') {
      // our dial failed but the peer's connection is alive: continue with that one
      this.promote(this.other);
      return;
    }
    this.establishedAt = 0;
    this.out.reset();
    this.stats.prefixesSent = 0;
    if (received?.code === 2 && received.subcode === 2 && this.peerHadAs4 === false && this.sp.asn > 0xffff && this.opts.fourOctetAs === undefined && !this.as4Fallback) {
      // RFC 6793 fallback: a 2-octet-only router that reads our capability 65 anyway (BIRD `enable as4 off`)
      this.as4Fallback = true;
      reason = `${reason}; retrying without the 4-octet AS capability (peer has none)`;
    }
    this.stats.prefixesReceived = 0;
    this.received.clear();
    this.sp.emit('down', this.address, reason);
  }

  onUpdate(_c: Connection, u: ReceivedUpdate): void {
    this.stats.updatesIn++;
    for (const w of u.withdrawn) this.received.delete(w);
    // Routes looping through our own AS are ignored (RFC 4271 §9.1.2).
    const accepted = u.announced.filter((r) => !r.asPath.includes(this.sp.asn));
    for (const r of accepted) this.received.add(r.prefix);
    this.stats.prefixesReceived = this.received.size;
    this.sp.emit('update', this.address, { ...u, announced: accepted });
  }

  onRouteRefresh(): void {
    // RFC 2918: re-send the Adj-RIB-Out
    this.stats.prefixesSent = 0;
    this.out.startSync();
  }

  onNotificationSent(_c: Connection, n: NotificationInfo): void {
    const e: NotificationEvent = { direction: 'sent', code: n.code, subcode: n.subcode };
    const text = hasShutdownText(n.code, n.subcode) && n.data ? parseShutdownData(n.data) : undefined;
    if (text !== undefined) e.text = text;
    this.sp.emit('notification', this.address, e);
  }

  onMessage(_c: Connection, dir: 'in' | 'out', type: number): void {
    if (dir === 'in') this.stats.messagesIn++;
    else {
      this.stats.messagesOut++;
      if (type === MSG.UPDATE) this.stats.updatesOut++;
    }
  }

  onError(_c: Connection, err: Error): void {
    this.sp.emit('error', err, this.address);
  }

  ownAddresses(): string[] {
    const own: string[] = [];
    if (this.opts.sourceAddress) own.push(this.opts.sourceAddress);
    if (this.opts.nextHop6) own.push(this.opts.nextHop6);
    return own;
  }

  // ---- Adj-RIB-Out
  schedule(prefix: string): void {
    if (!this.up) return;
    this.out.mark(prefix);
  }

  /** Encoding facts of the Established session (undefined when down). */
  private sendContext(): { ctx: EncodeContext; families: string[] } | undefined {
    const c = this.up;
    if (!c) return undefined;
    const local = unmap(c.socket?.localAddress);
    const ctx: EncodeContext = {
      localAsn: this.sp.asn,
      ibgp: this.ibgp,
      as4: c.as4,
      nextHop4: local && net.isIPv4(local) ? local : undefined,
      nextHop6: this.opts.nextHop6 ?? (local && net.isIPv6(local) ? local : undefined),
    };
    const peerFamilies = c.fsm.peerOpen?.families.length ? c.fsm.peerOpen.families : ['1/1'];
    return { ctx, families: this.families.filter((f) => peerFamilies.includes(f)) };
  }

  start(): void {
    this.main.dispatch({ type: 'ManualStart' });
  }

  /** ManualStop with a Cease; resolves when the socket is flushed and closed (max 2 s). */
  stop(n: NotificationInfo): Promise<void> {
    const conns = [this.main, this.other].filter((c): c is Connection => !!c);
    const waits = conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          const s = c.socket;
          if (!s || s.destroyed) return resolve();
          const t = setTimeout(resolve, 2000);
          t.unref();
          s.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    );
    for (const c of conns) c.dispatch({ type: 'ManualStop', notification: n });
    return Promise.all(waits).then(() => {
      for (const c of conns) c.dispose();
    });
  }

  /** An inbound TCP connection from this peer arrived on the listener. */
  accept(socket: net.Socket): void {
    if (this.opts.ttl !== undefined || this.opts.ebgpMultihop !== undefined || this.opts.minTtl !== undefined) {
      try {
        const fd = socketFd(socket);
        if (fd >= 0) setTtl(fd, this.opts.ttl ?? this.opts.ebgpMultihop ?? 64, net.isIPv6(socket.localAddress ?? ''), this.opts.minTtl);
      } catch (e) {
        this.sp.emit('error', e as Error, this.address);
      }
    }
    const st = this.main.state;
    if (st === 'Active') {
      this.main.adopt(socket);
      return;
    }
    if ((st === 'Connect' || st === 'OpenSent' || st === 'OpenConfirm') && !this.other) {
      const c = new Connection({ ...this.fsmConfig, passive: true, autoRestart: false }, this, true);
      this.other = c;
      c.dispatch({ type: 'ManualStart' });
      c.adopt(socket);
      return;
    }
    // Idle (backing off) or Established: refuse (RFC 4271 §8.2.2 / §6.8 with an Established session).
    if (st === 'Established') socket.end(encodeNotification({ code: 6, subcode: 7 }));
    else socket.end(encodeNotification({ code: 6, subcode: 5 }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

/**
 * RFC 4271 §6.8: which connection survives a collision. The local BGP identifier is compared with
 * the remote one as unsigned 32-bit integers; the higher side's own connection wins.
 */
export function resolveCollision(localId: number, remoteId: number): 'local-initiated' | 'remote-initiated' {
  return localId >>> 0 > remoteId >>> 0 ? 'local-initiated' : 'remote-initiated';
}

/**
 * A BGP speaker announcing routes to many peers.
 *
 * ```ts
 * const sp = new BgpSpeaker({ asn: 64513, routerId: '10.0.0.11' });
 * sp.addPeer({ address: '10.0.0.1', asn: 64512, holdTime: 9 });
 * await sp.start();
 * sp.announce('10.96.0.10/32', { communities: ['64512:100'] });
 * ```
 */
export class BgpSpeaker extends EventEmitter<SpeakerEvents> {
  /** Local AS. */
  readonly asn: number;
  /** Local router ID. */
  readonly routerId: string;
  private readonly peers = new Map<string, Peer>();
  private readonly routes = new Map<string, Route>();
  /** Interned attribute sets by {@link Route.key}. */
  private readonly attrSets = new Map<string, Route>();
  private listener: Listener | undefined;
  private started = false;

  constructor(readonly options: SpeakerOptions) {
    super();
    if (!Number.isInteger(options.asn) || options.asn < 1 || options.asn > 0xffffffff) {
      throw new Error(`BgpSpeaker: asn ${options.asn} must be 1..4294967295`);
    }
    const id = ipv4ToNumber(options.routerId);
    if (id === 0) throw new Error('BgpSpeaker: routerId must not be 0.0.0.0');
    this.asn = options.asn;
    this.routerId = options.routerId;
  }

  /** Port the listener is bound to (useful with port 0), or 0. */
  get listenPort(): number {
    return this.listener?.port() ?? 0;
  }

  /** Opens the listener (if configured) and starts every peer. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const l = this.options.listen;
    if (l) {
      this.listener = new Listener((s) => this.onInbound(s));
      const address = l.address ?? '0.0.0.0';
      try {
        await this.listener.listen(l.port ?? 179, address, true);
      } catch {
        this.listener = new Listener((s) => this.onInbound(s));
        await this.listener.listen(l.port ?? 179, address, false);
      }
      for (const p of this.peers.values()) if (p.opts.password) this.listenerKey(p.address, p.opts.password);
    }
    for (const p of this.peers.values()) p.start();
  }

  private listenerKey(address: string, key: string): void {
    if (!this.listener) return;
    try {
      this.listener.setPeerKey(address, key);
    } catch (e) {
      this.emit('error', e as Error, address);
    }
  }

  private onInbound(s: net.Socket): void {
    s.on('error', () => undefined);
    let addr: string;
    try {
      addr = normAddr(s.remoteAddress ?? '');
    } catch {
      s.destroy();
      return;
    }
    const p = this.peers.get(addr);
    if (!p) {
      s.destroy();
      return;
    }
    p.accept(s);
  }

  /** Adds a peer; starts it at once when the speaker is running. Throws on invalid options. */
  addPeer(opts: PeerOptions): void {
    const addr = normAddr(opts.address);
    if (this.peers.has(addr)) throw new Error(`addPeer: peer ${addr} already exists`);
    const p = new Peer(this, opts, addr);
    this.peers.set(addr, p);
    if (this.started) {
      if (opts.password) this.listenerKey(addr, opts.password);
      p.start();
    }
  }

  /** Removes a peer, sending Cease 6/3 (peer de-configured) when the session is up. */
  async removePeer(address: string, text?: string): Promise<void> {
    const addr = normAddr(address);
    const p = this.peers.get(addr);
    if (!p) return;
    this.peers.delete(addr);
    await p.stop({ code: 6, subcode: 3, ...(text ? { data: shutdownData(text) } : {}) });
    if (p.opts.password) this.listenerKey(addr, '');
  }

  /**
   * Drops a peer's session at once because its forwarding path failed (BFD down): sends
   * NOTIFICATION Cease 6/10 (RFC 9384 "BFD Down") if it still can, closes the connection and lets
   * the peer reconnect with its usual backoff. Returns false when no session was up.
   */
  resetPeer(address: string, notification: NotificationInfo = { code: 6, subcode: 10 }): boolean {
    const c = this.peers.get(normAddr(address))?.up;
    if (!c) return false;
    c.dispatch({ type: 'DecodeError', notification, message: 'BFD down' });
    return true;
  }

  /** Status of one peer or all peers. */
  peerStatus(address: string): PeerStatus | undefined {
    return this.peers.get(normAddr(address))?.status();
  }

  /** Status of every peer. */
  status(): PeerStatus[] {
    return [...this.peers.values()].map((p) => p.status());
  }

  /**
   * Announces (or re-announces with new attributes) a prefix. Changes made in the same tick are
   * coalesced into as few UPDATEs as possible. `peers` restricts the announcement to those peers.
   */
  announce(prefix: string, attrs: RouteAttributes = {}, o: { peers?: string[] } = {}): void {
    const p = normalizePrefix(prefix);
    const peers = o.peers ? [...new Set(o.peers.map(normAddr))].sort() : undefined;
    const key = `${JSON.stringify(attrs)}|${peers ? peers.join(',') : '*'}`;
    let r = this.attrSets.get(key);
    if (!r) {
      checkAttributes(attrs);
      r = { attrs: structuredClone(attrs), key, peers: peers ? new Set(peers) : undefined, refs: 0 };
      this.attrSets.set(key, r);
    }
    const old = this.routes.get(p);
    if (old === r) return;
    r.refs++;
    this.routes.set(p, r);
    if (old) this.release(old);
    for (const peer of this.peers.values()) peer.schedule(p);
  }

  private release(r: Route): void {
    if (--r.refs === 0) this.attrSets.delete(r.key);
  }

  /** Withdraws a prefix from every peer it was sent to. */
  withdraw(prefix: string): void {
    const p = normalizePrefix(prefix);
    const old = this.routes.get(p);
    if (!old) return;
    this.routes.delete(p);
    this.release(old);
    for (const peer of this.peers.values()) peer.schedule(p);
  }

  /** Prefixes currently announced. */
  announced(): string[] {
    return [...this.routes.keys()];
  }

  /** @internal a live iterator over every prefix and its attribute set. */
  routeEntries(): Iterator<[string, Route]> {
    return this.routes.entries();
  }

  /** @internal the route for `prefix` as seen by `peer`, if it applies. */
  routeFor(prefix: string, peer: string): Route | undefined {
    const r = this.routes.get(prefix);
    if (!r || (r.peers && !r.peers.has(peer))) return undefined;
    return r;
  }

  /** Sends Cease 6/2 (with an RFC 8203 text) to every peer, closes the listener. */
  async stop(text = 'speaker shutting down'): Promise<void> {
    this.started = false;
    const n = { code: 6, subcode: 2, data: shutdownData(text) };
    await Promise.all([...this.peers.values()].map((p) => p.stop(n)));
    if (this.listener) await this.listener.close();
    this.listener = undefined;
  }
}

