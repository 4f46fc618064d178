/**
 * Shared lab of the BFD interop suites: a router namespace (bridge br0, 10.0.0.1/24) and N node
 * namespaces (10.0.0.1K) each able to run a @lbkit/bfd manager from the built dist
 * (fixtures/bfd-agent.mjs, JSON lines on stdin/stdout); FRR bfdd and BIRD run in the router.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh, Topology } from '../../../../test-utils/netns.js';

export const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const dist = join(repo, 'packages/bfd/dist/index.js');
const fixture = fileURLToPath(new URL('./fixtures/bfd-agent.mjs', import.meta.url));

/** Builds packages/bfd so the agent can import the dist. */
export async function buildDist(): Promise<void> {
  try {
    await sh('npx', ['tsc', '-b', join(repo, 'packages/bfd')], { timeoutMs: 120_000 });
  } catch (e) {
    if (!existsSync(dist)) throw e;
  }
}

/** A temp dir the FRR/BIRD daemons (which drop privileges) can use. */
export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `lbk-bfd-${prefix}-`));
  chmodSync(d, 0o755);
  return d;
}

/** The namespaces of one suite. */
export interface Lab {
  topo: Topology;
  rtr: string;
  nodes: string[];
}

/** Router namespace with a bridge and `n` node namespaces on it. */
export async function buildLab(n = 1): Promise<Lab> {
  const topo = new Topology('bfd');
  const rtr = await topo.addNamespace('rtr');
  await topo.addBridge(rtr, 'br0');
  await sh('ip', ['addr', 'add', '10.0.0.1/24', 'dev', 'br0'], { ns: rtr });
  const nodes: string[] = [];
  for (let i = 1; i <= n; i++) {
    const ns = await topo.addNamespace(`n${i}`);
    await topo.connect(ns, 'eth0', rtr, 'br0', [`10.0.0.1${i}/24`]);
    nodes.push(ns);
  }
  return { topo, rtr, nodes };
}

/** One line printed by the agent. */
export interface AgentEvent {
  ev: string;
  t: number;
  [k: string]: unknown;
}

/** A @lbkit/bfd manager running in a namespace. */
export class Agent {
  events: AgentEvent[] = [];
  private buf = '';
  private ids = 0;
  readonly child: ChildProcess;

  constructor(lab: Lab, ns: string, opts: Record<string, unknown> = {}) {
    this.child = lab.topo.spawnIn(ns, process.execPath, [fixture], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LBKIT_BFD_DIST: dist, LBKIT_BFD_OPTS: JSON.stringify(opts) },
    });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        try {
          this.events.push(JSON.parse(line) as AgentEvent);
        } catch {
          /* not ours */
        }
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => this.events.push({ ev: 'stderr', t: Date.now(), text: d.toString() }));
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /** Waits for an event matching `pred` that arrived after index `from`. */
  async waitEvent(pred: (e: AgentEvent) => boolean, ms = 20_000, what = 'event', from = 0): Promise<AgentEvent> {
    await until(() => this.events.slice(from).some(pred), ms, `${what}; last events: ${JSON.stringify(this.events.slice(-6))}`, 20);
    return this.events.slice(from).find(pred)!;
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
export function kill(pid: number | undefined, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Polls `fn` every `stepMs` until it returns true. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition', stepMs = 100): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
