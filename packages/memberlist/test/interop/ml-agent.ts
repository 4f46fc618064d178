/**
 * Test driver for the real hashicorp/memberlist v0.5.1 node `ml-agent` (shared/lab, see its
 * README): spawns it, collects its JSON event lines (stdout) and its log (stderr), sends stdin
 * commands. Stopped agents are killed by pid (`stop`), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the ml-agent binary (`../shared/lab/...` from the repository root). */
export const ML_AGENT = resolve(
  fileURLToPath(new URL('.', import.meta.url)), '../../../../../shared/lab/memberlist/go-memberlist-0.5.1/ml-agent',
);

/** One JSON event line of ml-agent (`t` ms since epoch, `ev` the kind). */
export interface AgentEvent {
  t: number;
  ev: string;
  node?: string;
  state?: number;
  err?: string;
  n?: number;
  members?: { node: string; state: number; addr: string; port: number }[];
  health?: number;
  [k: string]: unknown;
}

/** Options of {@link GoAgent.start}. */
export interface GoAgentOptions {
  name: string;
  port: number;
  bind?: string;
  secret?: string;
  label?: string;
  compress?: boolean;
  join?: string[];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running ml-agent process. */
export class GoAgent {
  readonly events: AgentEvent[] = [];
  readonly log: string[] = [];
  private waiters: { pred: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }[] = [];

  private constructor(readonly name: string, readonly port: number, private readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => this.log.push(line));
  }

  /** Starts an agent and waits for its `ready` event. */
  static async start(o: GoAgentOptions): Promise<GoAgent> {
    const args = ['-name', o.name, '-bind', o.bind ?? '127.0.0.1', '-port', String(o.port)];
    if (o.secret) args.push('-secret', o.secret);
    if (o.label) args.push('-label', o.label);
    if (o.compress === false) args.push('-compress=false');
    if (o.join?.length) args.push('-join', o.join.join(','));
    const proc = spawn(ML_AGENT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const a = new GoAgent(o.name, o.port, proc);
    await a.next((e) => e.ev === 'ready', 5000);
    return a;
  }

  /** Resolves with the first event (already seen or future) matching `pred`; rejects after `timeoutMs`. */
  next(pred: (e: AgentEvent) => boolean, timeoutMs: number, since = 0): Promise<AgentEvent> {
    const seen = this.events.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        rej(new Error(`${this.name}: no matching event within ${timeoutMs} ms; log tail:\n${this.log.slice(-8).join('\n')}`));
      }, timeoutMs);
      const done = (e: AgentEvent): void => {
        clearTimeout(timer);
        res(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Sends one stdin command line. */
  send(cmd: string): void {
    this.proc.stdin!.write(`${cmd}\n`);
  }

  /** `join host:port` → the `joined` event (`n` = nodes contacted, `err` on failure). */
  async join(addr: string, timeoutMs = 5000): Promise<AgentEvent> {
    const since = this.events.length;
    this.send(`join ${addr}`);
    return this.next((e) => e.ev === 'joined', timeoutMs, since);
  }

  /** `members` → the members list and health score. */
  async members(timeoutMs = 2000): Promise<AgentEvent> {
    const since = this.events.length;
    this.send('members');
    return this.next((e) => e.ev === 'members', timeoutMs, since);
  }

  /** Whether `members` lists `node` alive (state 0). */
  async seesAlive(node: string): Promise<boolean> {
    const m = await this.members();
    return (m.members ?? []).some((x) => x.node === node && x.state === 0);
  }

  /** Log lines at [ERR] or [WARN] level. */
  problems(): string[] {
    return this.log.filter((l) => /\[(ERR|WARN)\]/.test(l));
  }

  /** Kills the process (SIGKILL, by pid) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

/** A free port for both UDP and TCP on 127.0.0.1 (probe-bind both, then release). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  for (;;) {
    const srv = createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    udp.close();
    await new Promise<void>((r) => srv.close(() => r()));
    if (ok) return port;
  }
}
