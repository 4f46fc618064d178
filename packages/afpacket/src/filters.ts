import { jeq, ld, ret, type BpfInstruction } from './bpf.js';

/** EtherType ARP. */
export const ETH_P_ARP = 0x0806;
/** EtherType IPv4. */
export const ETH_P_IP = 0x0800;
/** EtherType IPv6. */
export const ETH_P_IPV6 = 0x86dd;
/** Pseudo protocol "every frame" (bind to all EtherTypes). */
export const ETH_P_ALL = 0x0003;

/** Accepts every ARP frame (EtherType 0x0806). */
export function arpFilter(): BpfInstruction[] {
  return [ld(2, 12), jeq(ETH_P_ARP, 0, 1), ret(0x40000), ret(0)];
}

/** Accepts ARP requests only (EtherType 0x0806, opcode 1). */
export function arpRequestFilter(): BpfInstruction[] {
  return [ld(2, 12), jeq(ETH_P_ARP, 0, 3), ld(2, 20), jeq(1, 0, 1), ret(0x40000), ret(0)];
}

/**
 * Accepts IPv6 ICMPv6 Neighbor Solicitations without extension headers:
 * EtherType 0x86dd, next header 58 (byte 20), ICMPv6 type 135 (byte 54).
 */
export function icmpv6NsFilter(): BpfInstruction[] {
  return [ld(2, 12), jeq(ETH_P_IPV6, 0, 5), ld(1, 20), jeq(58, 0, 3), ld(1, 54), jeq(135, 0, 1), ret(0x40000), ret(0)];
}

/** Accepts IPv6 ICMPv6 messages of any of the given types (no extension headers). */
export function icmpv6TypesFilter(types: readonly number[]): BpfInstruction[] {
  if (types.length === 0 || types.length > 200) throw new RangeError(`icmpv6TypesFilter: ${types.length} types (1..200)`);
  const n = types.length;
  const prog: BpfInstruction[] = [ld(2, 12), jeq(ETH_P_IPV6, 0, n + 3), ld(1, 20), jeq(58, 0, n + 1), ld(1, 54)];
  types.forEach((t, i) => prog.push(jeq(t, n - i, 0)));
  prog.push(ret(0), ret(0x40000));
  return prog;
}
