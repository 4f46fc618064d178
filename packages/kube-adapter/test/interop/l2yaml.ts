/** YAML for the L2 end-to-end tests (3 nodes, one service with endpoints on every node). */
export const VIP = '10.77.0.200';

export function l2Yaml(nodes: string[]): string {
  return `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2-pool, namespace: metallb-system }
spec: { addresses: ["10.77.0.200-10.77.0.207"] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
spec: { ipAddressPools: [l2-pool], interfaces: [eth0] }
---
${nodes.map((n, i) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { kubernetes.io/hostname: ${n} } }\nstatus: { addresses: [{ type: InternalIP, address: 10.77.0.${11 + i} }] }\n---`).join('\n')}
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, clusterIP: 10.43.0.10, selector: { app: web }, ports: [{ port: 8080, protocol: TCP }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
endpoints:
${nodes.map((n, i) => `  - { addresses: [10.244.${i + 1}.2], nodeName: ${n}, conditions: { ready: true } }`).join('\n')}
`;
}

/** The IPv6 VIP of {@link l2Yaml6}. */
export const VIP6 = 'fd00:77::200';

/** Same cluster with an IPv6 single-stack service and an IPv6 pool. */
export function l2Yaml6(nodes: string[]): string {
  return `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2-pool6, namespace: metallb-system }
spec: { addresses: ["fd00:77::200/125"] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
spec: { ipAddressPools: [l2-pool6], interfaces: [eth0] }
---
${nodes.map((n, i) => `apiVersion: v1\nkind: Node\nmetadata: { name: ${n}, labels: { kubernetes.io/hostname: ${n} } }\nstatus: { addresses: [{ type: InternalIP, address: 10.77.0.${11 + i} }] }\n---`).join('\n')}
apiVersion: v1
kind: Service
metadata: { name: web6, namespace: default }
spec: { type: LoadBalancer, ipFamilies: [IPv6], ipFamilyPolicy: SingleStack, clusterIP: "fd00:43::10", clusterIPs: ["fd00:43::10"], selector: { app: web }, ports: [{ port: 8080, protocol: TCP }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web6-1, namespace: default, labels: { kubernetes.io/service-name: web6 } }
addressType: IPv6
endpoints:
${nodes.map((n, i) => `  - { addresses: ["fd00:244:${i + 1}::2"], nodeName: ${n}, conditions: { ready: true } }`).join('\n')}
`;
}
