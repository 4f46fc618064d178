/**
 * Layer 2 announcement decision (`speaker/layer2_controller.go` ShouldAnnounce): a stateless
 * election every speaker computes identically; the first candidate announces.
 */
import { hash } from 'node:crypto';
import { poolForIP, type Config, type L2AdConfig } from './config.js';
import { excludedFromLB, hasServingEndpoint, networkUnavailable, nodesWithServingEndpoints } from './endpoints.js';
import { canonicalIP } from './ip.js';
import { matchAny, matchSelector } from './labels.js';
import { sharingKey } from './service.js';
import type { EndpointSlice, Node, Service } from './types.js';

/** Inputs of an L2 decision for one service on one node. */
export interface L2DecisionInput {
  /** This speaker's node name. */
  myNode: string;
  svc: Service;
  /** The service's ingress IPs (at least one). */
  ips: string[];
  config: Config;
  /** Node objects by name. */
  nodes: Map<string, Node>;
  /** The service's EndpointSlices. */
  slices: EndpointSlice[];
  /** Live speaker names from memberlist (alive or suspect), or null when memberlist is disabled. */
  members: string[] | null;
  /** `--ignore-exclude-lb` */
  ignoreExcludeLB?: boolean;
  /** What elections under the same config, Nodes and members share (see {@link L2ElectionMemo}). */
  memo?: L2ElectionMemo;
}

/** Outcome: announce (with the interface restriction, empty = all) or a MetalLB reason. */
export type L2Decision =
  | { announce: true; interfaces: string[]; candidates: string[] }
  | { announce: false; reason: string; candidates: string[] };

/**
 * sha256(node + "#" + ip) as hex, the tie-break of the election. One-shot `crypto.hash` (about 3×
 * cheaper than a Hash object for a short input), computed each time: at 5000 Services × 3 nodes a
 * memo of it cost more than the hashing, on a miss (a start: 90 ms against 25 ms of CPU) and even on
 * a hit (a string key built and hashed again for the Map).
 */
export function electionHash(node: string, ip: string): string {
  return hash('sha256', `${node}#${ip}`, 'hex');
}

/**
 * Orders candidates as MetalLB does: higher preference score first, then ascending bytes of
 * sha256(node + "#" + ip) where ip is the canonical (Go) string of the first ingress IP.
 */
export function sortL2Candidates(ip: string, nodes: string[], scores: Map<string, number> = new Map()): string[] {
  if (nodes.length < 2) return [...nodes];
  const canon = canonicalIP(ip) ?? ip;
  return nodes
    .map((n) => ({ n, s: scores.get(n) ?? 0, h: electionHash(n, canon) }))
    .sort((a, b) => b.s - a.s || (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .map((x) => x.n);
}

/** L2Advertisements that apply to the service (its pool, and service selectors). */
export function l2AdsFor(cfg: Config, svc: Service, ips: string[]): L2AdConfig[] {
  const pool = ips.length ? poolForIP(cfg, ips[0]!) : undefined;
  return pool ? selectingService(poolL2Ads(cfg, pool.name), svc) : [];
}

/** The L2Advertisements of a pool. */
function poolL2Ads(cfg: Config, pool: string): L2AdConfig[] {
  return cfg.l2Advertisements.filter((a) => a.pools.includes(pool));
}

/** Those of `ads` whose service selectors match the service (all of them when none has selectors). */
function selectingService(ads: L2AdConfig[], svc: Service): L2AdConfig[] {
  return ads.some((a) => a.serviceSelectors.length > 0) ? ads.filter((a) => matchAny(a.serviceSelectors, svc.metadata?.labels)) : ads;
}

function adCovers(ad: L2AdConfig, node: Node | undefined): boolean {
  return node !== undefined && matchAny(ad.nodeSelectors, node.metadata?.labels);
}

/**
 * What an L2 election derives from a set of L2Advertisements, the Nodes and the members alone (the
 * same for every service whose pool has those advertisements).
 */
interface L2Group {
  /** One of the advertisements covers this node. */
  mine: boolean;
  /** Interfaces this node announces on (empty = all). */
  interfaces: string[];
  /** Candidates the advertisements cover, neither unavailable nor excluded, in members (or Nodes) order. */
  candidates: string[];
  /** Preference score of each candidate. */
  scores: Map<string, number>;
}

type GroupInputs = Pick<L2DecisionInput, 'myNode' | 'nodes' | 'members' | 'ignoreExcludeLB'>;

function l2Group(inp: GroupInputs, ads: L2AdConfig[]): L2Group {
  const { nodes } = inp;
  const mine = ads.filter((a) => adCovers(a, nodes.get(inp.myNode)));
  const base = inp.members ?? [...nodes.keys()];
  const candidates = [...new Set(base)].filter((n) => {
    const node = nodes.get(n);
    if (networkUnavailable(node)) return false;
    if (!inp.ignoreExcludeLB && excludedFromLB(node)) return false;
    return ads.some((a) => adCovers(a, node));
  });
  const scores = new Map<string, number>();
  for (const n of candidates) {
    let s = 0;
    const node = nodes.get(n);
    for (const a of ads) {
      if (!adCovers(a, node)) continue;
      for (const p of a.preferredNodeSelectors) if (matchSelector(p.preference, node?.metadata?.labels)) s += p.weight;
    }
    scores.set(n, s);
  }
  const interfaces = mine.some((a) => a.interfaces.length === 0) ? [] : [...new Set(mine.flatMap((a) => a.interfaces))];
  return { mine: mine.length > 0, interfaces, candidates, scores };
}

/**
 * Keeps, for one configuration, one set of Nodes and one member list, what every L2 election under
 * them shares: each pool's advertisements and each advertisement set's candidates, scores and
 * interfaces. A start elects thousands of services against the same few of these. Give it to
 * {@link shouldAnnounceL2} as `memo`; it is used only for inputs with the very same config, Nodes
 * map, member array, node and `ignoreExcludeLB`. A Nodes map changed in place needs a new memo.
 */
export class L2ElectionMemo {
  private readonly poolAds = new Map<string, L2AdConfig[]>();
  private readonly groups = new Map<string, L2Group>();
  private adIndex: Map<L2AdConfig, number> | undefined;

  constructor(private readonly inp: Pick<L2DecisionInput, 'config' | 'myNode' | 'nodes' | 'members' | 'ignoreExcludeLB'>) {}

  /** Whether the memo was made for these inputs. */
  fits(inp: L2DecisionInput): boolean {
    const m = this.inp;
    return m.config === inp.config && m.nodes === inp.nodes && m.members === inp.members && m.myNode === inp.myNode && (m.ignoreExcludeLB ?? false) === (inp.ignoreExcludeLB ?? false);
  }

  /** {@link l2AdsFor}, with each pool's advertisements found once. */
  adsFor(svc: Service, ips: string[]): L2AdConfig[] {
    const cfg = this.inp.config;
    const pool = ips.length ? poolForIP(cfg, ips[0]!) : undefined;
    if (!pool) return [];
    let ads = this.poolAds.get(pool.name);
    if (!ads) this.poolAds.set(pool.name, (ads = poolL2Ads(cfg, pool.name)));
    return selectingService(ads, svc);
  }

  /** The group of an advertisement set, computed once per set. */
  group(ads: L2AdConfig[]): L2Group {
    this.adIndex ??= new Map(this.inp.config.l2Advertisements.map((a, i) => [a, i]));
    const key = ads.map((a) => this.adIndex!.get(a)).join(',');
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = l2Group(this.inp, ads)));
    return g;
  }
}

/** The L2 decision for this node. */
export function shouldAnnounceL2(inp: L2DecisionInput): L2Decision {
  const { myNode, svc } = inp;
  if (!hasServingEndpoint(inp.slices)) return { announce: false, reason: 'notOwner', candidates: [] };
  const memo = inp.memo?.fits(inp) ? inp.memo : undefined;
  const ads = memo ? memo.adsFor(svc, inp.ips) : l2AdsFor(inp.config, svc, inp.ips);
  if (sharingKey(svc) !== '' && ads.some((a) => a.serviceSelectors.length > 0))
    return { announce: false, reason: 'sharedIPWithServiceSelector', candidates: [] };
  const g = memo ? memo.group(ads) : l2Group(inp, ads);
  if (!g.mine) return { announce: false, reason: 'noMatchingAdvertisement', candidates: [] };
  let cands = g.candidates;
  if (svc.spec?.externalTrafficPolicy === 'Local') {
    const local = nodesWithServingEndpoints(inp.slices);
    cands = cands.filter((n) => local.has(n));
  }
  if (cands.length === 0) return { announce: false, reason: 'notOwner', candidates: [] };
  const ordered = sortL2Candidates(inp.ips[0]!, cands, g.scores);
  if (ordered[0] !== myNode) return { announce: false, reason: 'notOwner', candidates: ordered };
  return { announce: true, interfaces: [...g.interfaces], candidates: ordered };
}
