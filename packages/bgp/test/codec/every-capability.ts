/** One capability of every kind the codec knows, for round trips and for the Wireshark check. */
import { codec } from '@lbkit/bgp';

/**
 * Multiprotocol IPv4 and IPv6 unicast, route refresh, enhanced route refresh, extended message,
 * 4-octet AS, graceful restart (R and N bits set, one family with and one without forwarding state)
 * and an unknown code (73, FQDN "node", kept raw by the codec), in that order.
 */
export const everyCapability: codec.Capability[] = [
  { type: 'multiprotocol', afi: 1, safi: 1 },
  { type: 'multiprotocol', afi: 2, safi: 1 },
  { type: 'route-refresh' },
  { type: 'enhanced-route-refresh' },
  { type: 'extended-message' },
  { type: 'as4', asn: 4200000001 },
  { type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: false }] },
  { type: 'unknown', code: 73, value: Uint8Array.from([4, ...Buffer.from('node'), 0]) },
];
