/**
 * Transmit-limited broadcast queue (memberlist queue.go semantics): each broadcast is piggybacked
 * up to `retransmitMult × ceil(log10(n + 1))` times; a new broadcast about a node invalidates the
 * queued one about the same node; fewest-transmitted items go first, newest first among equals
 * (memberlist additionally prefers larger items among equals; we skip that to keep every
 * operation O(1) amortised, which matters with 1000 simulated nodes).
 */

/** Number of times a broadcast is sent: `mult × ceil(log10(n + 1))`. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** One queued broadcast. */
export interface Broadcast<T> {
  /** Node name the broadcast is about; used for invalidation (undefined = never invalidated). */
  name?: string;
  /** The message itself. */
  msg: T;
  /** Encoded size in bytes. */
  size: number;
  /** Called once when the broadcast is dropped: `true` when it reached its retransmit limit. */
  finished?: (sent: boolean) => void;
}

interface Item<T> extends Broadcast<T> {
  transmits: number;
  dead: boolean;
}

/** The queue. `numNodes` is read at every call so the limit follows the cluster size. */
export class BroadcastQueue<T> {
  /** buckets[t] = items transmitted t times, oldest first. */
  private buckets: Item<T>[][] = [];
  private byName = new Map<string, Item<T>>();
  private live = 0;
  private deadCount = 0;

  /** @param maxQueued queued broadcasts beyond this are dropped, most-transmitted oldest first */
  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
    private readonly maxQueued = 4096,
  ) {}

  private kill(it: Item<T>, sent: boolean): void {
    if (it.dead) return;
    it.dead = true;
    this.live--;
    this.deadCount++;
    if (it.name !== undefined && this.byName.get(it.name) === it) this.byName.delete(it.name);
    it.finished?.(sent);
  }

  /** Queues a broadcast, invalidating any queued one with the same `name`. */
  queue(b: Broadcast<T>): void {
    if (b.name !== undefined) {
      const old = this.byName.get(b.name);
      if (old) this.kill(old, false);
    }
    const it: Item<T> = { ...b, transmits: 0, dead: false };
    (this.buckets[0] ??= []).push(it);
    if (it.name !== undefined) this.byName.set(it.name, it);
    this.live++;
    while (this.live > this.maxQueued) {
      for (let t = this.buckets.length - 1; t >= 0; t--) {
        const victim = this.buckets[t]?.find((x) => !x.dead);
        if (victim) {
          this.kill(victim, false);
          break;
        }
      }
    }
    if (this.deadCount > 1024 && this.deadCount > this.live) this.compact();
  }

  private compact(): void {
    this.buckets = this.buckets.map((b) => b.filter((x) => !x.dead));
    this.deadCount = 0;
  }

  /** Number of queued broadcasts. */
  get length(): number {
    return this.live;
  }

  /**
   * Returns broadcasts that fit in `limit` bytes, each costing `size + overhead`, and counts one
   * transmission for each; items that reach the retransmit limit are removed.
   */
  getBroadcasts(overhead: number, limit: number): T[] {
    if (this.live === 0) return [];
    const max = retransmitLimit(this.retransmitMult, this.numNodes());
    const out: T[] = [];
    const moved: Item<T>[] = [];
    let used = 0;
    let skips = 0;
    outer: for (let t = 0; t < this.buckets.length; t++) {
      const b = this.buckets[t];
      if (!b || b.length === 0) continue;
      for (let i = b.length - 1; i >= 0; i--) {
        const it = b[i]!;
        if (it.dead) {
          if (i === b.length - 1) {
            b.pop();
            this.deadCount--;
          }
          continue;
        }
        const cost = it.size + overhead;
        if (used + cost > limit) {
          if (++skips > 32 || limit - used < 16) break outer;
          continue;
        }
        used += cost;
        out.push(it.msg);
        // remove from this bucket (swap-free: mark and move)
        b.splice(i, 1);
        it.transmits++;
        if (it.transmits >= max) {
          it.dead = true;
          this.live--;
          if (it.name !== undefined && this.byName.get(it.name) === it) this.byName.delete(it.name);
          it.finished?.(true);
        } else moved.push(it);
      }
    }
    // Re-insert after the scan so an item is sent at most once per call; keep oldest-first order.
    for (let k = moved.length - 1; k >= 0; k--) {
      const it = moved[k]!;
      (this.buckets[it.transmits] ??= []).push(it);
    }
    return out;
  }

  /** Drops everything. */
  reset(): void {
    for (const b of this.buckets) for (const it of b) this.kill(it, false);
    this.buckets = [];
    this.byName.clear();
    this.deadCount = 0;
  }
}
