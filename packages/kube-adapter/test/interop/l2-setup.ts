/**
 * Suite setup shared by the lbkitd layer-2 interop tests: a {@link Cluster} brought up in
 * `beforeAll` from a YAML text (built lbkitd, an HTTP server and lbkitd started on every node) and
 * torn down in `afterAll` (node logs printed first with KUBE_DEBUG set).
 */
import { afterAll, beforeAll } from 'vitest';
import { Cluster, ensureBuilt, type ClusterOptions } from './cluster.js';

/** Registers the hooks of a suite running lbkitd on a cluster made with `opts` from `yaml`; returns the cluster. */
export function useL2Cluster(opts: ClusterOptions, yaml: string): Cluster {
  const c = new Cluster(opts);
  beforeAll(async () => {
    ensureBuilt();
    await c.up(yaml);
    for (const n of c.nodes) c.startHttp(n);
    for (const n of c.nodes) c.startLbkitd(n);
  }, 300_000);
  afterAll(async () => {
    if (process.env.KUBE_DEBUG) for (const n of c.nodes) console.log(n.name, n.logs.join(''));
    await c.down();
  }, 60_000);
  return c;
}
