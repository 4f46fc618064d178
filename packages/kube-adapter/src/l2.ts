/**
 * @packageDocumentation
 * `@lbkit/kube-adapter/l2`: the lbkit layer-2 backend of the speaker (ARP/NDP answered in user space by
 * `@lbkit/arp` and `@lbkit/ndp` over `@lbkit/afpacket`). Kept apart from the main entry point because those
 * packages are optional, Linux-only dependencies: importing `@lbkit/kube-adapter` (the controller, the
 * allocator, the sources) never loads them.
 */
export { LbkitL2Announcer, type LbkitL2Options } from './adapters/lbkit-l2.js';
export { L2Interface, type L2InterfaceOptions, type L2InterfaceStats, type L2Transports } from './adapters/lbkit-l2-iface.js';
