/** The ECMP assertion shared by the BIRD and FRR suites (kept out of lab.ts, which the bench imports without vitest). */
import { expect } from 'vitest';
import { kernelNexthops, until } from './lab.js';

/**
 * Asserts the router's kernel holds the test's VIPs (10.96.0.10 and fd0a:96::10) as multipath routes with
 * exactly one nexthop per node (10.0.0.11–13, fd0a::11–13), waiting up to 30 s for each to appear.
 */
export async function expectOneNexthopPerNode(ns: string): Promise<void> {
  await until(async () => (await kernelNexthops(ns, '10.96.0.10')).length === 3, 30_000, 'v4 ECMP');
  expect(await kernelNexthops(ns, '10.96.0.10')).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13']);
  await until(async () => (await kernelNexthops(ns, 'fd0a:96::10')).length === 3, 30_000, 'v6 ECMP');
  expect(await kernelNexthops(ns, 'fd0a:96::10')).toEqual(['fd0a::11', 'fd0a::12', 'fd0a::13']);
}
