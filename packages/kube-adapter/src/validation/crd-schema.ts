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
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { ConfigError } from '../errors.js';
import { keyOf, type KubeObject } from '../types.js';
import { createCrdAjv, crdTextHash, crdVersions, parseCrdDocuments, validatorName } from './crd-ajv.js';
import * as generated from './crd-validators.generated.js';

/** Where the CRDs live: `<package>/manifests/crds.yaml` (same depth from src/ and dist/). */
export const CRDS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'manifests', 'crds.yaml');

type Json = Record<string, unknown>;

/** One served version of one kind. */
interface VersionInfo {
  /** generated at build time, or compiled on first use */
  validate?: ValidateFunction;
  schema: Json;
  served: boolean;
  storage: boolean;
  deprecationWarning?: string;
}

/** Validators per `kind` → version. */
export class CrdSchemas {
  private readonly kinds = new Map<string, { group: string; versions: Map<string, VersionInfo> }>();
  private ajvInstance: Ajv | undefined;

  /**
   * @param crds CustomResourceDefinition objects (apiextensions.k8s.io/v1)
   * @param precompiled validators generated for exactly these CRDs, by `validatorName(kind, version)`;
   *   versions without one are compiled with ajv on first use
   */
  constructor(crds: readonly Json[], precompiled: Readonly<Record<string, unknown>> = {}) {
    for (const v of crdVersions(crds)) {
      let k = this.kinds.get(v.kind);
      if (!k) this.kinds.set(v.kind, (k = { group: v.group, versions: new Map() }));
      const info: VersionInfo = { schema: v.schema, served: v.served, storage: v.storage };
      const pre = precompiled[validatorName(v.kind, v.version)];
      if (typeof pre === 'function') info.validate = pre as ValidateFunction;
      if (v.deprecationWarning !== undefined) info.deprecationWarning = v.deprecationWarning;
      k.versions.set(v.version, info);
    }
  }

  /**
   * Loads `manifests/crds.yaml` (or another file). When the file is the one the build generated
   * validators from (same sha256), those are used and ajv is never loaded; otherwise validators
   * compile on first use. Documents written as JSON (as `crds.yaml` is) are read with `JSON.parse`.
   */
  static load(path = CRDS_PATH): CrdSchemas {
    const text = readFileSync(path, 'utf8');
    return new CrdSchemas(parseCrdDocuments(text), crdTextHash(text) === generated.GENERATED_FROM_SHA256 ? generated : {});
  }

  /** True when every version already has a validator: the generated ones matched the file (or all have been compiled since). */
  get precompiled(): boolean {
    return [...this.kinds.values()].every((k) => [...k.versions.values()].every((v) => v.validate !== undefined));
  }

  private compile(schema: Json): ValidateFunction {
    this.ajvInstance ??= createCrdAjv();
    return this.ajvInstance.compile(schema);
  }

  /** Compiles every validator not compiled yet (about 50 ms of CPU for MetalLB's CRDs; none when generated ones matched). */
  compileAll(): this {
    for (const k of this.kinds.values()) for (const v of k.versions.values()) v.validate ??= this.compile(v.schema);
    return this;
  }

  /**
   * Compiles the validators not available yet one at a time, `gapMs` apart (unref'd timers), so that a
   * kind first seen later (a BGPPeer added to a running cluster) does not pay its compile then,
   * while the start itself compiles only what its objects need. lbkitd calls it once started.
   */
  compileInBackground(gapMs = 20): void {
    const todo = [...this.kinds.values()].flatMap((k) => [...k.versions.values()]).filter((v) => !v.validate);
    const next = (): void => {
      const v = todo.shift();
      if (!v) return;
      v.validate ??= this.compile(v.schema);
      setTimeout(next, gapMs).unref();
    };
    if (todo.length) setTimeout(next, gapMs).unref();
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
    info.validate ??= this.compile(info.schema);
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
