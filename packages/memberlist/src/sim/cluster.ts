/** Helper to build an N-node simulated cluster on one virtual clock. */
import { seededRandom } from '../clock.js';
import type { Profile, Timings } from '../config.js';
import { Memberlist } from '../memberlist.js';
import { SimNetwork, type SimNetworkOptions } from './network.js';
import { VirtualClock } from './virtual-clock.js';

/** Options of {@link SimCluster}. */
export interface SimClusterOptions extends Omit<SimNetworkOptions, 'random'> {
  /** Number of nodes. */
  size: number;
  /** PRNG seed. */
  seed?: number;
  /** Timings for every node. */
  timings?: Partial<Timings>;
  /** Profile for every node. */
  profile?: () => Profile;
}

/** N memberlist nodes (`n0`…) on an in-memory network and a virtual clock. */
export class SimCluster {
  readonly clock = new VirtualClock();
  readonly net: SimNetwork;
  readonly nodes: Memberlist[] = [];
  readonly random: () => number;

  constructor(readonly opts: SimClusterOptions) {
    this.random = seededRandom(opts.seed ?? 1);
    this.net = new SimNetwork(this.clock, { ...opts, random: this.random });
    for (let i = 0; i < opts.size; i++) this.nodes.push(this.create(i));
  }

  /** Address of node i (10.x.y.z:7946). */
  static addr(i: number): { addr: string; port: number } {
    return { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 7946 };
  }

  /** Creates (not starts) node i. */
  create(i: number, name = `n${i}`): Memberlist {
    const addr = SimCluster.addr(i);
    return new Memberlist({
      name,
      transport: this.net.transport(addr),
      advertise: addr,
      clock: this.clock,
      random: this.random,
      ...(this.opts.timings ? { timings: this.opts.timings } : {}),
      ...(this.opts.profile ? { profile: this.opts.profile() } : {}),
    });
  }

  /**
   * Starts every node and joins each to node 0 (plus a random earlier node), advancing virtual
   * time as it goes.
   */
  startAll(): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      n.start();
      if (i > 0) {
        const seeds = [SimCluster.addr(0)];
        if (i > 1) seeds.push(SimCluster.addr(Math.floor(this.random() * i)));
        n.join(seeds).catch(() => {});
      }
      this.clock.advance(5);
    }
  }

  /** True when every running node sees exactly `expected` alive members. */
  converged(expected = this.nodes.length, nodes = this.nodes): boolean {
    return nodes.every((n) => n.numMembers() === expected);
  }

  /** Advances until `cond()` holds or `maxMs` elapsed; returns the elapsed virtual ms or -1. */
  runUntil(cond: () => boolean, maxMs: number, stepMs = 50): number {
    const start = this.clock.now();
    while (this.clock.now() - start < maxMs) {
      if (cond()) return this.clock.now() - start;
      this.clock.advance(stepMs);
    }
    return cond() ? this.clock.now() - start : -1;
  }
}
