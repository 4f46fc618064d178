/**
 * Test helper: runs a Debian `serf agent` on 127.0.0.1 with free ports and reads its member list
 * over RPC (`serf members -format json`). Processes are tracked and killed by PID only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../../test-utils/netns.js';

/** One row of `serf members -format json`. */
export interface SerfMember {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: string;
  protocol: { max: number; min: number; version: number };
}

/** A free TCP port on 127.0.0.1 (serf binds UDP + TCP on it; collisions are retried by the caller's timeout). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running serf agent. */
export class SerfAgent {
  log = '';
  private readonly watchers = new Set<() => void>();
  private child: ChildProcess | undefined;
  private dir = '';

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly rpc: number,
  ) {}

  /** Starts `serf agent` and waits until its RPC answers. */
  static async start(o: { name: string; encrypt?: Uint8Array; tags?: Record<string, string>; join?: string }): Promise<SerfAgent> {
    const a = new SerfAgent(o.name, await freePort(), await freePort());
    a.dir = mkdtempSync(join(tmpdir(), 'mle-serf-'));
    const args = ['agent', `-node=${o.name}`, `-bind=127.0.0.1:${a.port}`, `-rpc-addr=127.0.0.1:${a.rpc}`, '-log-level=debug'];
    if (o.encrypt) args.push(`-encrypt=${Buffer.from(o.encrypt).toString('base64')}`);
    for (const [k, v] of Object.entries(o.tags ?? {})) args.push('-tag', `${k}=${v}`);
    if (o.join) args.push(`-join=${o.join}`);
    a.child = spawn('serf', args, { cwd: a.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer): void => {
      a.log += d;
      for (const w of a.watchers) w();
    };
    a.child.stdout!.on('data', onData);
    a.child.stderr!.on('data', onData);
    for (let i = 0; ; i++) {
      try {
        if ((await a.members()).length) return a;
      } catch (err) {
        if (i > 60 || a.child.exitCode !== null) {
          a.kill();
          throw new Error(`serf agent ${o.name} did not start: ${(err as Error).message}\n${a.log}`);
        }
        await sleep(200);
      }
    }
  }

  /** `serf members -format json`. */
  async members(): Promise<SerfMember[]> {
    const out = await sh('serf', ['members', '-format', 'json', `-rpc-addr=127.0.0.1:${this.rpc}`], { timeoutMs: 10_000 });
    return (JSON.parse(out) as { members: SerfMember[] }).members;
  }

  /** The member `name` as serf sees it. */
  async member(name: string): Promise<SerfMember | undefined> {
    return (await this.members()).find((m) => m.name === name);
  }

  /** Polls every 50 ms until serf reports `name` with `status` (or `timeoutMs` passes); returns the member. */
  async waitStatus(name: string, status: string, timeoutMs: number): Promise<SerfMember | undefined> {
    const t0 = Date.now();
    let m: SerfMember | undefined;
    while (Date.now() - t0 < timeoutMs) {
      m = await this.member(name);
      if (m?.status === status) return m;
      await sleep(50);
    }
    return m;
  }

  /**
   * Resolves with `performance.now()` at the moment a log line matching `re` arrives on the
   * agent's output (searching only output that arrives after the call), or rejects after `timeoutMs`.
   */
  waitLog(re: RegExp, timeoutMs: number): Promise<number> {
    const from = this.log.length;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!re.test(this.log.slice(from))) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`serf ${this.name}: no log line matching ${re} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  /** `serf join <addr>` from this agent. */
  async joinTo(addr: string): Promise<string> {
    return sh('serf', ['join', `-rpc-addr=127.0.0.1:${this.rpc}`, addr], { timeoutMs: 15_000 });
  }

  /** `serf tags -set k=v …` (serf re-announces its meta with a new incarnation). */
  async setTags(tags: Record<string, string>): Promise<string> {
    const args = ['tags', `-rpc-addr=127.0.0.1:${this.rpc}`];
    for (const [k, v] of Object.entries(tags)) args.push('-set', `${k}=${v}`);
    return sh('serf', args, { timeoutMs: 10_000 });
  }

  /** `serf leave` (graceful). */
  async leave(): Promise<void> {
    await sh('serf', ['leave', `-rpc-addr=127.0.0.1:${this.rpc}`], { timeoutMs: 15_000 }).catch(() => '');
  }

  /** SIGKILL by PID (no leave). */
  kill(): void {
    const c = this.child;
    if (c?.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  }

  /** Kills the agent and removes its working directory. */
  dispose(): void {
    this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
