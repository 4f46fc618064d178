// L2 fail-over bench: time from "node B takes the VIP" to the client's neighbour entry showing B's
// MAC (polled with `ip -j neigh` every 10 ms), for our ArpSpeaker vs the kernel's own path
// (B adds the VIP to eth0 and sends `arping -U`). Writes a Markdown section to $LBKIT_BENCH_OUT.
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
import { sh } from '../../../test-utils/netns.js';
import { makeLab, neigh, sleep, startSpeaker, waitNeigh, type Lab } from '../test/interop/harness.js';

const VIP = '10.78.0.100';
const ROUNDS = Number(process.env.ARP_BENCH_ROUNDS ?? 20);
const out = process.env.LBKIT_BENCH_OUT;
const title = '## arp: L2 fail-over, announce-to-switch time (ArpSpeaker vs kernel + arping -U)';

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1]! };
}

function run(ns: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script}: exit ${code}`))));
  });
}

async function main(): Promise<void> {
  if (!isRoot) {
    if (out) writeFileSync(out, `${title}\n\nNot measured: needs root (network namespaces).\n`);
    return;
  }
  let lab: Lab | undefined;
  try {
    lab = await makeLab('arpb');
    const { client, node1, node2, mac1, mac2, topo } = lab;
    const [s1, s2] = await Promise.all([startSpeaker(topo, node1), startSpeaker(topo, node2)]);
    await s1.cmd(`announce ${VIP}`, /^ok/);
    await sh('ping', ['-c', '1', '-W', '1', VIP], { ns: client }).catch(() => '');
    if ((await neigh(client, VIP))?.lladdr !== mac1) throw new Error('client did not resolve the VIP to node1');
    const ours: number[] = [];
    const nodes = [
      { s: s1, mac: mac1, ns: node1 },
      { s: s2, mac: mac2, ns: node2 },
    ];
    for (let i = 0; i < ROUNDS; i++) {
      const from = nodes[i % 2]!;
      const to = nodes[(i + 1) % 2]!;
      await from.s.cmd(`withdraw ${VIP}`, /^ok/);
      const t0 = performance.now();
      to.s.send(`announce ${VIP}`);
      ours.push(await waitNeigh(client, VIP, to.mac, t0));
      process.stderr.write(`[arp bench] ours ${i}: ${ours[i]!.toFixed(1)} ms\n`);
      await sleep(1200);
    }
    const last = nodes[ROUNDS % 2]!;
    await last.s.cmd(`withdraw ${VIP}`, /^ok/);
    await sleep(5500); // let the last burst end
    // Baseline: the kernel owns the VIP and Debian's arping (Habets) sends the unsolicited ARP.
    const kernel: number[] = [];
    let owner = last;
    for (let i = 0; i < ROUNDS; i++) {
      const to = owner === nodes[0] ? nodes[1]! : nodes[0]!;
      await run(owner.ns, `ip addr del ${VIP}/32 dev eth0 2>/dev/null; true`);
      const t0 = performance.now();
      // Poll while arping runs (Habets arping lingers up to 1 s waiting for replies after sending).
      const done = run(to.ns, `ip addr add ${VIP}/32 dev eth0 && arping -q -U -c 1 -I eth0 -S ${VIP} ${VIP}; true`);
      kernel.push(await waitNeigh(client, VIP, to.mac, t0));
      await done;
      process.stderr.write(`[arp bench] kernel ${i}: ${kernel[i]!.toFixed(1)} ms\n`);
      owner = to;
      await sleep(1200);
    }
    const a = stats(ours);
    const k = stats(kernel);
    const row = (n: string, s: typeof a): string => `| ${n} | ${ROUNDS} | ${s.median.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.max.toFixed(1)} |`;
    const md = `${title}

Lab: 4 network namespaces (client, node1, node2, bridge). Each round hands the VIP to the other node and
measures from the hand-over command to the client's \`ip -j neigh\` entry showing the new MAC (polled every
10 ms, so about ±10 ms of resolution plus the \`ip\` spawn time). Ours: \`ArpSpeaker.withdraw\` on the old node,
\`ArpSpeaker.announce\` on the new one (command over a stdin pipe to a vite-node fixture; GARP request sent at
once). Kernel baseline: \`ip addr del\` on the old node, \`ip addr add VIP/32 dev eth0 && arping -U -c 1\` on the
new node (includes spawning \`sh\`, \`ip\`, \`arping\`). The entry exists beforehand (GARP only updates entries).

| path | rounds | median ms | p95 ms | max ms |
|---|---|---|---|---|
${row('ArpSpeaker (AF_PACKET addon)', a)}
${row('kernel + arping -U', k)}

Ratio (kernel / ours), median: **${(k.median / a.median).toFixed(2)}×**; p95: ${(k.p95 / a.p95).toFixed(2)}×.
`;
    if (out) writeFileSync(out, md);
    process.stdout.write(md);
  } finally {
    await lab?.topo.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
