/**
 * The router lab of the routing interop suites and benches (BGP, BFD): one router namespace whose
 * bridge `br0` holds 10.0.0.1/24 (and fd0a::1/64 with `v6`), and N node namespaces on that bridge,
 * node i at 10.0.0.1i/24 (fd0a::1i/64) on `eth0`. Nodes run fixtures of the package under test from
 * its built dist, speaking JSON lines ({@link JsonLinesChild}); real routers run in the router.
 *
 * Everything a lab creates is named and removed by {@link Topology}; this module re-exports the
 * netns primitives and the polling helper, so a package's lab imports one file. It does not import
 * vitest (benches load labs outside the test runner): suites gate on root and peers with
 * `describeInterop` from test-utils/env.ts, which skips on a laptop and fails under CI=true.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLineSplitter } from './jsonl.js';
import { sh, Topology } from './netns.js';
import { until } from './wait.js';

export { sh, shQuiet, Topology } from './netns.js';
export { until } from './wait.js';

/** The repository root (with a trailing slash). */
export const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** Path of the built entry point of workspace package `pkg` (e.g. `bgp` → packages/bgp/dist/index.js). */
export function distOf(pkg: string): string {
  return join(repoRoot, 'packages', pkg, 'dist', 'index.js');
}

/**
 * Builds packages/`pkg` (`tsc -b`) so fixtures spawned in namespaces can import its dist; returns
 * {@link distOf}(pkg). A failed build is tolerated when a dist already exists (another suite may be
 * building the same package at that moment), and rethrown otherwise.
 */
export async function buildPackageDist(pkg: string): Promise<string> {
  const dist = distOf(pkg);
  try {
    await sh('npx', ['tsc', '-b', join(repoRoot, 'packages', pkg)], { timeoutMs: 120_000 });
  } catch (e) {
    if (!existsSync(dist)) throw e;
  }
  return dist;
}

/**
 * A fresh temp directory `lbk-<tag>-<prefix>-XXXXXX`, mode 0755 so routing daemons that drop their
 * privileges (FRR, BIRD) can reach their files in it. The caller removes it.
 */
export function labTmpDir(tag: string, prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `lbk-${tag}-${prefix}-`));
  chmodSync(d, 0o755);
  return d;
}

/** The namespaces of one lab; `topo.destroy()` removes them and kills what runs in them. */
export interface RouterLab {
  topo: Topology;
  /** The router namespace (bridge `br0`, 10.0.0.1). */
  rtr: string;
  /** Node namespaces; `nodes[i - 1]` is node i at 10.0.0.1i. */
  nodes: string[];
}

/** Options of {@link buildRouterLab}. */
export interface RouterLabOptions {
  /** Short namespace tag (`bgp`, `bfd`): namespaces are named `lbk-<tag>-<unique>-<role>`. */
  tag: string;
  /** Number of node namespaces (at most 9: node i gets 10.0.0.1i). */
  nodes: number;
  /** Also address the bridge and the nodes with IPv6 (fd0a::1/64, fd0a::1i/64). */
  v6?: boolean;
}

/** Creates the router namespace with its bridge and `nodes` node namespaces connected to it. */
export async function buildRouterLab(o: RouterLabOptions): Promise<RouterLab> {
  if (!Number.isInteger(o.nodes) || o.nodes < 0 || o.nodes > 9) throw new Error(`buildRouterLab: nodes must be 0..9, got ${o.nodes}`);
  const topo = new Topology(o.tag);
  try {
    const rtr = await topo.addNamespace('rtr');
    await topo.addBridge(rtr, 'br0');
    await sh('ip', ['addr', 'add', '10.0.0.1/24', 'dev', 'br0'], { ns: rtr });
    if (o.v6) await sh('ip', ['-6', 'addr', 'add', 'fd0a::1/64', 'dev', 'br0', 'nodad'], { ns: rtr });
    const nodes: string[] = [];
    for (let i = 1; i <= o.nodes; i++) {
      const ns = await topo.addNamespace(`n${i}`);
      await topo.connect(ns, 'eth0', rtr, 'br0', [`10.0.0.1${i}/24`, ...(o.v6 ? [`fd0a::1${i}/64`] : [])]);
      nodes.push(ns);
    }
    return { topo, rtr, nodes };
  } catch (e) {
    await topo.destroy(); // a half-built lab would otherwise leak namespaces
    throw e;
  }
}

/** What a package's lab module exports about its package: see {@link packageLab}. */
export interface PackageLab {
  /** The repository root. */
  repo: string;
  /** The package's built entry point, which fixtures import. */
  dist: string;
  /** Builds the package (see {@link buildPackageDist}). */
  buildDist(): Promise<void>;
  /** A temp directory `lbk-<pkg>-<prefix>-…` daemons can use (see {@link labTmpDir}). */
  tmp(prefix: string): string;
  /** The router lab with `n` nodes (`defaultNodes` unless told), namespaces tagged with the package name. */
  buildLab(n?: number): Promise<RouterLab>;
}

/** The lab basics of workspace package `pkg`, whose nodes are dual-stack when `v6` is set. */
export function packageLab(pkg: string, o: { v6?: boolean; defaultNodes: number }): PackageLab {
  return {
    repo: repoRoot,
    dist: distOf(pkg),
    buildDist: async () => void (await buildPackageDist(pkg)),
    tmp: (prefix) => labTmpDir(pkg, prefix),
    buildLab: (n = o.defaultNodes) => buildRouterLab({ tag: pkg, nodes: n, v6: o.v6 ?? false }),
  };
}

/** One JSON line printed by a fixture: an event name and a timestamp (ms since the epoch). */
export interface JsonEvent {
  ev: string;
  t: number;
  [k: string]: unknown;
}

/**
 * A child process that takes JSON commands on stdin and prints JSON events on stdout, one per line.
 * Events are collected in order in `events` (lines that are not JSON are dropped); each stderr chunk
 * becomes an event `{ ev: 'stderr', text }` so failures show up next to what the fixture printed.
 */
export class JsonLinesChild<E extends JsonEvent = JsonEvent> {
  readonly events: E[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', jsonLineSplitter<E>((e) => this.events.push(e)));
    child.stderr?.on('data', (d: Buffer) => this.events.push({ ev: 'stderr', t: Date.now(), text: d.toString() } as unknown as E));
  }

  /** Writes one command line on the child's stdin. */
  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /**
   * Waits for the first event at or after index `from` matching `pred` and returns it; on timeout the
   * error names `what` and the last events received by then.
   */
  async waitEvent(pred: (e: E) => boolean, ms = 30_000, what = 'event', from = 0): Promise<E> {
    return until(() => this.events.slice(from).find(pred), ms, () => `${what}; last events: ${JSON.stringify(this.events.slice(-8))}`, 20);
  }

  /** Resolves once the child has exited (at once if it already has). */
  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.child.once('exit', () => r()));
  }
}

/** Sends `sig` (default SIGKILL) to `pid`; an undefined PID or a process already gone is ignored. */
export function killPid(pid: number | undefined, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}
