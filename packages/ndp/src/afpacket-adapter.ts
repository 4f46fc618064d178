/** Adapts an `@lbkit/afpacket` PacketSocket (or anything shaped like it) to {@link NdpTransport}. */
import type { NdpTransport } from './transport.js';

/** The part of `@lbkit/afpacket`'s `PacketSocket` the adapter uses (structural, so no runtime import). */
export interface PacketSocketLike {
  /** Sends one Ethernet frame. */
  send(frame: Buffer): void;
  /** Subscribes to received frames. */
  on(event: 'frame', fn: (frame: Buffer, pkttype: number) => void): unknown;
  /** Joins a link-layer multicast group. */
  addMembership(mac: string): void;
  /** Leaves a link-layer multicast group. */
  dropMembership(mac: string): void;
}

/** `sll_pkttype` of frames we sent ourselves (PACKET_OUTGOING); they are not delivered to NDP logic. */
const PACKET_OUTGOING = 4;

/**
 * Wraps a PacketSocket opened with `{ protocol: ETH_P_IPV6 }` (optionally with afpacket's
 * `icmpv6NsFilter`) as an {@link NdpTransport}; drops our own outgoing copies.
 */
export function fromPacketSocket(sock: PacketSocketLike): NdpTransport {
  return {
    send: (frame) => sock.send(frame),
    onFrame: (handler) => {
      sock.on('frame', (frame, pkttype) => {
        if (pkttype !== PACKET_OUTGOING) handler(frame);
      });
    },
    addMembership: (mac) => sock.addMembership(mac),
    dropMembership: (mac) => sock.dropMembership(mac),
  };
}
