import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAllocator } from '../src/adapters/allocator.js';
import { Daemon } from '../src/daemon.js';
import { metallbMetrics, Registry } from '../src/metrics.js';
import { KubeSource } from '../src/source/kube.js';
import { YamlFileSource } from '../src/source/yaml.js';
import type { L2Announcer, Membership } from '../src/speaker.js';
import { FakeApiServer } from './fake-apiserver.js';
import { until } from './helpers.js';

const YAML = (addresses: string) => `
kind: IPAddressPool
metadata: { name: pool1, namespace: metallb-system }
spec: { addresses: ["${addresses}"] }
---
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
---
kind: Node
metadata: { name: n1 }
---
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, clusterIP: 10.96.0.5, ports: [{ port: 80 }] }
---
kind: Service
metadata: { name: db, namespace: default }
spec: { type: LoadBalancer, clusterIP: 10.96.0.6, ports: [{ port: 5432 }] }
---
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
endpoints: [{ addresses: [10.244.0.1], nodeName: n1 }]
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A config file holding `yaml` in a fresh temp dir, and an L2 announcer that records what it announces. */
function yamlSetup(yaml: string): { f: string; announced: Set<string>; l2: L2Announcer } {
  const d = mkdtempSync(join(tmpdir(), 'kube-daemon-'));
  dirs.push(d);
  const f = join(d, 'c.yaml');
  writeFileSync(f, yaml);
  const announced = new Set<string>();
  const l2: L2Announcer = { announce: (ip) => void announced.add(ip), withdraw: (ip) => void announced.delete(ip), close: () => {} };
  return { f, announced, l2 };
}

describe('Daemon with a YAML source (controller + speaker in one process)', () => {
  it('assigns, announces, survives a bad config (stale) and follows pool changes', async () => {
    const { f, announced, l2 } = yamlSetup(YAML('192.168.10.0/31'));
    const reg = new Registry();
    const src = new YamlFileSource(f, { debounceMs: 20 });
    const dm = new Daemon({ source: src, node: 'n1', mode: 'all', allocator: createAllocator(), l2, metrics: metallbMetrics(reg) });
    await dm.start();
    try {
      const ips = () => Object.fromEntries(dm.services().map((s) => [s.metadata!.name, s.status?.loadBalancer?.ingress?.map((i) => i.ip) ?? []]));
      expect(ips()).toEqual({ db: ['192.168.10.0'], web: ['192.168.10.1'] });
      // only web has an endpoint: only web's IP is announced
      expect([...announced]).toEqual(['192.168.10.1']);
      expect(await reg.render()).toContain('metallb_allocator_addresses_in_use_total{pool="pool1"} 2');
      expect(await reg.render()).toContain('metallb_k8s_client_config_loaded_bool 1');
      // a config error: previous config kept, stale=1, assignments intact
      writeFileSync(f, YAML('192.168.10.0/33'));
      await until(() => dm.lastConfigError);
      expect(dm.lastConfigError).toContain('IPAddressPool metallb-system/pool1: spec.addresses[0]: invalid CIDR "192.168.10.0/33"');
      expect(await reg.render()).toContain('metallb_k8s_client_config_stale_bool 1');
      expect(ips()).toEqual({ db: ['192.168.10.0'], web: ['192.168.10.1'] });
      // shrink the pool: db keeps .0, web loses .1 and gets nothing (pending)
      writeFileSync(f, YAML('192.168.10.0/32'));
      await until(() => dm.lastConfigError === undefined && ips().web!.length === 0);
      expect(ips()).toEqual({ db: ['192.168.10.0'], web: [] });
      await until(() => announced.size === 0);
      expect(src.events.events.some((e) => e.reason === 'AllocationFailed' && e.object === 'default/web')).toBe(true);
      expect(await reg.render()).toContain('metallb_k8s_client_config_stale_bool 0');
    } finally {
      await dm.stop();
    }
  });
});

describe('Daemon startup hold (l2StartupGraceMs)', () => {
  it('holds L2 announcements until membership lists another member, then announces', async () => {
    const { f, announced, l2 } = yamlSetup(YAML('192.168.10.0/31'));
    let members = ['n1'];
    const cbs: Array<() => void> = [];
    const membership: Membership = { members: () => members, onChange: (cb) => void cbs.push(cb), leave: async () => {}, close: async () => {} };
    const dm = new Daemon({ source: new YamlFileSource(f, { debounceMs: 20 }), node: 'n1', mode: 'all', allocator: createAllocator(), l2, membership, l2StartupGraceMs: 60_000 });
    await dm.start();
    try {
      expect(dm.services().find((s) => s.metadata?.name === 'web')?.status?.loadBalancer?.ingress).toEqual([{ ip: '192.168.10.1' }]);
      expect([...announced]).toEqual([]);
      expect(dm.speaker!.l2Held()).toBe(true);
      // the join lands: another member appears and the speaker re-syncs by itself
      members = ['n1', 'n2'];
      for (const cb of cbs) cb();
      await until(() => announced.size > 0);
      expect([...announced]).toEqual(['192.168.10.1']);
      expect(dm.speaker!.l2Held()).toBe(false);
    } finally {
      await dm.stop();
    }
  });
});

describe('Daemon ignoreExcludeLB (--ignore-exclude-lb)', () => {
  for (const ignore of [false, true]) {
    it(`a node labelled exclude-from-external-load-balancers ${ignore ? 'still announces' : 'does not announce'} with ignoreExcludeLB=${ignore}`, async () => {
      const yaml = YAML('192.168.10.0/31').replace(
        'kind: Node\nmetadata: { name: n1 }',
        'kind: Node\nmetadata: { name: n1, labels: { node.kubernetes.io/exclude-from-external-load-balancers: "" } }',
      );
      expect(yaml).toContain('exclude-from-external-load-balancers');
      const { f, announced, l2 } = yamlSetup(yaml);
      const dm = new Daemon({ source: new YamlFileSource(f, { debounceMs: 20 }), node: 'n1', mode: 'all', allocator: createAllocator(), l2, ignoreExcludeLB: ignore });
      await dm.start();
      try {
        expect(dm.services().find((s) => s.metadata?.name === 'web')?.status?.loadBalancer?.ingress).toEqual([{ ip: '192.168.10.1' }]);
        if (ignore) await until(() => announced.size > 0);
        else await new Promise((r) => setTimeout(r, 300));
        expect([...announced]).toEqual(ignore ? ['192.168.10.1'] : []);
      } finally {
        await dm.stop();
      }
    });
  }
});

describe('Daemon with a Kubernetes source (controller mode)', () => {
  it('services get IPs written back through the API; events are created; deletion frees the IP', async () => {
    const api = new FakeApiServer();
    await api.start();
    const CORE = '/api/v1';
    const MLB = '/apis/metallb.io/v1beta1';
    api.put(MLB, 'ipaddresspools', { apiVersion: 'metallb.io/v1beta1', metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['10.10.0.0/32'] } });
    api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: 'a', namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 80, protocol: 'TCP' }] } });
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'f', server: api.url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'f', user: 'u' }], currentContext: 'c' });
    const dm = new Daemon({ source: new KubeSource(kc), node: '', mode: 'controller', allocator: createAllocator(), log: process.env.KUBE_DEBUG ? (await import('../src/log.js')).jsonLogger() : undefined });
    await dm.start();
    try {
      const ingress = (n: string) => (api.get(CORE, 'services', 'default', n)?.status as { loadBalancer?: { ingress?: Array<{ ip: string }> } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;
      await until(() => ingress('a') === '10.10.0.0');
      // the pool annotation follows the status
      await until(() => (api.get(CORE, 'services', 'default', 'a')!.metadata.annotations as Record<string, string> | undefined)?.['metallb.io/ip-allocated-from-pool'] === 'p');
      await until(() => api.list(CORE, 'events').some((e) => e.reason === 'IPAllocated'));
      // a second service cannot get an IP: Warning event
      api.put(CORE, 'services', { apiVersion: 'v1', metadata: { name: 'b', namespace: 'default' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2'], ports: [{ port: 80, protocol: 'TCP' }] } });
      await until(() => api.list(CORE, 'events').some((e) => e.reason === 'AllocationFailed' && (e.involvedObject as { name: string }).name === 'b'));
      expect(ingress('b')).toBeUndefined();
      // IPAddressPool status counters (merge PATCH on /status)
      await until(() => (api.get(MLB, 'ipaddresspools', 'metallb-system', 'p')?.status as Record<string, number> | undefined)?.assignedIPv4 === 1);
      expect(api.get(MLB, 'ipaddresspools', 'metallb-system', 'p')!.status).toEqual({ assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 });
      // delete a: b gets the IP (ReprocessAll)
      api.remove(CORE, 'services', 'default', 'a');
      await until(() => ingress('b') === '10.10.0.0');
    } finally {
      await dm.stop();
      await api.stop();
    }
  });
});
