/**
 * A blocked main thread against a real hashicorp/memberlist v0.5.1 node (ml-agent, MetalLB's
 * version, DefaultLANConfig: ~5–6 s to declare a silent node dead), on 127.0.0.1. Two of our nodes
 * live in this test process: one with its engine in a worker thread (createMemberlistWorker), one
 * on the main thread (createMemberlist). The main thread is then blocked by synchronous loops
 * longer than Go's detection time: the Go node must declare the main-thread node dead and never
 * the worker node.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { uniq } from '../../../../test-utils/netns.js';
import { createMemberlist, createMemberlistWorker, type MemberlistWorker, type NetMemberlist } from '../../src/index.js';
import { freePort, sleep } from './serf-agent.js';
import { JsonlProc, ML_AGENT } from './jsonl-proc.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x = (x + Math.sqrt(x + 1)) % 1e9;
  if (x < 0) throw new Error('unreachable');
}

describeInterop('busy main thread vs hashicorp/memberlist 0.5.1 (ml-agent)', { bins: [ML_AGENT] }, () => {
  const tag = `wb${uniq()}`;
  let go: JsonlProc;
  let worker: MemberlistWorker;
  let main: NetMemberlist;

  beforeAll(async () => {
    const port = await freePort();
    go = new JsonlProc('go', spawn(ML_AGENT, ['-name', `${tag}-go`, '-bind', '127.0.0.1', '-port', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await go.wait((l) => l.ev === 'ready', 10_000);
    const seeds = [`127.0.0.1:${port}`];
    worker = await createMemberlistWorker({ name: `${tag}-worker`, bindAddr: '127.0.0.1', bindPort: 0, timings: 'lan', seeds });
    main = await createMemberlist({ name: `${tag}-main`, bindAddr: '127.0.0.1', bindPort: 0, timings: 'lan', seeds });
    await go.wait((l) => l.ev === 'join' && l.node === `${tag}-main`, 10_000);
    await go.wait((l) => l.ev === 'join' && l.node === `${tag}-worker`, 10_000);
  }, 30_000);

  afterAll(async () => {
    main?.close();
    await worker?.close();
    go?.send('quit');
    await sleep(200);
    if (go && go.child.exitCode === null) go.child.kill('SIGKILL');
  });

  it('two 8 s busy loops: Go declares the main-thread engine dead, never the worker engine', async () => {
    const from = go.lines.length;
    for (let i = 0; i < 2; i++) {
      busy(8000);
      await sleep(1500); // let the main-thread node refute and rejoin between the loops
    }
    const dead = go.lines.slice(from).filter((l) => l.ev === 'fail' || l.ev === 'leave').map((l) => l.node);
    // ml-agent reports NotifyLeave of a failed node as `fail` (a graceful one as `leave`).
    expect(dead.filter((n) => n === `${tag}-main`).length).toBeGreaterThanOrEqual(1);
    expect(dead).not.toContain(`${tag}-worker`);
    go.send('members');
    const m = await go.wait((l) => l.ev === 'members', 5000, from);
    const state = (n: string) => (m.members as Array<{ node: string; state: number }>).find((x) => x.node === n)?.state;
    expect(state(`${tag}-worker`)).toBe(0);
    const st = await worker.stats();
    expect(st.maxLoopLagMs).toBeLessThan(1000);
  }, 60_000);
});
