// Helpers of ndp-recreate.test.ts: a line-driven vite-node fixture process and a tshark capture.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Topology } from '../../../../test-utils/netns.js';

const fixture = fileURLToPath(new URL('./iface-fixture.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../../../../node_modules/.bin/vite-node', import.meta.url));
const config = fileURLToPath(new URL('../../../../vite.config.ts', import.meta.url));

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An `iface-fixture.ts` process: every stdout line is kept; `wait` looks for one from an index on. */
export class SpeakerProc {
  readonly lines: string[] = [];
  stderr = '';
  private buf = '';
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }
  async wait(re: RegExp, ms = 20_000, from = 0): Promise<string> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const l = this.lines.slice(from).find((x) => re.test(x));
      if (l) return l;
      await sleep(10);
    }
    throw new Error(`fixture: timeout waiting for ${re}; lines ${JSON.stringify(this.lines.slice(from))}; stderr ${this.stderr}`);
  }
  async cmd(line: string, re: RegExp): Promise<string> {
    const from = this.lines.length;
    this.child.stdin!.write(`${line}\n`);
    return this.wait(re, 20_000, from);
  }
}

/** Starts the fixture in `ns` on `eth0`; resolves once it printed `ready MAC`. */
export async function startIfaceSpeaker(topo: Topology, ns: string, env: Record<string, string> = {}): Promise<SpeakerProc> {
  const child = spawn('ip', ['netns', 'exec', ns, viteNode, '--config', config, fixture, 'eth0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  topo.children.push(child);
  const p = new SpeakerProc(child);
  await p.wait(/^ready /, 90_000);
  return p;
}

/** Starts `tshark -T fields` in `ns` on eth0; `stop()` kills it by PID and returns the rows. */
export async function tshark(topo: Topology, ns: string, filter: string, fields: string[]): Promise<{ stop(): Promise<string[][]> }> {
  const child = topo.spawnIn(ns, 'tshark', ['-l', '-n', '-i', 'eth0', '-f', filter, '-T', 'fields', '-E', 'separator=,', ...fields.flatMap((f) => ['-e', f])]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tshark did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`tshark exited ${code}: ${err}`)));
  });
  await sleep(700); // "Capturing on" comes slightly before dumpcap receives frames
  return {
    async stop() {
      await sleep(300);
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
      return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(','));
    },
  };
}
