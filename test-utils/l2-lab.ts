/**
 * Shared by the layer-2 interop tests (ARP, NDP) and the ARP bench: the client/node1/node2 lab on one
 * bridge, a line-driven vite-node fixture process (see `l2-fixture.ts`) and a tshark capture.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sh, type Topology } from './netns.js';

const viteNode = fileURLToPath(new URL('../node_modules/.bin/vite-node', import.meta.url));
const config = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Default timeouts of a {@link LineProc}: `wait` and `cmd`, in ms. */
export interface LineProcTimeouts {
  /** Default timeout of {@link LineProc.wait}. */
  waitMs: number;
  /** Timeout of {@link LineProc.cmd}. */
  cmdMs: number;
}

/** A child process speaking lines: every stdout line is kept; `wait` looks for one from an index on. */
export class LineProc {
  readonly lines: string[] = [];
  stderr = '';
  private buf = '';

  /** @param child process with piped stdio; @param timeouts default timeouts of `wait` and `cmd` */
  constructor(readonly child: ChildProcess, private readonly timeouts: LineProcTimeouts = { waitMs: 60_000, cmdMs: 30_000 }) {
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

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Resolves with the first line from index `from` on that matches `re`; rejects after `ms`. */
  async wait(re: RegExp, ms = this.timeouts.waitMs, from = 0): Promise<string> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const l = this.lines.slice(from).find((x) => re.test(x));
      if (l) return l;
      await sleep(10);
    }
    throw new Error(`fixture: timeout waiting for ${re}; lines ${JSON.stringify(this.lines.slice(from))} (from ${from}); stderr ${this.stderr}`);
  }

  /** Sends `line` and waits for an answer matching `re` among the lines that follow. */
  async cmd(line: string, re: RegExp): Promise<string> {
    const from = this.lines.length;
    this.send(line);
    return this.wait(re, this.timeouts.cmdMs, from);
  }
}

/** Options of {@link startLineFixture}. */
export interface LineFixtureOptions {
  /** Extra environment of the fixture. */
  env?: Record<string, string>;
  /** Line that means the fixture is ready (waited for up to 90 s). */
  ready: RegExp;
  /** Default timeouts of the returned {@link LineProc}. */
  timeouts?: LineProcTimeouts;
}

/**
 * Runs the TypeScript fixture `file` with vite-node (the repo's vite config, so `@lbkit/*` resolve to
 * sources) inside `ns` with argument `eth0`; the child is killed by `topo.destroy()`.
 */
export async function startLineFixture(topo: Topology, ns: string, file: string, opts: LineFixtureOptions): Promise<LineProc> {
  const child = spawn('ip', ['netns', 'exec', ns, viteNode, '--config', config, file, 'eth0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  topo.children.push(child);
  const p = new LineProc(child, opts.timeouts);
  await p.wait(opts.ready, 90_000);
  return p;
}

/** A tshark capture running in a namespace; `stop()` kills it (by PID) and returns its field lines. */
export interface Capture {
  /** Stops tshark and returns one array of fields per captured frame. */
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

/** Namespaces and MACs of an {@link addL2Lab} lab (every node's interface is `eth0`). */
export interface L2Lab {
  /** The switch namespace, holding bridge `br0`. */
  sw: string;
  /** Client namespace. */
  client: string;
  /** First node namespace. */
  node1: string;
  /** Second node namespace. */
  node2: string;
  /** MAC of the client's eth0. */
  macClient: string;
  /** MAC of node1's eth0. */
  mac1: string;
  /** MAC of node2's eth0. */
  mac2: string;
}

/** Options of {@link addL2Lab}. */
export interface L2LabOptions {
  /** Addresses (CIDR) of the client's, node1's and node2's eth0. */
  addrs: [client: string, node1: string, node2: string];
  /** Role (namespace name suffix) of the client (default `cl`). */
  clientRole?: string;
  /** IPv6 lab: DAD off in the three end namespaces and multicast snooping off on the bridge. */
  ipv6?: boolean;
}

/**
 * Adds to `topo` a switch namespace with bridge `br0` and three namespaces (client, node1, node2),
 * each connected to it by a veth named `eth0` carrying its address. Everything is removed by
 * `topo.destroy()`, also when this fails half-way.
 */
export async function addL2Lab(topo: Topology, opts: L2LabOptions): Promise<L2Lab> {
  const sw = await topo.addNamespace('sw');
  const client = await topo.addNamespace(opts.clientRole ?? 'cl');
  const node1 = await topo.addNamespace('n1');
  const node2 = await topo.addNamespace('n2');
  if (opts.ipv6) {
    for (const ns of [client, node1, node2]) {
      for (const k of ['all', 'default']) await sh('sysctl', ['-qw', `net.ipv6.conf.${k}.accept_dad=0`], { ns });
    }
  }
  await topo.addBridge(sw);
  if (opts.ipv6) await sh('ip', ['link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0'], { ns: sw });
  const [addrClient, addr1, addr2] = opts.addrs;
  const macClient = await topo.connect(client, 'eth0', sw, 'br0', [addrClient]);
  const mac1 = await topo.connect(node1, 'eth0', sw, 'br0', [addr1]);
  const mac2 = await topo.connect(node2, 'eth0', sw, 'br0', [addr2]);
  return { sw, client, node1, node2, macClient, mac1, mac2 };
}
