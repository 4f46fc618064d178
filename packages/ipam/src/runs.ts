/** Sorted sets of integers (numbers or bigints) stored as disjoint, merged runs; memory grows with fragmentation, never with range size. */

/** Largest number of runs in one block before it is split in two. */
const MAX_BLOCK = 256;

interface Block<T> {
  starts: T[];
  ends: T[];
}

/**
 * A set of integers kept as sorted, merged runs [start, end], for `number` (IPv4 values and clean indexes,
 * below 2^53, no BigInt allocation) or `bigint` (IPv6 values): {@link NumberRunSet} and {@link RunSet}.
 * Runs live in blocks of at most 256, indexed by each block's first start: a lookup is two binary searches
 * (O(log n)), an update moves at most one block's entries plus, when a block splits or empties, the block
 * index (n / 256 entries), so heavy fragmentation (100k runs) stays cheap.
 */
abstract class IntRunSet<T extends number | bigint> {
  private blocks: Block<T>[] = [];
  private mins: T[] = [];
  private count = 0;

  /** `x + 1` and `x - 1` in T's arithmetic. */
  protected abstract succ(x: T): T;
  protected abstract pred(x: T): T;

  /** Number of runs. */
  get runCount(): number {
    return this.count;
  }

  /** Index of the last block whose first start is <= x, or -1. */
  private blockOf(x: T): number {
    const m = this.mins;
    let lo = 0;
    let hi = m.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid]! <= x) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  /** Index of the last run of the block whose start is <= x (the block's first start is <= x). */
  private static runOf<T>(b: Block<T>, x: T): number {
    const st = b.starts;
    let lo = 0;
    let hi = st.length - 1;
    let ans = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (st[mid]! <= x) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  /** True when x is in the set. */
  has(x: T): boolean {
    const bi = this.blockOf(x);
    if (bi < 0) return false;
    const b = this.blocks[bi]!;
    return b.ends[IntRunSet.runOf(b, x)]! >= x;
  }

  /** Smallest value >= x that is not in the set. */
  nextFree(x: T): T {
    const bi = this.blockOf(x);
    if (bi < 0) return x;
    const b = this.blocks[bi]!;
    const e = b.ends[IntRunSet.runOf(b, x)]!;
    return e >= x ? this.succ(e) : x;
  }

  private insertRun(bi: number, ri: number, s: T, e: T): void {
    this.count++;
    if (this.blocks.length === 0) {
      this.blocks.push({ starts: [s], ends: [e] });
      this.mins.push(s);
      return;
    }
    const b = this.blocks[bi]!;
    if (ri === b.starts.length) { b.starts.push(s); b.ends.push(e); } else { b.starts.splice(ri, 0, s); b.ends.splice(ri, 0, e); }
    if (ri === 0) this.mins[bi] = s;
    if (b.starts.length > MAX_BLOCK) {
      const half = b.starts.length >> 1;
      const nb: Block<T> = { starts: b.starts.splice(half), ends: b.ends.splice(half) };
      this.blocks.splice(bi + 1, 0, nb);
      this.mins.splice(bi + 1, 0, nb.starts[0]!);
    }
  }

  private removeRun(bi: number, ri: number): void {
    this.count--;
    const b = this.blocks[bi]!;
    b.starts.splice(ri, 1);
    b.ends.splice(ri, 1);
    if (b.starts.length === 0) {
      this.blocks.splice(bi, 1);
      this.mins.splice(bi, 1);
    } else if (ri === 0) this.mins[bi] = b.starts[0]!;
  }

  /** Adds x (merging with neighbouring runs). */
  add(x: T): void {
    const bi = this.blockOf(x);
    let ri = -1;
    if (bi >= 0) {
      const b = this.blocks[bi]!;
      ri = IntRunSet.runOf(b, x);
      if (b.ends[ri]! >= x) return;
    }
    // right neighbour: next run in the same block, else the first run of the next block
    let rb = bi;
    let rr = ri + 1;
    if (rb < 0) { rb = 0; rr = 0; } else if (rr === this.blocks[rb]!.starts.length) { rb++; rr = 0; }
    const right = rb < this.blocks.length ? this.blocks[rb]! : undefined;
    const joinLeft = bi >= 0 && this.succ(this.blocks[bi]!.ends[ri]!) === x;
    const joinRight = right !== undefined && this.pred(right.starts[rr]!) === x;
    if (joinLeft && joinRight) {
      this.blocks[bi]!.ends[ri] = right.ends[rr]!;
      this.removeRun(rb, rr);
    } else if (joinLeft) this.blocks[bi]!.ends[ri] = x;
    else if (joinRight) {
      right.starts[rr] = x;
      if (rr === 0) this.mins[rb] = x;
    } else if (bi < 0) this.insertRun(0, 0, x, x);
    else this.insertRun(bi, ri + 1, x, x);
  }

  /** Removes x (splitting its run when needed). */
  delete(x: T): void {
    const bi = this.blockOf(x);
    if (bi < 0) return;
    const b = this.blocks[bi]!;
    const ri = IntRunSet.runOf(b, x);
    const s = b.starts[ri]!;
    const e = b.ends[ri]!;
    if (e < x) return;
    if (s === e) this.removeRun(bi, ri);
    else if (s === x) {
      b.starts[ri] = this.succ(x);
      if (ri === 0) this.mins[bi] = b.starts[ri]!;
    } else if (e === x) b.ends[ri] = this.pred(x);
    else {
      b.ends[ri] = this.pred(x);
      this.insertRun(bi, ri + 1, this.succ(x), e);
    }
  }
}

/** {@link IntRunSet} of numbers (IPv4 values and clean indexes, below 2^53). */
export class NumberRunSet extends IntRunSet<number> {
  protected succ(x: number): number {
    return x + 1;
  }
  protected pred(x: number): number {
    return x - 1;
  }
}

/** {@link IntRunSet} of bigints (IPv6 values). */
export class RunSet extends IntRunSet<bigint> {
  protected succ(x: bigint): bigint {
    return x + 1n;
  }
  protected pred(x: bigint): bigint {
    return x - 1n;
  }
}
