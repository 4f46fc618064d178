/**
 * What the runtime validator (`CrdSchemas`) and the build-time code generator
 * (`crd-codegen.ts`) share: the CRD versions read from `crds.yaml`, the schema closing rule, and one
 * ajv configuration (Kubernetes keywords and formats). ajv itself is loaded only when a schema has
 * to be compiled, never on the daemon's start path when the generated validators match.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv, CodeOptions } from 'ajv';
import { loadAllYaml } from '../yaml-load.js';

type Json = Record<string, unknown>;

/** One version of one kind, as its CRD declares it; `schema` is already closed. */
export interface CrdVersion {
  kind: string;
  group: string;
  version: string;
  schema: Json;
  served: boolean;
  storage: boolean;
  deprecationWarning?: string;
}

/** sha256 (hex) of a CRD file's text: what a generated module records it was made from. */
export function crdTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The name a version's validator has in the generated module: `IPAddressPool_v1beta1`. */
export function validatorName(kind: string, version: string): string {
  return `${kind}_${version}`;
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

const inRange = (lo: number, hi: number) => ({ type: 'number' as const, validate: (x: number) => Number.isInteger(x) && x >= lo && x <= hi });

/** The OpenAPI formats MetalLB's CRDs use, checked as the API server does. */
export const crdFormats = {
  int32: inRange(-(2 ** 31), 2 ** 31 - 1),
  int64: inRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  'date-time': { type: 'string' as const, validate: (x: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(x) },
};

/**
 * Length of a string in Unicode code points (a surrogate pair counts once), as ajv counts
 * `maxLength`/`minLength`; the generated validators use it.
 */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return n;
}

const require = createRequire(import.meta.url);

/** A new ajv configured for CRD schemas (loads ajv on first call). `code` adds code-generation options. */
export function createCrdAjv(code: CodeOptions = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, code: { optimize: false, ...code } });
  for (const k of K8S_KEYWORDS) ajv.addKeyword({ keyword: k, schemaType: ['array', 'string', 'boolean', 'object'] });
  for (const [name, f] of Object.entries(crdFormats)) ajv.addFormat(name, f as never);
  return ajv;
}

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

/** Every version of every CustomResourceDefinition in `crds` (apiextensions.k8s.io/v1 objects). */
export function crdVersions(crds: readonly Json[]): CrdVersion[] {
  const out: CrdVersion[] = [];
  for (const crd of crds) {
    if (crd.kind !== 'CustomResourceDefinition') continue;
    const spec = crd.spec as Json;
    const names = spec.names as Json;
    for (const v of spec.versions as Json[]) {
      const cv: CrdVersion = {
        kind: names.kind as string,
        group: spec.group as string,
        version: v.name as string,
        schema: closeObjects((v.schema as Json).openAPIV3Schema, '') as Json,
        served: v.served === true,
        storage: v.storage === true,
      };
      if (typeof v.deprecationWarning === 'string') cv.deprecationWarning = v.deprecationWarning;
      out.push(cv);
    }
  }
  return out;
}

/** Multi-document YAML; JSON documents (as `crds.yaml` is written) take the `JSON.parse` path. */
export function parseCrdDocuments(text: string): Json[] {
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
