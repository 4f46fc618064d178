/**
 * Startup hold of L2 announcements. A speaker that has just started (or restarted) and has not yet
 * joined the memberlist cluster sees only itself as a live speaker, so the L2 election makes it the
 * winner of every VIP: it would send gratuitous ARP / unsolicited NA and steal each VIP from its
 * real owner until the join completes. The hold keeps new L2 announcements back until membership
 * lists every known node (when the caller passes the Node names), or, once at least one other member
 * is listed, until the membership has been unchanged for a short settle time (nodes starting
 * together join one by one: deciding with two of three members would announce VIPs the third owns),
 * or until a bounded grace period ends (so a single-node cluster still announces). It is a one-shot
 * gate: once released it never engages again.
 */
import { nullLogger, type Logger } from './log.js';

/** Options of {@link StartupHold}. */
export interface StartupHoldOptions {
  /** This speaker's node (member) name. */
  node: string;
  /** Longest hold in ms, counted from the first {@link StartupHold.holding} call; 0 disables the hold. */
  graceMs: number;
  /** Called once when the gate opens from a timer (grace or settle time ended; the speaker re-syncs then). */
  onExpire: () => void;
  /**
   * With other members listed but not every known node: how long the membership must stay unchanged
   * before the gate opens, in ms (default 1000, bounded by the grace period).
   */
  settleMs?: number;
  log?: Logger;
}

/** One-shot gate: holds L2 announcements until membership joined another member or the grace ended. */
export class StartupHold {
  private state: 'idle' | 'holding' | 'released';
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private lastMembers = '';
  private startedAt = 0;
  private readonly log: Logger;

  /** @param opts node name, grace period and expiry callback; throws when `graceMs` is not a non-negative finite number */
  constructor(private readonly opts: StartupHoldOptions) {
    if (typeof opts.graceMs !== 'number' || !Number.isFinite(opts.graceMs) || opts.graceMs < 0)
      throw new Error(`Speaker: l2StartupGraceMs: expected a non-negative number of milliseconds, got ${JSON.stringify(opts.graceMs)}`);
    this.log = opts.log ?? nullLogger;
    this.state = opts.graceMs === 0 ? 'released' : 'idle';
  }

  /** True while the gate is closed (released, or never engaged, = false). */
  get active(): boolean {
    return this.state !== 'released';
  }

  /**
   * Whether new L2 announcements must wait now. `members` is the current membership (this node
   * included), or null when the speaker runs without membership (never holds). The first call
   * starts the grace timer; a membership with another member releases the gate for good.
   */
  holding(members: string[] | null, nodes?: Iterable<string>): boolean {
    if (this.state === 'released') return false;
    if (members === null) {
      this.release('no membership');
      return false;
    }
    const others = members.filter((m) => m !== this.opts.node);
    if (others.length > 0) {
      const have = new Set(members);
      const known = nodes ? [...nodes] : [];
      if (!nodes || (known.length > 0 && known.every((n) => have.has(n)))) {
        this.release('joined the cluster', { members: members.length });
        return false;
      }
      this.settleLater(members);
    }
    if (this.state === 'idle') {
      this.state = 'holding';
      this.startedAt = Date.now();
      this.timer = setTimeout(() => {
        if (this.state !== 'holding') return;
        this.release('startup grace ended without another member, announcing alone');
        this.opts.onExpire();
      }, this.opts.graceMs);
      this.timer.unref?.();
      this.log.log('info', 'holding L2 announcements until memberlist joins another member', { graceMs: this.opts.graceMs });
    }
    return true;
  }

  /** Some nodes are not members yet: open the gate once this membership stayed unchanged for the settle time. */
  private settleLater(members: string[]): void {
    const sig = [...members].sort().join(',');
    if (sig === this.lastMembers && this.settle) return;
    this.lastMembers = sig;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      if (this.state === 'released') return;
      this.release('joined the cluster, membership settled', { members: members.length });
      this.opts.onExpire();
    }, this.opts.settleMs ?? 1000);
    this.settle.unref?.();
  }

  private release(why: string, extra: Record<string, unknown> = {}): void {
    const was = this.state;
    this.state = 'released';
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.settle);
    this.settle = undefined;
    if (was === 'holding') this.log.log('info', 'L2 startup hold released', { reason: why, heldMs: Date.now() - this.startedAt, ...extra });
  }

  /** Cancels the grace timer (shutdown); the gate stays as it is. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.settle);
    this.settle = undefined;
  }
}
