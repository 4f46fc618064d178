/** @packageDocumentation @lbkit/ndp: ICMPv6 neighbour discovery (NS/NA) for announcing IPv6 VIPs. */
export * from './codec/addr.js';
export * from './codec/checksum.js';
export * from './codec/ndp.js';
export type { NdpTransport } from './transport.js';
export * from './responder.js';
export * from './announcer.js';
export * from './speaker.js';
export * from './interface-speaker.js';
export * from './packet-transport.js';
export * from './afpacket-adapter.js';
