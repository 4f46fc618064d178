/** PLACEHOLDER until @lbkit/memberlist exports an API: fails with a clear message (availableBackends() reports it). */
import type { Logger } from '../log.js';
import type { Membership } from '../speaker.js';

const NI = 'LbkitMembership: @lbkit/memberlist exports no API yet; use --membership-backend serf';

/** Not yet integrated. */
export class LbkitMembership {
  constructor(readonly opts: Record<string, unknown> & { log: Logger }) {
    throw new Error(NI);
  }
  /** Not yet integrated. */
  async start(): Promise<void> {}
}
export interface LbkitMembership extends Membership {}
void NI;
/** False while this backend is a placeholder. */
export const INTEGRATED = false;
