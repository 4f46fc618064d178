// Shared by the interop tests and the bench: the 4-namespace IPv4 L2 lab, ArpSpeaker fixtures
// (fixture-speaker.ts) and the client's neighbour table. Lab, fixture process and capture live in
// test-utils/l2-lab.ts.
import { fileURLToPath } from 'node:url';
import { Topology, sh } from '../../../../test-utils/netns.js';
import { addL2Lab, capture, sleep, startLineFixture, type Capture, type L2Lab, type LineProc } from '../../../../test-utils/l2-lab.js';

export { capture, sleep, type Capture };

const fixture = fileURLToPath(new URL('./fixture-speaker.ts', import.meta.url));

/** A running fixture-speaker.ts process. */
export type Fixture = LineProc;

/** The lab of {@link makeLab} and its topology. */
export interface Lab extends L2Lab {
  /** Owns the namespaces; `destroy()` removes them. */
  topo: Topology;
}

/** Builds the lab: client 10.78.0.10, node1 10.78.0.1, node2 10.78.0.2 on one bridge. */
export async function makeLab(prefix = 'arp'): Promise<Lab> {
  const topo = new Topology(prefix);
  return { topo, ...(await addL2Lab(topo, { addrs: ['10.78.0.10/24', '10.78.0.1/24', '10.78.0.2/24'] })) };
}

/** Starts fixture-speaker.ts in `ns` on eth0; resolves once it printed `ready`. */
export async function startSpeaker(topo: Topology, ns: string, env: Record<string, string> = {}): Promise<Fixture> {
  return startLineFixture(topo, ns, fixture, { env, ready: /^ready$/ });
}

/** The client's neighbour entry for `ip` (lladdr lower-case, state list), or undefined. */
export async function neigh(ns: string, ip: string): Promise<{ lladdr?: string; state?: string[] } | undefined> {
  const j = JSON.parse(await sh('ip', ['-j', 'neigh', 'show', ip, 'dev', 'eth0'], { ns })) as { lladdr?: string; state?: string[] }[];
  return j[0];
}

/** Polls `ip -j neigh` every 10 ms until the entry's MAC is `mac`; returns ms since `t0` (a `performance.now()`). */
export async function waitNeigh(ns: string, ip: string, mac: string, t0: number, timeoutMs = 10_000): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    const n = await neigh(ns, ip);
    if (n?.lladdr?.toLowerCase() === mac) return performance.now() - t0;
    await sleep(10);
  }
  throw new Error(`neighbour ${ip} did not switch to ${mac} within ${timeoutMs} ms: ${JSON.stringify(await neigh(ns, ip))}`);
}
