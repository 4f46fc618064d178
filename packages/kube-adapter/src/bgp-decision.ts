/** BGP announcement decision (`speaker/bgp_controller.go` ShouldAnnounce) and advertisement building. */
import { poolForIP, type BgpAdConfig, type Config, type PeerConfig, type PoolConfig } from './config.js';
import { adsHaveCompatibleLocalPref } from './config/localpref.js';
import { excludedFromLB, hasServingEndpoint, networkUnavailable, nodesWithServingEndpoints } from './endpoints.js';
import { bits, formatCidr, maskOf, parseIP } from './ip.js';
import { matchAny } from './labels.js';
import type { EndpointSlice, Node, Service } from './types.js';

/** Inputs of a BGP decision for one service on one node. */
export interface BgpDecisionInput {
  myNode: string;
  svc: Service;
  ips: string[];
  config: Config;
  /** This node's object (labels, conditions). */
  node: Node | undefined;
  /** All nodes, to evaluate conflicts on the same node. */
  slices: EndpointSlice[];
  ignoreExcludeLB?: boolean;
}

/** One route to advertise. */
export interface BgpRoute {
  /** `prefix/len` */
  prefix: string;
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
  /** BGPPeer names the route goes to; empty = every session. */
  peers: string[];
}

/** Outcome of the decision. */
export type BgpDecision = { announce: true; routes: BgpRoute[] } | { announce: false; reason: string };

/**
 * MetalLB's `checkBGPAdvConflicts`: the advertisements matching one service on this node must
 * have compatible LOCAL_PREFs under the same rule as config validation (same value, different
 * aggregation lengths, or disjoint peers; both already selected this node).
 */
function conflicting(ads: BgpAdConfig[], pool: PoolConfig): boolean {
  const families = new Set(pool.cidrs.map((c) => c.family));
  for (let i = 0; i < ads.length; i++)
    for (let j = i + 1; j < ads.length; j++) if (!adsHaveCompatibleLocalPref(ads[i]!, ads[j]!, families, true)) return true;
  return false;
}

/** Masks an IP to `len` bits and formats `prefix/len`. */
export function aggregate(ip: string, len: number): string {
  const p = parseIP(ip);
  if (!p) throw new Error(`invalid IP ${JSON.stringify(ip)}`);
  const l = Math.min(len, bits(p.family));
  return formatCidr({ family: p.family, network: p.value & maskOf(p.family, l), prefix: l });
}

/** The BGP decision for this node. */
export function shouldAnnounceBgp(inp: BgpDecisionInput): BgpDecision {
  const { svc, config, node } = inp;
  const pool = inp.ips.length ? poolForIP(config, inp.ips[0]!) : undefined;
  if (!pool) return { announce: false, reason: 'ipNotAllowed' };
  const onNode = config.bgpAdvertisements.filter((a) => a.pools.includes(pool.name) && node !== undefined && matchAny(a.nodeSelectors, node.metadata?.labels));
  if (onNode.length === 0) return { announce: false, reason: 'notOwner' };
  const ads = onNode.filter((a) => matchAny(a.serviceSelectors, svc.metadata?.labels));
  if (ads.length === 0) return { announce: false, reason: 'noMatchingAdvertisement' };
  if (conflicting(ads, pool)) return { announce: false, reason: 'conflictingAdvertisements' };
  if (networkUnavailable(node)) return { announce: false, reason: 'nodeNetworkUnavailable' };
  if (!inp.ignoreExcludeLB && excludedFromLB(node)) return { announce: false, reason: 'nodeLabeledExcludeBalancers' };
  if (svc.spec?.externalTrafficPolicy === 'Local') {
    if (!nodesWithServingEndpoints(inp.slices).has(inp.myNode)) return { announce: false, reason: 'noLocalEndpoints' };
  } else if (!hasServingEndpoint(inp.slices)) return { announce: false, reason: 'noEndpoints' };
  const routes: BgpRoute[] = [];
  for (const ip of inp.ips)
    for (const ad of ads) {
      const fam = parseIP(ip)?.family;
      const r: BgpRoute = {
        prefix: aggregate(ip, fam === 'ipv6' ? ad.aggregationLengthV6 : ad.aggregationLength),
        communities: [...ad.communities].sort(),
        largeCommunities: [...ad.largeCommunities].sort(),
        peers: [...ad.peers],
      };
      if (ad.localPref !== undefined) r.localPref = ad.localPref;
      routes.push(r);
    }
  return { announce: true, routes };
}

/** BGPPeers that have a session on this node (nodeSelectors match its labels). */
export function peersForNode(config: Config, node: Node | undefined): PeerConfig[] {
  return config.peers.filter((p) => node !== undefined && matchAny(p.nodeSelectors, node.metadata?.labels));
}

/** Routes for one peer: those whose peer list is empty or names it. Same prefixes merge their communities. */
export function routesForPeer(routes: BgpRoute[], peer: string): BgpRoute[] {
  const byPrefix = new Map<string, BgpRoute>();
  for (const r of routes) {
    if (r.peers.length && !r.peers.includes(peer)) continue;
    const cur = byPrefix.get(r.prefix);
    if (!cur) byPrefix.set(r.prefix, { ...r, communities: [...r.communities], largeCommunities: [...r.largeCommunities], peers: [] });
    else {
      cur.communities = [...new Set([...cur.communities, ...r.communities])].sort();
      cur.largeCommunities = [...new Set([...cur.largeCommunities, ...r.largeCommunities])].sort();
      if (r.localPref !== undefined) cur.localPref = Math.max(cur.localPref ?? 0, r.localPref);
    }
  }
  return [...byPrefix.values()];
}

/** Peer names the service is configured to go to (ServiceBGPStatus.status.peers). */
export function peerNamesForService(routes: BgpRoute[], sessions: PeerConfig[]): string[] {
  const names = new Set<string>();
  for (const p of sessions) if (routes.some((r) => r.peers.length === 0 || r.peers.includes(p.name))) names.add(p.name);
  return [...names].sort();
}
