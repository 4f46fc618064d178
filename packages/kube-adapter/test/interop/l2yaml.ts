/** YAML for the L2 end-to-end tests (3 nodes, one service with endpoints on every node). */
export const VIP = '10.77.0.200';
/** The IPv6 VIP of {@link l2Yaml6}. */
export const VIP6 = 'fd00:77::200';
/** Node names of the lab. */
export const NODES = ['node1', 'node2', 'node3'];
/** The service of the YAML (`namespace/name`). */
export const SERVICE = 'default/web';

/** Pool, L2Advertisement on eth0, the Nodes, one LoadBalancer Service and its EndpointSlice (an endpoint per node). */
function clusterYaml(nodes: string[], o: { pool: string; range: string; service: string; spec: string; addressType: 'IPv4' | 'IPv6'; endpoint: (i: number) => string }): string {
  return `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: ${o.pool}, namespace: metallb-system }
spec: { addresses: ["${o.range}"] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
spec: { ipAddressPools: [${o.pool}], interfaces: [eth0] }
---
${nodes.map((n, i) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { kubernetes.io/hostname: ${n} } }\nstatus: { addresses: [{ type: InternalIP, address: 10.77.0.${11 + i} }] }\n---`).join('\n')}
apiVersion: v1
kind: Service
metadata: { name: ${o.service}, namespace: default }
spec: { type: LoadBalancer, ${o.spec}selector: { app: web }, ports: [{ port: 8080, protocol: TCP }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${o.service}-1, namespace: default, labels: { kubernetes.io/service-name: ${o.service} } }
addressType: ${o.addressType}
endpoints:
${nodes.map((n, i) => `  - { addresses: [${o.endpoint(i)}], nodeName: ${n}, conditions: { ready: true } }`).join('\n')}
`;
}

/** IPv4: pool 10.77.0.200-207, service `default/web`. */
export function l2Yaml(nodes: string[]): string {
  return clusterYaml(nodes, { pool: 'l2-pool', range: '10.77.0.200-10.77.0.207', service: 'web', spec: 'clusterIP: 10.43.0.10, ', addressType: 'IPv4', endpoint: (i) => `10.244.${i + 1}.2` });
}

/** Same cluster with an IPv6 single-stack service (`default/web6`) and an IPv6 pool. */
export function l2Yaml6(nodes: string[]): string {
  return clusterYaml(nodes, {
    pool: 'l2-pool6',
    range: 'fd00:77::200/125',
    service: 'web6',
    spec: 'ipFamilies: [IPv6], ipFamilyPolicy: SingleStack, clusterIP: "fd00:43::10", clusterIPs: ["fd00:43::10"], ',
    addressType: 'IPv6',
    endpoint: (i) => `"fd00:244:${i + 1}::2"`,
  });
}
