/**
 * @lbkit/bfd against BIRD 2.0's BFD protocol, with meticulous keyed SHA1 authentication (FRR 8.4
 * bfdd has none, so authentication is proven here; multihop is proven against FRR): the session comes Up,
 * BIRD's timer change (reconfigure → Poll) is followed, our timer change is adopted, our admin
 * down takes BIRD's session Down without a failure on our side, and each side detects the other's
 * death. A wrong key never comes Up.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { Agent, birdc, buildDist, buildLab, kill, startBird, tmp, until, type Lab } from './lab.js';

const AUTH = { type: 5, keyId: 5, secret: 's3cret' };
const conf = (dir: string, interval: number) => `log "${dir}/bird.log" all;
router id 10.0.0.1;
protocol device {}
protocol bfd b1 {
  interface "*" { interval ${interval} ms; multiplier 3; authentication meticulous keyed sha1; password "s3cret" { id 5; }; };
  neighbor 10.0.0.11 local 10.0.0.1;
}
`;

interface BirdSession {
  ip: string;
  state: string;
  interval: number;
  timeout: number;
}

describeInterop('@lbkit/bfd against BIRD', { root: true, bins: ['ip', 'bird', 'birdc'] }, () => {
  let lab: Lab;
  let dir: string;
  let bird: { pid: number; ctl: string } | undefined;
  let agent: Agent;
  let sh = '';
  const sessions = async (): Promise<BirdSession[]> => {
    const out = await birdc(lab.rtr, bird!.ctl, 'show', 'bfd', 'sessions');
    return [...out.matchAll(/^(\S+)\s+(\S+)\s+(Up|Down|Init|AdminDown)\s+\S+\s+([\d.]+)\s+([\d.]+)/gm)].map((m) => ({ ip: m[1]!, state: m[3]!, interval: Number(m[4]), timeout: Number(m[5]) }));
  };
  const single = async () => (await sessions()).find((s) => s.ip === '10.0.0.11');

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    dir = tmp('bird');
    bird = await startBird(lab.rtr, dir, conf(dir, 100));
  });

  afterAll(async () => {
    kill(bird?.pid);
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong key never comes Up: BIRD rejects the digest', async () => {
    const other = new Agent(lab, lab.nodes[0]!);
    try {
      await other.waitEvent((e) => e.ev === 'ready', 10_000, 'agent ready');
      const k = await other.add({ peer: '10.0.0.1', local: '10.0.0.11', transmitInterval: 100, receiveInterval: 100, auth: { ...AUTH, secret: 'wrong' } });
      await until(() => /authentication failed/i.test(readFileSync(join(dir, 'bird.log'), 'utf8')), 5000, 'BIRD logs the authentication failure');
      expect(other.events.some((e) => e.ev === 'state' && e.key === k && e.to === 'Up')).toBe(false);
      expect((await single())!.state).not.toBe('Up');
    } finally {
      other.child.kill('SIGKILL');
      await new Promise((r) => other.child.once('exit', r));
    }
  });

  it('a session with meticulous keyed SHA1 comes Up at 100 ms × 3', async () => {
    agent = new Agent(lab, lab.nodes[0]!);
    await agent.waitEvent((e) => e.ev === 'ready', 10_000, 'agent ready');
    sh = await agent.add({ peer: '10.0.0.1', local: '10.0.0.11', transmitInterval: 100, receiveInterval: 100, auth: AUTH });
    await agent.waitState(sh, 'Up');
    await until(async () => (await single())?.state === 'Up', 5000, 'BIRD sees the session Up');
    await until(async () => (await agent.status()).sessions.find((s) => s.key === sh)!.detectionTimeMs === 300, 5000, '100 ms × 3');
    const st = await agent.status();
    expect(st.sessions.every((s) => s.stats.dropped === 0)).toBe(true);
  });

  it('BIRD changes its interval (reconfigure → Poll): we follow; our change is adopted by BIRD', async () => {
    writeFileSync(join(dir, 'bird.conf'), conf(dir, 250));
    await birdc(lab.rtr, bird!.ctl, 'configure');
    await until(async () => {
      const s = (await agent.status()).sessions.find((x) => x.key === sh)!;
      return s.detectionTimeMs === 750 && s.txIntervalMs === 250;
    }, 5000, 'our view of BIRD 250 ms');
    writeFileSync(join(dir, 'bird.conf'), conf(dir, 100));
    await birdc(lab.rtr, bird!.ctl, 'configure');
    agent.send({ cmd: 'timers', key: sh, transmitInterval: 150, receiveInterval: 150 });
    await until(async () => (await single())?.interval === 0.15 && (await single())?.timeout === 0.45, 5000, 'BIRD at 150 ms');
    await until(async () => (await agent.status()).sessions.find((x) => x.key === sh)!.detectionTimeMs === 450, 5000, 'our detection 450 ms');
    agent.send({ cmd: 'timers', key: sh, transmitInterval: 100, receiveInterval: 100 });
    await until(async () => (await single())?.interval === 0.1, 5000, 'BIRD back at 100 ms');
  });

  it('our admin down takes BIRD Down; admin up brings it back', async () => {
    agent.send({ cmd: 'admin', key: sh, down: true });
    await until(async () => (await single())!.state === 'Down', 5000, 'BIRD Down');
    const n = agent.events.length;
    agent.send({ cmd: 'admin', key: sh, down: false });
    await agent.waitState(sh, 'Up', n);
    await until(async () => (await single())!.state === 'Up', 5000, 'BIRD Up');
  });

  it('BIRD dies: we detect it within the detection time; we die: BIRD detects it', async () => {
    await until(async () => (await agent.status()).sessions.find((x) => x.key === sh)!.detectionTimeMs === 300, 5000, '100 ms timers');
    let n = agent.events.length;
    const t0 = Date.now();
    kill(bird!.pid);
    const d = await agent.waitState(sh, 'Down', n, 5000);
    console.log(`[bfd-bird] BIRD killed → our session Down after ${d.t - t0} ms (detection time 300 ms)`);
    expect(d.diag).toBe(1);
    expect(d.t - t0).toBeLessThan(1000);
    n = agent.events.length;
    bird = await startBird(lab.rtr, dir, conf(dir, 100));
    await agent.waitState(sh, 'Up', n);
    await until(async () => (await single())?.state === 'Up', 10_000, 'BIRD Up after restart');
    await until(async () => (await single())?.timeout === 0.3, 10_000, 'BIRD at 100 ms × 3');
    const t1 = Date.now();
    agent.child.kill('SIGKILL');
    await until(async () => (await single())!.state === 'Down', 5000, 'BIRD sees the session Down', 20);
    console.log(`[bfd-bird] agent killed → BIRD session Down after ≤ ${Date.now() - t1} ms (birdc polling)`);
    expect(Date.now() - t1).toBeLessThan(2000);
  });
});
