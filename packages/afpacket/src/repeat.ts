/**
 * The repeat schedule of gratuitous ARP and unsolicited NA (MetalLB: at once, then every 1.1 s for
 * 5 s), shared by @lbkit/arp and @lbkit/ndp: addresses taken together form a group whose rounds go
 * out as one batch from a single timer, whatever the group's size.
 */

/** Timing of a {@link RepeatSchedule}. */
export interface RepeatScheduleOptions {
  /** Gap between rounds in ms. */
  intervalMs: number;
  /** How long the rounds continue after the first one, in ms (`floor(forMs / intervalMs)` repeats). */
  forMs: number;
  /** Period of the refresh rounds after the burst, in ms (0 = none). */
  refreshMs: number;
  /** Unreference the timers (they do not keep the process alive; default false). */
  unref?: boolean;
}

interface Group {
  keys: Set<string>;
  burst?: NodeJS.Timeout;
  refresh?: NodeJS.Timeout;
}

/**
 * Calls `send` with the keys of a group at once, then per repeat and refresh round. Starting a key
 * again moves it to the new group (its old round stops for it); a group's timers stop with its last key.
 */
export class RepeatSchedule {
  private readonly groups = new Map<string, Group>();

  /** @param send sends one round for the given keys (never throws: report errors on your side); @param o timing */
  constructor(private readonly send: (keys: string[]) => void, private readonly o: RepeatScheduleOptions) {}

  /** Starts (or restarts) `keys` as one group: one round now, then the repeats and the refresh. */
  start(keys: readonly string[]): void {
    const list = [...new Set(keys)];
    if (list.length === 0) return;
    for (const k of list) this.cancel(k);
    const g: Group = { keys: new Set(list) };
    for (const k of list) this.groups.set(k, g);
    this.send(list);
    const repeats = Math.floor(this.o.forMs / this.o.intervalMs);
    let n = 0;
    if (repeats > 0) {
      g.burst = this.timer(() => {
        this.send([...g.keys]);
        if (++n >= repeats) {
          clearInterval(g.burst);
          g.burst = undefined;
          this.startRefresh(g);
        }
      }, this.o.intervalMs);
    } else this.startRefresh(g);
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setInterval(fn, ms);
    if (this.o.unref) t.unref();
    return t;
  }

  private startRefresh(g: Group): void {
    if (this.o.refreshMs > 0 && g.keys.size > 0) g.refresh = this.timer(() => this.send([...g.keys]), this.o.refreshMs);
  }

  /** Stops the rounds of `key`; true when it was scheduled. */
  cancel(key: string): boolean {
    const g = this.groups.get(key);
    if (!g) return false;
    this.groups.delete(key);
    g.keys.delete(key);
    if (g.keys.size === 0) {
      if (g.burst) clearInterval(g.burst);
      if (g.refresh) clearInterval(g.refresh);
    }
    return true;
  }

  /** Keys scheduled (in their burst or refresh). */
  keys(): string[] {
    return [...this.groups.keys()];
  }

  /** Stops everything. */
  stop(): void {
    for (const k of [...this.groups.keys()]) this.cancel(k);
  }
}
