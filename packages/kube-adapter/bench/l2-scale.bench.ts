// L2 data path at scale, lbkit vs keepalived (Debian, VRRP + the kernel answering ARP) in the same lab
// and run: 3 speaker namespaces + a client on one bridge. lbkit side: lbkitd's L2 backend
// (LbkitL2Announcer → ArpSpeaker → afpacket NativeResponder) in a process per node
// (l2-scale-fixture.ts). Load and probes from a small C tool in the client namespace (l2-arpgen.c,
// compiled here with gcc). Measured (N VIPs, default 5000, LBKIT_L2_SCALE_VIPS):
// - announce → all N answering ARP (client probes every VIP until each answered once);
// - 3 owners with disjoint thirds, then a planned hand-over of everything to node1 while node2/node3
//   drain: answers per MAC, VIPs answered by more than one node (wrong-node answers);
// - failover data path: the owner is SIGKILLed and the next node takes all N: command → last of N
//   distinct gratuitous ARPs at the client, and the burst's span (first → last GARP);
// - a burst of 1000 ARP requests, and a flood at 50 kpps: answered fraction, reply latency;
// keepalived: 3 VRRP nodes with the same N VIPs (advert_int 1): start → all answering, crash
// failover (link down + SIGKILL of the master) → last GARP, burst span, and the same burst/flood
// against the kernel of the master. Membership (failure detection) is not part of the lbkit side:
// see the memberlist benches; keepalived's number includes its VRRP detection (3 × advert + skew).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arpTargetFilter, ipv4Key } from '@lbkit/afpacket';
import { Topology, sh } from '../../../test-utils/netns.js';
import { addL2Lab, sleep, startLineFixture, type LineProc } from '../../../test-utils/l2-lab.js';
import { ipAdd, listenGarps, type Garps } from '../test/interop/l2-lab.js';

const N = Number(process.env.LBKIT_L2_SCALE_VIPS ?? 5000);
const FLOOD = Number(process.env.LBKIT_L2_SCALE_FLOOD ?? 100_000);
const RATE = Number(process.env.LBKIT_L2_SCALE_RATE ?? 55_000); // offered; the achieved rate is reported
const out = process.env.LBKIT_BENCH_OUT;
const title = '## kube-adapter: L2 data path at scale (lbkit native responder vs keepalived + kernel)';
const FIRST = '10.79.100.1';
const CLIENT_IP = '10.79.0.10';
const FIRST6 = 'fd00:79::1:0';
const CLIENT_IP6 = 'fd00:79::10';
const log = (s: string): void => void process.stderr.write(`[l2-scale bench] ${s}\n`);
const fixture = fileURLToPath(new URL('./l2-scale-fixture.ts', import.meta.url));
const genSrc = fileURLToPath(new URL('./l2-arpgen.c', import.meta.url));

interface Probe {
  vips: number;
  answered: number;
  multi: number;
  t0Epoch: number;
  lastFirstAnswerMs: number;
  byMac: Record<string, number>;
}
interface Flood {
  sent: number;
  replies: number;
  answered: number;
  p50us: number;
  p99us: number;
  ratePps: number;
}
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lbkit-l2scale-'));
  const gen = join(dir, 'l2-arpgen');
  execFileSync('gcc', ['-O2', '-o', gen, genSrc]);
  const topo = new Topology('l2s');
  const md: string[] = [];
  const t0wall = Date.now();
  try {
    const lab = await addL2Lab(topo, { addrs: [`${CLIENT_IP}/16`, '10.79.0.11/16', '10.79.0.12/16'], ipv6: true });
    await sh('ip', ['-6', 'addr', 'add', `${CLIENT_IP6}/64`, 'dev', 'eth0', 'nodad'], { ns: lab.client });
    const node3 = await topo.addNamespace('n3');
    const mac3 = await topo.connect(node3, 'eth0', lab.sw, 'br0', ['10.79.0.13/16']);
    const nodes = [lab.node1, lab.node2, node3];
    const macs = [lab.mac1, lab.mac2, mac3];
    const run = async <T>(...args: string[]): Promise<T> => JSON.parse((await sh(gen, args, { ns: lab.client, timeoutMs: 120_000 })).trim().split('\n').pop()!) as T;
    const probe = (rounds = 50, waitMs = 30): Promise<Probe> => run<Probe>('probe', 'eth0', CLIENT_IP, FIRST, String(N), String(waitMs), String(rounds));
    const flood = (count: number, rate: number): Promise<Flood> => run<Flood>('flood', 'eth0', CLIENT_IP, FIRST, String(N), String(count), String(rate));
    /** Starts the GARP listener; resolves its result when N distinct VIPs were seen (or after timeoutMs). */
    const garps = (timeoutMs: number): Promise<() => Promise<Garps>> => listenGarps(topo, lab.client, gen, [FIRST, String(N), String(timeoutMs)]);
    const mac = (m: string): string => (m === lab.mac1 ? 'node1' : m === lab.mac2 ? 'node2' : m === mac3 ? 'node3' : m);
    const byNode = (p: Probe): string => Object.entries(p.byMac).map(([m, n]) => `${mac(m)} ${n}`).join(', ') || 'none';

    // ---------------- lbkit ----------------
    log(`lbkit: starting 3 speaker processes (N = ${N})`);
    const procs: LineProc[] = [];
    for (const ns of nodes) procs.push(await startLineFixture(topo, ns, fixture, { ready: /^ready$/, env: { LBKIT_DRAIN_MS: '120000' } }));
    const lb: Record<string, string> = {};

    // announce → all answering
    const pAll = probe(100, 20);
    await sleep(5);
    const ann = (await procs[0]!.cmd(`announce ${FIRST} ${N}`, /^announced /)).split(' ');
    const p1 = await pAll;
    const annAt = Number(ann[2]);
    const allMs = p1.t0Epoch + p1.lastFirstAnswerMs - annAt;
    lb.start = `${allMs.toFixed(0)} ms (${p1.answered}/${N} answered; the announce loop itself took ${ann[3]} ms)`;
    log(`lbkit announce → all answering: ${lb.start}`);

    // burst and flood against node1 (the stats call resets the event-loop delay histogram)
    await procs[0]!.cmd('stats', /^stats /);
    const burst = await flood(1000, 0);
    const fl = await flood(FLOOD, RATE);
    const st1 = JSON.parse((await procs[0]!.cmd('stats', /^stats /)).slice(6)) as Record<string, number>;
    lb.burst = `${(burst.answered * 100).toFixed(1)} % (${burst.replies}/${burst.sent}), p50 ${burst.p50us.toFixed(0)} µs, p99 ${burst.p99us.toFixed(0)} µs`;
    lb.flood = `${(fl.answered * 100).toFixed(2)} % of ${fl.sent} at ${fl.ratePps.toFixed(0)} pps, p50 ${fl.p50us.toFixed(0)} µs, p99 ${fl.p99us.toFixed(0)} µs`;
    lb.loop = `event-loop delay during the flood: max ${st1.loopDelayMaxMs?.toFixed(1)} ms, p99 ${st1.loopDelayP99Ms?.toFixed(1)} ms`;
    log(`lbkit burst ${lb.burst}; flood ${lb.flood}; ${lb.loop}`);

    // three owners with disjoint thirds, then everything back to node1 while node2/node3 drain
    const third = Math.floor(N / 3);
    await procs[0]!.cmd(`withdraw ${FIRST} ${N}`, /^withdrawn /);
    await sleep(50);
    // node1 drained everything above; give the thirds to their owners (node1 keeps the first third)
    await procs[0]!.cmd(`announce ${FIRST} ${third}`, /^announced /);
    await procs[1]!.cmd(`announce ${ipAdd(FIRST, third)} ${third}`, /^announced /);
    await procs[2]!.cmd(`announce ${ipAdd(FIRST, 2 * third)} ${N - 2 * third}`, /^announced /);
    await sleep(100);
    const split = await probe(3, 100);
    lb.split = `${split.answered}/${N} answered, ${split.multi} by more than one node (${byNode(split)})`;
    await procs[1]!.cmd(`withdraw ${ipAdd(FIRST, third)} ${third}`, /^withdrawn /);
    await procs[2]!.cmd(`withdraw ${ipAdd(FIRST, 2 * third)} ${N - 2 * third}`, /^withdrawn /);
    await procs[0]!.cmd(`announce ${FIRST} ${N}`, /^announced /);
    await sleep(100);
    const back = await probe(3, 100);
    lb.drain = `${back.answered}/${N} answered, ${back.multi} by more than one node (${byNode(back)})`;
    log(`lbkit split: ${lb.split}; after hand-over with drain: ${lb.drain}`);

    // failover: node1 crashes (SIGKILL), node2 takes all N
    const g = await garps(15_000);
    procs[0]!.child.kill('SIGKILL');
    const take = (await procs[1]!.cmd(`announce ${FIRST} ${N}`, /^announced /)).split(' ');
    const gr = await g();
    const takeAt = Number(take[2]);
    lb.failover = `${(gr.lastMs - takeAt).toFixed(0)} ms to the last of ${gr.distinct}/${N} distinct GARPs (burst span ${(gr.lastMs - gr.firstMs).toFixed(0)} ms, ${gr.frames} frames, from ${gr.macs.map(mac).join(', ')})`;
    const after = await probe(3, 100);
    lb.after = `${after.answered}/${N} answered, ${after.multi} by more than one node (${byNode(after)})`;
    log(`lbkit failover: ${lb.failover}; then ${lb.after}`);
    for (const p of procs) p.child.kill('SIGKILL');
    await sleep(200);

    // ---------------- NDP: NS flood, lbkit (node1) vs the kernel owning the addresses (node2) ----------------
    const nsflood = (count: number, rate: number): Promise<Flood> => run<Flood>('nsflood', 'eth0', CLIENT_IP6, FIRST6, String(N), String(count), String(rate));
    const v6proc = await startLineFixture(topo, lab.node1, fixture, { ready: /^ready$/ });
    const ann6 = (await v6proc.cmd(`announce ${FIRST6} ${N}`, /^announced /)).split(' ');
    await sleep(300);
    const nsl = await nsflood(FLOOD, RATE);
    v6proc.child.kill('SIGKILL');
    const batch = Array.from({ length: N }, (_, i) => `address add fd00:79::${(1 + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}/128 dev eth0 nodad`).join('\n');
    const batchFile = join(dir, 'addr6.batch');
    writeFileSync(batchFile, `${batch}\n`);
    await sh('ip', ['-6', '-batch', batchFile], { ns: lab.node2, timeoutMs: 120_000 });
    await sleep(500);
    const nsk = await nsflood(FLOOD, RATE);
    await sh('ip', ['-6', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global'], { ns: lab.node2 });
    lb.ns = `${(nsl.answered * 100).toFixed(2)} % of ${nsl.sent} at ${nsl.ratePps.toFixed(0)} pps, p50 ${nsl.p50us.toFixed(0)} µs, p99 ${nsl.p99us.toFixed(0)} µs (${N} IPv6 VIPs, announced in ${ann6[3]} ms)`;
    const kns = `${(nsk.answered * 100).toFixed(2)} % of ${nsk.sent} at ${nsk.ratePps.toFixed(0)} pps, p50 ${nsk.p50us.toFixed(0)} µs, p99 ${nsk.p99us.toFixed(0)} µs (kernel, ${N} addresses on eth0)`;
    log(`NS flood: lbkit ${lb.ns}; kernel ${kns}`);

    // ---------------- keepalived ----------------
    log('keepalived: 3 VRRP nodes, one instance with all VIPs');
    const vips = Array.from({ length: N }, (_, i) => `    ${ipAdd(FIRST, i)}/32 dev eth0`).join('\n');
    const ka: Record<string, string> = {};
    const conf = (prio: number): string => {
      const f = join(dir, `ka${prio}.conf`);
      writeFileSync(
        f,
        `global_defs {\n  router_id n${prio}\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 79\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n${vips}\n  }\n}\n`,
      );
      return f;
    };
    const kaStart = (i: number, prio: number) =>
      topo.spawnIn(nodes[i]!, 'keepalived', ['-n', '-l', '-P', '-f', conf(prio), '-p', join(dir, `ka${i}.pid`), '-r', join(dir, `ka${i}-vrrp.pid`)]);
    const kStartAt = Date.now();
    const pK = probe(400, 20);
    const kas = [kaStart(0, 150), kaStart(1, 100), kaStart(2, 50)];
    const pk = await pK;
    ka.start = `${(pk.t0Epoch + pk.lastFirstAnswerMs - kStartAt).toFixed(0)} ms from starting keepalived (${pk.answered}/${N} answered; includes VRRP's master-down wait of 3 × advert_int)`;
    log(`keepalived start → all answering: ${ka.start}`);
    const kb = await flood(1000, 0);
    const kf = await flood(FLOOD, RATE);
    ka.burst = `${(kb.answered * 100).toFixed(1)} % (${kb.replies}/${kb.sent}), p50 ${kb.p50us.toFixed(0)} µs, p99 ${kb.p99us.toFixed(0)} µs`;
    ka.flood = `${(kf.answered * 100).toFixed(2)} % of ${kf.sent} at ${kf.ratePps.toFixed(0)} pps, p50 ${kf.p50us.toFixed(0)} µs, p99 ${kf.p99us.toFixed(0)} µs`;
    const ksplit = await probe(3, 100);
    ka.owners = `${ksplit.answered}/${N} answered, ${ksplit.multi} by more than one node (${byNode(ksplit)})`;
    log(`keepalived burst ${ka.burst}; flood ${ka.flood}; owners ${ka.owners}`);
    // crash of the master: link down (its kernel stops answering) + SIGKILL
    const kg = await garps(20_000);
    const kCrash = Date.now();
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: lab.node1 });
    kas[0]!.kill('SIGKILL');
    const kgr = await kg();
    ka.failover = `${(kgr.lastMs - kCrash).toFixed(0)} ms from the crash to the last of ${kgr.distinct}/${N} distinct GARPs (burst span ${(kgr.lastMs - kgr.firstMs).toFixed(0)} ms, ${kgr.frames} frames, from ${kgr.macs.map(mac).join(', ')})`;
    const kafter = await probe(3, 100);
    ka.after = `${kafter.answered}/${N} answered, ${kafter.multi} by more than one node (${byNode(kafter)})`;
    log(`keepalived failover: ${ka.failover}; then ${ka.after}`);
    for (const k of kas) k.kill('SIGTERM');
    await sleep(500);

    // the kernel filter the responder attaches, for a pool (consecutive VIPs) and for scattered ones
    const filterLine = (name: string, keys: number[]): string => {
      const t = performance.now();
      const f = arpTargetFilter(keys);
      return `${name}: ${f.program.length} instructions, ${f.ranges} ranges, ${f.exact ? 'exact' : 'superset (exact check in the native table)'}, built in ${(performance.now() - t).toFixed(1)} ms`;
    };
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const filters = [
      filterLine(`${N} consecutive VIPs`, Array.from({ length: N }, (_, i) => ipv4Key(FIRST) + i)),
      filterLine(`${N} scattered VIPs`, Array.from({ length: N }, rnd)),
      filterLine('1500 scattered VIPs', Array.from({ length: 1500 }, rnd)),
    ];
    const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
    md.push(
      `${title}\n`,
      `Lab: 3 speaker namespaces + a client on one Linux bridge (veth), ${N} IPv4 VIPs, same run for both. The machine has 2 vCPUs`,
      `shared with other jobs: expect noise. Load and probes: \`l2-arpgen\` (C, raw AF_PACKET socket) in the client namespace.`,
      `Whole bench: ${((Date.now() - t0wall) / 1000).toFixed(0)} s.\n`,
      `| measure | lbkit (native responder, batched GARP) | keepalived (VRRP) + kernel ARP |`,
      `|---|---|---|`,
      `| announce / start → all ${N} VIPs answer ARP | ${lb.start} | ${ka.start} |`,
      `| failover: take-over → last of ${N} GARPs at the client | ${lb.failover} | ${ka.failover} |`,
      `| after the failover: who answers | ${lb.after} | ${ka.after} |`,
      `| burst of 1000 requests | ${lb.burst} | ${ka.burst} |`,
      `| ARP flood | ${lb.flood} | ${ka.flood} |`,
      `| NS flood (to each target's solicited-node group) | ${lb.ns} | ${kns} |`,
      `| owners / wrong-node answers | 3 owners (thirds): ${lb.split}; all to node1 while node2/node3 drain: ${lb.drain} | ${ka.owners} |`,
      '',
      `- lbkit ${lb.loop} (the responder's reads and replies run on a native thread; JavaScript only sees counters).`,
      `- Flood answered ratio lbkit / kernel: ${ratio(fl.answered, kf.answered)}; p50 latency lbkit / kernel: ${ratio(fl.p50us, kf.p50us)}.`,
      `- lbkit's failover number is the data path only (the new owner's command → its ${N} GARPs on the wire, sent as batched \`sendmmsg\``,
      `  from a worker thread); failure detection is memberlist's (end to end with lbkitd: "lbkitd at L2 scale, end to end"). keepalived's`,
      `  includes VRRP's detection (3 × advert_int 1 s + skew), so compare the burst spans for the data path.`,
      `- Kernel BPF filter built from the owned VIPs (requests for other addresses never reach the socket): ${filters.join('; ')}.`,
      `- Drain: after \`withdraw\` the old owners stop their GARPs at once and answer only unicast requests to their MAC (a client`,
      `  with a stale cache); the broadcast probes above reached only the new owner.`,
      '',
    );
  } finally {
    await topo.destroy();
  }
  const text = md.join('\n');
  if (out) writeFileSync(out, text);
  process.stdout.write(text);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
