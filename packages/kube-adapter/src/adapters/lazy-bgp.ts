/**
 * A BGP announcer whose backend is created at the first update that has a session: a speaker whose
 * configuration has no BGPPeer for its node never loads @lbkit/bgp and @lbkit/bfd (about 40 ms of
 * CPU at each start of an L2-only speaker, where three speakers on 2 vCPUs start in about 2 s).
 */
import type { BgpRoute } from '../bgp-decision.js';
import type { PeerConfig } from '../config.js';
import type { BgpSessionMetrics } from '../metrics.js';
import type { BgpAnnouncer } from '../speaker.js';

/** See the module comment. */
export class LazyBgpAnnouncer implements BgpAnnouncer {
  private real: Promise<BgpAnnouncer> | undefined;
  private created: BgpAnnouncer | undefined;
  private closed = false;

  /** @param create makes the real announcer (called once it is needed; again after it failed) */
  constructor(private readonly create: () => Promise<BgpAnnouncer>) {}

  /** Whether the real announcer was created. */
  get started(): boolean {
    return this.created !== undefined;
  }

  /** @inheritdoc */
  async update(sessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>, bfdProfiles?: ReadonlyMap<string, Record<string, unknown>>): Promise<void> {
    if (this.closed) return;
    if (!this.real) {
      if (sessions.length === 0) return; // nothing to announce to: nothing to load
      this.real = this.create().then(
        (a) => (this.created = a),
        (e: unknown) => {
          this.real = undefined; // the next update tries again
          throw e;
        },
      );
    }
    const a = await this.real;
    // closed while the backend loaded: it is closed, and gets no update (no session after shutdown)
    if (this.closed) return;
    await a.update(sessions, routesByPeer, bfdProfiles);
  }

  /** @inheritdoc */
  sessionStates(): BgpSessionMetrics[] {
    return this.created?.sessionStates?.() ?? [];
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.closed = true;
    const a = await this.real?.catch(() => undefined);
    await a?.close();
  }
}
