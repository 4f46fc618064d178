/**
 * The SWIM + Lifeguard engine and the public {@link Memberlist} class: probe loop (direct,
 * indirect with nacks, TCP fallback), suspicion with confirmations, buddy system, incarnation
 * refutation, transmit-limited gossip, push/pull anti-entropy, join/leave and events.
 */
import { EventEmitter } from 'eventemitter3';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { buildVsn, defaultLANTimings, metallbProfile, type Profile, type Timings } from './config.js';
import {
  NodeStateType,
  estimateSize,
  type AliveMsg,
  type DeadMsg,
  type IndirectPingMsg,
  type Message,
  type PingMsg,
  type PushNodeState,
  type PushPull,
  type SuspectMsg,
} from './engine/messages.js';
import type { Address, EngineTransport } from './engine/transport.js';
import { Awareness } from './state/awareness.js';
import { BroadcastQueue } from './state/broadcast-queue.js';
import { bytesEqual, isDeadOrLeft, verifyProtocol, type Member, type NodeState } from './state/nodes.js';
import { Suspicion, suspicionTimeout } from './state/suspicion.js';

/** Application hooks (memberlist's Delegate). All optional. */
export interface Delegate {
  /** Payload attached to our acks (serf: network coordinate). */
  ackPayload?(): Uint8Array | undefined;
  /** User state sent in push/pull. */
  localState?(join: boolean): Uint8Array;
  /** Receives a peer's push/pull user state. */
  mergeRemoteState?(buf: Uint8Array, join: boolean): void;
  /** Receives gossiped user messages. */
  notifyMsg?(buf: Uint8Array): void;
  /**
   * Optional user message gossiped (to its retransmit limit) before our `dead{From: self}` on a
   * graceful leave. serf needs its leave intent first to report the node as left, not failed.
   */
  leaveIntent?(): Uint8Array | undefined;
}

/** Options of {@link Memberlist}. */
export interface MemberlistOptions {
  /** Unique node name. */
  name: string;
  /** Transport (real UDP/TCP or the in-memory simulation). */
  transport: EngineTransport;
  /** Address other nodes reach us at. */
  advertise: Address;
  /** Overrides of {@link defaultLANTimings}. */
  timings?: Partial<Timings>;
  /** Version vector and meta (default: {@link metallbProfile}). */
  profile?: Profile;
  /** Clock (default: wall clock). */
  clock?: Clock;
  /** Random source in [0,1) (default Math.random). */
  random?: () => number;
  /** Application hooks. */
  delegate?: Delegate;
}

/** Events emitted by {@link Memberlist}. */
export interface MemberlistEvents {
  /** A node became alive (new, or back from dead/left). */
  join: (m: Member) => void;
  /** An alive node changed its metadata. */
  update: (m: Member) => void;
  /** A node left gracefully (dead message sent by itself). */
  leave: (m: Member) => void;
  /** A node was declared dead by failure detection. */
  fail: (m: Member) => void;
  /** A node became suspect. */
  suspect: (m: Member) => void;
  /** A suspect node refuted and is alive again. */
  alive: (m: Member) => void;
  /** An alive message for a known name came from a different address and was ignored. */
  conflict: (existing: Member, other: AliveMsg) => void;
  /**
   * We refuted a claim about ourselves with a new incarnation: `dead` means some node had declared
   * us dead (a partition, or a stalled process) and may have taken over our work; `suspect` and
   * `alive` (a stale or conflicting alive) did not remove us from anyone's member list.
   */
  refute: (kind: 'alive' | 'suspect' | 'dead', incarnation: number) => void;
}

/** Counters exposed for tests and benches. */
export interface MemberlistStats {
  probes: number;
  probeFailures: number;
  indirectSuccesses: number;
  tcpSuccesses: number;
  refutes: number;
  packetsSent: number;
  pushPulls: number;
  /** Indirect ping requests we sent (probe of a node that missed its direct ack). */
  indirectPingsSent: number;
  /** Indirect ping requests we relayed for other nodes. */
  indirectPingsServed: number;
  /** Nacks received from indirect probers (also those arriving after the probe deadline). */
  nacksReceived: number;
  /** Reconnect pings sent to failed nodes (partition heal). */
  reconnectPings: number;
  /** Failed nodes that acked a reconnect ping and were pushed/pulled with. */
  reconnects: number;
}

/** A failed node's last address, kept for reconnect pings. */
interface FormerNode {
  addr: string;
  port: number;
  since: number;
}

/** Failed nodes pinged per reconnect round. */
const RECONNECT_PER_ROUND = 4;

interface AckHandler {
  ack: (payload?: Uint8Array) => void;
  nack?: () => void;
  timer: TimerHandle;
}

/** memberlist `pushPullScale`: multiplies the interval for clusters above 32 nodes. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= 32) return intervalMs;
  const mult = Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
  return intervalMs * mult;
}

/**
 * A cluster member. Create it with a transport, call {@link Memberlist.start}, then
 * {@link Memberlist.join} seeds; listen to `join`/`leave`/`fail`/`update`/`suspect` events.
 */
export class Memberlist extends EventEmitter<MemberlistEvents> {
  /** Effective timings. */
  readonly timings: Timings;
  /** This node's name. */
  readonly name: string;
  /** Lifeguard local health. */
  readonly awareness: Awareness;
  /** Counters. */
  readonly stats: MemberlistStats = {
    probes: 0,
    probeFailures: 0,
    indirectSuccesses: 0,
    tcpSuccesses: 0,
    refutes: 0,
    packetsSent: 0,
    pushPulls: 0,
    indirectPingsSent: 0,
    indirectPingsServed: 0,
    nacksReceived: 0,
    reconnectPings: 0,
    reconnects: 0,
  };

  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly transport: EngineTransport;
  private readonly advertise: Address;
  private readonly delegate: Delegate;
  private readonly profile: Profile;
  private readonly nodes: NodeState[] = [];
  private readonly nodeMap = new Map<string, NodeState>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly broadcasts: BroadcastQueue<Message>;
  private probeIndex = 0;
  /** A probe is in flight (the next tick waits for it). */
  private probing = false;
  /** A tick arrived while a probe was in flight. */
  private probeTickHeld = false;
  private seqNo = 0;
  private incarnation = 0;
  /** `leave()` was called (no second leave, no reconnects). */
  private leaving = false;
  /**
   * Our `dead{From: self}` was issued (memberlist's `hasLeft`). Until then, during a delegate's
   * leave-intent phase, claims that we are dead are still refuted: adopting one would mark us dead
   * and our own leave message would never go out, so peers would report a failure, not a leave.
   */
  private left = false;
  private running = false;
  private stopped = false;
  private timers = new Set<TimerHandle>();
  /** Failed (not left) nodes to ping for partition heal, oldest first. */
  private readonly former = new Map<string, FormerNode>();
  private readonly reconnecting = new Set<string>();
  /**
   * The gossip and reconnect loops sleep while they have nothing to do (no broadcast queued, no
   * failed node to ping): an idle node is not woken 50 times a second (fast timings) to find an
   * empty queue. Queueing a broadcast, or a node failing, wakes its loop within one interval, as
   * memberlist's tickers would. Set once {@link start} has started the loops.
   */
  private loopsStarted = false;
  private gossipTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;

  constructor(opts: MemberlistOptions) {
    super();
    if (!opts.name) throw new TypeError('MemberlistOptions.name must be a non-empty string');
    this.name = opts.name;
    this.transport = opts.transport;
    this.advertise = opts.advertise;
    this.timings = { ...defaultLANTimings(), ...opts.timings };
    this.profile = opts.profile ?? metallbProfile();
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.delegate = opts.delegate ?? {};
    this.awareness = new Awareness(this.timings.awarenessMaxMultiplier);
    this.broadcasts = new BroadcastQueue<Message>(this.timings.retransmitMult, () => this.nodes.length);
    this.transport.onPacket((from, msgs) => {
      for (const m of msgs) {
        try {
          this.handleMessage(from, m);
        } catch {
          /* a malformed message must never escape a packet handler */
        }
      }
    });
    this.transport.onPushPull((from, req) => this.handlePushPull(from, req));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Declares ourselves alive and starts the probe, gossip and push/pull loops. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.incarnation = 1;
    this.aliveNode(this.selfAlive(), true);
    const stagger = (ms: number) => Math.floor(this.random() * ms);
    this.after(stagger(this.timings.probeInterval), () => this.probeTick());
    const gossipIn = stagger(this.timings.gossipInterval);
    if (this.timings.pushPullInterval > 0) this.after(stagger(this.timings.pushPullInterval), () => this.pushPullTick());
    const reconnectIn = this.timings.reconnectInterval > 0 ? stagger(this.timings.reconnectInterval) : 0;
    this.loopsStarted = true;
    this.wakeGossip(gossipIn);
    this.wakeReconnect(reconnectIn);
  }

  /** Runs the gossip loop `ms` from now, unless it is already due to run. */
  private wakeGossip(ms = this.timings.gossipInterval): void {
    if (!this.loopsStarted || !this.running || this.gossipTimer !== undefined) return;
    this.gossipTimer = this.after(ms, () => {
      this.gossipTimer = undefined;
      this.gossipTick();
    });
  }

  /** Runs the reconnect loop `ms` from now (when it is on), unless it is already due to run. */
  private wakeReconnect(ms = this.timings.reconnectInterval): void {
    if (!this.loopsStarted || !this.running || this.timings.reconnectInterval <= 0 || this.reconnectTimer !== undefined) return;
    this.reconnectTimer = this.after(ms, () => {
      this.reconnectTimer = undefined;
      this.reconnectTick();
    });
  }

  /** Queues a broadcast and wakes the gossip loop. */
  private enqueueBroadcast(b: Parameters<BroadcastQueue<Message>['queue']>[0]): void {
    this.broadcasts.queue(b);
    this.wakeGossip();
  }

  /**
   * Push/pull with each seed (join). Resolves with the number of seeds that answered; rejects only
   * when none did.
   */
  join(seeds: Address[]): Promise<number> {
    return new Promise((resolve, reject) => {
      if (seeds.length === 0) return resolve(0);
      let pending = seeds.length;
      let ok = 0;
      const errors: string[] = [];
      for (const s of seeds) {
        this.pushPullWith(s, true, (err) => {
          if (err) errors.push(`${s.addr}:${s.port}: ${err.message}`);
          else ok++;
          if (--pending === 0) {
            if (ok > 0) resolve(ok);
            else reject(new Error(`join failed: ${errors.join('; ')}`));
          }
        });
      }
    });
  }

  /**
   * Graceful leave: gossips `dead{From: self}` so peers emit `leave` instead of `fail`. Resolves
   * once the message went out to its retransmit limit, or after `timeoutMs`. When the delegate
   * has a {@link Delegate.leaveIntent}, that message is gossiped first (also up to `timeoutMs`).
   * Both also go to peers declared dead within `gossipToTheDeadTime` (a live peer can look dead to
   * us after a stall of our own event loop). With no alive, suspect or recently dead peer, it
   * resolves at once.
   */
  leave(timeoutMs = 1000): Promise<void> {
    return new Promise((resolve) => {
      if (!this.running || this.leaving) return resolve();
      this.leaving = true;
      // Peers that gossip still reaches: alive, suspect, or declared dead within gossipToTheDeadTime
      // (after a stall of our own event loop a live peer can look dead to us for a while).
      const now = this.clock.now();
      const anyPeer = this.nodes.some((n) => this.gossipReaches(n, now));
      const intent = anyPeer ? this.delegate.leaveIntent?.() : undefined;
      const sendDead = () => {
        const self = this.nodeMap.get(this.name)!;
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          resolve();
        };
        this.left = true;
        this.deadNode({ type: 'dead', incarnation: self.incarnation, node: this.name, from: this.name }, finish);
        if (!anyPeer) return finish();
        this.after(timeoutMs, finish, true);
      };
      if (!intent) return sendDead();
      let phase1 = false;
      const next = () => {
        if (phase1) return;
        phase1 = true;
        if (this.stopped) return resolve();
        sendDead();
      };
      this.enqueueBroadcast({ msg: { type: 'user', payload: intent }, size: intent.length + 1, finished: next });
      this.after(timeoutMs, next, true);
    });
  }

  /** Stops all loops and closes the transport (without leave: peers will detect a failure). */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const s of this.suspicions.values()) s.stop();
    this.suspicions.clear();
    for (const h of this.ackHandlers.values()) this.clock.clearTimeout(h.timer);
    this.ackHandlers.clear();
    this.broadcasts.reset();
    this.transport.close();
  }

  /** Alive and suspect members, including ourselves (memberlist `Members()`). */
  members(): Member[] {
    return this.nodes.filter((n) => !isDeadOrLeft(n.state)).map((n) => snapshot(n));
  }

  /** Every known node, whatever its state. */
  allNodes(): Member[] {
    return this.nodes.map((n) => snapshot(n));
  }

  /** Our own entry. */
  localNode(): Member {
    return snapshot(this.nodeMap.get(this.name)!);
  }

  /** Number of alive members (including ourselves). */
  numMembers(): number {
    let c = 0;
    for (const n of this.nodes) if (n.state === NodeStateType.Alive) c++;
    return c;
  }

  /** Changes our metadata and gossips it with a new incarnation (peers emit `update`). */
  updateMeta(meta: Uint8Array): void {
    this.profile.meta = meta;
    this.incarnation++;
    this.aliveNode(this.selfAlive(), true);
  }

  /**
   * Gossips an application payload to all members (best effort, transmit limited). `finished`
   * is called once it was sent to its retransmit limit (true) or dropped from the queue (false).
   */
  broadcast(payload: Uint8Array, finished?: (sent: boolean) => void): void {
    this.enqueueBroadcast({ msg: { type: 'user', payload }, size: payload.length + 1, ...(finished ? { finished } : {}) });
  }

  /** The node named `name` in any state, or undefined. */
  getNode(name: string): Member | undefined {
    const n = this.nodeMap.get(name);
    return n ? snapshot(n) : undefined;
  }

  /** Highest memberlist protocol version (PMax) the node `name` announced, or 0 if unknown. */
  protocolMax(name: string): number {
    return this.nodeMap.get(name)?.vsn[1] ?? 0;
  }

  /** Lifeguard health score (0 = healthy). */
  healthScore(): number {
    return this.awareness.getHealthScore();
  }

  // ---------------------------------------------------------------- timers

  private after(ms: number, fn: () => void, evenIfStopped = false): TimerHandle {
    const h: TimerHandle = this.clock.setTimeout(() => {
      this.timers.delete(h);
      if (this.stopped && !evenIfStopped) return;
      fn();
    }, ms);
    this.timers.add(h);
    return h;
  }

  private cancel(h: TimerHandle | undefined): void {
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.timers.delete(h);
  }

  private nextSeq(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  private selfAlive(): AliveMsg {
    return {
      type: 'alive',
      incarnation: this.incarnation,
      node: this.name,
      addr: this.advertise.addr,
      port: this.advertise.port,
      meta: this.profile.meta,
      vsn: buildVsn(this.profile),
    };
  }

  // ---------------------------------------------------------------- sending

  /** Sends messages to a node, filling the rest of the packet with queued gossip. */
  private send(to: Address, msgs: Message[], toNode?: string): void {
    let used = 0;
    for (const m of msgs) used += estimateSize(m) + 2;
    const budget = this.timings.udpBufferSize - used - 3;
    if (budget > 0) {
      const extra = this.broadcasts.getBroadcasts(2, budget);
      if (extra.length) msgs = msgs.concat(extra);
    }
    this.stats.packetsSent++;
    this.transport.sendPacket(to, msgs, toNode);
  }

  private queueBroadcast(name: string, msg: Message, finished?: (sent: boolean) => void): void {
    this.enqueueBroadcast({ name, msg, size: estimateSize(msg), ...(finished ? { finished } : {}) });
  }

  /** Picks up to k distinct random nodes passing `filter` (bounded random sampling, O(k) typical). */
  private kRandomNodes(k: number, filter: (n: NodeState) => boolean): NodeState[] {
    const n = this.nodes.length;
    const out: NodeState[] = [];
    if (n === 0 || k <= 0) return out;
    if (n <= 3 * k + 4) {
      const cand = this.nodes.filter(filter);
      for (let i = cand.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [cand[i], cand[j]] = [cand[j]!, cand[i]!];
      }
      return cand.slice(0, k);
    }
    for (let tries = 0; tries < 3 * n && out.length < k; tries++) {
      const c = this.nodes[Math.floor(this.random() * n)]!;
      if (!filter(c) || out.includes(c)) continue;
      out.push(c);
    }
    return out;
  }

  // ---------------------------------------------------------------- probing

  /**
   * Fixed-period probe tick (memberlist's `time.Ticker(ProbeInterval)`): Lifeguard awareness does
   * not slow the tick itself, it lengthens a *failing* probe (its deadline is the scaled interval).
   * A tick that arrives while a probe is still running is held (like the ticker's one-slot channel)
   * and starts the next probe as soon as that one ends.
   */
  private probeTick(): void {
    if (!this.running) return;
    this.after(this.timings.probeInterval, () => this.probeTick());
    if (this.probing) {
      this.probeTickHeld = true;
      return;
    }
    this.probeOnce();
  }

  private probeOnce(): void {
    const target = this.nextProbeTarget();
    if (!target) return;
    this.probing = true;
    this.probeNode(target, this.awareness.scaleTimeout(this.timings.probeInterval), () => {
      this.probing = false;
      if (this.probeTickHeld && this.running) {
        this.probeTickHeld = false;
        this.probeOnce();
      }
    });
  }

  /**
   * Round-robin over the shuffled list, skipping ourselves and dead nodes. Unlike memberlist
   * (which gives up after len(nodes) checks and so skips ~1 tick in 3 in a 2-node cluster), this
   * allows one wrap-around per tick so a live peer is probed every interval.
   */
  private nextProbeTarget(): NodeState | undefined {
    let wrapped = false;
    for (let checks = 0; checks <= this.nodes.length + 1; checks++) {
      if (this.probeIndex >= this.nodes.length) {
        if (wrapped) return undefined;
        wrapped = true;
        this.resetNodes();
        this.probeIndex = 0;
        if (this.nodes.length === 0) return undefined;
      }
      const n = this.nodes[this.probeIndex++]!;
      if (n.name === this.name || isDeadOrLeft(n.state)) continue;
      return n;
    }
    return undefined;
  }

  /** Reaps nodes dead for longer than gossipToTheDeadTime and reshuffles the probe order. */
  private resetNodes(): void {
    const now = this.clock.now();
    const ttl = this.timings.gossipToTheDeadTime;
    let w = 0;
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      if (n.name !== this.name && isDeadOrLeft(n.state) && now - n.stateChange > ttl) {
        this.nodeMap.delete(n.name);
        continue;
      }
      this.nodes[w++] = n;
    }
    this.nodes.length = w;
    for (let i = this.nodes.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [this.nodes[i], this.nodes[j]] = [this.nodes[j]!, this.nodes[i]!];
    }
  }

  private pingFor(node: NodeState, seqNo: number): PingMsg {
    return {
      type: 'ping',
      seqNo,
      node: node.name,
      sourceAddr: this.advertise.addr,
      sourcePort: this.advertise.port,
      sourceNode: this.name,
    };
  }

  /**
   * Probes `node`; `finished` runs once when the probe is over (ack, or the deadline
   * `interval` after the ping). The suspicion it may raise carries the incarnation the node had
   * when the probe started (memberlist probes a copy of the node state), so a probe that outlives
   * a death and rejoin cannot suspect the new incarnation.
   */
  private probeNode(node: NodeState, interval: number, finished: () => void): void {
    this.stats.probes++;
    const incarnation = node.incarnation;
    const seqNo = this.nextSeq();
    const ping = this.pingFor(node, seqNo);
    const sent = this.clock.now();
    const to = { addr: node.addr, port: node.port };
    let done = false;
    let nacks = 0;
    let expectedNacks = 0;
    let indirectTimer: TimerHandle | undefined;

    const success = (how: 'direct' | 'indirect' | 'tcp') => {
      if (done) return;
      done = true;
      finished();
      this.cancel(indirectTimer);
      const h = this.ackHandlers.get(seqNo);
      if (h) {
        this.clock.clearTimeout(h.timer);
        this.ackHandlers.delete(seqNo);
      }
      if (how === 'indirect') this.stats.indirectSuccesses++;
      if (how === 'tcp') this.stats.tcpSuccesses++;
      this.awareness.applyDelta(-1);
    };

    const timer = this.clock.setTimeout(() => this.ackHandlers.delete(seqNo), interval + 1);
    this.ackHandlers.set(seqNo, {
      ack: () => success(this.clock.now() - sent <= this.timings.probeTimeout ? 'direct' : 'indirect'),
      nack: () => {
        nacks++;
      },
      timer,
    });

    const msgs: Message[] = [ping];
    // Buddy system: tell a suspect node it is suspected so it can refute at once.
    if (node.state === NodeStateType.Suspect)
      msgs.push({ type: 'suspect', incarnation: node.incarnation, node: node.name, from: this.name });
    this.send(to, msgs, node.name);

    indirectTimer = this.after(this.timings.probeTimeout, () => {
      if (done) return;
      const peers = this.kRandomNodes(
        this.timings.indirectChecks,
        (n) => n.name !== this.name && n.name !== node.name && n.state === NodeStateType.Alive,
      );
      for (const p of peers) {
        const wantNack = (p.vsn[1] ?? 0) >= 4;
        if (wantNack) expectedNacks++;
        const req: IndirectPingMsg = {
          type: 'indirectPing',
          seqNo,
          target: node.addr,
          port: node.port,
          node: node.name,
          nack: wantNack,
          sourceAddr: this.advertise.addr,
          sourcePort: this.advertise.port,
          sourceNode: this.name,
        };
        this.stats.indirectPingsSent++;
        this.send({ addr: p.addr, port: p.port }, [req], p.name);
      }
      // Small clusters have no indirect probers: retry the direct ping once instead, so a single
      // lost UDP packet does not start a suspicion.
      if (peers.length === 0) this.send(to, [ping], node.name);
      const remaining = sent + interval - this.clock.now();
      if (!this.timings.disableTcpPings && this.transport.tcpPing && (node.vsn[1] ?? 0) >= 3) {
        this.transport.tcpPing(to, ping, Math.max(1, remaining), (ok) => {
          if (ok && !this.stopped) success('tcp');
        });
      }
      indirectTimer = this.after(Math.max(0, remaining), () => {
        if (done) return;
        done = true;
        finished();
        this.stats.probeFailures++;
        this.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
        const cur = this.nodeMap.get(node.name);
        if (cur !== node || isDeadOrLeft(node.state)) return;
        this.suspectNode({ type: 'suspect', incarnation, node: node.name, from: this.name });
      });
    });
  }

  // ---------------------------------------------------------------- receiving

  private handleMessage(from: Address, m: Message): void {
    if (this.stopped) return;
    switch (m.type) {
      case 'ping': {
        if (m.node && m.node !== this.name) return;
        const payload = this.delegate.ackPayload?.();
        const to = m.sourceAddr && m.sourcePort ? { addr: m.sourceAddr, port: m.sourcePort } : from;
        this.send(to, [{ type: 'ack', seqNo: m.seqNo, ...(payload ? { payload } : {}) }]);
        return;
      }
      case 'indirectPing':
        return this.handleIndirectPing(from, m);
      case 'ack': {
        const h = this.ackHandlers.get(m.seqNo);
        if (h) h.ack(m.payload);
        return;
      }
      case 'nack': {
        this.stats.nacksReceived++;
        this.ackHandlers.get(m.seqNo)?.nack?.();
        return;
      }
      case 'alive':
        return this.aliveNode(m, false);
      case 'suspect':
        return this.suspectNode(m);
      case 'dead':
        return this.deadNode(m);
      case 'user':
        this.delegate.notifyMsg?.(m.payload);
        return;
    }
  }

  private handleIndirectPing(from: Address, m: IndirectPingMsg): void {
    this.stats.indirectPingsServed++;
    const requester = m.sourceAddr && m.sourcePort ? { addr: m.sourceAddr, port: m.sourcePort } : from;
    const localSeq = this.nextSeq();
    let answered = false;
    let nackTimer: TimerHandle | undefined;
    const timer = this.clock.setTimeout(() => this.ackHandlers.delete(localSeq), this.timings.probeTimeout + 1);
    this.ackHandlers.set(localSeq, {
      ack: () => {
        if (answered) return;
        answered = true;
        this.cancel(nackTimer);
        this.ackHandlers.delete(localSeq);
        this.clock.clearTimeout(timer);
        this.send(requester, [{ type: 'ack', seqNo: m.seqNo }]);
      },
      timer,
    });
    const ping: PingMsg = {
      type: 'ping',
      seqNo: localSeq,
      node: m.node,
      sourceAddr: this.advertise.addr,
      sourcePort: this.advertise.port,
      sourceNode: this.name,
    };
    this.send({ addr: m.target, port: m.port }, [ping], m.node);
    if (m.nack) {
      nackTimer = this.after(this.timings.probeTimeout, () => {
        if (!answered) this.send(requester, [{ type: 'nack', seqNo: m.seqNo }]);
      });
    }
  }

  // ---------------------------------------------------------------- state transitions

  private aliveNode(a: AliveMsg, bootstrap: boolean): void {
    const isLocal = a.node === this.name;
    if (this.left && isLocal) return;
    const v = a.vsn;
    if (v.length >= 2 && (v[0] === 0 || v[1] === 0 || v[0]! > v[1]!)) return;
    let st = this.nodeMap.get(a.node);
    let updatesNode = false;
    if (!st) {
      st = {
        name: a.node,
        addr: a.addr,
        port: a.port,
        meta: a.meta,
        incarnation: 0,
        state: NodeStateType.Dead,
        vsn: a.vsn.slice(),
        stateChange: this.clock.now(),
      };
      // Insert at a random position so new nodes are probed fairly.
      this.nodes.push(st);
      const i = Math.floor(this.random() * this.nodes.length);
      const last = this.nodes.length - 1;
      [this.nodes[i], this.nodes[last]] = [this.nodes[last]!, this.nodes[i]!];
      this.nodeMap.set(a.node, st);
    } else if (st.addr !== a.addr || st.port !== a.port) {
      const reclaim = this.timings.deadNodeReclaimTime;
      const canReclaim = reclaim > 0 && this.clock.now() - st.stateChange > reclaim;
      if (st.state === NodeStateType.Left || (st.state === NodeStateType.Dead && canReclaim)) updatesNode = true;
      else {
        this.emit('conflict', snapshot(st), a);
        return;
      }
    }
    if (!isLocal && !updatesNode && a.incarnation <= st.incarnation) return;
    if (isLocal && a.incarnation < st.incarnation) return;
    if (isLocal && !bootstrap) {
      if (a.incarnation === st.incarnation && bytesEqual(a.meta, st.meta) && bytesEqual(a.vsn, st.vsn)) return;
      this.refute(st, a.incarnation, 'alive');
      return;
    }
    this.queueBroadcast(a.node, a);
    const s = this.suspicions.get(a.node);
    if (s) {
      s.stop();
      this.suspicions.delete(a.node);
    }
    const old = st.state;
    const oldMeta = st.meta;
    st.incarnation = a.incarnation;
    st.meta = a.meta;
    st.addr = a.addr;
    st.port = a.port;
    st.vsn = a.vsn.slice();
    if (old !== NodeStateType.Alive) {
      st.state = NodeStateType.Alive;
      st.stateChange = this.clock.now();
    }
    this.former.delete(a.node);
    if (isDeadOrLeft(old)) this.emit('join', snapshot(st));
    else if (!bytesEqual(oldMeta, a.meta)) this.emit('update', snapshot(st));
    if (old === NodeStateType.Suspect) this.emit('alive', snapshot(st));
  }

  private suspectNode(s: SuspectMsg): void {
    const st = this.nodeMap.get(s.node);
    if (!st || s.incarnation < st.incarnation) return;
    const timer = this.suspicions.get(s.node);
    if (timer) {
      if (timer.confirm(s.from)) this.queueBroadcast(s.node, s);
      return;
    }
    if (st.state !== NodeStateType.Alive) return;
    if (s.node === this.name) {
      this.refute(st, s.incarnation, 'suspect');
      return;
    }
    this.queueBroadcast(s.node, s);
    st.incarnation = s.incarnation;
    st.state = NodeStateType.Suspect;
    const changeTime = this.clock.now();
    st.stateChange = changeTime;
    const n = this.nodes.length;
    let k = this.timings.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeout(this.timings.suspicionMult, n, this.timings.probeInterval);
    const max = this.timings.suspicionMaxTimeoutMult * min;
    const susp = new Suspicion(s.from, k, min, max, this.clock, () => {
      if (this.stopped) return;
      const cur = this.nodeMap.get(s.node);
      if (cur === st && st.state === NodeStateType.Suspect && st.stateChange === changeTime) {
        this.deadNode({ type: 'dead', incarnation: st.incarnation, node: st.name, from: this.name });
      }
    });
    this.suspicions.set(s.node, susp);
    this.emit('suspect', snapshot(st));
  }

  private deadNode(d: DeadMsg, finished?: () => void): void {
    const st = this.nodeMap.get(d.node);
    if (!st || d.incarnation < st.incarnation) return;
    const s = this.suspicions.get(d.node);
    if (s) {
      s.stop();
      this.suspicions.delete(d.node);
    }
    if (isDeadOrLeft(st.state)) return;
    if (d.node === this.name && !this.left) {
      this.refute(st, d.incarnation, 'dead');
      return;
    }
    this.queueBroadcast(d.node, d, finished ? () => finished() : undefined);
    st.incarnation = d.incarnation;
    st.state = d.from === d.node ? NodeStateType.Left : NodeStateType.Dead;
    st.stateChange = this.clock.now();
    if (st.state === NodeStateType.Dead && d.node !== this.name) {
      this.former.set(d.node, { addr: st.addr, port: st.port, since: st.stateChange });
      this.wakeReconnect();
    }
    else this.former.delete(d.node);
    if (d.node !== this.name) this.emit(st.state === NodeStateType.Left ? 'leave' : 'fail', snapshot(st));
  }

  private refute(me: NodeState, accused: number, kind: 'alive' | 'suspect' | 'dead'): void {
    this.stats.refutes++;
    let inc = ++this.incarnation;
    if (accused >= inc) inc = this.incarnation = accused + 1;
    me.incarnation = inc;
    this.awareness.applyDelta(1);
    const a = this.selfAlive();
    me.meta = a.meta;
    me.vsn = a.vsn.slice();
    this.queueBroadcast(this.name, a);
    this.emit('refute', kind, inc);
  }

  // ---------------------------------------------------------------- partition heal

  /**
   * Pings up to {@link RECONNECT_PER_ROUND} failed nodes (round-robin, oldest first) at their last
   * address. Go nodes answer a ping addressed to their name whatever they think of us, so this
   * also heals towards hashicorp/memberlist peers.
   */
  private reconnectTick(): void {
    if (!this.running || this.former.size === 0) return; // asleep until a node fails
    this.wakeReconnect();
    if (this.leaving) return;
    const now = this.clock.now();
    let sent = 0;
    for (const [name, f] of [...this.former]) {
      if (sent >= RECONNECT_PER_ROUND) break;
      this.former.delete(name);
      if (now - f.since > this.timings.reconnectTimeout) continue;
      this.former.set(name, f); // to the back of the queue
      if (this.reconnecting.has(name)) continue;
      sent++;
      this.reconnectPing(name, f);
    }
  }

  private reconnectPing(name: string, f: FormerNode): void {
    this.stats.reconnectPings++;
    const seqNo = this.nextSeq();
    const to = { addr: f.addr, port: f.port };
    const wait = Math.max(this.timings.probeTimeout, Math.min(this.timings.reconnectInterval, 2 * this.timings.probeTimeout));
    const timer = this.clock.setTimeout(() => this.ackHandlers.delete(seqNo), wait);
    this.ackHandlers.set(seqNo, {
      ack: () => {
        this.clock.clearTimeout(timer);
        this.ackHandlers.delete(seqNo);
        if (this.stopped || this.reconnecting.has(name)) return;
        this.stats.reconnects++;
        this.reconnecting.add(name);
        // The first exchange tells each side it was declared dead (both refute with a higher
        // incarnation); the second carries the refutations, so both sides mark each other alive.
        this.pushPullWith(to, false, () => {
          this.pushPullWith(to, false, () => this.reconnecting.delete(name));
        });
      },
      timer,
    });
    this.send(to, [{ type: 'ping', seqNo, node: name, sourceAddr: this.advertise.addr, sourcePort: this.advertise.port, sourceNode: this.name }], name);
  }

  // ---------------------------------------------------------------- gossip & push/pull

  /**
   * Whether gossip goes to `n` (memberlist's rule): another node that is alive or suspect, or was
   * declared dead within `gossipToTheDeadTime` (it may be alive and only look dead to us). A node
   * that left gracefully is not gossiped to.
   */
  private gossipReaches(n: NodeState, now: number): boolean {
    if (n.name === this.name) return false;
    if (n.state === NodeStateType.Dead) return now - n.stateChange < this.timings.gossipToTheDeadTime;
    return !isDeadOrLeft(n.state);
  }

  private gossipTick(): void {
    if (!this.running || this.broadcasts.length === 0) return; // asleep until a broadcast is queued
    this.wakeGossip();
    const now = this.clock.now();
    const peers = this.kRandomNodes(this.timings.gossipNodes, (n) => this.gossipReaches(n, now));
    for (const p of peers) {
      const msgs = this.broadcasts.getBroadcasts(2, this.timings.udpBufferSize - 3);
      if (msgs.length === 0) break;
      this.stats.packetsSent++;
      this.transport.sendPacket({ addr: p.addr, port: p.port }, msgs, p.name);
    }
  }

  private pushPullTick(): void {
    if (!this.running) return;
    this.after(pushPullScale(this.timings.pushPullInterval, this.nodes.length), () => this.pushPullTick());
    const [peer] = this.kRandomNodes(1, (n) => n.name !== this.name && n.state === NodeStateType.Alive);
    if (peer) this.pushPullWith({ addr: peer.addr, port: peer.port }, false, () => {});
  }

  private localState(join: boolean): PushPull {
    const nodes: PushNodeState[] = this.nodes.map((n) => ({
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: n.vsn.slice(),
    }));
    return { join, nodes, userState: this.delegate.localState?.(join) ?? new Uint8Array(0) };
  }

  private pushPullWith(to: Address, join: boolean, cb: (err: Error | null) => void): void {
    this.stats.pushPulls++;
    this.transport.pushPull(to, this.localState(join), this.timings.tcpTimeout, (err, res) => {
      if (this.stopped) return cb(new Error('memberlist is shut down'));
      if (err || !res) return cb(err ?? new Error('no push/pull reply'));
      try {
        this.mergeRemote(res, join);
        cb(null);
      } catch (e) {
        cb(e as Error);
      }
    });
  }

  private handlePushPull(_from: Address, req: PushPull): PushPull {
    const reply = this.localState(req.join);
    if (!this.stopped) {
      try {
        this.mergeRemote(req, req.join);
      } catch {
        /* incompatible peer: reply sent, merge refused (memberlist does the same) */
      }
    }
    return reply;
  }

  /** Validates the version vectors and merges a remote state (memberlist `mergeState`). */
  private mergeRemote(r: PushPull, join: boolean): void {
    const alive: { name: string; vsn: readonly number[] }[] = [];
    for (const n of this.nodes) if (n.state === NodeStateType.Alive) alive.push(n);
    for (const n of r.nodes) if (n.state === NodeStateType.Alive) alive.push(n);
    const err = verifyProtocol(alive);
    if (err) throw new Error(err);
    for (const n of r.nodes) {
      switch (n.state) {
        case NodeStateType.Alive:
          this.aliveNode(
            { type: 'alive', incarnation: n.incarnation, node: n.name, addr: n.addr, port: n.port, meta: n.meta, vsn: n.vsn },
            false,
          );
          break;
        case NodeStateType.Left:
          this.deadNode({ type: 'dead', incarnation: n.incarnation, node: n.name, from: n.name });
          break;
        default:
          // Someone declared us dead: refute (as a dead message would make us do).
          if (n.name === this.name && n.state === NodeStateType.Dead && !this.left) {
            this.deadNode({ type: 'dead', incarnation: n.incarnation, node: n.name, from: this.name });
            break;
          }
          // A remote dead only makes us suspect (Lifeguard): we verify ourselves.
          this.suspectNode({ type: 'suspect', incarnation: n.incarnation, node: n.name, from: this.name });
      }
    }
    if (r.userState.length && this.delegate.mergeRemoteState) this.delegate.mergeRemoteState(r.userState, join);
  }
}

function snapshot(n: NodeState): Member {
  return { ...n, vsn: n.vsn.slice() };
}
