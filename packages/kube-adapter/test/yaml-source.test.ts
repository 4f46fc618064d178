import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlObjects, YamlFileSource } from '../src/source/yaml.js';
import { checkConfigFileParsed } from '../src/validation/check.js';
import type { Service, Snapshot } from '../src/types.js';
import { tempDirs } from './config-helpers.js';
import { until } from './helpers.js';

const BASE = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool1 }
spec: { addresses: ["192.168.10.0/24"] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, clusterIP: 10.96.0.5, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Node, metadata: { name: n1 } }
  - { apiVersion: v1, kind: Node, metadata: { name: n2 } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
endpoints: [{ addresses: [10.244.0.1], nodeName: n1 }]
`;

const tmp = tempDirs('kube-yaml-');

describe('parseYamlObjects', () => {
  it('parses every kind, List items, and defaults namespaces', () => {
    const s = parseYamlObjects(BASE);
    expect(s.pools[0]!.metadata!.namespace).toBe('metallb-system');
    expect(s.services[0]!.spec!.clusterIP).toBe('10.96.0.5');
    expect(s.nodes.map((n) => n.metadata!.name)).toEqual(['n1', 'n2']);
    expect(s.endpointSlices).toHaveLength(1);
  });

  it('errors name the document and the field', () => {
    expect(() => parseYamlObjects('kind: Service\nmetadata: {}\n', 'f.yaml')).toThrow('f.yaml: document 1: Service: missing field "metadata.name"');
    expect(() => parseYamlObjects('---\nkind: Foo\nmetadata: {name: x}\n', 'f.yaml')).toThrow('f.yaml: document 1: unsupported kind "Foo"');
    expect(() => parseYamlObjects('a: [1,\n', 'f.yaml')).toThrow(/f.yaml: document 1: YAML syntax error/);
    expect(() => parseYamlObjects('kind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n', 'f.yaml')).toThrow('f.yaml: document 1: Service default/s: spec.ports[0].port must be an integer 1..65535');
    expect(() => parseYamlObjects('kind: Node\nmetadata: {name: a}\n---\nkind: Node\nmetadata: {name: a}\n', 'f.yaml')).toThrow('f.yaml: document 2: duplicate Node a');
    expect(() => parseYamlObjects('- 1\n- 2\n', 'f.yaml')).toThrow('f.yaml: document 1: expected a Kubernetes object (a map), got a list');
  });
});

describe('YamlFileSource', () => {
  it('watches the file, keeps the last good state on a bad file, keeps the status overlay', async () => {
    const d = tmp();
    const f = join(d, 'cluster.yaml');
    writeFileSync(f, BASE);
    const src = new YamlFileSource(f, { debounceMs: 30 });
    const changes: Snapshot[] = [];
    const errors: Error[] = [];
    src.onChange((s) => changes.push(s));
    src.onError((e) => errors.push(e));
    await src.start();
    try {
      expect(src.snapshot().services).toHaveLength(1);
      // controller writes status: kept in the overlay
      const s = structuredClone(src.snapshot().services[0]!);
      s.status = { loadBalancer: { ingress: [{ ip: '192.168.10.0' }] } };
      s.metadata!.annotations = { 'metallb.io/ip-allocated-from-pool': 'pool1' };
      await src.statusWriter.updateServiceStatus(s);
      expect(src.snapshot().services[0]!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.168.10.0' }]);

      // a new service appears (atomic replace, as editors do)
      const n = changes.length;
      writeFileSync(join(d, 'tmp'), BASE + '---\nkind: Service\nmetadata: {name: db}\nspec: {type: LoadBalancer, clusterIP: 10.96.0.6, ports: [{port: 5432}]}\n');
      renameSync(join(d, 'tmp'), f);
      await until(() => changes.length > n, 10_000, 'a change event');
      const snap = src.snapshot();
      expect(snap.services.map((x) => x.metadata!.name).sort()).toEqual(['db', 'web']);
      expect(snap.services.find((x) => x.metadata!.name === 'web')!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.168.10.0' }]);

      // a broken file: error reported, state kept
      writeFileSync(f, 'kind: Service\nmetadata: {name: [broken\n');
      await until(() => errors.length > 0, 10_000, 'an error event');
      expect(errors[0]!.message).toContain('cluster.yaml: document 1: YAML syntax error');
      expect(src.snapshot().services).toHaveLength(2);
    } finally {
      await src.stop();
    }
  });

  it('incremental feed: every object ADDED at start, one MODIFIED per status write, a re-parse delivers only what changed', async () => {
    const d = tmp();
    const f = join(d, 'cluster.yaml');
    const many = Array.from({ length: 50 }, (_, i) => `---\nkind: Service\nmetadata: { name: s${i}, namespace: default }\nspec: { type: LoadBalancer, clusterIP: 10.96.1.${i}, ports: [{ port: 80 }] }\n`).join('');
    writeFileSync(f, BASE + many);
    const src = new YamlFileSource(f, { debounceMs: 30 });
    const seen: string[] = [];
    src.onObject((field, type, obj, old) => seen.push(`${type} ${field} ${obj.metadata!.name}${old ? ` (was ${(old as Service).status?.loadBalancer?.ingress?.[0]?.ip ?? 'no ip'})` : ''}`));
    await src.start();
    try {
      // at start: ADDED for each object of every kind
      expect(seen).toHaveLength(1 + 51 + 2 + 1);
      expect(seen.every((e) => e.startsWith('ADDED '))).toBe(true);
      expect(seen).toContain('ADDED services s49');
      expect(seen).toContain('ADDED endpointSlices web-1');

      // a status write: one MODIFIED for that Service, with the object it replaced
      seen.length = 0;
      const s = structuredClone(src.snapshot().services.find((x) => x.metadata!.name === 's7')!);
      s.status = { loadBalancer: { ingress: [{ ip: '192.168.10.7' }] } };
      await src.statusWriter.updateServiceStatus(s);
      expect(seen).toEqual(['MODIFIED services s7 (was no ip)']);
      // the same status again changes nothing: no event
      await src.statusWriter.updateServiceStatus(s);
      expect(seen).toHaveLength(1);

      // the file changes one Service and drops another: only those two events, the status-written
      // s7 (its overlay applied again to the re-parsed object) is not reported as changed
      seen.length = 0;
      const edited = (BASE + many).replace('clusterIP: 10.96.1.3,', 'clusterIP: 10.96.1.3, loadBalancerIP: 192.168.10.33,').replace(/---\nkind: Service\nmetadata: \{ name: s9,[^\n]*\n[^\n]*\n/, '');
      writeFileSync(join(d, 'tmp'), edited);
      renameSync(join(d, 'tmp'), f);
      await until(() => seen.length >= 2, 10_000, 'the re-parse events');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.sort()).toEqual(['DELETED services s9 (was no ip)', 'MODIFIED services s3 (was no ip)']);
      expect(src.snapshot().services.find((x) => x.metadata!.name === 's7')!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.168.10.7' }]);
    } finally {
      await src.stop();
    }
  });

  it('keeps only the newest events (a long-running daemon records events for ever)', async () => {
    const f = join(tmp(), 'cluster.yaml');
    writeFileSync(f, BASE);
    const logged: string[] = [];
    const src = new YamlFileSource(f, { watch: false, keepEvents: 10, onEvent: (e) => logged.push(e.message) });
    await src.start();
    const svc = src.snapshot().services[0]!;
    for (let i = 0; i < 45; i++) src.events.event(svc, 'Normal', 'test', `m${i}`);
    expect(logged).toHaveLength(45); // every event still reaches the hook (the log)
    expect(src.events.events.length).toBeGreaterThanOrEqual(10);
    expect(src.events.events.length).toBeLessThan(20);
    expect(src.events.events.at(-1)!.message).toBe('m44');
    expect(src.events.events.map((e) => e.message)).toEqual(Array.from({ length: src.events.events.length }, (_, i) => `m${45 - src.events.events.length + i}`));
  });

  it('takes over the objects its caller parsed; reads the file again unless it is settled and its stamp unchanged', async () => {
    const d = tmp();
    const f = join(d, 'c.yaml');
    const OLD = 1_700_000_000; // seconds: long settled
    const RECENT = Math.floor(Date.now() / 1000) + 3600; // as recent as it gets: not settled
    const clusterIPOf = async (mtime: number, restoreMtime: boolean) => {
      writeFileSync(f, BASE);
      utimesSync(f, mtime, mtime);
      const { result, parsed } = checkConfigFileParsed(f, 'metallb-system');
      expect(result.ok).toBe(true);
      // the same size, another address: a rewrite between the check and the start
      writeFileSync(f, BASE.replace('10.96.0.5', '10.96.0.7'));
      if (restoreMtime) utimesSync(f, mtime, mtime);
      const src = new YamlFileSource(f, { preparsed: parsed!, watch: false });
      await src.start();
      const svc = src.snapshot().services[0]!;
      return { ip: svc.spec!.clusterIP, taken: svc === parsed!.snapshot.services[0] };
    };
    // a rewrite moves the mtime: read again
    expect(await clusterIPOf(OLD, false)).toEqual({ ip: '10.96.0.7', taken: false });
    // the rewrite hidden behind a restored mtime shows that the second read is skipped for a settled, unchanged stamp
    expect(await clusterIPOf(OLD, true)).toEqual({ ip: '10.96.0.5', taken: true });
    // a file written less than a second before the check is never trusted on its stamp (a coarse mtime can repeat)
    expect(await clusterIPOf(RECENT, true)).toEqual({ ip: '10.96.0.7', taken: false });
    // unchanged text: the caller's objects are taken over either way
    writeFileSync(f, BASE);
    const { parsed } = checkConfigFileParsed(f, 'metallb-system');
    const src = new YamlFileSource(f, { preparsed: parsed!, watch: false });
    await src.start();
    expect(src.snapshot().services[0]).toBe(parsed!.snapshot.services[0]);
  });

  it('a missing file fails start with a clear error', async () => {
    const src = new YamlFileSource(join(tmp(), 'nope.yaml'), { watch: false });
    await expect(src.start()).rejects.toThrow(/nope.yaml: cannot read/);
  });
});

describe('Secrets in the YAML file (BGPPeer passwordSecret)', () => {
  it('loads Secrets into the snapshot and parseConfig takes the password from the referenced one', async () => {
    const { parseConfig } = await import('../src/config.js');
    const snap = parseYamlObjects(`
apiVersion: v1
kind: Secret
metadata: { name: bgp-pw }
type: kubernetes.io/basic-auth
data: { password: ${Buffer.from('s3cr3t').toString('base64')} }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 10.0.0.1, passwordSecret: { name: bgp-pw, namespace: metallb-system } }
`);
    expect(snap.secrets?.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toEqual(['metallb-system/bgp-pw']);
    const cfg = parseConfig(snap);
    expect(cfg.peers[0]).toMatchObject({ name: 'tor', password: 's3cr3t', passwordSecret: { name: 'bgp-pw', namespace: 'metallb-system' } });
  });
});
