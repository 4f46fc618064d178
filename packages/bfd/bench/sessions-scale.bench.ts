// 1000 BFD sessions on one node: one @lbkit/bfd manager (one receive socket, one transmit socket)
// runs N sessions with FRR bfdd, which has N peers on N addresses of its namespace. The sessions
// are RFC 5883 multihop (port 4784): FRR 8.4 keys single-hop sessions by peer address and refuses
// N single-hop peers that differ only by local address; our code path is the same but for the port. Measures, over
// a steady window: CPU of our process vs bfdd's (the real peer, same run, same packet rate), the
// packets received vs the number expected from the negotiated intervals, and flaps on either side.
// Writes one Markdown section to $LBKIT_BENCH_OUT; progress on stderr.
import { mkdtempSync, readFileSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../test-utils/netns.js';
import { Agent, buildDist, buildLab, kill, startBfdd, until } from '../test/interop/lab.js';

const WINDOW_S = Number(process.env.LBKIT_BFD_WINDOW_S ?? 10);
/** sessions@interval runs, in order */
const RUNS = (process.env.LBKIT_BFD_RUNS ?? '1000@300,1000@100,250@100').split(',').map((r) => r.split('@').map(Number) as [number, number]);
const N = Math.max(...RUNS.map(([n]) => n));
const log = (s: string): void => void process.stderr.write(`[bfd scale] ${s}\n`);
const CLK = 100; // USER_HZ

/** UDP RcvbufErrors of a namespace (datagrams the kernel dropped because a socket buffer was full). */
async function rcvbufErrors(ns: string): Promise<number> {
  const t = (await sh('cat', ['/proc/net/snmp'], { ns })).split('\n').filter((l) => l.startsWith('Udp:'));
  const head = t[0]!.split(/\s+/);
  return Number(t[1]!.split(/\s+/)[head.indexOf('RcvbufErrors')]);
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK;
}

const addr = (i: number) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

interface Row {
  n: number;
  interval: number;
  up: number;
  upMs: number;
  oursCpu: number;
  frrCpu: number;
  rxExpected: number;
  rxGot: number;
  flapsOurs: number;
  flapsFrr: number;
  detect: number;
  peerDown: number;
  /** longest gap between two of our packets on one session, ms */
  maxTxGap: number;
  /** sessions where FRR's packets came more than a detection time apart */
  lateRx: number;
  loopP99: number;
  loopMax: number;
  bufDrops: number;
  maxRss: number;
}

async function run(N: number, interval: number): Promise<Row> {
  const lab = await buildLab(1);
  const dir = mkdtempSync(join(tmpdir(), 'lbk-bfd-scale-'));
  chmodSync(dir, 0o755);
  let bfdd = 0;
  try {
    const ns = lab.nodes[0]!;
    // the router namespace gets N addresses; the node one (10.0.0.11)
    const batch = Array.from({ length: N }, (_, i) => `address add ${addr(i)}/16 dev br0`).join('\n');
    writeFileSync(join(dir, 'addrs'), batch + '\n');
    await sh('ip', ['-batch', join(dir, 'addrs')], { ns: lab.rtr });
    await sh('ip', ['route', 'add', '10.1.0.0/16', 'via', '10.0.0.1'], { ns });
    const peers = Array.from({ length: N }, (_, i) => ` peer 10.0.0.11 multihop local-address ${addr(i)}\n  receive-interval ${interval}\n  transmit-interval ${interval}\n  detect-multiplier 3\n !`).join('\n');
    bfdd = await startBfdd(lab.rtr, dir, `bfd\n${peers}\n!\n`);
    const agent = new Agent(lab, ns);
    await agent.waitEvent((e) => e.ev === 'ready', 10_000, 'agent ready');
    const t0 = Date.now();
    for (let i = 0; i < N; i++) agent.send({ cmd: 'add', peer: addr(i), local: '10.0.0.11', multihop: true, transmitInterval: interval, receiveInterval: interval, detectMultiplier: 3 });
    let lastLog = 0;
    await until(async () => {
      const st = await agent.status();
      const up = st.sessions.filter((s) => s.state === 'Up' && s.txIntervalMs === interval).length;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`${up}/${st.sessions.length} Up at ${interval} ms; stats ${JSON.stringify(st.stats)}; cpu ours ${cpuMs(agent.child.pid!)} ms, bfdd ${cpuMs(bfdd)} ms`);
      }
      return up === N;
    }, 420_000, `${N} sessions Up at ${interval} ms`, 1000);
    const upMs = Date.now() - t0;
    log(`${N} sessions Up at ${interval} ms after ${upMs} ms`);
    await new Promise((r) => setTimeout(r, 2000));
    agent.send({ cmd: 'reset' });
    const s0 = await agent.status();
    const drops0 = await rcvbufErrors(ns);
    const ours0 = cpuMs(agent.child.pid!);
    const frr0 = cpuMs(bfdd);
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const s1 = await agent.status();
    const drops1 = await rcvbufErrors(ns);
    const ours1 = cpuMs(agent.child.pid!);
    const frr1 = cpuMs(bfdd);
    const secs = (Date.now() - w0) / 1000;
    // FRR sends at 75–100 % of the interval (jitter): expected packets ≥ secs / interval per session
    const rxExpected = Math.round((N * secs * 1000) / interval / 0.875);
    const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const row: Row = {
      n: N,
      interval,
      up: s1.sessions.filter((s) => s.state === 'Up').length,
      upMs,
      oursCpu: ((ours1 - ours0) / 1000 / secs) * 100,
      frrCpu: ((frr1 - frr0) / 1000 / secs) * 100,
      rxExpected,
      rxGot: s1.stats.packetsIn - s0.stats.packetsIn,
      flapsOurs: s1.sessions.reduce((a, s) => a + s.stats.downCount, 0) - s0.sessions.reduce((a, s) => a + s.stats.downCount, 0),
      flapsFrr: s1.sessions.filter((s) => s.remoteState !== 'Up').length,
      detect: s1.sessions.reduce((a, s) => a + s.stats.detectionTimeouts, 0) - s0.sessions.reduce((a, s) => a + s.stats.detectionTimeouts, 0),
      maxTxGap: Math.max(...s1.sessions.map((s) => s.stats.maxTxGapMs)),
      lateRx: s1.sessions.filter((s) => s.stats.maxRxGapMs > 3 * interval).length,
      bufDrops: drops1 - drops0,
      loopP99: (s1 as any).loopDelayMs.p99,
      loopMax: (s1 as any).loopDelayMs.max,
      peerDown: s1.sessions.reduce((a, s) => a + s.stats.peerSignalledDowns, 0) - s0.sessions.reduce((a, s) => a + s.stats.peerSignalledDowns, 0),
      maxRss: rss,
    };
    log(JSON.stringify(row));
    agent.send({ cmd: 'stop' });
    await new Promise((r) => setTimeout(r, 500));
    return row;
  } finally {
    kill(bfdd);
    await lab.topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
await buildDist();
for (const [n, i] of RUNS) rows.push(await run(n, i));

const md = [
  `## bfd: ${N} BFD sessions on one node against FRR bfdd`,
  '',
  'One @lbkit/bfd manager (one UDP receive socket with the TTL BPF filter, one transmit socket) runs N',
  'sessions with FRR 8.4 bfdd, which has N peers on N addresses of the router namespace (detect multiplier 3). The',
  'sessions are multihop (UDP 4784; FRR keys single-hop sessions by peer address only); the engine path is the same.',
  `Steady window of ${WINDOW_S} s after every session is Up at the negotiated interval. CPU is user+system time of the`,
  'process over the window (100 % = one core); FRR bfdd is the real peer doing the same work in the same run.',
  '"packets in / expected": control packets our manager received vs the count FRR should have sent at its mean',
  'jittered interval (87.5 % of the interval). Downs: sessions leaving Up during the window because our detection timer',
  'expired (FRR\'s packets late or lost) or because FRR signalled Down (its timer expired: ours late or lost). "Longest TX gap"',
  'is the longest interval between two of our packets on one Up session (must stay under the detection time, except right after',
  'a flap: FRR then advertises RequiredMinRx 1 s until its Poll sequence ends, and we may not send faster); "FRR gap" the',
  "same for FRR's packets as we received them. FRR needs ~2.5 min to read a 1000-peer config (its own CPU-hog warning), not counted.",
  'The machine is a shared 2-core VM (other jobs running): expect noise.',
  '',
  '| sessions × interval | sessions Up at the end | time to all Up | our CPU | FRR bfdd CPU | ratio ours/FRR | packets in / expected | downs in the window: our detection timeouts / FRR-signalled | our longest TX gap | sessions with an FRR gap > detection time | UDP receive-buffer drops (node) | event-loop delay p99 / max | our max RSS |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.n} × ${r.interval} ms (× 3) | ${r.up}/${r.n} | ${(r.upMs / 1000).toFixed(1)} s | ${r.oursCpu.toFixed(1)} % | ${r.frrCpu.toFixed(1)} % | ${(r.oursCpu / Math.max(0.1, r.frrCpu)).toFixed(1)}× | ${r.rxGot} / ${r.rxExpected} (${((100 * r.rxGot) / r.rxExpected).toFixed(1)} %) | ${r.detect} / ${r.peerDown} | ${r.maxTxGap.toFixed(0)} ms | ${r.lateRx} | ${r.bufDrops} | ${r.loopP99.toFixed(1)} / ${r.loopMax.toFixed(1)} ms | ${r.maxRss.toFixed(0)} MiB |`),
  '',
];
const text = md.join('\n');
if (process.env.LBKIT_BENCH_OUT) writeFileSync(process.env.LBKIT_BENCH_OUT, text);
process.stdout.write(text + '\n');
