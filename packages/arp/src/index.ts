/**
 * @packageDocumentation
 * @lbkit/arp: Ethernet/ARP codec, an ARP responder, a gratuitous-ARP announcer and the
 * `ArpSpeaker` facade (MetalLB layer-2 mode for IPv4) over `@lbkit/afpacket`.
 */
export { ArpOp, ArpDecodeError, decode, encode, encodingLength, parseIPv4 } from './codec.js';
export type { ArpFrame } from './codec.js';
export { ArpResponder } from './responder.js';
export type { ArpResponderEvents, ArpResponderStats, ResponderTable } from './responder.js';
export { GratuitousAnnouncer, gratuitousReply, gratuitousRequest } from './announcer.js';
export type { BatchTransport, GratuitousEvents, GratuitousOptions } from './announcer.js';
export { ArpSpeaker } from './speaker.js';
export type { ArpSpeakerEvents, ArpSpeakerOptions } from './speaker.js';
