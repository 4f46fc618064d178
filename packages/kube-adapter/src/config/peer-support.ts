/**
 * What lbkit's BGP backends (the lbkit backend on `@lbkit/bgp` and the gobgp backend) make of the
 * BGPPeer fields MetalLB passes to FRR: the ASNs a session uses (`localASN`, `dynamicASN`), and
 * the fields no backend can honour, each with a message naming the object and the field. Used by
 * the backends (such a peer is not configured, the rest is), by `lbkitd --check` and by the
 * webhook (as warnings: the configuration itself is valid MetalLB configuration).
 */
import type { PeerConfig } from '../config.js';

/** The ASNs one session uses. */
export interface SessionASNs {
  /** Our AS on this session: `spec.localASN` (FRR `local-as … no-prepend replace-as`), else `spec.myASN`. */
  local: number;
  /** The AS the peer must announce: `spec.peerASN`, or `spec.myASN` for `dynamicASN: internal`. */
  peer: number;
}

/** A field of a BGPPeer that lbkit's BGP backends cannot honour. */
export interface UnsupportedField {
  field: string;
  message: string;
}

/** The ASNs of a peer's session (`peer` is 0 when `dynamicASN: external`, which no backend supports). */
export function sessionASNs(p: PeerConfig): SessionASNs {
  const local = p.localASN ?? p.myASN;
  const peer = p.dynamicASN === 'internal' ? p.myASN : p.dynamicASN === 'external' ? 0 : p.peerASN;
  return { local, peer };
}

/**
 * Fields of a parsed BGPPeer that lbkit's BGP backends do not support; a peer with any is not
 * configured by the backend. Empty for every other peer.
 * @param namespace the BGPPeer's namespace (for the message)
 */
export function unsupportedPeerFields(p: Pick<PeerConfig, 'name' | 'vrf' | 'dynamicASN'>, namespace: string): UnsupportedField[] {
  const who = `BGPPeer ${namespace}/${p.name}`;
  const out: UnsupportedField[] = [];
  if (p.vrf)
    out.push({ field: 'spec.vrf', message: `${who}: spec.vrf: sessions from a host VRF (${JSON.stringify(p.vrf)}) are not supported by lbkit's BGP backends; this session is not established` });
  if (p.dynamicASN === 'external')
    out.push({ field: 'spec.dynamicASN', message: `${who}: spec.dynamicASN: "external" (any AS but ours) is not supported by lbkit's BGP backends, which check the peer's AS in its OPEN against one number; set spec.peerASN. This session is not established` });
  return out;
}
