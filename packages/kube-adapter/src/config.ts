/**
 * Parsing and validation of the metallb.io CRDs into lbkit's internal configuration, with the
 * rules of MetalLB's `internal/config` and validating webhooks. Every error names the object
 * (kind, namespace/name) and the field path.
 */
import { ConfigError, ConfigErrors } from './errors.js';
import { cidrFirst, cidrLast, formatCidr, parseIP, parsePoolEntry, type Cidr } from './ip.js';
import { matchAny, matchSelector, validateSelector } from './labels.js';
import { keyOf, type BGPAdvertisement, type KubeObject, type L2Advertisement, type LabelSelector, type Node, type Snapshot } from './types.js';
import { err, isObj, selectors, strList, uint, type Ctx } from './config/fields.js';
import { adsHaveCompatibleLocalPref } from './config/localpref.js';
import { parsePeers } from './config/peer.js';
import { crdSchemas } from './validation/crd-schema.js';
import { parseV4Number } from '@lbkit/ipam';
import { boundedMemo } from './memo.js';

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
  /** 0 when `dynamicASN` is set. */
  peerASN: number;
  /** `internal` (peer AS must equal myASN) or `external` (must differ), instead of peerASN. */
  dynamicASN?: 'internal' | 'external';
  /** AS number announced to this peer instead of myASN (FRR `local-as ... no-prepend replace-as`). */
  localASN?: number;
  peerAddress: string;
  peerPort: number;
  /** Hold time in seconds. */
  holdTime: number;
  /** Keepalive in seconds. */
  keepaliveTime: number;
  /** Seconds between connection attempts (`spec.connectTime`). */
  connectTime?: number;
  routerID?: string;
  sourceAddress?: string;
  /** TCP MD5 password: `spec.password`, or the `password` key of the `spec.passwordSecret` Secret. */
  password?: string;
  /** The Secret the password came from. */
  passwordSecret?: { name: string; namespace?: string };
  ebgpMultiHop: boolean;
  nodeSelectors: LabelSelector[];
  bfdProfile?: string;
  /** Host VRF the session is established from. */
  vrf?: string;
  /** BGP graceful restart (RFC 4724) for this session. */
  enableGracefulRestart: boolean;
  /** Exchange both address families on this session. */
  dualStackAddressFamily: boolean;
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
  /**
   * Do not report references to objects that may be created later (a BFDProfile, a password
   * Secret, a Community alias), as MetalLB's validating webhooks do. Default false.
   */
  lenientReferences?: boolean;
  /**
   * Validate every metallb.io object against the CRD schemas of `manifests/crds.yaml` first
   * (unknown fields, types, enums, ranges, as the API server does); an object that fails is
   * reported and left out of the rest of the parse. Objects with `metadata.uid` (admitted by an
   * API server) are not checked for unknown fields. Default true.
   */
  schema?: boolean;
  /** Report fields the CRD schemas do not know (default true; the webhook turns it off). */
  unknownFields?: boolean;
  /**
   * `pools`: only what the controller needs (IPAddressPools, Communities, Namespaces), as MetalLB's
   * controller (`PoolReconciler`) reads them, so a BGPPeer whose password Secret is missing never
   * stops address allocation. Default `all` (what a speaker, `--check` and the webhook use).
   */
  scope?: 'all' | 'pools';
}

/** A CIDR with its first and last address. */
type Span = { cidr: Cidr; lo: bigint; hi: bigint };

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
export function parseConfig(snapIn: Snapshot, opts: ParseOptions = {}): Config {
  const ns = opts.namespace ?? 'metallb-system';
  const errs: ConfigError[] = [];
  const inScope = opts.scope === 'pools' ? { ...snapIn, l2Advertisements: [], bgpAdvertisements: [], bgpPeers: [], bfdProfiles: [], secrets: [] } : snapIn;
  const snap = opts.schema === false ? inScope : schemaValid(inScope, errs, opts.unknownFields !== false);
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

  /** Every accepted CIDR with its address span (two CIDRs overlap iff their spans do). */
  const allCidrs: Span[] = [];
  /** Pool name → the CIDRs of each `spec.addresses` entry (a range gives several). */
  const poolEntries = new Map<string, Array<{ text: string; cidrs: Cidr[] }>>();
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
    const own: Span[] = [];
    const entries: Array<{ text: string; cidrs: Cidr[] }> = [];
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
      entries.push({ text: a, cidrs: list });
      for (const cidr of list) {
        const sp: Span = { cidr, lo: cidrFirst(cidr), hi: cidrLast(cidr) };
        const hit = (x: Span) => x.cidr.family === cidr.family && x.lo <= sp.hi && sp.lo <= x.hi;
        const clash = own.find(hit) ?? allCidrs.find(hit);
        if (clash) {
          err(c, `spec.addresses[${i}]`, `CIDR ${JSON.stringify(formatCidr(cidr))} in pool ${JSON.stringify(name)} overlaps with already defined CIDR ${JSON.stringify(formatCidr(clash.cidr))}`);
          bad = true;
        }
        cidrs.push(cidr);
        own.push(sp);
      }
    }
    if (bad) continue;
    allCidrs.push(...own);
    poolEntries.set(name, entries);
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
        // An empty serviceAllocation matches every service (v0.15), expressed as one empty selector.
        // namespaceSelectors that match no namespace leave both lists empty, as in MetalLB: the pool
        // is then never picked automatically (it is a pinned pool no namespace or selector reaches)
        // but explicit requests (loadBalancerIP, the address-pool annotation) are allowed.
        pool.serviceAllocation = {
          priority,
          namespaces: [...all],
          serviceSelectors: empty ? [{}] : svcSel,
        };
      }
    }
    cfg.pools.set(name, pool);
  }

  const resolvePools = (names: string[], sels: LabelSelector[]): string[] => {
    if (names.length === 0 && sels.length === 0) return [...cfg.pools.keys()];
    const out = new Set(names.filter((n) => cfg.pools.has(n)));
    for (const p of cfg.pools.values()) if (sels.length && matchAny(sels, p.labels)) out.add(p.name);
    return [...out];
  };
  /** What every advertisement starts with: its parse context, name, spec and the pools it selects. */
  const adHead = <O extends L2Advertisement | BGPAdvertisement>(o: O, kind: string): { c: Ctx; name: string; s: NonNullable<O['spec']>; pools: string[] } | undefined => {
    const c: Ctx = { errs, kind, key: keyOf(o) };
    const name = meta(c, o, ns);
    if (!name) return undefined;
    const s = (isObj(o.spec) ? o.spec : {}) as NonNullable<O['spec']>;
    const pools = resolvePools(strList(c, s.ipAddressPools, 'spec.ipAddressPools'), selectors(c, s.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors'));
    return { c, name, s, pools };
  };

  const l2Seen = new Map<string, string>();
  for (const o of snap.l2Advertisements) {
    const h = adHead(o, 'L2Advertisement');
    if (!h) continue;
    const { c, name, s } = h;
    const ad: L2AdConfig = {
      name,
      pools: h.pools,
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

  for (const o of snap.bgpAdvertisements) {
    const h = adHead(o, 'BGPAdvertisement');
    if (!h) continue;
    const { c, name, s } = h;
    const ad: BgpAdConfig = {
      name,
      pools: h.pools,
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
          if (!opts.lenientReferences) err(c, `spec.communities[${i}]`, `community alias ${JSON.stringify(cv)} not found in any Community object`);
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
    // MetalLB validateBGPAdvPerPool: per `spec.addresses` entry, the widest CIDR of the entry
    // must not be more specific than the aggregation length of its family
    for (const pn of ad.pools) {
      for (const e of poolEntries.get(pn) ?? []) {
        const fam = e.cidrs[0]!.family;
        const lowest = Math.min(...e.cidrs.map((x) => x.prefix));
        const agg = fam === 'ipv4' ? ad.aggregationLength : ad.aggregationLengthV6;
        if (agg < lowest)
          err(c, fam === 'ipv4' ? 'spec.aggregationLength' : 'spec.aggregationLengthV6', `invalid aggregation length ${agg}: prefix ${lowest} in pool ${JSON.stringify(pn)} is more specific than the aggregation length for addresses ${JSON.stringify(e.text)}`);
      }
    }
    // Two advertisements with the same spec under different names are accepted, as in MetalLB
    // (its validateDuplicateBGPAdvertisements compares whole objects, names included); their
    // routes are the same prefixes and merge per peer.
    cfg.bgpAdvertisements.push(ad);
  }
  checkLocalPref(cfg, snap.nodes, errs, ns);

  cfg.peers = parsePeers(snap.bgpPeers, (c, o) => meta(c, o, ns), errs, {
    namespace: ns,
    bfdProfiles: new Set(cfg.bfdProfiles.keys()),
    secrets: snap.secrets ?? [],
    nodes: snap.nodes,
    lenientReferences: opts.lenientReferences === true,
  });

  checkBfdEcho(cfg, errs, ns);

  if (errs.length) throw new ConfigErrors(errs);
  return cfg;
}

/**
 * MetalLB validateConfig: BFD echo mode cannot serve IPv6, so a peer whose BFDProfile has
 * echoMode must not receive (explicitly or as "every peer") an advertisement of a pool with IPv6.
 */
function checkBfdEcho(cfg: Config, errs: ConfigError[], ns: string): void {
  const echo = (p: PeerConfig) => p.bfdProfile !== undefined && cfg.bfdProfiles.get(p.bfdProfile)?.echoMode === true;
  for (const ad of cfg.bgpAdvertisements)
    for (const pn of ad.pools) {
      if (!cfg.pools.get(pn)?.cidrs.some((c) => c.family === 'ipv6')) continue;
      for (const p of cfg.peers)
        if (echo(p) && (ad.peers.length === 0 || ad.peers.includes(p.name)))
          errs.push(new ConfigError('BGPPeer', `${ns}/${p.name}`, 'spec.bfdProfile', `BFDProfile ${JSON.stringify(p.bfdProfile)} has echoMode enabled, which is not possible with IPv6: pool ${JSON.stringify(pn)} is advertised to this peer by BGPAdvertisement ${ad.name}`));
    }
}

/** The snapshot without the metallb.io objects that fail their CRD schema (errors recorded). */
function schemaValid(snap: Snapshot, errs: ConfigError[], unknownFields: boolean): Snapshot {
  const schemas = crdSchemas();
  const keep = <T extends KubeObject>(list: T[], kind: string): T[] =>
    list.filter((o) => {
      // an object an API server admitted (it has a uid) was validated against the cluster's CRD,
      // which may be a newer MetalLB's: its extra fields are ignored, as MetalLB's decoder does
      const e = schemas.validate(o, kind, { unknownFields: unknownFields && !o.metadata?.uid });
      errs.push(...e);
      return e.length === 0;
    });
  return {
    ...snap,
    pools: keep(snap.pools, 'IPAddressPool'),
    l2Advertisements: keep(snap.l2Advertisements, 'L2Advertisement'),
    bgpAdvertisements: keep(snap.bgpAdvertisements, 'BGPAdvertisement'),
    bgpPeers: keep(snap.bgpPeers, 'BGPPeer'),
    communities: keep(snap.communities, 'Community'),
    bfdProfiles: keep(snap.bfdProfiles, 'BFDProfile'),
  };
}

function nodeSet(sels: LabelSelector[], nodes: Node[]): Set<string> {
  return new Set(nodes.filter((n) => matchAny(sels, n.metadata?.labels)).map((n) => n.metadata?.name ?? ''));
}

/**
 * MetalLB validateBGPAdvPerPool's LOCAL_PREF part: each advertisement (in order) against those
 * already attached to the same pool; advertisements with serviceSelectors are not compared.
 */
function checkLocalPref(cfg: Config, nodes: Node[], errs: ConfigError[], ns: string): void {
  const ads = cfg.bgpAdvertisements;
  const sets = ads.map((a) => (a.serviceSelectors.length > 0 ? new Set<string>() : nodeSet(a.nodeSelectors, nodes)));
  for (let j = 0; j < ads.length; j++) {
    const b = ads[j]!;
    if (b.serviceSelectors.length > 0) continue;
    const nb = sets[j]!;
    for (let i = 0; i < j; i++) {
      const a = ads[i]!;
      if (a.serviceSelectors.length > 0) continue;
      if ((a.localPref ?? 0) === (b.localPref ?? 0)) continue;
      const na = sets[i]!;
      const nodesOverlap = [...nb].some((n) => na.has(n));
      const pn = b.pools.find((p) => a.pools.includes(p) && !adsHaveCompatibleLocalPref(b, a, new Set(cfg.pools.get(p)!.cidrs.map((x) => x.family)), nodesOverlap));
      if (pn !== undefined)
        errs.push(new ConfigError('BGPAdvertisement', `${ns}/${b.name}`, 'spec.localPref', `localPref ${b.localPref ?? 0} is incompatible with BGPAdvertisement ${a.name} (localPref ${a.localPref ?? 0}) for pool ${JSON.stringify(pn)}: same pool, aggregation lengths, peers and nodes`));
    }
  }
}

/**
 * A pool's CIDR prepared for membership tests: the network shifted right by its host bits, as a
 * number for IPv4 (the speaker tests every ingress IP a few times per election: bigint shifts cost
 * an allocation each) and as a bigint for IPv6.
 */
type PoolMatcher = { pool: PoolConfig; v4: true; hostBits: number; net: number } | { pool: PoolConfig; v4: false; hostBits: bigint; net: bigint };

/** Per configuration (a Config is never changed once parsed): IPv4 matchers, and a memo for other text. */
const poolLookup = new WeakMap<Config, { v4: PoolMatcher[]; other: (ip: string) => PoolConfig | undefined }>();

/** The pool that contains an IP (ignoring avoidBuggyIPs, as the speaker does), or undefined. */
export function poolForIP(cfg: Config, ip: string): PoolConfig | undefined {
  let l = poolLookup.get(cfg);
  if (!l) {
    const all: PoolMatcher[] = [];
    for (const pool of cfg.pools.values())
      for (const c of pool.cidrs) {
        if (c.family === 'ipv4') {
          const hostBits = 32 - c.prefix;
          all.push({ pool, v4: true, hostBits, net: hostBits === 32 ? 0 : Number(c.network) >>> hostBits });
        } else {
          const hostBits = BigInt(128 - c.prefix);
          all.push({ pool, v4: false, hostBits, net: c.network >> hostBits });
        }
      }
    l = { v4: all.filter((m) => m.v4), other: boundedMemo(200_000, (a) => findPool(all, a)) };
    poolLookup.set(cfg, l);
  }
  // dotted-quad IPv4 takes number arithmetic; other text (IPv6, about 5 µs to parse) is memoised
  const n = parseV4Number(ip);
  if (n < 0) return l.other(ip);
  for (const m of l.v4) if (m.v4 && (m.hostBits === 32 || n >>> m.hostBits === m.net)) return m.pool;
  return undefined;
}

/** The pool of an address that is not a plain dotted quad (IPv6, or IPv4 text that ipam still accepts). */
function findPool(matchers: PoolMatcher[], ip: string): PoolConfig | undefined {
  const p = parseIP(ip);
  if (!p) return undefined;
  const n = p.family === 'ipv4' ? Number(p.value) : 0;
  for (const m of matchers) {
    if (m.v4 ? p.family === 'ipv4' && (m.hostBits === 32 || n >>> m.hostBits === m.net) : p.family === 'ipv6' && p.value >> m.hostBits === m.net) return m.pool;
  }
  return undefined;
}
