// Membership under stress, on real sockets in network namespaces (3 nodes on a bridge):
// 1. Timing profiles under packet loss: nftables `numgen random` drops N % of the UDP/TCP packets
//    arriving in every node's namespace. For each profile and loss: false failures (a live node
//    declared dead, i.e. a false L2 failover) over a window, then SIGKILL of one node and the time
//    until both survivors declare it dead. Real peer in the same run: three hashicorp/memberlist
//    v0.5.1 nodes (ml-agent, DefaultLANConfig, what MetalLB runs) under the same loss.
// 2. A busy main thread: one node's main thread runs synchronous loops (1.5 s busy, 0.2 s free) while
//    two peers with fast timings watch it; engine in a worker thread vs on the main thread.
// Uses the built package (dist/, `tsc -b`). Writes one Markdown section to $LBKIT_BENCH_OUT.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Topology, sh } from '../../../test-utils/netns.js';
import { JsonlProc, ML_AGENT } from '../test/interop/jsonl-proc.js';

const out = process.env.LBKIT_BENCH_OUT;
const WINDOW_S = Number(process.env.LBKIT_BENCH_WINDOW_S ?? 60);
const KILLS = Number(process.env.LBKIT_BENCH_KILLS ?? 2);
const title = '## memberlist: timing profiles under loss, busy main thread (namespaces, vs hashicorp/memberlist 0.5.1)';
const NODE = fileURLToPath(new URL('../test/interop/ml-node.mjs', import.meta.url));
const log = (s: string): void => void process.stderr.write(`[membership bench] ${s}\n`);
const ip = (i: number): string => `10.78.0.${i + 1}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Impl = { kind: 'lbkit'; timings: 'lan' | 'fast'; thread: 'worker' | 'main' } | { kind: 'go' };
const label = (x: Impl): string => (x.kind === 'go' ? 'hashicorp/memberlist 0.5.1 (ml-agent), DefaultLANConfig' : `@lbkit/memberlist \`${x.timings}\`${x.thread === 'main' ? ', engine on the main thread' : ''}`);

class Lab {
  readonly topo = new Topology('mlst');
  readonly ns: string[] = [];
  procs: JsonlProc[] = [];
  async up(n: number): Promise<void> {
    const sw = await this.topo.addNamespace('sw');
    await this.topo.addBridge(sw);
    for (let i = 0; i < n; i++) {
      const ns = await this.topo.addNamespace(`n${i}`);
      await this.topo.connect(ns, 'eth0', sw, 'br0', [`${ip(i)}/24`]);
      this.ns.push(ns);
    }
  }
  spawn(i: number, impl: Impl, join: boolean): JsonlProc {
    const name = `m${i}`;
    const seed = join ? [`${ip(0)}:7946`] : [];
    const child: ChildProcess =
      impl.kind === 'go'
        ? this.topo.spawnIn(this.ns[i]!, ML_AGENT, ['-name', name, '-bind', ip(i), '-port', '7946', ...(seed.length ? ['-join', seed.join(',')] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
        : this.topo.spawnIn(this.ns[i]!, process.execPath, [NODE, '--name', name, '--bind', ip(i), '--port', '7946', '--timings', impl.timings, '--thread', impl.thread, ...(seed.length ? ['--join', seed.join(',')] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new JsonlProc(name, child);
    this.procs[i] = p;
    return p;
  }
  async loss(pct: number): Promise<void> {
    for (const ns of this.ns) {
      await sh('nft', ['add', 'table', 'inet', 'lbkloss'], { ns });
      await sh('nft', ['add chain inet lbkloss in { type filter hook input priority 0 ; policy accept ; }'], { ns });
      if (pct > 0) await sh('nft', [`add rule inet lbkloss in meta l4proto { udp, tcp } numgen random mod 100 < ${pct} drop`], { ns });
    }
  }
  async down(): Promise<void> {
    for (const p of this.procs) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
    await this.topo.destroy();
  }
}

const isDead = (l: { ev: string }) => l.ev === 'fail' || l.ev === 'leave';

/** Starts 3 nodes and waits until every node saw the two others join. */
async function cluster(lab: Lab, impl: Impl): Promise<void> {
  const a = lab.spawn(0, impl, false);
  await a.wait((l) => l.ev === 'ready', 15_000);
  for (let i = 1; i < 3; i++) lab.spawn(i, impl, true);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) if (i !== j) await lab.procs[i]!.wait((l) => l.ev === 'join' && l.node === `m${j}`, 20_000);
}

interface LossResult {
  impl: Impl;
  loss: number;
  falseFails: number;
  windowS: number;
  detect: number[];
  error?: string;
}

async function lossRun(impl: Impl, loss: number): Promise<LossResult> {
  const r: LossResult = { impl, loss, falseFails: 0, windowS: WINDOW_S, detect: [] };
  const lab = new Lab();
  try {
    await lab.up(3);
    await cluster(lab, impl);
    await lab.loss(loss);
    const from = lab.procs.map((p) => p.lines.length);
    await sleep(WINDOW_S * 1000);
    r.falseFails = lab.procs.reduce((s, p, i) => s + p.lines.slice(from[i]).filter(isDead).length, 0);
    for (let k = 0; k < KILLS; k++) {
      const victim = lab.procs[2]!;
      const marks = lab.procs.map((p) => p.lines.length);
      const t0 = Date.now();
      victim.child.kill('SIGKILL');
      const seen = await Promise.all([0, 1].map((i) => lab.procs[i]!.wait((l) => isDead(l) && l.node === 'm2', 60_000, marks[i])));
      r.detect.push(Math.max(...seen.map((l) => l.t)) - t0);
      // any other death seen meanwhile is a false failure too
      r.falseFails += [0, 1].reduce((s, i) => s + lab.procs[i]!.lines.slice(marks[i]).filter((l) => isDead(l) && l.node !== 'm2').length, 0);
      log(`${label(impl)} loss ${loss}%: kill ${k + 1}/${KILLS} detected by both survivors in ${r.detect.at(-1)} ms`);
      if (k + 1 < KILLS) {
        await new Promise<void>((res) => (victim.child.exitCode !== null || victim.child.signalCode ? res() : victim.child.once('exit', () => res())));
        const back = lab.procs.map((p) => p.lines.length);
        lab.spawn(2, impl, true);
        for (const i of [0, 1]) await lab.procs[i]!.wait((l) => l.ev === 'join' && l.node === 'm2', 30_000, back[i]);
        await sleep(2000);
      }
    }
    log(`${label(impl)} loss ${loss}%: ${r.falseFails} false failures in ${WINDOW_S} s`);
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
    log(`${label(impl)} loss ${loss}%: FAILED ${r.error}`);
  } finally {
    await lab.down();
  }
  return r;
}

interface BusyResult {
  thread: 'worker' | 'main';
  falseFails: number;
  busyS: number;
  /** SIGKILL of m2 while m0 is busy: when m1, m0's engine and m0's main thread saw it dead (ms). */
  detectPeer?: number;
  detectEngine?: number;
  detectMain?: number;
  error?: string;
}

async function busyRun(thread: 'worker' | 'main'): Promise<BusyResult> {
  const busyS = 20;
  const r: BusyResult = { thread, falseFails: 0, busyS };
  const lab = new Lab();
  try {
    await lab.up(3);
    await cluster(lab, { kind: 'lbkit', timings: 'fast', thread: 'worker' });
    // replace node 0 by one with the engine on the requested thread
    const marks0 = lab.procs.map((p) => p.lines.length);
    lab.procs[0]!.send('quit');
    await Promise.all([1, 2].map((i) => lab.procs[i]!.wait((l) => isDead(l) && l.node === 'm0', 20_000, marks0[i])));
    const back = lab.procs.map((p) => p.lines.length);
    const busy = lab.spawn(0, { kind: 'lbkit', timings: 'fast', thread }, false);
    await busy.wait((l) => l.ev === 'ready', 15_000);
    busy.send(`join ${ip(1)}:7946`);
    for (const i of [1, 2]) await lab.procs[i]!.wait((l) => l.ev === 'join' && l.node === 'm0', 20_000, back[i]);
    await sleep(1000);
    const from = lab.procs.map((p) => p.lines.length);
    busy.send(`busyloop ${busyS * 1000} 1500 200`);
    await busy.wait((l) => l.ev === 'busyloopDone', busyS * 1000 + 10_000, from[0]);
    await sleep(1000);
    r.falseFails = [1, 2].reduce((s, i) => s + lab.procs[i]!.lines.slice(from[i]).filter((l) => isDead(l) && l.node === 'm0').length, 0);
    log(`busy main thread, engine on ${thread}: peers declared it dead ${r.falseFails} times in ${busyS} s`);
    // detection while busy: kill m2 during another busy loop
    await sleep(3000);
    const marks = lab.procs.map((p) => p.lines.length);
    busy.send('busyloop 8000 1500 200');
    await sleep(200); // the kill lands early in a 1.5 s busy stretch
    const t0 = Date.now();
    lab.procs[2]!.child.kill('SIGKILL');
    const peer = await lab.procs[1]!.wait((l) => isDead(l) && l.node === 'm2', 30_000, marks[1]);
    const main = await busy.wait((l) => isDead(l) && l.node === 'm2', 30_000, marks[0]);
    const engine = thread === 'worker' ? await busy.wait((l) => l.ev === 'engine:fail' && l.node === 'm2', 5000, marks[0]) : undefined;
    r.detectPeer = peer.t - t0;
    r.detectMain = main.t - t0;
    r.detectEngine = engine ? Number(engine.at) - t0 : r.detectMain;
    log(`busy ${thread}: m2 killed, seen dead by m1 ${r.detectPeer} ms, m0's engine ${r.detectEngine} ms, m0's main thread ${r.detectMain} ms`);
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
    log(`busy ${thread}: FAILED ${r.error}`);
  } finally {
    await lab.down();
  }
  return r;
}

function missing(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('sh', ['-c', `command -v nft && test -x ${ML_AGENT}`], { stdio: 'ignore' });
  } catch {
    return `missing nft or ${ML_AGENT}`;
  }
  return null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<boolean> {
  const why = missing();
  if (why) {
    if (out) writeFileSync(out, `${title}\n\nNot measured: ${why}.\n`);
    return true;
  }
  execFileSync('npx', ['tsc', '-b', fileURLToPath(new URL('..', import.meta.url))], { stdio: 'inherit' });
  const t0 = Date.now();
  const impls: Impl[] = [{ kind: 'lbkit', timings: 'fast', thread: 'worker' }, { kind: 'lbkit', timings: 'lan', thread: 'worker' }, { kind: 'go' }];
  const only = process.env.LBKIT_BENCH_PARTS?.split(',');
  const loss: LossResult[] = [];
  if (!only || only.includes('loss')) {
    for (const l of [1, 5]) for (const impl of impls) loss.push(await lossRun(impl, l));
    loss.push(await lossRun(impls[0]!, 10)); // margin of the default profile
  }
  const busy: BusyResult[] = [];
  if (!only || only.includes('busy')) for (const th of ['worker', 'main'] as const) busy.push(await busyRun(th));
  const wall = ((Date.now() - t0) / 1000).toFixed(0);
  const f = (v: number) => v.toFixed(0);
  const goFor = (l: number) => loss.find((x) => x.impl.kind === 'go' && x.loss === l && !x.error && x.detect.length);
  const lossRows = loss.map((x) => {
    if (x.error || !x.detect.length) return `| ${label(x.impl)} | ${x.loss} % | FAILED: ${x.error ?? 'no kill measured'} | | | |`;
    const go = goFor(x.loss);
    const ratio = go && x.impl.kind !== 'go' ? `${(median(x.detect) / median(go.detect)).toFixed(2)}×` : '—';
    return `| ${label(x.impl)} | ${x.loss} % | **${x.falseFails}** in ${x.windowS} s | **${f(median(x.detect))}** | ${x.detect.map(f).join(', ')} | ${ratio} |`;
  });
  const busyRows = busy.map((x) =>
    x.error
      ? `| engine on the ${x.thread} thread | FAILED: ${x.error} | | | |`
      : `| engine on the ${x.thread} thread${x.thread === 'worker' ? ' (createMemberlistWorker, default in lbkitd)' : ' (createMemberlist)'} | **${x.falseFails}** in ${x.busyS} s | ${x.detectPeer ?? '—'} | **${x.detectEngine ?? '—'}** | ${x.detectMain ?? '—'} |`,
  );
  const md = `${title}

Lab: 3 network namespaces on a bridge, one node per namespace (our nodes: \`test/interop/ml-node.mjs\` on the build,
engine in a worker thread unless stated; Go: \`ml-agent\`, hashicorp/memberlist v0.5.1 with DefaultLANConfig).
Loss: nftables \`meta l4proto { udp, tcp } numgen random mod 100 < N drop\` on input in every node's namespace (each
packet, ping or ack, is lost with probability N %). **False failures**: \`fail\`/\`leave\` events about a live node
seen by any node during a ${WINDOW_S} s window under loss (each one would move a VIP: a false L2 failover), plus any
seen about the live nodes during the kills. **Detection**: SIGKILL of one node under the same loss → both survivors
declared it dead (max of the two), ${KILLS} kills per row (the node is restarted in between). Same run, one
configuration after another, on a 2-core machine shared with other jobs (expect noise). Whole bench: ${wall} s.
The \`fast\` row at 10 % loss shows the margin of lbkitd's default profile (\`fast\` since this bench: no false
failure at 1 % or 5 % loss, detection ~12× faster than \`lan\` and Go's DefaultLANConfig).

| implementation / profile | loss | false failures | detection median ms | detection per kill ms | ratio to Go (same loss) |
|---|---|---|---|---|---|
${lossRows.join('\n')}

Busy main thread: node m0's main thread runs synchronous loops (1.5 s busy, 0.2 s free) for 20 s while the two
other nodes (fast timings: 100 ms probes, ~0.3–1.8 s suspicion) watch it; how often they declare the live m0 dead.
Then, during another such loop, m2 is SIGKILLed: when m1 (idle), m0's engine (the worker's own event timestamp) and
m0's main thread (when the event reached it) saw m2 dead, ms after the kill.

| m0 | times declared dead by its peers | m2 dead at m1 ms | at m0's engine ms | at m0's main thread ms |
|---|---|---|---|---|
${busyRows.join('\n')}
`;
  if (out) writeFileSync(out, md);
  process.stdout.write(md);
  return loss.every((x) => !x.error) && busy.every((x) => !x.error);
}

main().then(
  (good) => process.exit(good ? 0 : 1),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
