/** The small link-layer transport the NDP logic needs (an AF_PACKET socket in production, a fake in tests). */

/** Receives and sends raw Ethernet frames on one interface. */
export interface NdpTransport {
  /** Sends one complete Ethernet frame. */
  send(frame: Buffer): void;
  /** Registers the frame handler (called for every received IPv6 frame). */
  onFrame(handler: (frame: Buffer) => void): void;
  /** Joins a link-layer multicast group (e.g. `33:33:ff:00:01:00`). */
  addMembership(mac: string): void;
  /** Leaves a link-layer multicast group. */
  dropMembership(mac: string): void;
}
