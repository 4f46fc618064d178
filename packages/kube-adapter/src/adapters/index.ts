/** Factories that build the speaker's backends for `lbkitd`. */
import { nullLogger, type Logger } from '../log.js';
import type { BgpAnnouncer, L2Announcer, Membership } from '../speaker.js';
import { KernelL2Announcer } from './kernel-l2.js';
import { LazyBgpAnnouncer } from './lazy-bgp.js';
import { SerfMembership } from './serf-membership.js';
export { createAllocator } from './allocator.js';
import type { MembershipTimings } from './lbkit-membership.js';

/** Whether a command is on PATH. */
async function onPath(bin: string): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => execFile('sh', ['-c', 'command -v "$1"', 'sh', bin], (err) => resolve(!err)));
}

/** L2 backends: `lbkit` (@lbkit/arp + @lbkit/ndp, user-space responders) or `kernel` (VIP on the NIC + arping). */
export type L2Backend = 'lbkit' | 'kernel';
/** Membership backends: `lbkit` (@lbkit/memberlist) or `serf` (Debian serf agent). */
export type MembershipBackend = 'lbkit' | 'serf';

/** Creates the L2 announcer (default backend `lbkit`). */
export async function createL2Announcer(o: { interfaces: string[]; log?: Logger; backend?: L2Backend; onGratuitous?: (ip: string) => void; onReply?: (ip: string, count?: number) => void; drainMs?: number }): Promise<L2Announcer> {
  const backend = o.backend ?? 'lbkit';
  if (backend === 'kernel' && !(await onPath('arping'))) o.log?.log('warn', 'kernel L2 backend: arping not found, no gratuitous ARP will be sent');
  if (backend === 'kernel') return new KernelL2Announcer({ interfaces: o.interfaces, log: o.log ?? nullLogger, onGratuitous: o.onGratuitous });
  const { LbkitL2Announcer } = await importL2();
  const a = new LbkitL2Announcer({ interfaces: o.interfaces, log: o.log ?? nullLogger, onGratuitous: o.onGratuitous, onReply: o.onReply, ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}) });
  await a.start();
  return a;
}

/**
 * Loads the lbkit L2 backend, whose packages (@lbkit/arp, @lbkit/ndp, @lbkit/afpacket) are optional,
 * Linux-only dependencies of this package; a clear error says what to install when they are missing.
 */
async function importL2(): Promise<typeof import('./lbkit-l2.js')> {
  try {
    return await import('./lbkit-l2.js');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/Cannot find (package|module) '@lbkit\/(arp|ndp|afpacket)'/.test(msg)) {
      throw new Error(`lbkit L2 backend unavailable: ${msg.split('\n')[0]} (install the optional packages @lbkit/arp @lbkit/ndp @lbkit/afpacket, Linux only, or use --l2-backend kernel)`);
    }
    throw e;
  }
}

/** BGP backends: `lbkit` (@lbkit/bgp) or `gobgp` (Debian gobgpd driven through its CLI). */
export type BgpBackend = 'lbkit' | 'gobgp';

/** Creates the BGP announcer. */
export async function createBgpAnnouncer(o: { node: string; log?: Logger; backend?: BgpBackend; gracefulShutdownMs?: number }): Promise<BgpAnnouncer> {
  if (o.backend === 'gobgp') {
    if (!(await onPath('gobgpd')) || !(await onPath('gobgp'))) throw new Error('gobgp backend: gobgpd/gobgp not found on PATH (Debian package gobgpd)');
    const { GobgpBgpAnnouncer } = await import('./gobgp-bgp.js');
    return new GobgpBgpAnnouncer({ node: o.node, log: o.log ?? nullLogger });
  }
  // loaded at the first update with a session (src/adapters/lazy-bgp.ts)
  return new LazyBgpAnnouncer(async () => {
    const { LbkitBgpAnnouncer } = await import('./lbkit-bgp.js');
    const a = new LbkitBgpAnnouncer({ node: o.node, log: o.log ?? nullLogger, gracefulShutdownMs: o.gracefulShutdownMs ?? 0 });
    await a.start();
    return a;
  });
}

/**
 * Creates and starts the membership agent (default backend `lbkit`). `timings`: `fast` (default:
 * sub-second failure detection on one LAN segment) or `lan` (memberlist DefaultLANConfig, as MetalLB); the
 * serf backend always uses serf's `local` profile. `deferJoin` (lbkit backend): the engine starts
 * but joins `join` only on `beginJoin()`; the serf backend ignores it (serf joins at start).
 */
export async function createMembership(o: { node: string; bind: string; join: string[]; secret?: string; log?: Logger; backend?: MembershipBackend; timings?: MembershipTimings; deferJoin?: boolean }): Promise<Membership> {
  if ((o.backend ?? 'lbkit') === 'serf') {
    if (!(await onPath('serf'))) throw new Error('serf backend: serf not found on PATH (Debian package serf)');
    const m = new SerfMembership({ node: o.node, bind: o.bind, join: o.join, secret: o.secret, log: o.log ?? nullLogger, profile: 'local' });
    await m.start();
    return m;
  }
  // no await before the engine spawns once availableBackends() loaded the module: lbkitd starts
  // memberlist and then reads its config synchronously while the worker thread boots (with
  // `deferJoin`, it joins on beginJoin())
  const { LbkitMembership } = lbkitMembershipModule ?? (await importLbkitMembership());
  const m = new LbkitMembership({ node: o.node, bind: o.bind, join: o.join, secret: o.secret, log: o.log ?? nullLogger, timings: o.timings ?? 'fast', deferJoin: o.deferJoin ?? false });
  await m.start();
  return m;
}

let lbkitMembershipModule: typeof import('./lbkit-membership.js') | undefined;
async function importLbkitMembership(): Promise<typeof import('./lbkit-membership.js')> {
  lbkitMembershipModule ??= await import('./lbkit-membership.js');
  return lbkitMembershipModule;
}

/**
 * Which lbkit package backends are integrated in this build (`auto` picks them when true). BGP is:
 * @lbkit/bgp and @lbkit/bfd are dependencies of this package, loaded only once a session needs them.
 */
export async function availableBackends(): Promise<{ l2: boolean; bgp: boolean; membership: boolean }> {
  const [l2, ml] = await Promise.all([importL2().catch(() => undefined), importLbkitMembership()]);
  return { l2: l2?.INTEGRATED ?? false, bgp: true, membership: ml.INTEGRATED };
}
