/**
 * Structural validation of metallb.io objects with ajv against the CRD schemas in
 * `manifests/crds.yaml` (MetalLB's schemas), the way the API server validates them: types,
 * required fields, enums, ranges, formats, and unknown fields rejected (kubectl's default
 * `--validate=strict` field validation). CEL rules (`x-kubernetes-validations`) are not evaluated
 * here; their checks live in `parseConfig` (connectTime, serviceSelectors with aggregation
 * lengths) and in the webhook (immutable fields).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { loadAllYaml } from '../yaml-load.js';
import { ConfigError } from '../errors.js';
import { keyOf, type KubeObject } from '../types.js';

/** Where the CRDs live: `<package>/manifests/crds.yaml` (same depth from src/ and dist/). */
export const CRDS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'manifests', 'crds.yaml');

type Json = Record<string, unknown>;

/** One served version of one kind. */
interface VersionInfo {
  /** compiled on first use */
  validate?: ValidateFunction;
  schema: Json;
  served: boolean;
  storage: boolean;
  deprecationWarning?: string;
}

/** Kubernetes' structural-schema extensions: accepted as annotations by ajv. */
const K8S_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
];

/**
 * Copies a schema with `additionalProperties: false` on every object that lists its properties
 * (what structural pruning plus strict field validation amount to), leaving `metadata` (validated
 * by the API server itself) and `x-kubernetes-preserve-unknown-fields` objects open.
 */
function closeObjects(s: unknown, path: string): unknown {
  if (Array.isArray(s)) return s.map((x) => closeObjects(x, path));
  if (!s || typeof s !== 'object') return s;
  const o: Json = {};
  for (const [k, v] of Object.entries(s as Json)) {
    if (k === 'properties' && v && typeof v === 'object') {
      o[k] = Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, path === '' && p === 'metadata' ? ps : closeObjects(ps, `${path}.${p}`)]));
    } else o[k] = closeObjects(v, path);
  }
  if (o.properties && o.additionalProperties === undefined && o['x-kubernetes-preserve-unknown-fields'] !== true) o.additionalProperties = false;
  return o;
}

/** Compiled validators per `kind` → version. */
export class CrdSchemas {
  private readonly kinds = new Map<string, { group: string; versions: Map<string, VersionInfo> }>();
  private readonly ajv: Ajv;

  /** @param crds CustomResourceDefinition objects (apiextensions.k8s.io/v1) */
  constructor(crds: readonly Json[]) {
    const ajv = (this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, code: { optimize: false } }));
    for (const k of K8S_KEYWORDS) ajv.addKeyword({ keyword: k, schemaType: ['array', 'string', 'boolean', 'object'] });
    const inRange = (lo: number, hi: number) => ({ type: 'number' as const, validate: (x: number) => Number.isInteger(x) && x >= lo && x <= hi });
    ajv.addFormat('int32', inRange(-(2 ** 31), 2 ** 31 - 1));
    ajv.addFormat('int64', inRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    ajv.addFormat('date-time', { type: 'string', validate: (x: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(x) });
    for (const crd of crds) {
      if (crd.kind !== 'CustomResourceDefinition') continue;
      const spec = crd.spec as Json;
      const names = spec.names as Json;
      const versions = new Map<string, VersionInfo>();
      for (const v of spec.versions as Json[]) {
        const schema = closeObjects((v.schema as Json).openAPIV3Schema, '') as Json;
        const info: VersionInfo = { schema, served: v.served === true, storage: v.storage === true };
        if (typeof v.deprecationWarning === 'string') info.deprecationWarning = v.deprecationWarning;
        versions.set(v.name as string, info);
      }
      this.kinds.set(names.kind as string, { group: spec.group as string, versions });
    }
  }

  /**
   * Loads `manifests/crds.yaml` (or another file); validators compile on first use. Documents
   * written as JSON (as `crds.yaml` is) are read with `JSON.parse`, others with the YAML parser.
   */
  static load(path = CRDS_PATH): CrdSchemas {
    return new CrdSchemas(parseDocuments(readFileSync(path, 'utf8')));
  }

  /** Compiles every validator now (about 50 ms of CPU for MetalLB's CRDs). */
  compileAll(): this {
    for (const k of this.kinds.values()) for (const v of k.versions.values()) v.validate ??= this.ajv.compile(v.schema);
    return this;
  }

  /**
   * Compiles the validators not used yet one at a time, `gapMs` apart (unref'd timers), so that a
   * kind first seen later (a BGPPeer added to a running cluster) does not pay its compile then,
   * while the start itself compiles only what its objects need. lbkitd calls it once started.
   */
  compileInBackground(gapMs = 20): void {
    const todo = [...this.kinds.values()].flatMap((k) => [...k.versions.values()]).filter((v) => !v.validate);
    const next = (): void => {
      const v = todo.shift();
      if (!v) return;
      v.validate ??= this.ajv.compile(v.schema);
      setTimeout(next, gapMs).unref();
    };
    setTimeout(next, gapMs).unref();
  }

  /** Whether a kind has a CRD here. */
  has(kind: string): boolean {
    return this.kinds.has(kind);
  }

  /**
   * Validates one object as the API server would on create. An object without `apiVersion` (YAML
   * file mode) is checked against the storage version. Returns the problems, each naming the
   * object and the field; empty when valid.
   * @param opts.unknownFields report fields the schema does not know (default true); turn it off
   *   for objects an API server already admitted, whose CRD may be a newer MetalLB's
   */
  validate(o: KubeObject, kind = String(o.kind), opts: { unknownFields?: boolean } = {}): ConfigError[] {
    const key = keyOf(o);
    const k = this.kinds.get(kind);
    if (!k) return [];
    let version: string;
    if (o.apiVersion === undefined) version = [...k.versions].find(([, v]) => v.storage)![0];
    else {
      const [g, v] = String(o.apiVersion).split('/');
      if (g !== k.group || v === undefined) return [new ConfigError(kind, key, 'apiVersion', `${JSON.stringify(o.apiVersion)} is not a version of ${kind} (group ${k.group}; served: ${this.served(kind).join(', ')})`)];
      version = v;
    }
    const info = k.versions.get(version);
    if (!info || !info.served) return [new ConfigError(kind, key, 'apiVersion', `no version ${JSON.stringify(version)} of ${k.group}/${kind} is served (served: ${this.served(kind).join(', ')})`)];
    info.validate ??= this.ajv.compile(info.schema);
    if (info.validate(o)) return [];
    const errors = (info.validate.errors ?? []).filter((e) => opts.unknownFields !== false || e.keyword !== 'additionalProperties');
    return errors.map((e) => toConfigError(kind, key, e));
  }

  /** Deprecation warning of the object's version, if any (BGPPeer v1beta1). */
  deprecation(o: KubeObject): string | undefined {
    const [, v] = String(o.apiVersion ?? '').split('/');
    return v ? this.kinds.get(String(o.kind))?.versions.get(v)?.deprecationWarning : undefined;
  }

  private served(kind: string): string[] {
    return [...(this.kinds.get(kind)?.versions ?? [])].filter(([, v]) => v.served).map(([n]) => n);
  }
}

/** Multi-document YAML; JSON documents take the fast path. */
function parseDocuments(text: string): Json[] {
  const out: Json[] = [];
  for (const doc of text.split(/^---[ \t]*$/m)) {
    const body = doc.replace(/^\s*#.*$/gm, '').trim();
    if (body === '') continue;
    if (body.startsWith('{')) {
      try {
        out.push(JSON.parse(body) as Json);
        continue;
      } catch {
        /* not JSON after all: the YAML parser decides */
      }
    }
    for (const d of loadAllYaml(doc)) {
      const v = d as Json | null;
      if (v) out.push(v);
    }
  }
  return out;
}

/** `/spec/addresses/0` → `spec.addresses[0]`. */
function fieldPath(pointer: string, extra?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '<object>';
}

function toConfigError(kind: string, key: string, e: ErrorObject): ConfigError {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return new ConfigError(kind, key, fieldPath(e.instancePath, String(p.additionalProperty)), `unknown field ${JSON.stringify(String(p.additionalProperty))}`);
    case 'required':
      return new ConfigError(kind, key, fieldPath(e.instancePath, String(p.missingProperty)), 'Required value');
    case 'enum':
      return new ConfigError(kind, key, fieldPath(e.instancePath), `Unsupported value: supported values: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`);
    case 'type':
      return new ConfigError(kind, key, fieldPath(e.instancePath), `Invalid value: must be of type ${String(p.type)}`);
    default:
      return new ConfigError(kind, key, fieldPath(e.instancePath), `Invalid value: ${e.message ?? e.keyword}`);
  }
}

let shared: CrdSchemas | undefined;

/** The validators for `manifests/crds.yaml`, compiled once on first use. */
export function crdSchemas(): CrdSchemas {
  shared ??= CrdSchemas.load();
  return shared;
}
