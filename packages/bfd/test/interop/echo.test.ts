/**
 * The BFD echo function against FRR 8.4 bfdd (`echo-mode`, single-hop IPv4, FRR sends and reads its
 * echo packets in the forwarding plane: a packet socket, source = destination = its own address,
 * to our MAC). Both namespaces forward IPv4 (each loops the other's echo packets) with ICMP
 * redirects off. FRR needs the peer bound to its interface (`interface br0`, hence zebra) to learn
 * our MAC.
 * - echo packets flow both ways: tcpdump on the router sees ours (10.0.0.11 → 10.0.0.11) and FRR's
 *   (10.0.0.1 → 10.0.0.1), each sent with TTL 255 and looped with TTL 254; both sides count them.
 * - the echo path dies while control packets still flow: the router stops forwarding UDP 3785
 *   (nft) → we go Down with diag 2 (Echo Function Failed) well within the control detection time;
 *   our node stops forwarding them → FRR goes Down (echo-failed) and tells us.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { Agent, buildDist, buildLab, kill, startBfdd, tmp, until, vtysh, type Lab } from './lab.js';

const ECHO_MS = 50;
const CONTROL_MS = 300;

describeInterop('@lbkit/bfd echo function against FRR bfdd', { root: true, bins: ['ip', 'nft', 'tcpdump', 'vtysh', '/usr/lib/frr/bfdd', '/usr/lib/frr/zebra'] }, () => {
  let lab: Lab;
  let dir = '';
  let zebra = 0;
  let bfdd = 0;
  let agent: Agent;
  let key = '';
  const frrPeer = async () => (JSON.parse(await vtysh(lab.rtr, dir, 'show bfd peers json')) as Array<Record<string, any>>)[0]!;
  const frrCounters = async () => (JSON.parse(await vtysh(lab.rtr, dir, 'show bfd peers counters json')) as Array<Record<string, any>>)[0]!;
  const ours = async () => (await agent.status()).sessions[0]!;

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    const node = lab.nodes[0]!;
    for (const [ns, dev] of [[lab.rtr, 'br0'], [node, 'eth0']] as const)
      await sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', `net.ipv4.conf.${dev}.send_redirects=0`], { ns });
    dir = tmp('echo');
    const conf = `bfd\n peer 10.0.0.11 local-address 10.0.0.1 interface br0\n  receive-interval ${CONTROL_MS}\n  transmit-interval ${CONTROL_MS}\n  detect-multiplier 3\n  echo-mode\n  echo-interval ${ECHO_MS}\n !\n!\n`;
    bfdd = await startBfdd(lab.rtr, dir, conf);
    // bfdd learns interfaces (and so the peer's MAC) from zebra; zebra reads the same file
    await sh('/usr/lib/frr/zebra', ['-d', '-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', `${dir}/zserv.api`, '-f', `${dir}/frr.conf`, '-i', `${dir}/zebra.pid`], { ns: lab.rtr });
    zebra = Number(await until(async () => (await sh('cat', [`${dir}/zebra.pid`]).catch(() => '')).trim() || undefined, 5000, 'zebra pid'));
    agent = new Agent(lab, node);
    await agent.waitEvent((e) => e.ev === 'ready', 10_000, 'agent ready');
    key = await agent.add({ peer: '10.0.0.1', local: '10.0.0.11', transmitInterval: CONTROL_MS, receiveInterval: CONTROL_MS, detectMultiplier: 3, echoInterval: ECHO_MS, echoReceiveInterval: ECHO_MS });
    await agent.waitState(key, 'Up', 0, 20_000);
  }, 120_000);

  afterAll(async () => {
    agent?.send({ cmd: 'stop' });
    kill(bfdd);
    kill(zebra);
    await lab?.topo.destroy();
  });

  it('echo packets flow both ways: sent with TTL 255, looped with TTL 254, counted by both sides', async () => {
    await until(async () => (await ours()).echo === 'active' && (await frrCounters())['echo-packet-input'] > 5, 10_000, 'echo running on both sides', 200);
    const cap = await sh('sh', ['-c', 'timeout 1.5 tcpdump -lnv -i br0 udp port 3785 2>/dev/null; true'], { ns: lab.rtr, timeoutMs: 10_000 });
    const seen = (ip: string, ttl: number) => cap.split('\n').filter((l, i, a) => l.includes(`ttl ${ttl},`) && (a[i + 1] ?? '').includes(`${ip}.3785 > ${ip}.3785`)).length;
    expect(seen('10.0.0.11', 255)).toBeGreaterThan(5); // ours, to the router
    expect(seen('10.0.0.11', 254)).toBeGreaterThan(5); // ours, looped by the router's kernel
    expect(seen('10.0.0.1', 255)).toBeGreaterThan(5); // FRR's, to us
    expect(seen('10.0.0.1', 254)).toBeGreaterThan(5); // FRR's, looped by our node's kernel
    const s = await ours();
    expect(s.state).toBe('Up');
    expect(s.stats.echoIn).toBeGreaterThan(10);
    expect(s.stats.echoOut - s.stats.echoIn).toBeLessThan(3); // every echo comes back (a few in flight)
    const c = await frrCounters();
    expect(c['echo-packet-output'] - c['echo-packet-input']).toBeLessThan(3);
    const p = await frrPeer();
    expect(p['remote-echo-receive-interval']).toBe(ECHO_MS);
  }, 30_000);

  it('the router stops looping our echo packets: we go Down with diag 2 within the echo detection time, before the control one', async () => {
    const from = agent.events.length;
    const t0 = Date.now();
    await sh('sh', ['-c', `nft add table ip h3echo && nft add chain ip h3echo h3fwd '{ type filter hook forward priority 0; }' && nft add rule ip h3echo h3fwd udp dport 3785 drop`], { ns: lab.rtr });
    const down = await agent.waitEvent((e) => e.ev === 'state' && e.key === key && e.from === 'Up', 5000, 'our echo failure', from);
    expect(down.diag).toBe(2);
    expect(down.t - t0).toBeLessThan(3 * CONTROL_MS); // the control detection time would be 900 ms
    expect((await ours()).stats.echoFailures).toBeGreaterThan(0);
    await sh('nft', ['delete', 'table', 'ip', 'h3echo'], { ns: lab.rtr });
    await agent.waitState(key, 'Up', from, 20_000);
  }, 30_000);

  it('our node stops looping FRR\'s echo packets: FRR goes Down (echo failed) and signals it', async () => {
    await until(async () => (await ours()).echo === 'active', 10_000, 'echo active again', 200);
    await until(async () => (await frrPeer()).status === 'up', 10_000, 'FRR up', 200);
    const downs0 = (await frrCounters())['session-down'];
    const from = agent.events.length;
    const node = lab.nodes[0]!;
    await sh('sh', ['-c', `nft add table ip h3echo && nft add chain ip h3echo h3fwd '{ type filter hook forward priority 0; }' && nft add rule ip h3echo h3fwd udp dport 3785 drop`], { ns: node });
    const down = await agent.waitEvent((e) => e.ev === 'state' && e.key === key && e.from === 'Up', 5000, 'FRR signalling Down', from);
    expect(down.diag).toBe(3); // neighbour signalled session down
    await until(async () => (await frrCounters())['session-down'] > downs0, 5000, 'FRR counting a down');
    await sh('nft', ['delete', 'table', 'ip', 'h3echo'], { ns: node });
    await agent.waitState(key, 'Up', from, 20_000);
  }, 30_000);
});
