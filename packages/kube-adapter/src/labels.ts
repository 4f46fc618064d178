/** Label selector validation and matching (metav1.LabelSelector semantics). */
import { matchesSelector, type LabelSelector as IpamLabelSelector } from '@lbkit/ipam';
import type { LabelSelector } from './types.js';

const OPS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VAL_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Returns a description of what is wrong with the selector, or null when valid. */
export function validateSelector(sel: unknown): string | null {
  if (sel === null || typeof sel !== 'object' || Array.isArray(sel)) return 'must be an object';
  const s = sel as LabelSelector;
  if (s.matchLabels !== undefined) {
    if (typeof s.matchLabels !== 'object' || s.matchLabels === null) return 'matchLabels must be a map';
    for (const [k, v] of Object.entries(s.matchLabels)) {
      if (!KEY_RE.test(k)) return `matchLabels: invalid label key ${JSON.stringify(k)}`;
      if (typeof v !== 'string' || !VAL_RE.test(v)) return `matchLabels[${k}]: invalid label value ${JSON.stringify(v)}`;
    }
  }
  if (s.matchExpressions !== undefined) {
    if (!Array.isArray(s.matchExpressions)) return 'matchExpressions must be a list';
    for (const [i, e] of s.matchExpressions.entries()) {
      if (!e || typeof e !== 'object') return `matchExpressions[${i}] must be an object`;
      if (typeof e.key !== 'string' || !KEY_RE.test(e.key)) return `matchExpressions[${i}].key: invalid label key ${JSON.stringify(e.key)}`;
      if (!OPS.has(e.operator)) return `matchExpressions[${i}].operator: ${JSON.stringify(e.operator)} is not a valid selector operator`;
      const vals = e.values ?? [];
      if (!Array.isArray(vals)) return `matchExpressions[${i}].values must be a list`;
      if ((e.operator === 'In' || e.operator === 'NotIn') && vals.length === 0)
        return `matchExpressions[${i}].values: must be specified for operator ${e.operator}`;
      if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && vals.length > 0)
        return `matchExpressions[${i}].values: may not be specified for operator ${e.operator}`;
      if (new Set(vals).size !== vals.length) return `matchExpressions[${i}].values: duplicate values`;
    }
  }
  return null;
}

/**
 * Whether labels match a selector (every matchLabels pair AND every matchExpression). An empty
 * selector matches everything; an unknown operator matches nothing. Delegates to
 * `@lbkit/ipam`'s `matchesSelector`, the one implementation of these semantics in lbkit.
 */
export function matchSelector(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  // our selectors come from unvalidated YAML, so `operator` is any string; ipam's matcher handles an
  // unknown operator at run time (no match), which is why the narrower ipam type can be asserted here
  return matchesSelector(sel as IpamLabelSelector, labels);
}

/** True when any selector matches; an empty list matches everything. */
export function matchAny(sels: LabelSelector[], labels: Record<string, string> | undefined): boolean {
  return sels.length === 0 || sels.some((s) => matchSelector(s, labels));
}

/** Canonical string of a selector, used to detect duplicates. */
export function selectorKey(s: LabelSelector): string {
  const ml = Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const me = (s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator} ${[...(e.values ?? [])].sort().join(',')}`).sort();
  return JSON.stringify([ml, me]);
}

/** `k=v,k2=v2` with sorted keys (Go's labels.Set.String()). */
export function labelsString(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${m![k]}`)
    .join(',');
}
