// Helpers of ndp-recreate.test.ts: iface-fixture.ts processes (line-driven, see
// test-utils/l2-fixture.ts) and re-exports of the shared lab helpers of test-utils/l2-lab.ts.
import { fileURLToPath } from 'node:url';
import type { Topology } from '../../../../test-utils/netns.js';
import { capture, sleep, startLineFixture, type LineProc } from '../../../../test-utils/l2-lab.js';

export { sleep, capture as tshark };

const fixture = fileURLToPath(new URL('./iface-fixture.ts', import.meta.url));

/** An `iface-fixture.ts` process: every stdout line is kept; `wait` looks for one from an index on. */
export type SpeakerProc = LineProc;

/** Starts the fixture in `ns` on `eth0`; resolves once it printed `ready MAC`. */
export async function startIfaceSpeaker(topo: Topology, ns: string, env: Record<string, string> = {}): Promise<SpeakerProc> {
  return startLineFixture(topo, ns, fixture, { env, ready: /^ready /, timeouts: { waitMs: 20_000, cmdMs: 20_000 } });
}
