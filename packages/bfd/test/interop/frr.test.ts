/**
 * @lbkit/bfd against FRR 8.4 bfdd: single-hop (IPv4 and IPv6) and multihop sessions come Up both ways, timers are
 * renegotiated with Poll/Final in both directions, admin down is signalled both ways, and each
 * side detects the other's death (SIGKILL) within its detection time.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh as run } from '../../../../test-utils/netns.js';
import { Agent, buildDist, buildLab, frrPeers, kill, startBfdd, tmp, until, vtysh, type Lab } from './lab.js';

const conf = `bfd
 peer 10.0.0.11 local-address 10.0.0.1
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 !
 peer 10.0.0.11 multihop local-address 10.0.0.1
  receive-interval 200
  transmit-interval 200
 !
 peer fd0b::11 local-address fd0b::1
  receive-interval 100
  transmit-interval 100
 !
!
`;

describeInterop('@lbkit/bfd against FRR bfdd', { root: true, bins: ['ip', 'vtysh', '/usr/lib/frr/bfdd'] }, () => {
  let lab: Lab;
  let dir: string;
  let bfdd = 0;
  let agent: Agent;
  let sh = '';
  let mh = '';
  const peer = async (multihop: boolean) => (await frrPeers(lab.rtr, dir)).find((p) => p.peer === '10.0.0.11' && !!p.multihop === multihop)!;

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    await run('ip', ['-6', 'addr', 'add', 'fd0b::1/64', 'dev', 'br0', 'nodad'], { ns: lab.rtr });
    await run('ip', ['-6', 'addr', 'add', 'fd0b::11/64', 'dev', 'eth0', 'nodad'], { ns: lab.nodes[0]! });
    dir = tmp('frr');
    bfdd = await startBfdd(lab.rtr, dir, conf);
    agent = new Agent(lab, lab.nodes[0]!);
    await agent.waitEvent((e) => e.ev === 'ready', 10_000, 'agent ready');
  });

  afterAll(async () => {
    kill(bfdd);
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('single-hop session comes Up both ways with 100 ms × 3 negotiated', async () => {
    sh = await agent.add({ peer: '10.0.0.1', local: '10.0.0.11', transmitInterval: 100, receiveInterval: 100, detectMultiplier: 3 });
    const t0 = Date.now();
    await agent.waitState(sh, 'Up');
    console.log(`[bfd-frr] single hop Up after ${Date.now() - t0} ms`);
    await until(async () => (await peer(false)).status === 'up', 5000, 'FRR sees the session up');
    // the Poll sequences after Up have settled: both sides run at 100 ms
    await until(async () => (await agent.status()).sessions.find((s) => s.key === sh)?.txIntervalMs === 100, 5000, '100 ms TX');
    const p = await peer(false);
    expect(p['remote-receive-interval']).toBe(100);
    expect(p['remote-transmit-interval']).toBe(100);
    expect(p['remote-detect-multiplier']).toBe(3);
    const s = (await agent.status()).sessions.find((x) => x.key === sh)!;
    expect(s.detectionTimeMs).toBe(300);
    expect(s.remoteDiscriminator).toBe(p.id);
    expect(s.localDiscriminator).toBe(p['remote-id']);
  });

  it('multihop session (UDP 4784) comes Up', async () => {
    mh = await agent.add({ peer: '10.0.0.1', local: '10.0.0.11', multihop: true, minimumTtl: 250, transmitInterval: 200, receiveInterval: 200 });
    await agent.waitState(mh, 'Up');
    await until(async () => (await peer(true)).status === 'up', 5000, 'FRR sees the multihop session up');
  });

  it('IPv6 single-hop session (hop limit 255 sent and filtered) comes Up both ways', async () => {
    const k = await agent.add({ peer: 'fd0b::1', local: 'fd0b::11', transmitInterval: 100, receiveInterval: 100 });
    await agent.waitState(k, 'Up');
    await until(async () => (await frrPeers(lab.rtr, dir)).find((p) => p.peer === 'fd0b::11')?.status === 'up', 5000, 'FRR sees the IPv6 session up');
    agent.send({ cmd: 'remove', key: k });
    await until(async () => (await frrPeers(lab.rtr, dir)).find((p) => p.peer === 'fd0b::11')?.status === 'down', 5000, 'FRR sees it down after our AdminDown');
  });

  it('timer change from our side: Poll/Final, FRR adopts the new intervals', async () => {
    agent.send({ cmd: 'timers', key: sh, receiveInterval: 250, transmitInterval: 150 });
    await until(async () => {
      const p = await peer(false);
      return p['remote-receive-interval'] === 250 && p['remote-transmit-interval'] === 150;
    }, 5000, 'FRR sees our new timers');
    await until(async () => {
      const s = (await agent.status()).sessions.find((x) => x.key === sh)!;
      return s.detectionTimeMs === 750 && s.txIntervalMs === 150;
    }, 5000, 'our negotiated values after the Final');
    expect((await peer(false)).status).toBe('up');
  });

  it('timer change from FRR: we answer its Poll and follow', async () => {
    await vtysh(lab.rtr, dir, 'configure terminal', 'bfd', 'peer 10.0.0.11 local-address 10.0.0.1', 'transmit-interval 300', 'receive-interval 400');
    await until(async () => {
      const s = (await agent.status()).sessions.find((x) => x.key === sh)!;
      return s.detectionTimeMs === 900 && s.txIntervalMs === 400;
    }, 5000, 'our view of FRR 300/400');
    expect((await peer(false)).status).toBe('up');
    await vtysh(lab.rtr, dir, 'configure terminal', 'bfd', 'peer 10.0.0.11 local-address 10.0.0.1', 'transmit-interval 100', 'receive-interval 100');
    agent.send({ cmd: 'timers', key: sh, receiveInterval: 100, transmitInterval: 100 });
    await until(async () => (await agent.status()).sessions.find((x) => x.key === sh)!.detectionTimeMs === 300, 5000, 'back to 100 ms');
  });

  it('admin down both ways: FRR shutdown → we see peerAdminDown; our admin down → FRR sees it, then both recover', async () => {
    let n = agent.events.length;
    await vtysh(lab.rtr, dir, 'configure terminal', 'bfd', 'peer 10.0.0.11 local-address 10.0.0.1', 'shutdown');
    const d = await agent.waitState(sh, 'Down', n);
    expect(d.diag).toBe(3);
    expect(d.peerAdminDown).toBe(true);
    n = agent.events.length;
    await vtysh(lab.rtr, dir, 'configure terminal', 'bfd', 'peer 10.0.0.11 local-address 10.0.0.1', 'no shutdown');
    await agent.waitState(sh, 'Up', n);

    agent.send({ cmd: 'admin', key: sh, down: true });
    await until(async () => {
      const p = await peer(false);
      return p.status === 'down' && p['remote-diagnostic'] === 'administratively down';
    }, 5000, 'FRR sees our AdminDown');
    n = agent.events.length;
    agent.send({ cmd: 'admin', key: sh, down: false });
    await agent.waitState(sh, 'Up', n);
    await until(async () => (await peer(false)).status === 'up', 5000, 'FRR up again');
  });

  it('FRR dies (SIGKILL): we detect it within the 300 ms detection time', async () => {
    await until(async () => (await agent.status()).sessions.find((x) => x.key === sh)!.detectionTimeMs === 300, 5000, '100 ms timers');
    const n = agent.events.length;
    const t0 = Date.now();
    kill(bfdd);
    const d = await agent.waitState(sh, 'Down', n, 5000);
    const ms = d.t - t0;
    console.log(`[bfd-frr] FRR killed → our session Down after ${ms} ms (detection time 300 ms)`);
    expect(d.diag).toBe(1);
    expect(ms).toBeLessThan(1000);
    bfdd = await startBfdd(lab.rtr, dir, conf);
    await agent.waitState(sh, 'Up', n);
    await until(async () => (await peer(false)).status === 'up', 10_000, 'FRR up after restart');
  });

  it('we die (SIGKILL): FRR detects it (control detection time expired)', async () => {
    await until(async () => (await peer(false))['remote-receive-interval'] === 100, 10_000, 'FRR at 100 ms');
    const t0 = Date.now();
    agent.child.kill('SIGKILL');
    await until(async () => (await peer(false)).status === 'down', 5000, 'FRR sees the session down', 20);
    const ms = Date.now() - t0;
    console.log(`[bfd-frr] agent killed → FRR session down after ≤ ${ms} ms (vtysh polling)`);
    expect((await peer(false)).diagnostic).toBe('control detection time expired');
    expect(ms).toBeLessThan(2000);
  });
});
