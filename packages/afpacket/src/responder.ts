/**
 * NativeResponder: the L2 fast path. An AF_PACKET socket read by a native thread that answers ARP
 * requests (family 4) or neighbour solicitations (family 6) for the addresses in its table and
 * writes the reply itself; frames never reach JavaScript. The kernel-side BPF filter is rebuilt
 * from the table on every change, so frames for addresses we do not own are dropped before the
 * socket. Announcements go out as one batch (`sendmmsg` on a libuv worker thread).
 */
import { assemble } from './bpf.js';
import { parseMac } from './mac.js';
import { loadAddon } from './native.js';
import type { L2Transport } from './socket.js';
import { arpTargetFilter, DEFAULT_MAX_INSNS, ipv6LowKey, nsTargetFilter, type VipFilter } from './vip-filter.js';

/** State of an address in a {@link NativeResponder}: answered, answered to unicast only (drain), or absent. */
export type EntryState = 'active' | 'draining' | 'off';

const STATE = { off: 0, active: 1, draining: 2 } as const;

/** Counters of a {@link NativeResponder} (cumulative since it was opened). */
export interface NativeResponderStats {
  /** Frames that passed the BPF filter and were read by the native thread. */
  received: number;
  /** Replies sent. */
  replied: number;
  /** Well-formed frames that need no answer (replies, own frames, gratuitous, other types). */
  ignored: number;
  /** Frames that passed the (superset) filter but whose target is not in the table. */
  notOwned: number;
  /** Malformed frames (counted and dropped). */
  malformed: number;
  /** Replies sent for a draining address (unicast requests). */
  drainReplied: number;
  /** Broadcast/multicast requests for a draining address, not answered. */
  drainIgnored: number;
  /** NS sent to a group other than the target's solicited-node group (or not unicast to it), ignored. */
  wrongGroup: number;
  /** Replies that failed to send. */
  sendErrors: number;
  /** Addresses in the table. */
  entries: number;
  /** Last reason a frame was counted malformed. */
  lastMalformed?: string;
  /** Last socket error seen by the reader thread. */
  lastError?: string;
}

interface NativeResponderHandle {
  setFilter(program: Buffer): void;
  setEntries(keys: Buffer, state: number): number;
  clearEntries(): void;
  send(frame: Buffer): void;
  sendBatch(frames: Buffer, frameLen: number, chunk: number, gapUs: number, cb: (err: Error | null, sent: number) => void): void;
  membership(mac: Buffer, add: boolean): void;
  stats(): NativeResponderStats;
  takeHits(): { keys: Buffer; counts: number[] };
  close(): void;
}

/** Options of {@link NativeResponder.open}. */
export interface NativeResponderOptions {
  /** Interface name. */
  ifname: string;
  /** 4: ARP (EtherType 0x0806); 6: NDP (EtherType 0x86dd). */
  family: 4 | 6;
  /** Our MAC (Ethernet source, SHA / TLLA of replies). */
  mac: string;
  /** BPF instruction budget (default 4000; the kernel allows 4096). */
  maxFilterInsns?: number;
  /** Frames per sendmmsg call in {@link NativeResponder.sendBatch} (default 256). */
  batchChunk?: number;
  /** Pause between chunks in µs (default 200: lets a software bridge's backlog drain). */
  batchGapUs?: number;
  /** Called after each filter replacement (diagnostics, tests). */
  onFilter?: (f: VipFilter) => void;
}


/** Table key of an address: the 32-bit value for IPv4 (no allocation), the hex string for IPv6. */
function tableKey(addr: Uint8Array): number | string {
  if (addr.length === 4) return ((addr[0]! << 24) | (addr[1]! << 16) | (addr[2]! << 8) | addr[3]!) >>> 0;
  return Buffer.from(addr.buffer, addr.byteOffset, addr.byteLength).toString('hex');
}

function keyBytes(k: number | string, out: Buffer, offset: number): void {
  if (typeof k === 'number') out.writeUInt32BE(k, offset);
  else out.write(k, offset, 16, 'hex');
}

/**
 * The native responder for one interface and family. Implements {@link L2Transport} for sending
 * (it never emits `frame`: answering happens natively). Addresses are 4-byte (IPv4) or 16-byte
 * (IPv6) buffers; callers parse text with their own codecs.
 */
export class NativeResponder implements L2Transport {
  private native: NativeResponderHandle | undefined;
  /** Table mirror: key (see `tableKey`) → state (for the filter and for reads). */
  private readonly table = new Map<number | string, 'active' | 'draining'>();
  /** Table changes not yet handed to the native side (key → state); flushed once per turn. */
  private readonly pending = new Map<number | string, EntryState>();
  private filterDirty = false;
  private filterScheduled = false;
  private lastFilter: VipFilter | undefined;

  private constructor(
    readonly ifname: string,
    readonly family: 4 | 6,
    readonly mac: string,
    private readonly o: Required<Omit<NativeResponderOptions, 'ifname' | 'family' | 'mac' | 'onFilter'>> & Pick<NativeResponderOptions, 'onFilter'>,
  ) {}

  /** Opens the socket (filter "drop all" until the first address) and starts the reader thread. */
  static open(opts: NativeResponderOptions): NativeResponder {
    const { Responder } = loadAddon() as unknown as { Responder: new (ifname: string, family: number, mac: Buffer) => NativeResponderHandle };
    if (typeof Responder !== 'function') throw new Error('@lbkit/afpacket: the native addon has no Responder (rebuild it: cd packages/afpacket && npx node-gyp rebuild)');
    if (opts.family !== 4 && opts.family !== 6) throw new RangeError(`NativeResponder.open: family ${String(opts.family)} is not 4 or 6`);
    const mac = parseMac(opts.mac);
    const r = new NativeResponder(opts.ifname, opts.family, opts.mac.toLowerCase(), {
      maxFilterInsns: opts.maxFilterInsns ?? DEFAULT_MAX_INSNS,
      batchChunk: opts.batchChunk ?? 256,
      batchGapUs: opts.batchGapUs ?? 200,
      onFilter: opts.onFilter,
    });
    r.native = new Responder(opts.ifname, opts.family, mac);
    return r;
  }

  private handle(what: string): NativeResponderHandle {
    if (!this.native) throw new Error(`NativeResponder(${this.ifname}).${what}: closed`);
    return this.native;
  }

  /**
   * Sets the state of `addrs` (4- or 16-byte buffers). The JavaScript mirror ({@link state}) changes
   * at once; the native table and the kernel filter are updated once per event-loop turn with every
   * change made in it (or at once by {@link flush}), so N calls of one address cost one native update.
   */
  set(addrs: readonly Uint8Array[], state: EntryState): void {
    const size = this.family === 4 ? 4 : 16;
    this.handle('set');
    for (const a of addrs) {
      if (a.length !== size) throw new RangeError(`NativeResponder.set: address of ${a.length} bytes, expected ${size}`);
    }
    for (const a of addrs) {
      const k = tableKey(a);
      if (state === 'off') this.table.delete(k);
      else this.table.set(k, state);
      this.pending.set(k, state);
    }
    if (addrs.length === 0) return;
    this.filterDirty = true;
    if (!this.filterScheduled) {
      this.filterScheduled = true;
      setImmediate(() => {
        this.filterScheduled = false;
        if (this.native) this.syncFilter();
      });
    }
  }

  /** Hands the pending table changes to the native side now (one call per state). */
  flush(): void {
    const n = this.handle('flush');
    if (this.pending.size === 0) return;
    const size = this.family === 4 ? 4 : 16;
    const by: Record<EntryState, (number | string)[]> = { active: [], draining: [], off: [] };
    for (const [k, state] of this.pending) by[state].push(k);
    this.pending.clear();
    for (const state of ['off', 'draining', 'active'] as const) {
      const list = by[state];
      if (list.length === 0) continue;
      const keys = Buffer.allocUnsafe(list.length * size);
      list.forEach((k, i) => keyBytes(k, keys, i * size));
      n.setEntries(keys, STATE[state]);
    }
  }

  /** State of `addr` in the table. */
  state(addr: Uint8Array): EntryState {
    return this.table.get(tableKey(addr)) ?? 'off';
  }

  /** Number of addresses in the table. */
  get size(): number {
    return this.table.size;
  }

  /** Rebuilds and attaches the kernel filter now if the table changed; returns the filter in place. */
  syncFilter(): VipFilter | undefined {
    const n = this.handle('syncFilter');
    this.flush();
    if (!this.filterDirty && this.lastFilter) return this.lastFilter;
    const keys: number[] = [];
    for (const k of this.table.keys()) keys.push(typeof k === 'number' ? k : ipv6LowKey(Buffer.from(k, 'hex')));
    const f = this.family === 4 ? arpTargetFilter(keys, this.o.maxFilterInsns) : nsTargetFilter(keys, this.o.maxFilterInsns);
    n.setFilter(assemble(f.program));
    this.filterDirty = false;
    this.lastFilter = f;
    this.o.onFilter?.(f);
    return f;
  }

  /** The filter currently attached (undefined before the first address). */
  get filter(): VipFilter | undefined {
    return this.lastFilter;
  }

  /** Sends one frame now (synchronous). */
  send(frame: Buffer): void {
    this.handle('send').send(frame);
  }

  /**
   * Sends `count` frames of `frameLen` bytes laid out back to back in `frames` from a worker thread
   * (sendmmsg, {@link NativeResponderOptions.batchChunk} at a time); resolves with frames sent.
   */
  sendBatch(frames: Buffer, frameLen: number): Promise<number> {
    const n = this.handle('sendBatch');
    return new Promise((resolve, reject) => {
      n.sendBatch(frames, frameLen, this.o.batchChunk, this.o.batchGapUs, (err, sent) => (err ? reject(err) : resolve(sent)));
    });
  }

  /** Joins (`add`) or leaves a link-layer multicast group on this socket. */
  membership(mac: string, add: boolean): void {
    this.handle('membership').membership(parseMac(mac), add);
  }

  /** Joins a link-layer multicast group (e.g. a solicited-node MAC). */
  addMembership(mac: string): void {
    this.membership(mac, true);
  }

  /** Leaves a link-layer multicast group. */
  dropMembership(mac: string): void {
    if (this.native) this.membership(mac, false);
  }

  /** Never emits frames (answering is native); present to satisfy {@link L2Transport}. */
  on(_event: 'frame', _fn: (frame: Buffer, pkttype: number) => void): this {
    return this;
  }

  /** See {@link on}. */
  off(_event: 'frame', _fn: (frame: Buffer, pkttype: number) => void): this {
    return this;
  }

  /** Counters (see {@link NativeResponderStats}). */
  stats(): NativeResponderStats {
    this.flush();
    return this.handle('stats').stats();
  }

  /**
   * Replies sent per address since the last call (and resets them): `[address bytes, count]`
   * pairs, for per-VIP metrics without a JavaScript call per reply.
   */
  takeHits(): [Buffer, number][] {
    const { keys, counts } = this.handle('takeHits').takeHits();
    const size = this.family === 4 ? 4 : 16;
    return counts.map((n, i) => [keys.subarray(i * size, (i + 1) * size), n]);
  }

  /** True until {@link close}. */
  get isOpen(): boolean {
    return this.native !== undefined;
  }

  /** Stops the reader thread and closes the socket; idempotent. */
  close(): void {
    const n = this.native;
    this.native = undefined;
    n?.close();
  }
}
