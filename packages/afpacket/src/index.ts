/**
 * @packageDocumentation
 * @lbkit/afpacket: Linux AF_PACKET raw sockets for Node.js (own Node-API addon), a classic BPF
 * assembler with ready-made filters, interface information, an interface watcher, an interface follower and the repeat schedule of gratuitous announcements.
 */
export { PacketSocket, PacketType, isLinkStateError } from './socket.js';
export type { PacketSocketOptions, PacketSocketEvents, L2Transport } from './socket.js';
export { BPF, assemble, interpret, ld, ldInd, ldxMsh, jeq, jgt, jge, ja, jset, ret } from './bpf.js';
export type { BpfInstruction, LoadSize } from './bpf.js';
export { arpFilter, arpRequestFilter, icmpv6NsFilter, icmpv6TypesFilter, ETH_P_ALL, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from './filters.js';
export { interfaceInfo } from './iface.js';
export type { InterfaceInfo } from './iface.js';
export { InterfaceWatcher } from './watcher.js';
export type { InterfaceWatcherEvents, InterfaceWatcherOptions } from './watcher.js';
export { InterfaceFollower } from './follower.js';
export type { InterfaceFollowerEvents, InterfaceFollowerOptions } from './follower.js';
export { parseMac, formatMac, BROADCAST_MAC } from './mac.js';
export { addonPath, loadAddon } from './native.js';
export type { NativeSocket, NativeSocketCtor } from './native.js';
export { NativeResponder } from './responder.js';
export type { EntryState, NativeResponderOptions, NativeResponderStats } from './responder.js';
export { arpTargetFilter, nsTargetFilter, keyRanges, keyTree, coarsen, ipv4Key, ipv6LowKey, DEFAULT_MAX_INSNS } from './vip-filter.js';
export type { KeyRange, VipFilter } from './vip-filter.js';
export { RepeatSchedule } from './repeat.js';
export type { RepeatScheduleOptions } from './repeat.js';
