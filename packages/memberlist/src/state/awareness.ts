/**
 * Lifeguard "Local Health Aware Probe": a score in [0, max-1] that grows when this node misses
 * acks or nacks (a sign that *we* are slow) and scales the probe interval and probe deadline.
 */
export class Awareness {
  private score = 0;

  /** @param max AwarenessMaxMultiplier (memberlist default 8); the score stays in [0, max-1]. */
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Awareness.max must be an integer >= 1, got ${max}`);
  }

  /** Adds `delta` to the score, clamped to [0, max-1]. */
  applyDelta(delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
  }

  /** Current health score (0 = healthy). */
  getHealthScore(): number {
    return this.score;
  }

  /** Returns `ms × (score + 1)`. */
  scaleTimeout(ms: number): number {
    return ms * (this.score + 1);
  }
}
