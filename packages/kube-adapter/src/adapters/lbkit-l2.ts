/** PLACEHOLDER until @lbkit/arp + @lbkit/ndp export an API: fails with a clear message (availableBackends() reports it). */
import type { Logger } from '../log.js';
import type { L2Announcer } from '../speaker.js';

const NI = 'LbkitL2Announcer: @lbkit/arp and @lbkit/ndp export no API yet; use --l2-backend kernel';

/** Not yet integrated. */
export class LbkitL2Announcer {
  constructor(readonly opts: Record<string, unknown> & { log: Logger }) {
    throw new Error(NI);
  }
  /** Not yet integrated. */
  async start(): Promise<void> {}
}
export interface LbkitL2Announcer extends L2Announcer {}
void NI;
/** False while this backend is a placeholder. */
export const INTEGRATED = false;
