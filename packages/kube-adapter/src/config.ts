/**
 * Parsing and validation of the metallb.io CRDs into lbkit's internal configuration, with the
 * rules of MetalLB's `internal/config` and validating webhooks. Every error names the object
 * (kind, namespace/name) and the field path.
 */
import { ConfigError, ConfigErrors } from './errors.js';
import { cidrOverlaps, formatCidr, parseIP, parsePoolEntry, type Cidr, type Family } from './ip.js';
import { matchAny, matchSelector, selectorKey, validateSelector } from './labels.js';
import { parseDuration } from './duration.js';
import { keyOf, type KubeObject, type LabelSelector, type Node, type Snapshot } from './types.js';

/** A parsed IPAddressPool. */
export interface PoolConfig {
  name: string;
  labels: Record<string, string>;
  /** CIDRs in declared order (ranges summarised). */
  cidrs: Cidr[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** Present when the pool restricts which services may use it. */
  serviceAllocation?: { priority: number; namespaces: string[]; serviceSelectors: LabelSelector[] };
}

/** A parsed L2Advertisement. */
export interface L2AdConfig {
  name: string;
  pools: string[];
  nodeSelectors: LabelSelector[];
  interfaces: string[];
  serviceSelectors: LabelSelector[];
  preferredNodeSelectors: Array<{ weight: number; preference: LabelSelector }>;
}

/** A parsed BGPAdvertisement. */
export interface BgpAdConfig {
  name: string;
  pools: string[];
  aggregationLength: number;
  aggregationLengthV6: number;
  localPref?: number;
  /** Legacy communities as `A:B` strings (canonical decimal). */
  communities: string[];
  /** Large communities as `X:Y:Z` strings. */
  largeCommunities: string[];
  nodeSelectors: LabelSelector[];
  peers: string[];
  serviceSelectors: LabelSelector[];
}

/** A parsed BGPPeer (v1beta2). */
export interface PeerConfig {
  name: string;
  myASN: number;
  peerASN: number;
  peerAddress: string;
  peerPort: number;
  /** Hold time in seconds. */
  holdTime: number;
  /** Keepalive in seconds. */
  keepaliveTime: number;
  routerID?: string;
  sourceAddress?: string;
  password?: string;
  ebgpMultiHop: boolean;
  nodeSelectors: LabelSelector[];
  bfdProfile?: string;
}

/** The internal configuration derived from all metallb.io objects. */
export interface Config {
  pools: Map<string, PoolConfig>;
  l2Advertisements: L2AdConfig[];
  bgpAdvertisements: BgpAdConfig[];
  peers: PeerConfig[];
  /** Community aliases → value (`A:B` or `large:X:Y:Z`). */
  communities: Map<string, string>;
  bfdProfiles: Map<string, Record<string, unknown>>;
}

/** Options for {@link parseConfig}. */
export interface ParseOptions {
  /** Namespace the metallb.io objects must live in (webhook rule). Default `metallb-system`. */
  namespace?: string;
}

type Ctx = { errs: ConfigError[]; kind: string; key: string };

function err(c: Ctx, field: string, detail: string): void {
  c.errs.push(new ConfigError(c.kind, c.key, field, detail));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function strList(c: Ctx, v: unknown, field: string): string[] {
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

function selectors(c: Ctx, v: unknown, field: string): LabelSelector[] {
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
    const k = selectorKey(s as LabelSelector);
    if (seen.has(k)) err(c, `${field}[${i}]`, 'duplicate label selector');
    seen.add(k);
    out.push(s as LabelSelector);
  }
  return out;
}

function uint(c: Ctx, v: unknown, field: string, max: number, min = 0): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    err(c, field, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}

/** Parses a legacy (`A:B`) or large (`large:X:Y:Z`) community literal; throws a descriptive Error. */
export function parseCommunity(v: string): { kind: 'legacy' | 'large'; value: string } {
  if (v.startsWith('large:')) {
    const parts = v.slice(6).split(':');
    if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p) || Number(p) > 0xffffffff))
      throw new Error(`invalid large community value ${JSON.stringify(v)}: expected community to be of format large:X:Y:Z (32-bit parts)`);
    return { kind: 'large', value: parts.map(Number).join(':') };
  }
  const parts = v.split(':');
  if (parts.length !== 2) throw new Error(`invalid community value ${JSON.stringify(v)}: expected A:B or large:X:Y:Z`);
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) > 0xffff)) throw new Error(`invalid community value ${JSON.stringify(v)}: invalid section`);
  return { kind: 'legacy', value: parts.map(Number).join(':') };
}

function meta(c: Ctx, o: KubeObject, ns: string): string | undefined {
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    err(c, 'metadata.name', 'missing name');
    return undefined;
  }
  const ons = o.metadata?.namespace;
  if (ons !== undefined && ons !== ns) err(c, 'metadata.namespace', `resource must be created in ${ns} namespace`);
  return name;
}

/**
 * Parses all metallb.io objects of a snapshot. Throws {@link ConfigErrors} listing every problem;
 * the caller keeps the previous configuration in that case.
 */
export function parseConfig(snap: Snapshot, opts: ParseOptions = {}): Config {
  const ns = opts.namespace ?? 'metallb-system';
  const errs: ConfigError[] = [];
  const cfg: Config = {
    pools: new Map(),
    l2Advertisements: [],
    bgpAdvertisements: [],
    peers: [],
    communities: new Map(),
    bfdProfiles: new Map(),
  };

  // Communities first: advertisements refer to them.
  for (const o of snap.communities) {
    const c: Ctx = { errs, kind: 'Community', key: keyOf(o) };
    if (!meta(c, o, ns)) continue;
    const list = o.spec?.communities ?? [];
    if (!Array.isArray(list)) {
      err(c, 'spec.communities', 'must be a list');
      continue;
    }
    for (const [i, e] of list.entries()) {
      if (!isObj(e) || typeof e.name !== 'string' || e.name === '') {
        err(c, `spec.communities[${i}].name`, 'missing alias name');
        continue;
      }
      if (typeof e.value !== 'string') {
        err(c, `spec.communities[${i}].value`, 'missing value');
        continue;
      }
      if (cfg.communities.has(e.name)) {
        err(c, `spec.communities[${i}].name`, `duplicate definition of community ${JSON.stringify(e.name)}`);
        continue;
      }
      try {
        const p = parseCommunity(e.value);
        cfg.communities.set(e.name, p.kind === 'large' ? `large:${p.value}` : p.value);
      } catch (x) {
        err(c, `spec.communities[${i}].value`, (x as Error).message);
      }
    }
  }

  for (const o of snap.bfdProfiles) {
    const c: Ctx = { errs, kind: 'BFDProfile', key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) continue;
    const s = (o.spec ?? {}) as Record<string, unknown>;
    uint(c, s.receiveInterval, 'spec.receiveInterval', 60000, 10);
    uint(c, s.transmitInterval, 'spec.transmitInterval', 60000, 10);
    uint(c, s.detectMultiplier, 'spec.detectMultiplier', 255, 2);
    uint(c, s.echoInterval, 'spec.echoInterval', 60000, 10);
    uint(c, s.minimumTtl, 'spec.minimumTtl', 254, 1);
    if (cfg.bfdProfiles.has(name)) err(c, 'metadata.name', `duplicate BFDProfile ${name}`);
    cfg.bfdProfiles.set(name, s);
  }

  // Namespace name → labels, to resolve namespaceSelectors.
  const nsLabels = new Map<string, Record<string, string>>();
  for (const n of snap.namespaces) if (n.metadata?.name) nsLabels.set(n.metadata.name, n.metadata.labels ?? {});

  const allCidrs: Array<{ cidr: Cidr; pool: string }> = [];
  for (const o of snap.pools) {
    const c: Ctx = { errs, kind: 'IPAddressPool', key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) continue;
    if (cfg.pools.has(name)) {
      err(c, 'metadata.name', `duplicate definition of pool ${JSON.stringify(name)}`);
      continue;
    }
    const s = o.spec;
    if (!isObj(s)) {
      err(c, 'spec', 'missing spec');
      continue;
    }
    const addrs = strList(c, s.addresses, 'spec.addresses');
    if (addrs.length === 0) {
      err(c, 'spec.addresses', 'pool has no prefixes defined');
      continue;
    }
    const cidrs: Cidr[] = [];
    let bad = false;
    for (const [i, a] of addrs.entries()) {
      let list: Cidr[];
      try {
        list = parsePoolEntry(a);
      } catch (x) {
        err(c, `spec.addresses[${i}]`, (x as Error).message);
        bad = true;
        continue;
      }
      for (const cidr of list) {
        const clash = [...cidrs.map((x) => ({ cidr: x, pool: name })), ...allCidrs].find((x) => cidrOverlaps(x.cidr, cidr));
        if (clash) {
          err(c, `spec.addresses[${i}]`, `CIDR ${JSON.stringify(formatCidr(cidr))} in pool ${JSON.stringify(name)} overlaps with already defined CIDR ${JSON.stringify(formatCidr(clash.cidr))}`);
          bad = true;
        }
        cidrs.push(cidr);
      }
    }
    if (bad) continue;
    for (const cidr of cidrs) allCidrs.push({ cidr, pool: name });
    if (s.autoAssign !== undefined && typeof s.autoAssign !== 'boolean') err(c, 'spec.autoAssign', 'must be a boolean');
    if (s.avoidBuggyIPs !== undefined && typeof s.avoidBuggyIPs !== 'boolean') err(c, 'spec.avoidBuggyIPs', 'must be a boolean');
    const pool: PoolConfig = {
      name,
      labels: o.metadata?.labels ?? {},
      cidrs,
      autoAssign: s.autoAssign !== false,
      avoidBuggyIPs: s.avoidBuggyIPs === true,
    };
    if (s.serviceAllocation !== undefined && s.serviceAllocation !== null) {
      const sa = s.serviceAllocation;
      if (!isObj(sa)) err(c, 'spec.serviceAllocation', 'must be an object');
      else {
        const priority = uint(c, sa.priority, 'spec.serviceAllocation.priority', 2 ** 31 - 1) ?? 0;
        const namespaces = strList(c, sa.namespaces, 'spec.serviceAllocation.namespaces');
        const nsSel = selectors(c, sa.namespaceSelectors, 'spec.serviceAllocation.namespaceSelectors');
        const svcSel = selectors(c, sa.serviceSelectors, 'spec.serviceAllocation.serviceSelectors');
        const all = new Set(namespaces);
        for (const sel of nsSel) for (const [n, l] of nsLabels) if (matchSelector(sel, l)) all.add(n);
        const empty = namespaces.length === 0 && nsSel.length === 0 && svcSel.length === 0;
        // an empty serviceAllocation matches every service (v0.15), expressed as one empty selector
        pool.serviceAllocation = {
          priority,
          namespaces: [...all],
          serviceSelectors: empty ? [{}] : svcSel,
        };
        if (!empty && all.size === 0 && svcSel.length === 0) {
          // namespace selectors matched nothing: the pool serves no namespace
          pool.serviceAllocation.namespaces = ['\u0000none'];
        }
      }
    }
    cfg.pools.set(name, pool);
  }

  const resolvePools = (c: Ctx, names: string[], sels: LabelSelector[]): string[] => {
    if (names.length === 0 && sels.length === 0) return [...cfg.pools.keys()];
    const out = new Set(names.filter((n) => cfg.pools.has(n)));
    for (const p of cfg.pools.values()) if (sels.length && matchAny(sels, p.labels)) out.add(p.name);
    void c;
    return [...out];
  };

  const l2Seen = new Map<string, string>();
  for (const o of snap.l2Advertisements) {
    const c: Ctx = { errs, kind: 'L2Advertisement', key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) continue;
    const s = isObj(o.spec) ? o.spec : {};
    const poolNames = strList(c, s.ipAddressPools, 'spec.ipAddressPools');
    const poolSels = selectors(c, s.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors');
    const ad: L2AdConfig = {
      name,
      pools: resolvePools(c, poolNames, poolSels),
      nodeSelectors: selectors(c, s.nodeSelectors, 'spec.nodeSelectors'),
      interfaces: strList(c, s.interfaces, 'spec.interfaces'),
      serviceSelectors: selectors(c, s.serviceSelectors, 'spec.serviceSelectors'),
      preferredNodeSelectors: [],
    };
    if (s.preferredNodeSelectors !== undefined) {
      if (!Array.isArray(s.preferredNodeSelectors)) err(c, 'spec.preferredNodeSelectors', 'must be a list');
      else
        for (const [i, p] of s.preferredNodeSelectors.entries()) {
          const w = uint(c, p?.weight, `spec.preferredNodeSelectors[${i}].weight`, 100, 1);
          const bad = validateSelector(p?.preference);
          if (bad) err(c, `spec.preferredNodeSelectors[${i}].preference`, `invalid label selector: ${bad}`);
          else if (w !== undefined) ad.preferredNodeSelectors.push({ weight: w, preference: p.preference });
        }
    }
    const sig = JSON.stringify({ ...ad, name: '' });
    if (l2Seen.has(sig) && ad.preferredNodeSelectors.length === 0) continue; // identical ads are de-duplicated
    l2Seen.set(sig, name);
    cfg.l2Advertisements.push(ad);
  }

  const bgpSeen = new Map<string, string>();
  for (const o of snap.bgpAdvertisements) {
    const c: Ctx = { errs, kind: 'BGPAdvertisement', key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) continue;
    const s = isObj(o.spec) ? o.spec : {};
    const poolNames = strList(c, s.ipAddressPools, 'spec.ipAddressPools');
    const poolSels = selectors(c, s.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors');
    const aggSet = s.aggregationLength !== undefined || s.aggregationLengthV6 !== undefined;
    const ad: BgpAdConfig = {
      name,
      pools: resolvePools(c, poolNames, poolSels),
      aggregationLength: uint(c, s.aggregationLength, 'spec.aggregationLength', 32, 1) ?? 32,
      aggregationLengthV6: uint(c, s.aggregationLengthV6, 'spec.aggregationLengthV6', 128, 1) ?? 128,
      communities: [],
      largeCommunities: [],
      nodeSelectors: selectors(c, s.nodeSelectors, 'spec.nodeSelectors'),
      peers: strList(c, s.peers, 'spec.peers'),
      serviceSelectors: selectors(c, s.serviceSelectors, 'spec.serviceSelectors'),
    };
    const lp = uint(c, s.localPref, 'spec.localPref', 0xffffffff);
    if (lp !== undefined) ad.localPref = lp;
    for (const [i, cv] of strList(c, s.communities, 'spec.communities').entries()) {
      let v = cv;
      if (!cv.includes(':')) {
        const alias = cfg.communities.get(cv);
        if (alias === undefined) {
          err(c, `spec.communities[${i}]`, `community alias ${JSON.stringify(cv)} not found in any Community object`);
          continue;
        }
        v = alias;
      }
      try {
        const p = parseCommunity(v);
        (p.kind === 'large' ? ad.largeCommunities : ad.communities).push(p.value);
      } catch (x) {
        err(c, `spec.communities[${i}]`, (x as Error).message);
      }
    }
    if (ad.serviceSelectors.length > 0 && (ad.aggregationLength !== 32 || ad.aggregationLengthV6 !== 128))
      err(c, 'spec.serviceSelectors', 'serviceSelectors are allowed only with the default aggregationLength/aggregationLengthV6');
    if (aggSet)
      for (const pn of ad.pools) {
        const p = cfg.pools.get(pn)!;
        for (const fam of ['ipv4', 'ipv6'] as Family[]) {
          const lens = p.cidrs.filter((x) => x.family === fam).map((x) => x.prefix);
          if (!lens.length) continue;
          const min = Math.min(...lens);
          const agg = fam === 'ipv4' ? ad.aggregationLength : ad.aggregationLengthV6;
          if (agg < min)
            err(c, fam === 'ipv4' ? 'spec.aggregationLength' : 'spec.aggregationLengthV6', `invalid aggregation length ${agg}: prefix ${min} in pool ${JSON.stringify(pn)} is more specific than the aggregation length`);
        }
      }
    const sig = JSON.stringify({ ...ad, name: '' });
    if (bgpSeen.has(sig)) err(c, 'spec', `duplicate definition of bgpadvertisements: identical to ${bgpSeen.get(sig)}`);
    bgpSeen.set(sig, name);
    cfg.bgpAdvertisements.push(ad);
  }
  checkLocalPref(cfg, snap.nodes, errs, ns);

  const peerSeen = new Map<string, string>();
  for (const o of snap.bgpPeers) {
    const c: Ctx = { errs, kind: 'BGPPeer', key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) continue;
    const s = o.spec;
    if (!isObj(s)) {
      err(c, 'spec', 'missing spec');
      continue;
    }
    for (const f of ['dynamicASN', 'localASN', 'interface', 'vrf', 'connectTime', 'enableGracefulRestart', 'dualStackAddressFamily'] as const) {
      if ((s as Record<string, unknown>)[f] !== undefined) err(c, `spec.${f}`, 'not supported by lbkit (an FRR-only field in MetalLB)');
    }
    if (s.passwordSecret !== undefined) err(c, 'spec.passwordSecret', 'not supported by lbkit: use spec.password');
    const myASN = uint(c, s.myASN, 'spec.myASN', 0xffffffff);
    if (!myASN) err(c, 'spec.myASN', 'missing local ASN');
    const peerASN = uint(c, s.peerASN, 'spec.peerASN', 0xffffffff);
    if (!peerASN) err(c, 'spec.peerASN', 'missing peer ASN');
    const addr = typeof s.peerAddress === 'string' ? parseIP(s.peerAddress) : null;
    if (!addr) err(c, 'spec.peerAddress', `invalid peer IP ${JSON.stringify(s.peerAddress)}`);
    const port = uint(c, s.peerPort, 'spec.peerPort', 16384, 1) ?? 179;
    if (s.sourceAddress !== undefined && !parseIP(String(s.sourceAddress))) err(c, 'spec.sourceAddress', `invalid source IP ${JSON.stringify(s.sourceAddress)}`);
    if (s.routerID !== undefined && parseIP(String(s.routerID))?.family !== 'ipv4') err(c, 'spec.routerID', `invalid router ID ${JSON.stringify(s.routerID)}`);
    let hold: number | undefined;
    let ka: number | undefined;
    if (s.holdTime !== undefined) {
      const ms = parseDuration(s.holdTime);
      if (ms === null) err(c, 'spec.holdTime', `invalid duration ${JSON.stringify(s.holdTime)}`);
      else hold = Math.round(ms / 1000);
    }
    if (s.keepaliveTime !== undefined) {
      const ms = parseDuration(s.keepaliveTime);
      if (ms === null) err(c, 'spec.keepaliveTime', `invalid duration ${JSON.stringify(s.keepaliveTime)}`);
      else ka = Math.round(ms / 1000);
    }
    if (hold === undefined && ka === undefined) hold = 90;
    if (hold === undefined) hold = 3 * ka!;
    if (ka === undefined) ka = Math.floor(hold / 3);
    if (hold !== 0 && hold < 3) err(c, 'spec.holdTime', `invalid hold time ${hold}s: must be 0 or >= 3s`);
    if (ka > hold) err(c, 'spec.keepaliveTime', `keepalive ${ka}s must be lower than the hold time ${hold}s`);
    if (s.password !== undefined && typeof s.password !== 'string') err(c, 'spec.password', 'must be a string');
    if (s.ebgpMultiHop && myASN !== undefined && myASN === peerASN) err(c, 'spec.ebgpMultiHop', 'invalid ebgpMultiHop parameter set for an ibgp peer');
    if (s.bfdProfile !== undefined && !cfg.bfdProfiles.has(s.bfdProfile)) err(c, 'spec.bfdProfile', `BFDProfile ${JSON.stringify(s.bfdProfile)} not found`);
    const peer: PeerConfig = {
      name,
      myASN: myASN ?? 0,
      peerASN: peerASN ?? 0,
      peerAddress: addr ? String(s.peerAddress).trim() : '',
      peerPort: port,
      holdTime: hold,
      keepaliveTime: ka,
      ebgpMultiHop: s.ebgpMultiHop === true,
      nodeSelectors: selectors(c, s.nodeSelectors, 'spec.nodeSelectors'),
    };
    if (s.routerID) peer.routerID = s.routerID;
    if (s.sourceAddress) peer.sourceAddress = s.sourceAddress;
    if (s.password) peer.password = s.password;
    if (s.bfdProfile) peer.bfdProfile = s.bfdProfile;
    const sig = JSON.stringify({ ...peer, name: '' });
    if (peerSeen.has(sig)) err(c, 'spec', `peer ${peer.peerAddress} already exists (${peerSeen.get(sig)})`);
    peerSeen.set(sig, name);
    cfg.peers.push(peer);
  }

  if (errs.length) throw new ConfigErrors(errs);
  return cfg;
}

function nodeSet(sels: LabelSelector[], nodes: Node[]): Set<string> {
  return new Set(nodes.filter((n) => matchAny(sels, n.metadata?.labels)).map((n) => n.metadata?.name ?? ''));
}

function checkLocalPref(cfg: Config, nodes: Node[], errs: ConfigError[], ns: string): void {
  const ads = cfg.bgpAdvertisements.filter((a) => a.serviceSelectors.length === 0);
  for (let i = 0; i < ads.length; i++)
    for (let j = i + 1; j < ads.length; j++) {
      const a = ads[i]!;
      const b = ads[j]!;
      if ((a.localPref ?? 0) === (b.localPref ?? 0)) continue;
      for (const pn of a.pools) {
        if (!b.pools.includes(pn)) continue;
        const pool = cfg.pools.get(pn)!;
        const fams = new Set(pool.cidrs.map((c) => c.family));
        const aggDiffer = [...fams].every((f) => (f === 'ipv4' ? a.aggregationLength !== b.aggregationLength : a.aggregationLengthV6 !== b.aggregationLengthV6));
        const peersDisjoint = a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p));
        const na = nodeSet(a.nodeSelectors, nodes);
        const nodesDisjoint = a.nodeSelectors.length > 0 && b.nodeSelectors.length > 0 && ![...nodeSet(b.nodeSelectors, nodes)].some((n) => na.has(n));
        if (!aggDiffer && !peersDisjoint && !nodesDisjoint)
          errs.push(new ConfigError('BGPAdvertisement', `${ns}/${b.name}`, 'spec.localPref', `localPref ${b.localPref ?? 0} is incompatible with BGPAdvertisement ${a.name} (localPref ${a.localPref ?? 0}) for pool ${JSON.stringify(pn)}`));
      }
    }
}

/** The pool that contains an IP (ignoring avoidBuggyIPs, as the speaker does), or undefined. */
export function poolForIP(cfg: Config, ip: string): PoolConfig | undefined {
  const p = parseIP(ip);
  if (!p) return undefined;
  for (const pool of cfg.pools.values())
    for (const c of pool.cidrs) if (c.family === p.family && (p.value >> BigInt((p.family === 'ipv4' ? 32 : 128) - c.prefix)) === c.network >> BigInt((p.family === 'ipv4' ? 32 : 128) - c.prefix)) return pool;
  return undefined;
}
