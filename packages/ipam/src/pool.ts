/** IPAddressPool parsing and validation. */
import { parseAddressEntry, cidrCapacity } from './ip.js';
import { matchesSelector, validateSelector } from './labels.js';
import type { Cidr, Pool, PoolSpec } from './types.js';

/** A configuration error naming the pool, the field and the offending value. */
export class IpamConfigError extends Error {
  /** Pool name (may be `''` when the name itself is missing). */
  readonly pool: string;
  /** Field path, e.g. `addresses`, `serviceAllocation.namespaces`. */
  readonly field: string;
  /** Offending value as text. */
  readonly value: string;
  constructor(pool: string, field: string, value: string, message: string) {
    super(message);
    this.name = 'IpamConfigError';
    this.pool = pool;
    this.field = field;
    this.value = value;
  }
}

/** Options for {@link parsePools}. */
export interface ParsePoolsOptions {
  /** Namespace name → labels, used to resolve `serviceAllocation.namespaceSelectors`. */
  namespaceLabels?: Record<string, Record<string, string>> | Map<string, Record<string, string>>;
}

/**
 * Validates pool specs (MetalLB `addressPoolFromCR` rules) and returns pools in input order.
 * Throws {@link IpamConfigError}: missing name, duplicate name, no addresses ("pool has no prefixes
 * defined"), invalid CIDR/range, reversed range, overlap with any CIDR of this or another pool
 * ("CIDR %q in pool %q overlaps with already defined CIDR %q" plus the other pool), duplicate
 * namespaces, invalid selectors.
 */
export function parsePools(specs: readonly PoolSpec[], opts: ParsePoolsOptions = {}): Pool[] {
  const out: Pool[] = [];
  const names = new Set<string>();
  const seen: Array<{ cidr: Cidr; pool: string; raw: string }> = [];
  const nsLabels = opts.namespaceLabels instanceof Map ? opts.namespaceLabels : new Map(Object.entries(opts.namespaceLabels ?? {}));
  for (const spec of specs) {
    const name = typeof spec?.name === 'string' ? spec.name : '';
    if (!name) throw new IpamConfigError('', 'name', '', 'pool name is missing');
    if (names.has(name)) throw new IpamConfigError(name, 'name', name, `duplicate definition of pool ${JSON.stringify(name)}`);
    names.add(name);
    if (!Array.isArray(spec.addresses) || spec.addresses.length === 0) {
      throw new IpamConfigError(name, 'addresses', '', `pool ${JSON.stringify(name)}: pool has no prefixes defined`);
    }
    const cidrs: Cidr[] = [];
    for (const raw of spec.addresses) {
      let parsed: Cidr[];
      try {
        if (typeof raw !== 'string') throw new Error('not a string');
        parsed = parseAddressEntry(raw);
      } catch (e) {
        throw new IpamConfigError(name, 'addresses', String(raw), `invalid CIDR/range ${JSON.stringify(String(raw))} in pool ${JSON.stringify(name)}: ${(e as Error).message}`);
      }
      for (const c of parsed) {
        for (const o of seen) {
          if (o.cidr.family === c.family && o.cidr.first <= c.last && c.first <= o.cidr.last) {
            throw new IpamConfigError(name, 'addresses', raw,
              `CIDR ${JSON.stringify(c.text)} (from ${JSON.stringify(raw)}) in pool ${JSON.stringify(name)} overlaps with already defined CIDR ${JSON.stringify(o.cidr.text)} (from ${JSON.stringify(o.raw)}) in pool ${JSON.stringify(o.pool)}`);
          }
        }
        seen.push({ cidr: c, pool: name, raw });
        cidrs.push(c);
      }
    }
    const pool: Pool = { name, cidrs, autoAssign: spec.autoAssign ?? true, avoidBuggyIPs: spec.avoidBuggyIPs ?? false };
    const sa = spec.serviceAllocation;
    if (sa) {
      const namespaces = new Set<string>();
      for (const ns of sa.namespaces ?? []) {
        if (namespaces.has(ns)) throw new IpamConfigError(name, 'serviceAllocation.namespaces', ns, `duplicate namespace ${JSON.stringify(ns)} in pool ${JSON.stringify(name)}`);
        namespaces.add(ns);
      }
      for (const sel of sa.namespaceSelectors ?? []) {
        const err = validateSelector(sel);
        if (err) throw new IpamConfigError(name, 'serviceAllocation.namespaceSelectors', JSON.stringify(sel), `invalid namespace selector in pool ${JSON.stringify(name)}: ${err}`);
        for (const [ns, labels] of nsLabels) if (matchesSelector(sel, labels)) namespaces.add(ns);
      }
      const serviceSelectors = [...(sa.serviceSelectors ?? [])];
      for (const sel of serviceSelectors) {
        const err = validateSelector(sel);
        if (err) throw new IpamConfigError(name, 'serviceAllocation.serviceSelectors', JSON.stringify(sel), `invalid service selector in pool ${JSON.stringify(name)}: ${err}`);
      }
      const prio = sa.priority ?? 0;
      if (!Number.isInteger(prio) || prio < 0) throw new IpamConfigError(name, 'serviceAllocation.priority', String(prio), `invalid priority ${String(prio)} in pool ${JSON.stringify(name)}`);
      const empty = !(sa.namespaces?.length) && !(sa.namespaceSelectors?.length) && !(sa.serviceSelectors?.length);
      if (empty) serviceSelectors.push({});
      pool.serviceAllocation = { priority: prio, namespaces, serviceSelectors };
    }
    out.push(pool);
  }
  return out;
}

/** Usable IPv4 and IPv6 counts of a pool (exact, avoidBuggyIPs honoured). */
export function poolCapacity(pool: Pool): { ipv4: bigint; ipv6: bigint } {
  let ipv4 = 0n;
  let ipv6 = 0n;
  for (const c of pool.cidrs) {
    if (c.family === 'ipv4') ipv4 += cidrCapacity(c, pool.avoidBuggyIPs);
    else ipv6 += cidrCapacity(c, false);
  }
  return { ipv4, ipv6 };
}
