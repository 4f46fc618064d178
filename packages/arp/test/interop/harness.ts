// Shared by the interop test and the bench: a 4-namespace L2 lab and line-driven speaker fixtures.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Topology, sh } from '../../../../test-utils/netns.js';

const fixture = fileURLToPath(new URL('./fixture-speaker.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../../../../node_modules/.bin/vite-node', import.meta.url));
const config = fileURLToPath(new URL('../../../../vite.config.ts', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Fixture {
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
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
  async wait(re: RegExp, ms = 60_000, from = 0): Promise<string> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const l = this.lines.slice(from).find((x) => re.test(x));
      if (l) return l;
      await sleep(10);
    }
    throw new Error(`fixture: timeout waiting for ${re}; lines ${JSON.stringify(this.lines)}; stderr ${this.stderr}`);
  }
  async cmd(line: string, re: RegExp): Promise<string> {
    const from = this.lines.length;
    this.send(line);
    return this.wait(re, 30_000, from);
  }
}

export interface Lab {
  topo: Topology;
  client: string;
  node1: string;
  node2: string;
  mac1: string;
  mac2: string;
  macClient: string;
}

export async function makeLab(prefix = 'arp'): Promise<Lab> {
  const topo = new Topology(prefix);
  const sw = await topo.addNamespace('sw');
  await topo.addBridge(sw);
  const client = await topo.addNamespace('cl');
  const node1 = await topo.addNamespace('n1');
  const node2 = await topo.addNamespace('n2');
  const macClient = await topo.connect(client, 'eth0', sw, 'br0', ['10.78.0.10/24']);
  const mac1 = await topo.connect(node1, 'eth0', sw, 'br0', ['10.78.0.1/24']);
  const mac2 = await topo.connect(node2, 'eth0', sw, 'br0', ['10.78.0.2/24']);
  return { topo, client, node1, node2, mac1, mac2, macClient };
}

export async function startSpeaker(topo: Topology, ns: string, env: Record<string, string> = {}): Promise<Fixture> {
  const child = spawn('ip', ['netns', 'exec', ns, viteNode, '--config', config, fixture, 'eth0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  topo.children.push(child);
  const f = new Fixture(child);
  await f.wait(/^ready$/, 90_000);
  return f;
}

/** The client's neighbour entry for `ip` (lladdr lower-case, state list), or undefined. */
export async function neigh(ns: string, ip: string): Promise<{ lladdr?: string; state?: string[] } | undefined> {
  const j = JSON.parse(await sh('ip', ['-j', 'neigh', 'show', ip, 'dev', 'eth0'], { ns })) as { lladdr?: string; state?: string[] }[];
  return j[0];
}

/** Polls `ip -j neigh` every 10 ms until the entry's MAC is `mac`; returns ms since `t0` (a `performance.now()`). */
export async function waitNeigh(ns: string, ip: string, mac: string, t0: number, timeoutMs = 10_000): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    const n = await neigh(ns, ip);
    if (n?.lladdr?.toLowerCase() === mac) return performance.now() - t0;
    await sleep(10);
  }
  throw new Error(`neighbour ${ip} did not switch to ${mac} within ${timeoutMs} ms: ${JSON.stringify(await neigh(ns, ip))}`);
}

/** A tshark capture running in a namespace; `stop()` kills it (by PID) and returns its field lines. */
export interface Capture {
  stop(): Promise<string[][]>;
}

/**
 * Starts `tshark -T fields` in `ns` on `eth0` with capture filter `filter`, printing `fields`
 * comma-separated per frame; resolves once tshark reports it is capturing.
 */
export async function capture(topo: Topology, ns: string, filter: string, fields: string[]): Promise<Capture> {
  const args = ['-l', '-n', '-i', 'eth0', '-f', filter, '-T', 'fields', '-E', 'separator=,', ...fields.flatMap((f) => ['-e', f])];
  const child = topo.spawnIn(ns, 'tshark', args);
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
  await sleep(700); // "Capturing on" is printed slightly before dumpcap's socket receives frames
  return {
    async stop() {
      await sleep(300); // let the last frames be printed
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
      return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(','));
    },
  };
}
