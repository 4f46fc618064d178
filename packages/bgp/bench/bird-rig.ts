/**
 * The BIRD rig of the bulk-announce benches (ingest, million): a receiving BIRD in the router
 * namespace with one passive eBGP session to node 1 (10.0.0.11, AS 64513), and a sending BIRD in
 * node 1 holding the same /32s as statics, whose BGP protocol `up` each round enables, so our
 * speaker and BIRD are measured against the same receiver in the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../../test-utils/netns.js';
import { until } from '../../../test-utils/wait.js';
import { buildDist, buildLab, tmp, type Lab } from '../test/interop/lab.js';

/**
 * Runs a bench in a fresh one-node lab: builds the dist, calls `body` with the lab and a `tmp(prefix)`
 * whose directories are removed afterwards, writes the Markdown section it returns to
 * LBKIT_BENCH_OUT (see scripts/bench.mjs) and stdout, and exits 1 on any error.
 */
export function runLabBench(body: (lab: Lab, tmpDir: (prefix: string) => string) => Promise<string>): void {
  const main = async (): Promise<void> => {
    await buildDist();
    const lab = await buildLab(1);
    const dirs: string[] = [];
    try {
      const md = await body(lab, (prefix) => {
        const d = tmp(prefix);
        dirs.push(d);
        return d;
      });
      if (process.env.LBKIT_BENCH_OUT) writeFileSync(process.env.LBKIT_BENCH_OUT, md); // one section: a re-run replaces it
      process.stdout.write(md);
    } finally {
      await lab.topo.destroy();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  };
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

/** First announced /32: 10.128.0.0; route i is BASE + i. */
export const BASE = (10 << 24) | (128 << 16);

/** Dotted quad of a 32-bit address. */
export function ip(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Median of `a` (the upper one for an even count). */
export function median(a: number[]): number {
  return [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
}

/** The last line of `bird --version`, for the report. */
export async function birdVersion(): Promise<string | undefined> {
  return (await sh('sh', ['-c', 'bird --version 2>&1']).catch((e: Error) => e.message)).trim().split('\n').pop();
}

/** Starts `bird -f` with `conf` in `ns`, state and log in `dir`; returns the process and a birdc for it. */
function spawnBird(lab: Lab, ns: string, dir: string, conf: string, birdcTimeoutMs: number): { child: ChildProcess; birdc: (...a: string[]) => Promise<string> } {
  writeFileSync(join(dir, 'bird.conf'), conf);
  const log = openSync(join(dir, 'bird.log'), 'a');
  const child = lab.topo.spawnIn(ns, 'bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'ctl')], { stdio: ['ignore', log, log] });
  return { child, birdc: (...a: string[]) => sh('birdc', ['-s', join(dir, 'ctl'), ...a], { timeoutMs: birdcTimeoutMs }) };
}

/** Options of {@link startReceiver}. */
export interface ReceiverOptions {
  /** State directory (config, control socket, log). */
  dir: string;
  /** BGP hold time of the session, seconds. */
  holdTime: number;
  /** Timeout of one birdc call (a busy BIRD with 10^6 routes answers slowly). */
  birdcTimeoutMs?: number;
}

/** Timing of one round, ms from the receiver's session reaching Established. */
export interface Delivery {
  /** Until the receiver held all routes. */
  all: number;
  /** Until it held 99 % of them. */
  p99: number;
}

/** The receiving BIRD, waiting for a sender; each round is {@link Receiver.measure} then {@link Receiver.drained}. */
export interface Receiver {
  birdc: (...a: string[]) => Promise<string>;
  /** Routes the receiver holds (0 when birdc fails). */
  count(): Promise<number>;
  /** Whether its session `n1` is Established. */
  established(): Promise<boolean>;
  /**
   * Waits for Established, then polls the route count every `everyMs` until it reaches `n`.
   * `onCount` sees every count (for tracing).
   */
  measure(o: { n: number; establishedMs: number; allMs: number; everyMs: number; onCount?: (count: number, ms: number) => void }): Promise<Delivery>;
  /** Waits for the session to be down with no routes left, plus BIRD's error wait time. */
  drained(ms: number): Promise<void>;
}

/** Starts the receiving BIRD (AS 64512, passive, `import all`, no kernel export) in the router namespace. */
export async function startReceiver(lab: Lab, o: ReceiverOptions): Promise<Receiver> {
  const { birdc } = spawnBird(
    lab,
    lab.rtr,
    o.dir,
    `log stderr { warning, error, fatal };
router id 10.0.0.1;
protocol device { scan time 10; }
protocol bgp n1 {
  local 10.0.0.1 as 64512; neighbor 10.0.0.11 as 64513;
  passive on; hold time ${o.holdTime}; connect retry time 5; error wait time 1, 2;
  ipv4 { import all; export none; };
}
`,
    o.birdcTimeoutMs ?? 30_000,
  );
  await until(async () => (await birdc('show', 'status').catch(() => '')).includes('Daemon is up'), 20_000, 'receiving BIRD up', 50);
  const count = async (): Promise<number> => {
    const m = /(\d+) of (\d+) routes/.exec(await birdc('show', 'route', 'count').catch(() => ''));
    return m ? Number(m[1]) : 0;
  };
  const established = async (): Promise<boolean> => /Established/.test(await birdc('show', 'protocols', 'n1').catch(() => ''));
  return {
    birdc,
    count,
    established,
    async measure({ n, establishedMs, allMs, everyMs, onCount }) {
      await until(established, establishedMs, 'receiver Established', 5);
      const t0 = performance.now();
      let p99 = 0;
      await until(async () => {
        const c = await count();
        onCount?.(c, performance.now() - t0);
        if (!p99 && c >= 0.99 * n) p99 = performance.now() - t0;
        return c >= n;
      }, allMs, `${n} routes in the receiver`, everyMs);
      return { all: performance.now() - t0, p99 };
    },
    async drained(ms) {
      await until(async () => !(await established()) && (await count()) === 0, ms, 'receiver drained', 50);
      await new Promise((r) => setTimeout(r, 2500)); // error wait time
    },
  };
}

/** The sending BIRD: `n` /32 statics from {@link BASE}; its BGP protocol `up` starts disabled. */
export interface StaticSender {
  child: ChildProcess;
  birdc: (...a: string[]) => Promise<string>;
}

/** Starts the sending BIRD in node 1 and waits until its statics are loaded (`readyMs` at the most). */
export async function startStaticSender(lab: Lab, o: ReceiverOptions & { n: number; readyMs: number }): Promise<StaticSender> {
  const statics: string[] = [];
  for (let i = 0; i < o.n; i++) statics.push(`route ${ip(BASE + i)}/32 blackhole;`);
  const s = spawnBird(
    lab,
    lab.nodes[0]!,
    o.dir,
    `log stderr { warning, error, fatal };
router id 10.0.0.11;
protocol device { scan time 10; }
protocol static s4 { ipv4; ${statics.join('\n')} }
protocol bgp up {
  disabled on;
  local 10.0.0.11 as 64513; neighbor 10.0.0.1 as 64512;
  hold time ${o.holdTime}; connect retry time 1;
  ipv4 { import none; export all; next hop self; };
}
`,
    o.birdcTimeoutMs ?? 30_000,
  );
  await until(async () => /^s4\s.*\bup\b/m.test(await s.birdc('show', 'protocols').catch(() => '')), o.readyMs, 'sending BIRD statics loaded', 200);
  return s;
}
