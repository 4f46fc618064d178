/**
 * The frame of the lbkitd-against-FRR suites: hooks that bring up a {@link Cluster}, FRR routers on
 * its LAN and lbkitd on every node (and tear them down), the YAML of the service they announce and
 * the wait for its assignment. Imports vitest: for tests only (benches use cluster.ts and frr.ts).
 */
import { afterAll, beforeAll } from 'vitest';
import { sh } from '../../../../test-utils/netns.js';
import { Cluster, ensureBuilt, until } from './cluster.js';
import { frrConf, killPids, startFrr } from './frr.js';

/** One FRR router of a suite. */
export interface FrrRouterSpec {
  /** Address on the cluster LAN (10.77.0.0/24); the first router must be the cluster's `router` address. */
  address: string;
  /** The router's AS. */
  asn: number;
  /** The AS the nodes peer from (FRR accepts the whole LAN as dynamic neighbors in it). */
  nodesAsn: number;
}

/** A running FRR router: its namespace, state directory and vtysh with JSON output parsed. */
export interface FrrRouter {
  ns: string;
  dir: string;
  /** Runs one vtysh command (a `... json` one) and parses its output. */
  json<T>(cmd: string): Promise<T>;
}

/**
 * Registers beforeAll/afterAll for a suite: builds lbkitd if needed, brings `c` up with `yaml`,
 * starts FRR on every router (the first in the cluster's router namespace, state in `<dir>/frr`;
 * router k ≥ 2 in a new namespace `r<k>` on the LAN, state in `<dir>/frr<k>`), then lbkitd on every
 * node; afterwards kills FRR by PID and tears the cluster down. The returned array is filled in by
 * beforeAll, in the order of `specs`: index it inside tests, do not destructure it at registration.
 */
export function frrSuite(c: Cluster, yaml: string, specs: FrrRouterSpec[]): FrrRouter[] {
  const routers: FrrRouter[] = [];
  const pids: number[] = [];
  beforeAll(async () => {
    ensureBuilt();
    await c.up(yaml);
    for (const [k, r] of specs.entries()) {
      let ns = c.router;
      if (k > 0) {
        ns = await c.topo.addNamespace(`r${k + 1}`);
        await c.topo.connect(ns, 'eth0', c.sw, 'br0', [`${r.address}/24`]);
      }
      const dir = `${c.dir}/frr${k > 0 ? k + 1 : ''}`;
      pids.push(...(await startFrr(ns, dir, frrConf(dir, r.asn, r.address, r.nodesAsn, '10.77.0.0/24'))));
      routers.push({ ns, dir, json: async <T>(cmd: string) => JSON.parse(await sh('vtysh', ['--vty_socket', dir, '-c', cmd], { ns })) as T });
    }
    for (const n of c.nodes) c.startLbkitd(n);
  }, 300_000);
  afterAll(async () => {
    killPids(pids);
    await c.down();
  }, 60_000);
  return routers;
}

/**
 * YAML of the LoadBalancer Service default/api (port 8080) at `clusterIP`, with an EndpointSlice
 * holding one endpoint on each of `nodes` (10.244.<index>.3).
 */
export function apiServiceYaml(clusterIP: string, nodes: string[]): string {
  return `kind: Service
metadata: { name: api, namespace: default }
spec: { type: LoadBalancer, clusterIP: ${clusterIP}, ports: [{ port: 8080 }] }
---
kind: EndpointSlice
metadata: { name: api-1, namespace: default, labels: { kubernetes.io/service-name: api } }
endpoints:
${nodes.map((n, i) => `  - { addresses: [10.244.${i}.3], nodeName: ${n} }`).join('\n')}
`;
}

/** Waits (30 s at the most) until node 1 of `c` reports an address assigned to `service`; returns it. */
export function assignedVip(c: Cluster, service = 'default/api'): Promise<string> {
  return until(() => c.state(c.nodes[0]!)?.services.find((s) => s.service === service)?.ingress[0], 30_000, `assignment of ${service}`);
}
