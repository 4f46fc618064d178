/**
 * Partition heal on real sockets in network namespaces: two @lbkit/memberlist nodes (engine in a
 * worker thread, fast timings) and a real hashicorp/memberlist v0.5.1 node (ml-agent, MetalLB's
 * version, DefaultLANConfig) on one bridge. nftables in node A's namespace cuts A off from both
 * others; everyone declares the other side dead; then the rules are deleted and we measure the time
 * until every node sees every other alive again (memberlist alone would wait for a re-join).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { Topology, sh } from '../../../../test-utils/netns.js';
import { JsonlProc, ML_AGENT, type Line } from './jsonl-proc.js';

const NODE = fileURLToPath(new URL('./ml-node.mjs', import.meta.url));
const IP = { a: '10.77.0.1', b: '10.77.0.2', g: '10.77.0.3' };

describeInterop('partition heal: lbkit nodes + hashicorp/memberlist 0.5.1 in namespaces, nftables partition', { root: true, bins: ['nft', ML_AGENT] }, () => {
  const topo = new Topology('mlph');
  const ns: Record<string, string> = {};
  const procs: Record<string, JsonlProc> = {};

  beforeAll(async () => {
    await sh('npx', ['tsc', '-b', fileURLToPath(new URL('../../', import.meta.url))], { timeoutMs: 120_000 });
    const sw = await topo.addNamespace('sw');
    await topo.addBridge(sw);
    for (const k of ['a', 'b', 'g'] as const) {
      ns[k] = await topo.addNamespace(k);
      await topo.connect(ns[k]!, 'eth0', sw, 'br0', [`${IP[k]}/24`]);
    }
    procs.g = new JsonlProc('g', topo.spawnIn(ns.g!, ML_AGENT, ['-name', 'g', '-bind', IP.g, '-port', '7946'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await procs.g.wait((l) => l.ev === 'ready', 10_000);
    for (const k of ['a', 'b'] as const) {
      procs[k] = new JsonlProc(k, topo.spawnIn(ns[k]!, process.execPath, [NODE, '--name', k, '--bind', IP[k], '--port', '7946', '--timings', 'fast', '--join', `${IP.g}:7946`], { stdio: ['pipe', 'pipe', 'pipe'] }));
    }
    const joined = (p: JsonlProc, who: string) => p.wait((l) => l.ev === 'join' && l.node === who, 15_000);
    await Promise.all([joined(procs.a!, 'b'), joined(procs.a!, 'g'), joined(procs.b!, 'a'), joined(procs.g!, 'a'), joined(procs.g!, 'b')]);
  }, 120_000);

  afterAll(async () => {
    for (const p of Object.values(procs)) p.send('quit');
    await topo.destroy();
  });

  async function cut(on: boolean): Promise<void> {
    const n = ns.a!;
    if (!on) return void (await sh('nft', ['delete', 'table', 'inet', 'lbkpart'], { ns: n }));
    await sh('nft', ['add', 'table', 'inet', 'lbkpart'], { ns: n });
    await sh('nft', ['add chain inet lbkpart in { type filter hook input priority 0 ; policy accept ; }'], { ns: n });
    await sh('nft', ['add chain inet lbkpart out { type filter hook output priority 0 ; policy accept ; }'], { ns: n });
    await sh('nft', [`add rule inet lbkpart in ip saddr { ${IP.b}, ${IP.g} } drop`], { ns: n });
    await sh('nft', [`add rule inet lbkpart out ip daddr { ${IP.b}, ${IP.g} } drop`], { ns: n });
  }

  const dead = (l: Line, who: string) => (l.ev === 'fail' || l.ev === 'leave') && l.node === who;
  const join = (l: Line, who: string) => l.ev === 'join' && l.node === who;

  it('after the partition heals every node sees every other alive within 2 s (Go peer included)', async () => {
    const timings: number[] = [];
    for (let round = 0; round < 2; round++) {
      const from = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.lines.length]));
      await cut(true);
      // Both sides declare the other dead (the Go node: DefaultLANConfig, or b's dead gossip).
      await Promise.all([
        procs.a!.wait((l) => dead(l, 'b'), 15_000, from.a),
        procs.a!.wait((l) => dead(l, 'g'), 15_000, from.a),
        procs.b!.wait((l) => dead(l, 'a'), 15_000, from.b),
        procs.g!.wait((l) => dead(l, 'a'), 15_000, from.g),
      ]);
      const mark = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.lines.length]));
      const t0 = Date.now();
      await cut(false);
      const seen = await Promise.all([
        procs.a!.wait((l) => join(l, 'b'), 10_000, mark.a),
        procs.a!.wait((l) => join(l, 'g'), 10_000, mark.a),
        procs.b!.wait((l) => join(l, 'a'), 10_000, mark.b),
        procs.g!.wait((l) => join(l, 'a'), 10_000, mark.g),
      ]);
      const ms = Math.max(...seen.map((l) => l.t)) - t0;
      timings.push(ms);
      console.log(`[partition heal] round ${round}: heal → all four views alive in ${ms} ms (a→b ${seen[0]!.t - t0}, a→g ${seen[1]!.t - t0}, b→a ${seen[2]!.t - t0}, g(Go)→a ${seen[3]!.t - t0})`);
    }
    for (const ms of timings) expect(ms).toBeLessThan(2000);
  }, 90_000);
});
