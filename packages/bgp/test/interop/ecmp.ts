/** The ECMP assertions shared by the BIRD and FRR suites (kept out of lab.ts, which the bench imports without vitest). */
import { expect } from 'vitest';
import { kernelNexthops, until, type NodeSpeaker } from './lab.js';

/** The VIPs every node of the suites announces (see `startNode`). */
export const VIPS = { v4: '10.96.0.10', v6: 'fd0a:96::10' } as const;

/**
 * Asserts the router's kernel in `ns` routes both VIPs over exactly the nodes numbered `nodes`
 * (node i: 10.0.0.1i and fd0a::1i), waiting up to 30 s for each route to have that many nexthops.
 */
export async function expectNexthopsOf(ns: string, nodes: number[], what: string): Promise<void> {
  await until(async () => (await kernelNexthops(ns, VIPS.v4)).length === nodes.length, 30_000, `v4 ${what}`);
  expect(await kernelNexthops(ns, VIPS.v4)).toEqual(nodes.map((i) => `10.0.0.1${i}`));
  await until(async () => (await kernelNexthops(ns, VIPS.v6)).length === nodes.length, 30_000, `v6 ${what}`);
  expect(await kernelNexthops(ns, VIPS.v6)).toEqual(nodes.map((i) => `fd0a::1${i}`));
}

/** Asserts the kernel holds both VIPs as multipath routes with exactly one nexthop per node (1–3). */
export function expectOneNexthopPerNode(ns: string): Promise<void> {
  return expectNexthopsOf(ns, [1, 2, 3], 'ECMP');
}

/** Makes node 1 of 3 withdraw both VIPs and asserts the router then routes them over nodes 2 and 3 only. */
export async function expectWithdrawRemovesNode1(ns: string, node1: NodeSpeaker): Promise<void> {
  node1.send({ cmd: 'withdraw', prefix: `${VIPS.v4}/32` });
  node1.send({ cmd: 'withdraw', prefix: `${VIPS.v6}/128` });
  await expectNexthopsOf(ns, [2, 3], 'nexthop of node 1 removed');
}
