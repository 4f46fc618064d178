/**
 * Shared lab of the BFD interop suites: a router namespace (bridge br0, 10.0.0.1/24) and N node
 * namespaces (10.0.0.1K) each able to run a @lbkit/bfd manager from the built dist
 * (fixtures/bfd-agent.mjs, JSON lines on stdin/stdout); FRR bfdd and BIRD run in the router.
 * The namespaces, polling and JSON-lines plumbing come from test-utils/netns-lab.ts.
 */
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLinesChild, killPid, packageLab, sh, until, type JsonEvent, type RouterLab } from '../../../../test-utils/netns-lab.js';

export { until };

/**
 * `repo`, `dist` (packages/bfd/dist/index.js), `buildDist()` (builds it for the fixtures),
 * `tmp(prefix)` (a temp dir daemons that drop privileges can use) and `buildLab(n = 1)` (the router
 * namespace with a bridge and `n` IPv4 node namespaces on it).
 */
export const { repo, dist, buildDist, tmp, buildLab } = packageLab('bfd', { v6: false, defaultNodes: 1 });
const fixture = fileURLToPath(new URL('./fixtures/bfd-agent.mjs', import.meta.url));

/** The namespaces of one suite. */
export type Lab = RouterLab;

/** One line printed by the agent. */
export type AgentEvent = JsonEvent;

/** A @lbkit/bfd manager running in a namespace. */
export class Agent extends JsonLinesChild<AgentEvent> {
  private ids = 0;

  constructor(lab: Lab, ns: string, opts: Record<string, unknown> = {}) {
    super(
      lab.topo.spawnIn(ns, process.execPath, [fixture], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, LBKIT_BFD_DIST: dist, LBKIT_BFD_OPTS: JSON.stringify(opts) },
      }),
    );
  }

  /** Waits for an event matching `pred` that arrived after index `from` (default timeout 20 s). */
  override waitEvent(pred: (e: AgentEvent) => boolean, ms = 20_000, what = 'event', from = 0): Promise<AgentEvent> {
    return super.waitEvent(pred, ms, what, from);
  }

  /** Adds a session; resolves with its key. */
  async add(cfg: Record<string, unknown>): Promise<string> {
    const n = this.events.length;
    this.send({ cmd: 'add', ...cfg });
    const e = await this.waitEvent((x) => x.ev === 'added' || x.ev === 'error', 5000, 'added', n);
    if (e.ev === 'error') throw new Error(String(e.message));
    return e.key as string;
  }

  /** The agent's status (sessions, counters, CPU usage). */
  async status(): Promise<{ sessions: Array<Record<string, any>>; stats: Record<string, number>; cpu: { user: number; system: number } }> {
    const id = ++this.ids;
    this.send({ cmd: 'status', id });
    return (await this.waitEvent((e) => e.ev === 'status' && e.id === id, 10_000, 'status')) as any;
  }

  /** Waits for a state change of `key` to `to`, after event index `from`. */
  waitState(key: string, to: string, from = 0, ms = 20_000): Promise<AgentEvent> {
    return this.waitEvent((e) => e.ev === 'state' && e.key === key && e.to === to, ms, `${key} → ${to}`, from);
  }
}

/** Starts FRR's bfdd (standalone, no zebra needed for IP peers) in `ns`; returns its PID. */
export async function startBfdd(ns: string, dir: string, conf: string): Promise<number> {
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const file = join(dir, 'frr.conf');
  writeFileSync(file, `frr defaults traditional\nhostname bfd-rtr\nlog file ${dir}/frr.log informational\n${conf}`);
  chmodSync(file, 0o644);
  await sh('/usr/lib/frr/bfdd', ['-d', '-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-f', file, '-i', join(dir, 'bfdd.pid')], { ns });
  await until(() => existsSync(join(dir, 'bfdd.pid')), 5000, 'bfdd pid file');
  return Number(readFileSync(join(dir, 'bfdd.pid'), 'utf8').trim());
}

/** Runs vtysh commands against the bfdd of `dir`. */
export function vtysh(ns: string, dir: string, ...cmds: string[]): Promise<string> {
  return sh('vtysh', ['--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])], { ns });
}

/** FRR's view of its peers (`show bfd peers json`). */
export async function frrPeers(ns: string, dir: string): Promise<Array<Record<string, any>>> {
  return JSON.parse(await vtysh(ns, dir, 'show bfd peers json')) as Array<Record<string, any>>;
}

/** Starts BIRD with `conf` in `ns`; returns its PID and control socket. */
export async function startBird(ns: string, dir: string, conf: string): Promise<{ pid: number; ctl: string }> {
  const file = join(dir, 'bird.conf');
  const ctl = join(dir, 'bird.ctl');
  writeFileSync(file, conf);
  await sh('bird', ['-c', file, '-s', ctl, '-P', join(dir, 'bird.pid')], { ns });
  await until(() => existsSync(join(dir, 'bird.pid')), 5000, 'bird pid file');
  return { pid: Number(readFileSync(join(dir, 'bird.pid'), 'utf8').trim()), ctl };
}

/** Runs one birdc command. */
export function birdc(ns: string, ctl: string, ...cmd: string[]): Promise<string> {
  return sh('birdc', ['-s', ctl, ...cmd], { ns });
}

/** SIGKILLs by PID; gone processes are ignored. */
export const kill = killPid;
