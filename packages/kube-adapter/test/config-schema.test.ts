/**
 * CRD-schema validation with ajv against manifests/crds.yaml (issue #12): unknown fields, types,
 * enums and ranges are rejected as the API server does, naming the object and the field.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { parseYamlObjects } from '../src/source/yaml.js';
import { CrdSchemas, crdSchemas, CRDS_PATH } from '../src/validation/crd-schema.js';
import { codePointLength, parseCrdDocuments } from '../src/validation/crd-ajv.js';
import { crdValidatorsModule } from '../src/validation/crd-codegen.js';
import { emptySnapshot, type KubeObject, type Snapshot } from '../src/types.js';
import { errorsOf } from './config-helpers.js';


describe('CRD schema validation (file mode)', () => {
  it('a misspelled field (autoAsign) is rejected naming the object and the field', () => {
    const snap = parseYamlObjects(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool1 }
spec: { addresses: ["192.168.10.0/24"], autoAsign: false }
`);
    expect(errorsOf(() => parseConfig(snap))).toEqual(['IPAddressPool metallb-system/pool1: spec.autoAsign: unknown field "autoAsign"']);
  });

  it('unknown fields at any depth, wrong types, enums, ranges and required fields', () => {
    const snap = parseYamlObjects(`
kind: L2Advertisement
metadata: { name: l2 }
spec: { nodeSelectors: [{ matchLabel: { a: b } }] }
---
kind: BGPAdvertisement
metadata: { name: b }
spec: { localPref: "100", aggregationLength: -1 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: p }
spec: { peerASN: 64512, peerAddress: 10.0.0.1, dynamicASN: sideways, peerPort: 70000 }
specs: {}
---
kind: BFDProfile
metadata: { name: f }
spec: { detectMultiplier: 1 }
`);
    const errs = errorsOf(() => parseConfig(snap));
    expect(errs).toEqual(
      expect.arrayContaining([
        'L2Advertisement metallb-system/l2: spec.nodeSelectors[0].matchLabel: unknown field "matchLabel"',
        'BGPAdvertisement metallb-system/b: spec.localPref: Invalid value: must be of type integer',
        'BGPAdvertisement metallb-system/b: spec.aggregationLength: Invalid value: must be >= 1',
        'BGPPeer metallb-system/p: specs: unknown field "specs"',
        'BGPPeer metallb-system/p: spec.myASN: Required value',
        'BGPPeer metallb-system/p: spec.dynamicASN: Unsupported value: supported values: "internal", "external"',
        'BGPPeer metallb-system/p: spec.peerPort: Invalid value: must be <= 16384',
        'BFDProfile metallb-system/f: spec.detectMultiplier: Invalid value: must be >= 2',
      ]),
    );
    // an object failing its schema is left out of the semantic parse: no second message for it
    expect(errs.filter((e) => e.startsWith('BGPPeer'))).toHaveLength(4);
  });

  it('objects admitted by an API server (metadata.uid) are not checked for unknown fields (newer CRDs)', () => {
    const snap = parseYamlObjects(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool1, uid: 0d9c7c1e-1111-2222-3333-444455556666 }
spec: { addresses: ["192.168.10.0/24"], fieldFromANewerMetalLB: true }
`);
    expect(parseConfig(snap).pools.get('pool1')!.cidrs).toHaveLength(1);
    snap.pools[0]!.spec!.autoAssign = 'yes' as unknown as boolean; // types are still checked
    expect(errorsOf(() => parseConfig(snap))).toEqual(['IPAddressPool metallb-system/pool1: spec.autoAssign: Invalid value: must be of type boolean']);
  });

  it('apiVersion: v1beta1 BGPPeer (deprecated) is served, unknown versions and groups are not', () => {
    const s = crdSchemas();
    const v1 = { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'p', namespace: 'metallb-system' }, spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1' } };
    expect(s.validate(v1)).toEqual([]);
    expect(s.deprecation(v1)).toBe('v1beta1 is deprecated, please use v1beta2');
    // v1beta1 requires peerAddress and peerASN; v1beta2 does not (dynamicASN, interface)
    expect(s.validate({ ...v1, spec: { myASN: 1 } }).map(String)).toEqual(['ConfigError: BGPPeer metallb-system/p: spec.peerASN: Required value', 'ConfigError: BGPPeer metallb-system/p: spec.peerAddress: Required value']);
    expect(s.validate({ ...v1, apiVersion: 'metallb.io/v1beta2', spec: { myASN: 1, dynamicASN: 'internal', peerAddress: '10.0.0.1' } })).toEqual([]);
    expect(s.validate({ ...v1, apiVersion: 'metallb.io/v1' }).map((e) => e.message)).toEqual(['BGPPeer metallb-system/p: apiVersion: no version "v1" of metallb.io/BGPPeer is served (served: v1beta1, v1beta2)']);
    expect(s.validate({ ...v1, apiVersion: 'example.com/v1beta2' })[0]!.field).toBe('apiVersion');
  });

  it('metadata stays open (labels, annotations, server fields) and status is part of the schema', () => {
    const s = crdSchemas();
    const pool = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'metallb-system', labels: { a: 'b' }, uid: 'x', managedFields: [{}] }, spec: { addresses: ['10.0.0.0/24'] } };
    expect(s.validate(pool)).toEqual([]);
    expect(s.validate({ ...pool, status: { assignedIPv4: 1, availableIPv4: 255, assignedIPv6: 0, availableIPv6: 0 } })).toEqual([]);
    expect(s.validate({ ...pool, status: { used: 1 } }).map((e) => e.message)).toContain('IPAddressPool metallb-system/p: status.used: unknown field "used"');
  });

  it('MetalLB\'s own (YAML) CRD files give the same verdicts as manifests/crds.yaml (JSON documents)', () => {
    const dir = join(__dirname, 'fixtures', 'metallb-crds');
    const upstream = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => CrdSchemas.load(join(dir, f)));
    const verdict = (o: KubeObject) => upstream.find((u) => u.has(String(o.kind)))!.validate(o).map((e) => e.message);
    const cases: KubeObject[] = [
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'a' }, spec: { addresses: ['10.0.0.0/24'], autoAsign: true } },
      { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'b' }, spec: { myASN: 1, peerPort: 0, dynamicASN: 'x' } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'c' }, spec: { myASN: 1, peerASN: 2, peerAddress: '1.1.1.1', dynamicASN: 'internal' } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'd' }, spec: { receiveInterval: 5, echoMode: 'on' } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'e' }, spec: { interfaces: ['eth0'], preferredNodeSelectors: [{ weight: 0, preference: {} }] } },
    ];
    for (const o of cases) {
      const ours = crdSchemas().validate(o).map((e) => e.message);
      expect(ours.length, String(o.kind)).toBeGreaterThan(0);
      expect(ours, String(o.kind)).toEqual(verdict(o));
    }
  });

  it("every MetalLB config sample passes the schema and parseConfig (positive control)", () => {
    const dir = join(__dirname, 'fixtures', 'metallb-configsamples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(16);
    const field: Record<string, keyof Snapshot> = { IPAddressPool: 'pools', L2Advertisement: 'l2Advertisements', BGPAdvertisement: 'bgpAdvertisements', BGPPeer: 'bgpPeers', Community: 'communities', BFDProfile: 'bfdProfiles' };
    let objects = 0;
    for (const f of files) {
      const snap = emptySnapshot();
      for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
        const o = d.toJS() as KubeObject | null;
        if (!o || !field[String(o.kind)]) continue;
        expect(crdSchemas().validate(o), `${f} ${String(o.kind)}`).toEqual([]);
        (snap[field[String(o.kind)]!] as KubeObject[]).push(o);
        objects++;
      }
      // samples reference Secrets / BFD profiles defined elsewhere: webhook-style lenient references
      expect(() => parseConfig(snap, { lenientReferences: true }), f).not.toThrow();
    }
    expect(objects).toBeGreaterThanOrEqual(25);
  });
});

describe('generated CRD validators (ajv standalone code, no schema compiled at start)', () => {
  it('crd-validators.generated.ts is what manifests/crds.yaml generates (run `npm run gen:crd-validators` after changing the CRDs)', () => {
    const file = readFileSync(join(__dirname, '..', 'src', 'validation', 'crd-validators.generated.ts'), 'utf8');
    expect(file === crdValidatorsModule(readFileSync(CRDS_PATH, 'utf8')), 'generated validators are stale').toBe(true);
    expect(crdSchemas().precompiled).toBe(true);
  });

  it('generated and runtime-compiled validators give the same verdicts, field for field', () => {
    const compiled = new CrdSchemas(parseCrdDocuments(readFileSync(CRDS_PATH, 'utf8'))).compileAll();
    const cases: KubeObject[] = [
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'a' }, spec: { addresses: ['10.0.0.0/24', 7], autoAsign: true, serviceAllocation: { priority: 1.5, namespaceSelectors: [{ matchLabels: { a: 1 } }] } } },
      { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'b' }, spec: { myASN: 2 ** 33, peerPort: 70000, dynamicASN: 'x', holdTime: 3 } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'd' }, spec: { receiveInterval: 5, echoMode: 'on', multiplier: 300 } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'e' }, spec: { interfaces: ['eth0'], preferredNodeSelectors: [{ weight: 0, preference: {} }] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: { name: 'f' }, spec: { communities: [{ name: 'x', value: 1 }] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'ConfigurationState', metadata: { name: 'g' }, status: { conditions: [{ type: 'a b', status: 'Maybe', reason: '', message: 'x'.repeat(40_000), lastTransitionTime: 'yesterday', observedGeneration: -1 }] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'h' }, spec: { aggregationLength: 33, localPref: 'high', communities: ['65535:65282'] } },
    ];
    for (const o of cases) {
      const pre = crdSchemas().validate(o).map((e) => e.message);
      expect(pre.length, String(o.kind)).toBeGreaterThan(0);
      expect(pre, String(o.kind)).toEqual(compiled.validate(o).map((e) => e.message));
    }
  });

  it('string lengths are counted in code points, as ajv counts them (surrogate pairs once, lone surrogates once each)', () => {
    const ucs2length = (createRequire(import.meta.url)('ajv/dist/runtime/ucs2length.js') as { default: (s: string) => number }).default;
    for (const s of ['', 'abc', '\u{1F600}x', '\ud800', '\ud800a', 'a\udc00', '\udc00\ud800', '\u{1F600}\u{1F600}é']) expect(codePointLength(s), JSON.stringify(s)).toBe(ucs2length(s));
  });

  it('a CRD file other than the one generated from (edited) is compiled at run time instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbkit-crds-'));
    try {
      const path = join(dir, 'crds.yaml');
      writeFileSync(path, readFileSync(CRDS_PATH, 'utf8').replace('"maxLength": 316', '"maxLength": 3'));
      const edited = CrdSchemas.load(path);
      expect(edited.precompiled).toBe(false);
      const o = { apiVersion: 'metallb.io/v1beta1', kind: 'ConfigurationState', metadata: { name: 'g' }, status: { conditions: [{ type: 'abcd', status: 'True', reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } };
      expect(crdSchemas().validate(o)).toEqual([]);
      expect(edited.validate(o).map((e) => e.field)).toEqual(['status.conditions[0].type']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
