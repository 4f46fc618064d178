/**
 * Membership backed by HashiCorp serf (Debian `serf`), which runs memberlist underneath: an
 * alternative to @lbkit/memberlist for mixed clusters. Member name = node name; alive members are
 * polled over serf's RPC; leave() performs a graceful `serf leave`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { nullLogger, type Logger } from '../log.js';
import type { Membership } from '../speaker.js';

const run = promisify(execFile);

/**
 * MetalLB's memberlist key derivation: the first 32 bytes of (secret ‖ SHA-256("")), which is what
 * Go's `sha256.New().Sum(secret)` returns. An empty secret means no encryption.
 */
export function metallbMemberlistKey(secret: string): Buffer | null {
  if (!secret) return null;
  return Buffer.concat([Buffer.from(secret, 'utf8'), createHash('sha256').update('').digest()]).subarray(0, 32);
}

/** Options of {@link SerfMembership}. */
export interface SerfOptions {
  node: string;
  /** HOST:PORT for gossip. */
  bind: string;
  /** Seeds HOST:PORT. */
  join: string[];
  /** RPC address (default 127.0.0.1:<bind port + 1000>). */
  rpc?: string;
  /** serf timing profile: lan (default), local, wan. */
  profile?: 'lan' | 'local' | 'wan';
  /** Poll period in ms (default 200). */
  pollMs?: number;
  /** Shared secret (MetalLB key derivation, AES-256). */
  secret?: string;
  /** serf binary (default `serf`). */
  bin?: string;
  log?: Logger;
}

/** serf-backed membership. */
export class SerfMembership implements Membership {
  private child: ChildProcess | undefined;
  private current: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly cbs: Array<(change: { joined: string[]; left: string[] }) => void> = [];
  private readonly rpc: string;
  private readonly log: Logger;
  private polling = false;

  /** @param opts node name, bind address, seeds */
  constructor(private readonly opts: SerfOptions) {
    const port = Number(opts.bind.split(':').pop());
    this.rpc = opts.rpc ?? `127.0.0.1:${port + 1000}`;
    this.log = opts.log ?? nullLogger;
    this.current = [opts.node];
  }

  /** Starts the agent and waits until its RPC answers. */
  async start(): Promise<void> {
    const args = ['agent', '-node', this.opts.node, '-bind', this.opts.bind, '-rpc-addr', this.rpc, '-profile', this.opts.profile ?? 'lan', '-log-level', 'warn'];
    for (const j of this.opts.join) args.push('-retry-join', j);
    const key = metallbMemberlistKey(this.opts.secret ?? '');
    if (key) args.push('-encrypt', key.toString('base64'));
    this.child = spawn(this.opts.bin ?? 'serf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => this.log.log('debug', 'serf', { out: d.toString().trim() }));
    this.child.on('exit', (code) => this.log.log(code ? 'warn' : 'info', 'serf exited', { code }));
    this.child.on('error', (e) => this.log.log('error', 'serf failed to start', { err: String(e) }));
    const t0 = Date.now();
    for (;;) {
      if (await this.poll()) break;
      if (Date.now() - t0 > 10_000) throw new Error(`serf agent did not answer on ${this.rpc}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 200);
  }

  private async poll(): Promise<boolean> {
    if (this.polling) return true;
    this.polling = true;
    try {
      const { stdout } = await run(this.opts.bin ?? 'serf', ['members', '-rpc-addr', this.rpc, '-format', 'json'], { timeout: 5000 });
      const parsed = JSON.parse(stdout) as { members?: Array<{ name: string; status: string }> };
      const alive = (parsed.members ?? []).filter((m) => m.status === 'alive').map((m) => m.name).sort();
      if (alive.join(',') !== this.current.join(',')) {
        const change = { joined: alive.filter((n) => !this.current.includes(n)), left: this.current.filter((n) => !alive.includes(n)) };
        this.log.log('info', 'members changed', { members: alive, ...change });
        this.current = alive;
        for (const cb of this.cbs) cb(change);
      }
      return true;
    } catch {
      return false;
    } finally {
      this.polling = false;
    }
  }

  /** @inheritdoc */
  members(): string[] {
    return this.current;
  }

  /** Registers a callback for member list changes; it receives who joined and who left. */
  onChange(cb: (change: { joined: string[]; left: string[] }) => void): void {
    this.cbs.push(cb);
  }

  /** @inheritdoc */
  async join(seeds: string[]): Promise<void> {
    if (seeds.length) await run(this.opts.bin ?? 'serf', ['join', '-rpc-addr', this.rpc, ...seeds], { timeout: 10_000 }).catch((e) => this.log.log('debug', 'serf join failed', { seeds, err: String(e) }));
  }

  /** @inheritdoc */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    await run(this.opts.bin ?? 'serf', ['leave', '-rpc-addr', this.rpc], { timeout: 5000 }).catch(() => {});
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          this.child?.kill('SIGKILL');
          r(undefined);
        }, 2000);
        this.child!.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
  }
}
