/**
 * The informer's transform (client-go's `cache.TransformFunc`): every object a list or watch
 * delivers is reduced to what lbkit reads before it is stored, and shares every unchanged part with
 * the version it replaces.
 *
 * - dropped everywhere: `metadata.managedFields`, `metadata.ownerReferences`, `metadata.finalizers`,
 *   `metadata.selfLink` and kubectl's `last-applied-configuration` annotation (in a real cluster
 *   these are most of an object's size);
 * - Services keep only MetalLB's annotations (`metallb.io/…`, `metallb.universe.tf/…`);
 * - Nodes keep `status.conditions` and `status.addresses` only (not images, capacity, nodeInfo);
 * - a MODIFIED object reuses the previous version's `spec`, `status`, labels, annotations and
 *   metadata strings when they are equal, so a status write coming back through the watch leaves a
 *   few new bytes in the long-lived heap instead of a whole new object (less old-generation garbage,
 *   a lower peak RSS at 50k Services);
 * - namespace names, kinds, apiVersions and the enumerated strings of a spec (`type`, `protocol`,
 *   policies, families) are interned (one string per distinct value, not one per object);
 * - {@link internKey} gives one flat string per `namespace/name` key however often it is rebuilt.
 */
import type { KubeObject } from '../types.js';

/** A transform: the object to store, given the decoded one and the stored previous version. */
export type ObjectTransform = (obj: KubeObject, old: KubeObject | undefined) => KubeObject;

const DROP_META = new Set(['managedFields', 'ownerReferences', 'finalizers', 'selfLink']);
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Spec fields holding one of a few values (enumerations): interned. */
const ENUM_KEYS = new Set(['type', 'protocol', 'ipFamilyPolicy', 'externalTrafficPolicy', 'internalTrafficPolicy', 'sessionAffinity', 'ipFamilies', 'appProtocol', 'loadBalancerClass', 'trafficDistribution', 'addressType', 'status']);

/**
 * The internalized (flat, deduplicated) form of a key string: every map keyed by `namespace/name`
 * then shares one string per object instead of holding its own concatenation.
 */
export function internKey(s: string): string {
  // a null-prototype object is a dictionary from the start: the key is internalized without adding
  // a hidden-class transition per distinct key (2–3× faster at 10k keys)
  const o: Record<string, 0> = Object.create(null) as Record<string, 0>;
  o[s] = 0;
  for (const k in o) return k;
  return s;
}

/** Structural equality of two JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (!Object.prototype.hasOwnProperty.call(ao, k)) continue;
    n++;
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (Object.prototype.hasOwnProperty.call(bo, k)) n--;
  return n === 0;
}

/** The kind-specific part of a transform. */
export type TransformKind = 'services' | 'nodes' | 'other';

/** Which {@link TransformKind} a collection path (`/api/v1/services`, `…/nodes?x`) is. */
export function transformKindOf(path: string): TransformKind {
  const last = path.split('?')[0]!.split('/').pop();
  return last === 'services' ? 'services' : last === 'nodes' ? 'nodes' : 'other';
}

function keepAnnotation(kind: TransformKind, k: string): boolean {
  if (k === LAST_APPLIED) return false;
  return kind !== 'services' || k.startsWith('metallb.io/') || k.startsWith('metallb.universe.tf/');
}

/** Creates the transform of one collection (its intern table lives as long as the informer). */
export function leanTransform(kind: TransformKind): ObjectTransform {
  const interned = new Map<string, string>();
  const intern = (s: unknown): unknown => {
    if (typeof s !== 'string' || s.length > 100) return s;
    const have = interned.get(s);
    if (have !== undefined) return have;
    if (interned.size < 10_000) interned.set(s, s);
    return s;
  };
  const share = <T>(v: T, prev: unknown): T => (prev !== undefined && jsonEqual(v, prev) ? (prev as T) : v);
  return (obj, old) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return obj;
    const o = obj as Record<string, unknown>;
    const p = old as Record<string, unknown> | undefined;
    const out: Record<string, unknown> = {};
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      const v = o[k];
      if (k === 'metadata') out.metadata = leanMeta(v, p?.metadata);
      else if (k === 'kind' || k === 'apiVersion') out[k] = intern(v);
      else if (k === 'spec' && p?.spec === undefined && v && typeof v === 'object') out.spec = internEnums(v, 0);
      else if (kind === 'nodes' && k === 'status' && v && typeof v === 'object' && !Array.isArray(v)) {
        const st = v as Record<string, unknown>;
        const lean: Record<string, unknown> = {};
        if (st.conditions !== undefined) lean.conditions = st.conditions;
        if (st.addresses !== undefined) lean.addresses = st.addresses;
        out.status = share(lean, p?.status);
      } else out[k] = share(v, p?.[k]);
    }
    return out as KubeObject;
  };

  /** Interns the enumerated strings of a freshly decoded spec in place (depth-limited). */
  function internEnums(v: unknown, depth: number): unknown {
    if (depth > 4 || !v || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = internEnums(v[i], depth + 1);
      return v;
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === 'string') {
        if (ENUM_KEYS.has(k)) o[k] = intern(x);
      } else if (Array.isArray(x) && ENUM_KEYS.has(k)) {
        for (let i = 0; i < x.length; i++) x[i] = intern(x[i]);
      } else if (x && typeof x === 'object') internEnums(x, depth + 1);
    }
    return o;
  }

  function leanMeta(m: unknown, prev: unknown): unknown {
    if (!m || typeof m !== 'object' || Array.isArray(m)) return m;
    const mo = m as Record<string, unknown>;
    const pm = prev && typeof prev === 'object' ? (prev as Record<string, unknown>) : undefined;
    const out: Record<string, unknown> = {};
    for (const k in mo) {
      if (!Object.prototype.hasOwnProperty.call(mo, k) || DROP_META.has(k)) continue;
      const v = mo[k];
      if (k === 'annotations' && v && typeof v === 'object' && !Array.isArray(v)) {
        const a: Record<string, unknown> = {};
        let n = 0;
        for (const ak in v as Record<string, unknown>) {
          if (!keepAnnotation(kind, ak)) continue;
          a[ak] = (v as Record<string, unknown>)[ak];
          n++;
        }
        if (n > 0) out.annotations = share(a, pm?.annotations);
      } else if (k === 'namespace') out.namespace = intern(v);
      else if (typeof v === 'string') out[k] = pm && pm[k] === v ? pm[k] : v;
      else out[k] = share(v, pm?.[k]);
    }
    return out;
  }
}
