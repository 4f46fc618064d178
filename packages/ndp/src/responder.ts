/** Answers Neighbor Solicitations for announced addresses (multicast, unicast/NUD, DAD). */
import { ALL_NODES, ALL_NODES_MAC, canonicalIPv6, parseIPv6, solicitedNodeAddress, solicitedNodeMac } from './codec/addr.js';
import { encode, tryDecode } from './codec/ndp.js';
import type { NdpTransport } from './transport.js';

/** Options of {@link NdpResponder}. */
export interface NdpResponderOptions {
  /** Transport bound to the interface. */
  transport: NdpTransport;
  /** MAC address of the interface (goes in the TLLA option and the Ethernet source). */
  mac: string;
  /**
   * Native fast path mirrored on every change (afpacket's `NativeResponder`, 16-byte addresses):
   * it answers natively, and `handleFrame` is then not fed by the transport.
   */
  table?: { set(addrs: readonly Uint8Array[], state: 'active' | 'draining' | 'off'): void };
  /** Called with the target of every NS answered here (JavaScript path; metrics). */
  onAnswer?: (target: string) => void;
}

/** Counters of {@link NdpResponder}. */
export interface NdpResponderStats {
  /** NAs sent in answer to an NS. */
  answered: number;
  /** Valid NS/NA frames not for us (other target, NA, own frames). */
  ignored: number;
  /** Frames that failed decoding/validation. */
  malformed: number;
  /** Frames that are not NS/NA at all (other EtherType, other IPv6 payload, other ICMPv6 type). */
  other: number;
  /** NS for an owned target sent to another group than its solicited-node group (and not unicast to it): ignored. */
  wrongGroup: number;
  /** Unicast NS answered for a draining target. */
  drainReplied: number;
  /** Multicast NS for a draining target, not answered. */
  drainIgnored: number;
}

const NOT_NDP_FIELDS = new Set(['eth.type', 'ipv6.nextHeader', 'icmpv6.type']);

/**
 * Answers NS for the addresses added with {@link NdpResponder.add}: a solicited NA (S=1, O=1,
 * R=0, TLLA, hop limit 255, IPv6 source = target) to the NS source, or to ff02::1 with S=0 for a
 * DAD NS (source ::). An NS without SLLA is answered to its Ethernet source. Keeps refcounted
 * memberships of the solicited-node MACs.
 */
export class NdpResponder {
  private readonly targets = new Map<string, 'active' | 'draining'>();
  private readonly groups = new Map<string, number>();
  /** Counters, updated as frames arrive. */
  readonly stats: NdpResponderStats = { answered: 0, ignored: 0, malformed: 0, other: 0, wrongGroup: 0, drainReplied: 0, drainIgnored: 0 };
  /** Last decode error seen (for diagnostics). */
  lastError: Error | undefined;
  private readonly mac: string;

  /** @param opts transport and interface MAC */
  constructor(private readonly opts: NdpResponderOptions) {
    this.mac = opts.mac.toLowerCase();
    opts.transport.onFrame((f) => this.handleFrame(f));
  }

  /** Starts answering for `ip` (idempotent; a draining address becomes owned again); joins its solicited-node group. */
  add(ip: string): void {
    this.addMany([ip]);
  }

  /** Starts answering for every address of `ips` (one native table update). */
  addMany(ips: Iterable<string>): void {
    const changed: Buffer[] = [];
    for (const ip of ips) {
      const t = canonicalIPv6(ip, 'ip');
      const was = this.targets.get(t);
      if (was === 'active') continue;
      this.targets.set(t, 'active');
      changed.push(parseIPv6(t));
      if (was === 'draining') continue; // still a member of its group
      const g = solicitedNodeMac(t);
      const n = this.groups.get(g) ?? 0;
      this.groups.set(g, n + 1);
      if (n === 0) this.opts.transport.addMembership(g);
    }
    if (changed.length > 0) this.opts.table?.set(changed, 'active');
  }

  /**
   * Drain: keep answering `ips` (already answered) only to unicast NS (NUD probes from clients that
   * still send to our MAC), never to NS on the solicited-node group.
   */
  drainMany(ips: Iterable<string>): void {
    const changed: Buffer[] = [];
    for (const ip of ips) {
      const t = canonicalIPv6(ip, 'ip');
      if (this.targets.get(t) !== 'active') continue;
      this.targets.set(t, 'draining');
      changed.push(parseIPv6(t));
    }
    if (changed.length > 0) this.opts.table?.set(changed, 'draining');
  }

  /** Stops answering for `ip`; leaves its group when no other address needs it. */
  remove(ip: string): void {
    this.removeMany([ip]);
  }

  /** Stops answering for every address of `ips`. */
  removeMany(ips: Iterable<string>): void {
    const changed: Buffer[] = [];
    for (const ip of ips) {
      const t = canonicalIPv6(ip, 'ip');
      if (!this.targets.delete(t)) continue;
      changed.push(parseIPv6(t));
      const g = solicitedNodeMac(t);
      const n = (this.groups.get(g) ?? 1) - 1;
      if (n <= 0) {
        this.groups.delete(g);
        this.opts.transport.dropMembership(g);
      } else this.groups.set(g, n);
    }
    if (changed.length > 0) this.opts.table?.set(changed, 'off');
  }

  /** State of `ip`: answered, answered to unicast NS only (drain), or not answered. */
  state(ip: string): 'active' | 'draining' | 'off' {
    return this.targets.get(canonicalIPv6(ip, 'ip')) ?? 'off';
  }

  /** Re-joins every group (after the interface came back). */
  rejoin(): void {
    for (const g of this.groups.keys()) this.opts.transport.addMembership(g);
  }

  /** Addresses currently answered (active or draining). */
  addresses(): string[] {
    return [...this.targets.keys()];
  }

  /** Solicited-node MACs currently joined, with their reference counts. */
  memberships(): Map<string, number> {
    return new Map(this.groups);
  }

  /** Processes one received frame; never throws. */
  handleFrame(frame: Buffer): void {
    try {
      const r = tryDecode(frame);
      if (!r.ok) {
        if (NOT_NDP_FIELDS.has(r.error.field)) {
          this.stats.other++;
          return;
        }
        this.stats.malformed++;
        this.lastError = r.error;
        return;
      }
      const ns = r.msg;
      if (ns.type !== 'ns' || ns.ethSrc === this.mac || !this.targets.has(ns.target)) {
        this.stats.ignored++;
        return;
      }
      const dad = ns.src === '::';
      // RFC 4861 §7.2.2: an NS goes to the target's solicited-node group or (NUD) to the target itself
      const group = ns.dst === solicitedNodeAddress(ns.target);
      const unicast = ns.dst === ns.target;
      if ((!group && !unicast) || (dad && !group)) {
        this.stats.wrongGroup++;
        return;
      }
      if (this.targets.get(ns.target) === 'draining') {
        if (!unicast || dad || ns.ethDst !== this.mac) {
          this.stats.drainIgnored++;
          return;
        }
        this.stats.drainReplied++;
      }
      this.opts.transport.send(
        encode({
          type: 'na',
          ethSrc: this.mac,
          ethDst: dad ? ALL_NODES_MAC : (ns.sourceLinkLayer ?? ns.ethSrc),
          src: ns.target,
          dst: dad ? ALL_NODES : ns.src,
          target: ns.target,
          router: false,
          solicited: !dad,
          override: true,
          targetLinkLayer: this.mac,
        }),
      );
      this.stats.answered++;
      this.opts.onAnswer?.(ns.target);
    } catch (e) {
      this.stats.malformed++;
      this.lastError = e as Error;
    }
  }
}
