/** Kubernetes label-selector matching. */
import type { LabelSelector } from './types.js';

/**
 * True when `labels` satisfy the selector: every matchLabels pair AND every matchExpression
 * (In, NotIn, Exists, DoesNotExist). An empty selector matches everything; an unknown operator
 * matches nothing.
 */
export function matchesSelector(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(l, k) || l[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Returns an error text when the selector is invalid (unknown operator, In/NotIn without values, Exists with values), else undefined. */
export function validateSelector(sel: LabelSelector): string | undefined {
  for (const e of sel.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return `invalid operator ${JSON.stringify(e.operator)}`;
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) return `values must be non-empty for ${e.operator} on ${JSON.stringify(e.key)}`;
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) return `values must be empty for ${e.operator} on ${JSON.stringify(e.key)}`;
  }
  return undefined;
}
