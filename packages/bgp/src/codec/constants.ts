/** Numeric constants of BGP-4 (RFC 4271 and the RFCs the codec implements). */

/** Message type codes (RFC 4271 §4.1, RFC 2918). */
export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** Length of the fixed header: 16-byte marker, 2-byte length, 1-byte type. */
export const HEADER_LENGTH = 19;

/** Largest message without RFC 8654 extended messages. */
export const MAX_MESSAGE = 4096;

/** Largest message with RFC 8654 extended messages (OPEN and KEEPALIVE stay ≤ 4096). */
export const MAX_EXTENDED_MESSAGE = 65535;

/** RFC 6793 AS_TRANS: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** Address family identifiers used here. */
export const AFI = { IPV4: 1, IPV6: 2 } as const;

/** Subsequent address family identifiers used here. */
export const SAFI = { UNICAST: 1, MULTICAST: 2 } as const;

/** Path attribute type codes. */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MED: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITIES: 32,
} as const;

/** Path attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** Capability codes (IANA registry) the codec decodes into fields. */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  AS4: 65,
  ENHANCED_ROUTE_REFRESH: 70,
} as const;
