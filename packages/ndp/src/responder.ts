/** Answers Neighbor Solicitations for announced addresses (multicast, unicast/NUD, DAD). */
import { ALL_NODES, ALL_NODES_MAC, canonicalIPv6, solicitedNodeMac } from './codec/addr.js';
import { encode, tryDecode } from './codec/ndp.js';
import type { NdpTransport } from './transport.js';

/** Options of {@link NdpResponder}. */
export interface NdpResponderOptions {
  /** Transport bound to the interface. */
  transport: NdpTransport;
  /** MAC address of the interface (goes in the TLLA option and the Ethernet source). */
  mac: string;
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
}

const NOT_NDP_FIELDS = new Set(['eth.type', 'ipv6.nextHeader', 'icmpv6.type']);

/**
 * Answers NS for the addresses added with {@link NdpResponder.add}: a solicited NA (S=1, O=1,
 * R=0, TLLA, hop limit 255, IPv6 source = target) to the NS source, or to ff02::1 with S=0 for a
 * DAD NS (source ::). An NS without SLLA is answered to its Ethernet source. Keeps refcounted
 * memberships of the solicited-node MACs.
 */
export class NdpResponder {
  private readonly targets = new Set<string>();
  private readonly groups = new Map<string, number>();
  /** Counters, updated as frames arrive. */
  readonly stats: NdpResponderStats = { answered: 0, ignored: 0, malformed: 0, other: 0 };
  /** Last decode error seen (for diagnostics). */
  lastError: Error | undefined;
  private readonly mac: string;

  /** @param opts transport and interface MAC */
  constructor(private readonly opts: NdpResponderOptions) {
    this.mac = opts.mac.toLowerCase();
    opts.transport.onFrame((f) => this.handleFrame(f));
  }

  /** Starts answering for `ip` (idempotent); joins its solicited-node group. */
  add(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    if (this.targets.has(t)) return;
    this.targets.add(t);
    const g = solicitedNodeMac(t);
    const n = this.groups.get(g) ?? 0;
    this.groups.set(g, n + 1);
    if (n === 0) this.opts.transport.addMembership(g);
  }

  /** Stops answering for `ip`; leaves its group when no other address needs it. */
  remove(ip: string): void {
    const t = canonicalIPv6(ip, 'ip');
    if (!this.targets.delete(t)) return;
    const g = solicitedNodeMac(t);
    const n = (this.groups.get(g) ?? 1) - 1;
    if (n <= 0) {
      this.groups.delete(g);
      this.opts.transport.dropMembership(g);
    } else this.groups.set(g, n);
  }

  /** Re-joins every group (after the interface came back). */
  rejoin(): void {
    for (const g of this.groups.keys()) this.opts.transport.addMembership(g);
  }

  /** Addresses currently answered. */
  addresses(): string[] {
    return [...this.targets];
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
    } catch (e) {
      this.stats.malformed++;
      this.lastError = e as Error;
    }
  }
}
