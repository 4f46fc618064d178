// Bench: announce-to-switch time of the client's neighbour entry for an IPv6 VIP, 20 hand-overs between two
// NdpSpeaker fixtures, vs the kernel baseline (the VIP owned by node2's kernel, whose MAC change with
// ndisc_notify=1 makes the kernel send its own unsolicited NA) in the same run. Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sh, Topology } from '../../../test-utils/netns.js';

const OUT = process.env.LBKIT_BENCH_OUT ?? '/dev/stdout';
const TITLE = '## @lbkit/ndp: IPv6 VIP hand-over (unsolicited NA → client neighbour entry switch)';
const ROUNDS = 20;
const VIP = 'fd00:78::100';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../test/interop/fixture.mjs', import.meta.url));

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1]! };
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    writeFileSync(OUT, `${TITLE}\n\nNot measured: needs root (network namespaces).\n`);
    return;
  }
  execFileSync('npx', ['tsc', '-b', 'packages/ndp'], { cwd: root, stdio: 'inherit' });
  const topo = new Topology('ndp');
  try {
    const sw = await topo.addNamespace('sw');
    const c = await topo.addNamespace('c');
    const n1 = await topo.addNamespace('n1');
    const n2 = await topo.addNamespace('n2');
    for (const ns of [c, n1, n2]) {
      for (const k of ['all', 'default']) {
        await sh('sysctl', ['-qw', `net.ipv6.conf.${k}.accept_dad=0`], { ns });
        await sh('sysctl', ['-qw', `net.ipv6.conf.${k}.ndisc_notify=1`], { ns });
      }
    }
    await topo.addBridge(sw);
    await sh('ip', ['link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0'], { ns: sw });
    await topo.connect(c, 'eth0', sw, 'br0', ['fd00:78::10/64']);
    const macs = [await topo.connect(n1, 'eth0', sw, 'br0', ['fd00:78::11/64']), await topo.connect(n2, 'eth0', sw, 'br0', ['fd00:78::12/64'])];
    const nodes = [n1, n2];

    // Watch the client's neighbour table: resolve a waiter when VIP's lladdr becomes `mac`.
    const mon = topo.spawnIn(c, 'ip', ['-6', 'monitor', 'neigh']);
    let want: { mac: string; res: (t: number) => void } | undefined;
    createInterface({ input: mon.stdout! }).on('line', (l) => {
      if (want && l.startsWith(VIP + ' ') && l.includes(`lladdr ${want.mac}`)) {
        const w = want;
        want = undefined;
        w.res(performance.now());
      }
    });
    const waitMac = (mac: string) =>
      new Promise<number>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no switch to ${mac}`)), 10_000);
        want = { mac, res: (x) => { clearTimeout(t); res(x); } };
      });
    await new Promise((r) => setTimeout(r, 300));

    // Kernel baseline: node2 owns the VIP in its kernel; each round its MAC changes, and with ndisc_notify=1 the
    // kernel sends its own unsolicited NA (O=1) for the VIP (NETDEV_CHANGEADDR). (Adding an address with nodad
    // does not make this kernel send an NA, checked with tcpdump.)
    const kernel: number[] = [];
    await sh('ip', ['-6', 'addr', 'add', `${VIP}/128`, 'dev', 'eth0', 'nodad'], { ns: n2 });
    // Resolve the VIP once (a first echo can be lost while the fresh veths settle): up to 3 tries.
    for (let i = 0; ; i++) {
      try {
        await sh('ping', ['-6', '-c1', '-W2', VIP], { ns: c });
        break;
      } catch (e) {
        if (i === 2) throw e;
      }
    }
    const kmacs = ['02:78:00:00:00:a1', '02:78:00:00:00:a2'];
    for (let i = 0; i < ROUNDS; i++) {
      const p = waitMac(kmacs[i % 2]!);
      const t0 = performance.now();
      await sh('ip', ['link', 'set', 'eth0', 'address', kmacs[i % 2]!], { ns: n2 });
      kernel.push((await p) - t0);
    }
    await sh('ip', ['-6', 'addr', 'del', `${VIP}/128`, 'dev', 'eth0'], { ns: n2 });
    await sh('ip', ['link', 'set', 'eth0', 'address', macs[1]!], { ns: n2 });
    process.stderr.write(`[ndp bench] kernel ${kernel.map((x) => x.toFixed(1)).join(' ')}\n`);

    // Our speakers.
    const fixtures = nodes.map((ns) => {
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE, 'eth0', 'afpacket'], { stdio: ['pipe', 'pipe', 'inherit'] });
      topo.children.push(p);
      const lines: string[] = [];
      const waiters: ((l: string) => void)[] = [];
      createInterface({ input: p.stdout! }).on('line', (l) => { const w = waiters.shift(); if (w) w(l); else lines.push(l); });
      const next = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => waiters.push(r)));
      return { cmd: (s: string) => { p.stdin!.write(s + '\n'); return next(); }, next };
    });
    for (const f of fixtures) await f.next(); // ready
    await fixtures[0]!.cmd(`announce ${VIP}`);
    await new Promise((r) => setTimeout(r, 200));
    const ours: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const from = i % 2, to = 1 - from;
      await fixtures[from]!.cmd(`withdraw ${VIP}`);
      const p = waitMac(macs[to]!);
      const t0 = performance.now();
      fixtures[to]!.cmd(`announce ${VIP}`);
      ours.push((await p) - t0);
    }
    process.stderr.write(`[ndp bench] ours ${ours.map((x) => x.toFixed(1)).join(' ')}\n`);
    const k = stats(kernel), o = stats(ours);
    const f = (x: number) => x.toFixed(1);
    writeFileSync(
      OUT,
      `${TITLE}

Client, node1, node2 in network namespaces on one bridge (veth). Time from the trigger to the client kernel's
neighbour event (\`ip -6 monitor neigh\`) showing the VIP at the new owner's MAC, ${ROUNDS} hand-overs each, same run.
Ours: \`withdraw\` on the old node, then \`announce\` written to the new node's NdpSpeaker fixture (stdin pipe,
@lbkit/afpacket PacketSocket with its NS BPF filter). Kernel: the node owning the VIP in its kernel changes its MAC
(\`ip link set eth0 address …\`, \`ndisc_notify=1\`) and the kernel sends its own unsolicited NA; the time includes
spawning \`ip\` (a few ms), so the kernel figure is an upper bound of the kernel's own path.

| sender | median ms | p95 ms | max ms |
|---|---|---|---|
| @lbkit/ndp NdpSpeaker | ${f(o.median)} | ${f(o.p95)} | ${f(o.max)} |
| Linux kernel (MAC change + ndisc_notify) | ${f(k.median)} | ${f(k.p95)} | ${f(k.max)} |

Ratio ours/kernel (median): ${(o.median / k.median).toFixed(2)}.
`,
    );
  } finally {
    await topo.destroy();
  }
}

main().catch((e) => {
  process.stderr.write(`[ndp bench] ${e?.stack ?? e}\n`);
  process.exit(1);
});
