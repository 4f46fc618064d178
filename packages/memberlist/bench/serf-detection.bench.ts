/**
 * Failure detection on 127.0.0.1 against a real `serf agent` (Debian serf 0.9.4, memberlist 0.2.2),
 * measured in the same run as serf detecting serf: SIGKILL → `fail` event (ours) or the
 * `EventMemberFailed` log line (serf), 2-node clusters, fresh processes each trial.
 * Trials per row via MLE_BENCH_TRIALS (default 5).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createMemberlist, type NetMemberlist } from '@lbkit/memberlist';
import { SerfAgent, sleep } from '../test/interop/serf-agent.js';

const trials = Number(process.env.MLE_BENCH_TRIALS ?? 5);
const out = process.env.LBKIT_BENCH_OUT;
const tag = `mleb-${process.pid}`;
let seq = 0;

async function ours(timings: 'lan' | 'fast', seed?: number): Promise<NetMemberlist> {
  return createMemberlist({
    name: `${tag}-ts-${++seq}`, profile: 'serf', bindAddr: '127.0.0.1', bindPort: 0, timings,
    ...(seed ? { seeds: [`127.0.0.1:${seed}`] } : {}),
  });
}

function failOf(n: NetMemberlist, who: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no fail for ${who}`)), timeoutMs);
    n.memberlist.on('fail', (m) => {
      if (m.name === who) { clearTimeout(t); resolve(performance.now()); }
    });
  });
}

type Trial = () => Promise<number>;

const serfDetectsSerf: Trial = async () => {
  const a = await SerfAgent.start({ name: `${tag}-sa-${++seq}` });
  const b = await SerfAgent.start({ name: `${tag}-sb-${++seq}`, join: `127.0.0.1:${a.port}` });
  try {
    await a.waitStatus(b.name, 'alive', 10_000);
    await sleep(2000);
    const seen = a.waitLog(new RegExp(`EventMemberFailed: ${b.name}`), 60_000);
    const t0 = performance.now();
    b.kill();
    return (await seen) - t0;
  } finally { a.dispose(); b.dispose(); }
};

const oursDetectsSerf = (timings: 'lan' | 'fast'): Trial => async () => {
  const s = await SerfAgent.start({ name: `${tag}-s-${++seq}` });
  const n = await ours(timings, s.port);
  try {
    await s.waitStatus(n.memberlist.name, 'alive', 10_000);
    await sleep(2000);
    const seen = failOf(n, s.name, 60_000);
    const t0 = performance.now();
    s.kill();
    return (await seen) - t0;
  } finally { n.close(); s.dispose(); }
};

const serfDetectsOurs: Trial = async () => {
  const s = await SerfAgent.start({ name: `${tag}-s-${++seq}` });
  const n = await ours('lan', s.port);
  try {
    await s.waitStatus(n.memberlist.name, 'alive', 10_000);
    await sleep(2000);
    const seen = s.waitLog(new RegExp(`EventMemberFailed: ${n.memberlist.name}`), 60_000);
    const t0 = performance.now();
    n.close();
    return (await seen) - t0;
  } finally { n.close(); s.dispose(); }
};

const rows: { what: string; ms: number[] }[] = [];
for (const [what, fn] of [
  ['serf detects a killed serf (reference)', serfDetectsSerf],
  ['our node (LAN timings) detects a killed serf', oursDetectsSerf('lan')],
  ['serf detects our closed node (LAN timings)', serfDetectsOurs],
  ['our node (fast timings) detects a killed serf', oursDetectsSerf('fast')],
] as const) {
  const ms: number[] = [];
  for (let i = 0; i < trials; i++) {
    ms.push(await fn());
    console.error(`[serf-detection] ${what}: ${(ms[i]! / 1000).toFixed(2)} s`);
  }
  rows.push({ what, ms });
}
const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const ref = mean(rows[0]!.ms);
const lines = [
  '## @lbkit/memberlist: failure detection against a real serf agent',
  '',
  `127.0.0.1, 2-node clusters (serf 0.9.4 = memberlist 0.2.2, DefaultLANConfig), fresh processes per trial, ${trials} trials per row; time from SIGKILL/close to the \`fail\` event (ours) or serf's \`EventMemberFailed\` log line.`,
  '',
  '| case | mean (s) | min (s) | max (s) | ratio to serf↔serf |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.what} | ${(mean(r.ms) / 1000).toFixed(2)} | ${(Math.min(...r.ms) / 1000).toFixed(2)} | ${(Math.max(...r.ms) / 1000).toFixed(2)} | ${(mean(r.ms) / ref).toFixed(2)} |`),
  '',
];
if (out) writeFileSync(out, lines.join('\n')); else appendFileSync('/dev/stdout', lines.join('\n'));
process.exit(0);
