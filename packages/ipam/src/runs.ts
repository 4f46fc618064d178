/** Sorted set of bigints stored as disjoint, merged runs [start, end]; memory grows with fragmentation, never with range size. */

/** A set of held addresses of one family, kept as sorted runs. */
export class RunSet {
  private starts: bigint[] = [];
  private ends: bigint[] = [];

  /** Number of runs (for structural tests). */
  get runCount(): number {
    return this.starts.length;
  }

  /** Index of the last run whose start is <= x, or -1. */
  private floor(x: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= x) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  /** True when x is in the set. */
  has(x: bigint): boolean {
    const i = this.floor(x);
    return i >= 0 && this.ends[i]! >= x;
  }

  /** Smallest value >= x that is not in the set. */
  nextFree(x: bigint): bigint {
    const i = this.floor(x);
    if (i >= 0 && this.ends[i]! >= x) return this.ends[i]! + 1n;
    return x;
  }

  /** Adds x. */
  add(x: bigint): void {
    const i = this.floor(x);
    if (i >= 0 && this.ends[i]! >= x) return;
    const joinLeft = i >= 0 && this.ends[i]! + 1n === x;
    const joinRight = i + 1 < this.starts.length && this.starts[i + 1]! - 1n === x;
    if (joinLeft && joinRight) {
      this.ends[i] = this.ends[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinLeft) this.ends[i] = x;
    else if (joinRight) this.starts[i + 1] = x;
    else {
      this.starts.splice(i + 1, 0, x);
      this.ends.splice(i + 1, 0, x);
    }
  }

  /** Removes x. */
  delete(x: bigint): void {
    const i = this.floor(x);
    if (i < 0 || this.ends[i]! < x) return;
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    if (s === e) { this.starts.splice(i, 1); this.ends.splice(i, 1); }
    else if (s === x) this.starts[i] = x + 1n;
    else if (e === x) this.ends[i] = x - 1n;
    else {
      this.ends[i] = x - 1n;
      this.starts.splice(i + 1, 0, x + 1n);
      this.ends.splice(i + 1, 0, e);
    }
  }
}
