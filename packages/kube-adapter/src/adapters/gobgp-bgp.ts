/**
 * A BGP backend driving Debian's GoBGP (`gobgpd` + `gobgp` CLI) per node: an alternative to
 * @lbkit/bgp. Sessions are rendered into a TOML file (gobgpd restarted when they change; it never
 * listens on 179); routes are added/removed through the gobgp CLI. Limitation: GoBGP has one
 * global RIB, so every route goes to every session (BGPAdvertisement `peers` is not honoured).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BgpRoute } from '../bgp-decision.js';
import type { PeerConfig } from '../config.js';
import { sessionASNs, unsupportedPeerFields } from '../config/peer-support.js';
import { errMsg } from '../errors.js';
import { nullLogger, type Logger } from '../log.js';
import { joinHostPort } from '../hostport.js';
import type { BgpSessionMetrics } from '../metrics.js';
import type { BgpAnnouncer } from '../speaker.js';

const run = promisify(execFile);

/** Options of {@link GobgpBgpAnnouncer}. */
export interface GobgpOptions {
  node: string;
  /** gRPC API port on 127.0.0.1 (default 50051). */
  apiPort?: number;
  /** Router ID when the peers do not set one (default: first local IPv4 address). */
  routerID?: string;
  log?: Logger;
  /** Namespace of the BGPPeers (names them in messages; default metallb-system). */
  namespace?: string;
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * gobgpd's TOML for the sessions: the global AS is the first session's myASN, a session whose
 * own AS differs (`spec.localASN`, or another myASN) gets `local-as`; the peer's AS (`dynamicASN:
 * internal` = myASN), timers, `connectTime` as `connect-retry` (default 1 s), `enableGracefulRestart`
 * as the graceful-restart capability (120 s, per address family), password, source address, multihop.
 */
export function gobgpConfig(sessions: PeerConfig[], routerID: string): string {
  const asn = sessions[0]?.myASN ?? 0;
  const lines = ['[global.config]', `  as = ${asn}`, `  router-id = ${tomlString(routerID)}`, '  port = -1', ''];
  for (const s of sessions) {
    const as = sessionASNs(s);
    lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = ${tomlString(s.peerAddress)}`, `    peer-as = ${as.peer}`);
    if (as.local !== asn) lines.push(`    local-as = ${as.local}`);
    if (s.password) lines.push(`    auth-password = ${tomlString(s.password)}`);
    lines.push('  [neighbors.timers.config]', `    hold-time = ${s.holdTime}`, `    keepalive-interval = ${Math.max(1, s.keepaliveTime)}`, `    connect-retry = ${s.connectTime ?? 1}`);
    lines.push('  [neighbors.transport.config]', `    remote-port = ${s.peerPort}`);
    if (s.sourceAddress) lines.push(`    local-address = ${tomlString(s.sourceAddress)}`);
    if (s.ebgpMultiHop) lines.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', '    multihop-ttl = 255');
    if (s.enableGracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    restart-time = 120');
    for (const afi of ['ipv4-unicast', 'ipv6-unicast']) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${afi}"`);
      if (s.enableGracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** GoBGP-backed BGP announcer. */
export class GobgpBgpAnnouncer implements BgpAnnouncer {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private sessionsKey = '';
  private installed = new Map<string, string>();
  private states: BgpSessionMetrics[] = [];
  /** peer address → `IP:port` (MetalLB's metrics label). */
  private hostPorts = new Map<string, string>();
  private names = new Map<string, string>();
  private readonly port: number;
  private readonly log: Logger;
  private poll: NodeJS.Timeout | undefined;
  /** Unsupported-field messages already logged. */
  private reported = new Set<string>();

  /** @param opts node name, API port */
  constructor(private readonly opts: GobgpOptions) {
    this.port = opts.apiPort ?? 50051;
    this.log = opts.log ?? nullLogger;
  }

  private async cli(args: string[]): Promise<string> {
    const { stdout } = await run('gobgp', ['-u', '127.0.0.1', '-p', String(this.port), ...args], { timeout: 10_000 });
    return stdout;
  }

  private async routerID(sessions: PeerConfig[]): Promise<string> {
    const fromPeer = sessions.find((s) => s.routerID)?.routerID ?? this.opts.routerID;
    if (fromPeer) return fromPeer;
    const src = sessions.find((s) => s.sourceAddress && !s.sourceAddress.includes(':'))?.sourceAddress;
    if (src) return src;
    const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global']);
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout);
    if (!m) throw new Error('gobgp backend: no IPv4 address for a router ID; set BGPPeer spec.routerID');
    return m[1]!;
  }

  private async restart(sessions: PeerConfig[]): Promise<void> {
    await this.stopDaemon();
    this.installed.clear();
    if (sessions.length === 0) return;
    const rid = await this.routerID(sessions);
    this.dir ??= mkdtempSync(join(tmpdir(), 'lbkit-gobgp-'));
    const file = join(this.dir, 'gobgpd.toml');
    writeFileSync(file, gobgpConfig(sessions, rid));
    this.child = spawn('gobgpd', ['-f', file, '-t', 'toml', '--api-hosts', `127.0.0.1:${this.port}`, '--log-level', 'warn', '--pprof-disable'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => this.log.log('debug', 'gobgpd', { out: d.toString().trim() }));
    this.child.on('exit', (code) => this.log.log('info', 'gobgpd exited', { code }));
    this.child.on('error', (e) => this.log.log('error', 'gobgpd failed to start', { err: errMsg(e) }));
    const t0 = Date.now();
    for (;;) {
      try {
        await this.cli(['global']);
        break;
      } catch (e) {
        if (Date.now() - t0 > 15_000) throw new Error(`gobgpd did not start: ${errMsg(e)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.log.log('info', 'gobgpd started', { routerID: rid, peers: sessions.map((s) => s.name) });
    clearInterval(this.poll);
    this.poll = setInterval(() => void this.refreshStates(), 2000);
    this.poll.unref?.();
  }

  private async refreshStates(): Promise<void> {
    try {
      const out = JSON.parse(await this.cli(['neighbor', '-j'])) as Array<{ state?: { neighbor_address?: string; session_state?: number | string; messages?: { sent?: { update?: number | string } } }; afi_safis?: Array<{ state?: { advertised?: number } }> }>;
      this.states = out.map((n) => {
        const addr = n.state?.neighbor_address ?? '';
        const st = n.state?.session_state;
        // UPDATEs sent (gobgp omits zero counters; uint64 may come as a string)
        const sent = n.state?.messages?.sent;
        const updates = sent ? Number(sent.update ?? 0) : undefined;
        return { peer: this.names.get(addr) ?? addr, address: this.hostPorts.get(addr) ?? addr, up: st === 6 || st === 'established' || st === 'ESTABLISHED', prefixes: (n.afi_safis ?? []).reduce((a, s) => a + (s.state?.advertised ?? 0), 0), ...(updates !== undefined && Number.isFinite(updates) ? { updates } : {}) };
      });
    } catch {
      /* daemon restarting */
    }
  }

  /** @inheritdoc */
  async update(allSessions: PeerConfig[], routesByPeer: Map<string, BgpRoute[]>): Promise<void> {
    // peers with fields gobgpd cannot honour here (spec.vrf, dynamicASN external) are left out, said once
    const sessions = allSessions.filter((s) => {
      const bad = unsupportedPeerFields(s, this.opts.namespace ?? 'metallb-system');
      for (const b of bad) if (!this.reported.has(b.message)) this.log.log('error', 'BGP peer not configured', { peer: s.name, field: b.field, err: b.message });
      return bad.length === 0;
    });
    this.reported = new Set(allSessions.flatMap((s) => unsupportedPeerFields(s, this.opts.namespace ?? 'metallb-system').map((b) => b.message)));
    const key = JSON.stringify(sessions.map((s) => ({ ...s, name: '' })));
    this.names = new Map(sessions.map((s) => [s.peerAddress, s.name]));
    this.hostPorts = new Map(sessions.map((s) => [s.peerAddress, joinHostPort(s.peerAddress, s.peerPort)]));
    if (key !== this.sessionsKey) {
      this.sessionsKey = key;
      const bfd = sessions.filter((s) => s.bfdProfile).map((s) => s.name);
      if (bfd.length) this.log.log('warn', 'gobgp backend: gobgpd has no BFD; bfdProfile ignored (use --bgp-backend lbkit)', { peers: bfd });
      await this.restart(sessions);
    }
    if (!this.child) return;
    // union over peers (single RIB)
    const want = new Map<string, string[]>();
    for (const routes of routesByPeer.values())
      for (const r of routes) {
        const args: string[] = [];
        if (r.localPref !== undefined) args.push('local-pref', String(r.localPref));
        if (r.communities.length) args.push('community', r.communities.join(','));
        if (r.largeCommunities.length) args.push('large-community', r.largeCommunities.join(','));
        want.set(r.prefix, args);
      }
    for (const [prefix, args] of want) {
      const sig = args.join(' ');
      if (this.installed.get(prefix) === sig) continue;
      const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
      try {
        if (this.installed.has(prefix)) await this.cli(['global', 'rib', 'del', '-a', afi, prefix]);
        await this.cli(['global', 'rib', 'add', '-a', afi, prefix, ...args]);
        this.installed.set(prefix, sig);
      } catch (e) {
        this.log.log('error', 'gobgp route add failed', { prefix, err: errMsg(e) });
      }
    }
    for (const prefix of [...this.installed.keys()]) {
      if (want.has(prefix)) continue;
      await this.cli(['global', 'rib', 'del', '-a', prefix.includes(':') ? 'ipv6' : 'ipv4', prefix]).catch((e) => this.log.log('error', 'gobgp route del failed', { prefix, err: errMsg(e) }));
      this.installed.delete(prefix);
    }
  }

  /** @inheritdoc */
  sessionStates(): BgpSessionMetrics[] {
    return this.states;
  }

  private async stopDaemon(): Promise<void> {
    clearInterval(this.poll);
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        c.kill('SIGKILL');
        r(undefined);
      }, 3000);
      c.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    await this.stopDaemon();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
