/**
 * Field readers shared by the metallb.io parsers: each records a {@link ConfigError} naming the
 * object and the field path instead of throwing, so one parse reports every problem.
 */
import { ConfigError } from '../errors.js';
import { selectorKey, validateSelector } from '../labels.js';
import type { LabelSelector } from '../types.js';

/** Parse context: where errors go and which object is being read. */
export type Ctx = { errs: ConfigError[]; kind: string; key: string };

/** Records an error on the current object. */
export function err(c: Ctx, field: string, detail: string): void {
  c.errs.push(new ConfigError(c.kind, c.key, field, detail));
}

/** A plain (non-array) object. */
export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A list of strings without duplicates (MetalLB's validateDuplicate). */
export function strList(c: Ctx, v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    err(c, field, 'must be a list of strings');
    return [];
  }
  const seen = new Set<string>();
  for (const [i, x] of (v as string[]).entries()) {
    if (seen.has(x)) err(c, `${field}[${i}]`, `duplicate entry ${JSON.stringify(x)}`);
    seen.add(x);
  }
  return v as string[];
}

/** Canonical text of one match expression: key, operator and the values sorted. */
function exprKey(e: { key: string; operator: string; values?: string[] }): string {
  return JSON.stringify([e.key, e.operator, [...(e.values ?? [])].sort()]);
}

/**
 * A list of label selectors, validated like MetalLB's `validateLabelSelectorDuplicate`: every
 * selector valid, no two identical selectors, and within one selector no two match expressions
 * with the same key, operator and values (in any order).
 */
export function selectors(c: Ctx, v: unknown, field: string): LabelSelector[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    err(c, field, 'must be a list of label selectors');
    return [];
  }
  const out: LabelSelector[] = [];
  const seen = new Set<string>();
  for (const [i, s] of v.entries()) {
    const bad = validateSelector(s);
    if (bad) {
      err(c, `${field}[${i}]`, `invalid label selector: ${bad}`);
      continue;
    }
    const sel = s as LabelSelector;
    const exprs = new Map<string, number>();
    let dupExpr = false;
    for (const [j, e] of (sel.matchExpressions ?? []).entries()) {
      const k = exprKey(e);
      const first = exprs.get(k);
      if (first !== undefined) {
        err(c, `${field}[${i}].matchExpressions[${j}]`, `duplicate definition of match expressions: same key, operator and values as matchExpressions[${first}]`);
        dupExpr = true;
      } else exprs.set(k, j);
    }
    if (dupExpr) continue;
    const k = selectorKey(sel);
    if (seen.has(k)) err(c, `${field}[${i}]`, 'duplicate label selector');
    seen.add(k);
    out.push(sel);
  }
  return out;
}

/** An optional integer in [min, max]. */
export function uint(c: Ctx, v: unknown, field: string, max: number, min = 0): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    err(c, field, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}

/** An optional boolean. */
export function bool(c: Ctx, v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    err(c, field, `must be a boolean, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}
