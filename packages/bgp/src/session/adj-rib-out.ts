/**
 * The send side of one session (Adj-RIB-Out): which prefixes were sent with which attribute set,
 * which changed since, and a resumable pump that turns the changes into UPDATEs. Memory stays lean
 * at 10^6 routes: prefixes are packed as they are visited (at most one UPDATE's worth per attribute
 * set is held), nothing is materialised for the whole table, a full sync walks the speaker's route
 * map directly, and the pump stops when the socket signals back-pressure and resumes on 'drain'.
 * It also yields to the event loop every {@link SLICE} prefixes so timers and probes keep running.
 */
import { prefix as prefixCodec } from '../codec/index.js';
import { announceRoom, encodeAnnounce, encodeEndOfRib, encodeWithdraw, type EncodeContext, type RouteAttributes, withdrawRoom } from './update.js';

/** Prefixes handled per event-loop turn before the pump yields. */
export const SLICE = 5_000;
/** Attribute sets with a partly filled UPDATE held at once; more and they are all sent. */
const MAX_OPEN_GROUPS = 256;

/** An attribute set shared by many prefixes (compared by identity). */
export interface OutRoute {
  attrs: RouteAttributes;
}

/** What the Adj-RIB-Out needs from its session and speaker. */
export interface AdjRibOutHooks<R extends OutRoute> {
  /** The route `prefix` has for this peer now, or undefined (withdrawn or restricted to other peers). */
  routeFor(prefix: string): R | undefined;
  /** Every route of the speaker (a live iterator of its route map); `applies` says which are for this peer. */
  allRoutes(): Iterator<[string, R]>;
  /** Whether an attribute set of {@link allRoutes} is announced to this peer. */
  applies(route: R): boolean;
  /** Encoding facts of the session, or undefined when it is not Established. */
  context(): { ctx: EncodeContext; families: string[] } | undefined;
  /** Writes one UPDATE; returns false when the socket's buffer is full. */
  write(buf: Buffer): boolean;
  /** Calls `cb` once the socket drained (or closed). */
  onDrain(cb: () => void): void;
  /** An attribute set could not be encoded (e.g. no next hop for a family). */
  onError(err: Error): void;
}

interface Group<R extends OutRoute> {
  route: R;
  v4: boolean;
  prefixes: string[];
  bytes: number;
  room: number;
}

/** Adj-RIB-Out of one peer, see the module comment. */
export class AdjRibOut<R extends OutRoute> {
  /** prefix → attribute set last sent. */
  readonly sent = new Map<string, R>();
  /** Prefixes changed since they were last considered. */
  private dirty = new Set<string>();
  /** Walk over every route (initial sync and ROUTE-REFRESH). */
  private sync: Iterator<[string, R]> | undefined;
  /** The route the sync walk returned with the current prefix (saves a lookup per prefix). */
  private syncRoute: R | undefined;
  /** The current prefix comes from the sync walk (it cannot be pending twice: no `held` bookkeeping). */
  private fromSync = false;
  /** The sync walk ended in this slice: flush what it left pending before changes are looked at. */
  private syncEnded = false;
  /** Partly filled UPDATEs per attribute set, IPv4 and IPv6. */
  private groups4 = new Map<R, Group<R>>();
  private groups6 = new Map<R, Group<R>>();
  private withdraw4: string[] = [];
  private withdraw6: string[] = [];
  private wBytes4 = 0;
  private wBytes6 = 0;
  /** Prefixes sitting in a partly filled UPDATE. */
  private held = new Set<string>();
  private eorSent = false;
  private scheduled = false;
  private waitingDrain = false;
  /** Bumped on reset so callbacks of an old session do nothing. */
  private generation = 0;
  private current: { ctx: EncodeContext; families: string[] } | undefined;

  constructor(private readonly hooks: AdjRibOutHooks<R>) {}

  /** Session Established (or ROUTE-REFRESH): send the whole table, then End-of-RIB the first time. */
  startSync(): void {
    this.sent.clear();
    this.sync = this.hooks.allRoutes();
    this.kick();
  }

  /** Session down: forget everything sent or pending. */
  reset(): void {
    this.generation++;
    this.sent.clear();
    this.dirty.clear();
    this.sync = undefined;
    this.syncRoute = undefined;
    this.syncEnded = false;
    this.dropHeld();
    this.eorSent = false;
    this.scheduled = false;
    this.waitingDrain = false;
  }

  /** `prefix` changed (announced, re-announced or withdrawn). */
  mark(prefix: string): void {
    this.dirty.add(prefix);
    this.kick();
  }

  /** True while changes remain to be sent (or the pump waits for the socket). */
  get busy(): boolean {
    return this.scheduled || this.waitingDrain || this.sync !== undefined || this.dirty.size > 0 || this.held.size > 0;
  }

  private kick(): void {
    if (this.scheduled || this.waitingDrain) return;
    this.scheduled = true;
    const gen = this.generation;
    setImmediate(() => {
      if (gen !== this.generation) return;
      this.scheduled = false;
      this.pump();
    });
  }

  private dropHeld(): void {
    this.groups4.clear();
    this.groups6.clear();
    this.withdraw4 = [];
    this.withdraw6 = [];
    this.wBytes4 = this.wBytes6 = 0;
    this.held.clear();
  }

  /** Next prefix to look at: the sync walk first, then the changes. */
  private next(): string | undefined {
    if (this.sync) {
      const r = this.sync.next();
      if (!r.done) {
        this.fromSync = true;
        this.syncRoute = r.value[1];
        return r.value[0];
      }
      this.sync = undefined;
      this.syncEnded = true;
    }
    this.fromSync = false;
    for (const p of this.dirty) {
      this.dirty.delete(p);
      return p;
    }
    return undefined;
  }

  /** Sends changes until done, back-pressure, or the slice is used up. */
  pump(): void {
    const cur = this.hooks.context();
    if (!cur) return;
    this.current = cur;
    const v4ok = cur.families.includes('1/1');
    const v6ok = cur.families.includes('2/1');
    let budget = SLICE;
    let full = false;
    for (;;) {
      const p = this.next();
      if (p === undefined) break;
      if (this.syncEnded) {
        this.syncEnded = false;
        full = !this.emitAll() || full;
      }
      if (this.held.size && this.held.has(p)) full = !this.emitAll() || full;
      const v4 = !p.includes(':');
      const r = this.fromSync ? (this.hooks.applies(this.syncRoute!) ? this.syncRoute : undefined) : this.hooks.routeFor(p);
      if (!r || !(v4 ? v4ok : v6ok)) {
        if (this.sent.delete(p)) full = !this.holdWithdraw(p, v4) || full;
      } else if (this.fromSync || this.sent.get(p) !== r) {
        // (a sync walk starts from an empty `sent` and visits each prefix once: no lookup needed)
        this.sent.set(p, r);
        full = !this.holdAnnounce(p, v4, r) || full;
      }
      if (full || --budget === 0) break;
    }
    const done = !this.sync && this.dirty.size === 0;
    if (done) {
      full = !this.emitAll() || full;
      if (!this.eorSent) {
        this.eorSent = true;
        for (const f of cur.families) full = !this.hooks.write(encodeEndOfRib(f)) || full;
      }
      if (!full) return;
    }
    if (full) {
      this.waitingDrain = true;
      const gen = this.generation;
      this.hooks.onDrain(() => {
        if (gen !== this.generation) return;
        this.waitingDrain = false;
        if (!done || this.busy) this.kick();
      });
    } else this.kick();
  }

  private holdWithdraw(p: string, v4: boolean): boolean {
    const n = prefixCodec.encodingLength(p);
    const room = withdrawRoom(v4, this.current!.ctx.maxMessage);
    let ok = true;
    if ((v4 ? this.wBytes4 : this.wBytes6) + n > room) ok = this.emitWithdraw(v4);
    (v4 ? this.withdraw4 : this.withdraw6).push(p);
    if (v4) this.wBytes4 += n;
    else this.wBytes6 += n;
    if (!this.fromSync) this.held.add(p);
    return ok;
  }

  private holdAnnounce(p: string, v4: boolean, r: R): boolean {
    const groups = v4 ? this.groups4 : this.groups6;
    let g = groups.get(r);
    let ok = true;
    if (!g) {
      if (this.groups4.size + this.groups6.size >= MAX_OPEN_GROUPS) ok = this.emitAll();
      let room: number;
      try {
        room = announceRoom(v4, r.attrs, this.current!.ctx);
      } catch (e) {
        this.sent.delete(p);
        this.hooks.onError(e as Error);
        return ok;
      }
      g = { route: r, v4, prefixes: [], bytes: 0, room };
      groups.set(r, g);
    }
    const n = prefixCodec.encodingLength(p);
    if (g.bytes + n > g.room && g.prefixes.length) {
      ok = this.emitGroup(g) && ok;
      g = { route: r, v4, prefixes: [], bytes: 0, room: g.room };
      groups.set(r, g);
    }
    g.prefixes.push(p);
    g.bytes += n;
    if (!this.fromSync) this.held.add(p);
    return ok;
  }

  private emitGroup(g: Group<R>): boolean {
    (g.v4 ? this.groups4 : this.groups6).delete(g.route);
    if (this.held.size) for (const p of g.prefixes) this.held.delete(p);
    let bufs: Buffer[];
    try {
      bufs = encodeAnnounce(g.prefixes, g.route.attrs, this.current!.ctx);
    } catch (e) {
      for (const p of g.prefixes) if (this.sent.get(p) === g.route) this.sent.delete(p);
      this.hooks.onError(e as Error);
      return true;
    }
    let ok = true;
    for (const b of bufs) ok = this.hooks.write(b) && ok;
    return ok;
  }

  private emitWithdraw(v4: boolean): boolean {
    const list = v4 ? this.withdraw4 : this.withdraw6;
    if (!list.length) return true;
    if (v4) {
      this.withdraw4 = [];
      this.wBytes4 = 0;
    } else {
      this.withdraw6 = [];
      this.wBytes6 = 0;
    }
    if (this.held.size) for (const p of list) this.held.delete(p);
    let ok = true;
    for (const b of encodeWithdraw(list, this.current!.ctx.maxMessage)) ok = this.hooks.write(b) && ok;
    return ok;
  }

  /** Sends every partly filled UPDATE (withdrawals first). Returns false on back-pressure. */
  private emitAll(): boolean {
    let ok = this.emitWithdraw(true);
    ok = this.emitWithdraw(false) && ok;
    for (const g of [...this.groups4.values(), ...this.groups6.values()]) ok = this.emitGroup(g) && ok;
    return ok;
  }
}
