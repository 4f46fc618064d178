/**
 * Validation of a received OPEN against the local configuration (RFC 4271 §6.2, RFC 6793, RFC 6286).
 * A peer without the 4-octet AS capability is accepted whatever our AS (RFC 6793 §4.2); one whose
 * configured AS needs 4 octets must then present it, which it cannot (AS_TRANS ≠ the AS): 2/2.
 */
import type { NotificationInfo } from './fsm.js';

/** What the FSM needs to know about a received OPEN. */
export interface OpenInfo {
  /** BGP version (must be 4). */
  version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS 23456 for 4-octet ASNs). */
  myAsn: number;
  /** The 4-octet AS from capability 65, when present. */
  asn4?: number;
  /** Proposed hold time in seconds. */
  holdTime: number;
  /** BGP identifier as an unsigned 32-bit number. */
  bgpId: number;
  /** Capability codes present (e.g. 1 MP, 2 route refresh, 64 GR, 65 AS4). */
  capabilities: number[];
  /** Address families announced with capability 1, as `afi/safi`. */
  families: string[];
}

/** The peer's effective AS number (4-octet capability wins over the 2-octet field). */
export function peerAsnOf(open: OpenInfo): number {
  return open.asn4 ?? open.myAsn;
}

/** Returns the NOTIFICATION to send when the OPEN is unacceptable, else null. */
export function validateOpen(
  open: OpenInfo,
  cfg: { localAsn: number; peerAsn: number; localId: number },
): { notification: NotificationInfo; reason: string } | null {
  if (open.version !== 4) {
    return { notification: { code: 2, subcode: 1, data: Uint8Array.of(0, 4) }, reason: `version ${open.version}` };
  }
  const asn = peerAsnOf(open);
  if (asn !== cfg.peerAsn || (open.asn4 !== undefined && open.asn4 > 0xffff && open.myAsn !== 23456)) {
    return { notification: { code: 2, subcode: 2 }, reason: `peer AS ${asn}, expected ${cfg.peerAsn}` };
  }
  // A 4-octet local AS with a peer lacking capability 65 is fine (RFC 6793 §4.2): our OPEN carries
  // AS_TRANS and the session sends AS_PATH with AS_TRANS plus AS4_PATH (see `commonAttributes`).
  if (open.bgpId === 0 || open.bgpId === 0xffffffff || (asn === cfg.localAsn && open.bgpId === cfg.localId)) {
    return { notification: { code: 2, subcode: 3 }, reason: `bad BGP identifier ${open.bgpId >>> 0}` };
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return { notification: { code: 2, subcode: 6 }, reason: `hold time ${open.holdTime}` };
  }
  return null;
}
