/**
 * MetalLB's `BGPAdvertisementsHaveCompatibleLocalPref`: the one rule, used both when the
 * configuration is validated and when the speaker checks the advertisements that match one
 * service, for whether two BGPAdvertisements of one pool may carry different LOCAL_PREFs.
 */
import type { Family } from '../ip.js';

/** The advertisement fields the rule reads. */
export interface LocalPrefAd {
  localPref?: number;
  aggregationLength: number;
  aggregationLengthV6: number;
  /** BGPPeer names; empty = every peer. */
  peers: string[];
}

/**
 * True when the two advertisements produce different prefixes for every family of the pool
 * (MetalLB's `isAggrLengthDifferent`: a single-family pool needs that family's lengths to
 * differ; a dual-stack pool needs both to differ).
 */
export function aggregationLengthsDiffer(a: LocalPrefAd, b: LocalPrefAd, families: ReadonlySet<Family>): boolean {
  const v4 = families.has('ipv4');
  const v6 = families.has('ipv6');
  if (!v4 && !v6) return true;
  const d4 = a.aggregationLength !== b.aggregationLength;
  const d6 = a.aggregationLengthV6 !== b.aggregationLengthV6;
  if (d4 && !v6) return true;
  if (d6 && !v4) return true;
  return d4 && d6;
}

/**
 * Whether two advertisements of one pool may coexist: same LOCAL_PREF, or different aggregation
 * lengths (different prefixes), or disjoint non-empty peer lists, or no node in common.
 * @param families the address families present in the pool
 * @param nodesOverlap whether some node is selected by both advertisements (the speaker passes
 *   true: both already matched its own node)
 */
export function adsHaveCompatibleLocalPref(a: LocalPrefAd, b: LocalPrefAd, families: ReadonlySet<Family>, nodesOverlap: boolean): boolean {
  if ((a.localPref ?? 0) === (b.localPref ?? 0)) return true;
  if (aggregationLengthsDiffer(a, b, families)) return true;
  if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) return true;
  return !nodesOverlap;
}
