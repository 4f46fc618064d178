/**
 * NativeResponder (the native L2 fast path) in network namespaces, against frames built by a
 * raw-socket Python probe and against the client kernel: native ARP/NA replies, the kernel BPF
 * filter keeping other addresses out, drain semantics (unicast answered, broadcast/multicast not),
 * NS to a wrong solicited-node group ignored, a batch of 2000 gratuitous ARPs all seen by the client
 * (and learned into its neighbour table), malformed frames counted without a crash.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { describeInterop } from '../../../../test-utils/env.js';
import { Topology, sh } from '../../../../test-utils/netns.js';
import { addL2Lab, sleep, startLineFixture, type L2Lab, type LineProc } from '../../../../test-utils/l2-lab.js';

const fixture = fileURLToPath(new URL('./fixture-responder.ts', import.meta.url));
const probe = fileURLToPath(new URL('./l2probe.py', import.meta.url));

interface ProbeResult {
  sent: number;
  replies: { sha?: string; ethSrc: string; flags?: number }[];
}
type Stats = Record<string, number>;

describeInterop('afpacket NativeResponder against raw frames and the kernel', { root: true, bins: ['ip', 'python3'] }, () => {
  const topo = new Topology('nrs');
  let lab: L2Lab;
  let v4: LineProc;
  let v6: LineProc;
  const run = async (ns: string, ...args: string[]): Promise<ProbeResult> => JSON.parse(await sh('python3', [probe, ...args], { ns })) as ProbeResult;
  const stats = async (p: LineProc): Promise<Stats> => JSON.parse((await p.cmd('stats', /^stats /)).slice(6)) as Stats;

  beforeAll(async () => {
    lab = await addL2Lab(topo, { addrs: ['10.78.0.10/24', '10.78.0.11/24', '10.78.0.12/24'], ipv6: true });
    await sh('ip', ['-6', 'addr', 'add', 'fd00:78::10/64', 'dev', 'eth0', 'nodad'], { ns: lab.client });
    await sh('ip', ['route', 'add', '10.78.0.0/16', 'dev', 'eth0'], { ns: lab.client }); // VIPs outside the /24 are on-link
    v4 = await startLineFixture(topo, lab.node1, fixture, { ready: /^ready / });
    v6 = await startLineFixture(topo, lab.node1, fixture, { ready: /^ready /, env: { LBKIT_FAMILY: '6' } });
  }, 120_000);
  afterAll(async () => {
    await topo.destroy();
  });

  it('answers ARP natively for owned VIPs; the kernel filter keeps requests for other addresses out', async () => {
    const ok = await v4.cmd('range active 10.78.1.1 3000', /^ok /);
    expect(JSON.parse(ok.slice(3))).toMatchObject({ entries: 3000, exact: true });
    const before = await stats(v4);
    const mine = await run(lab.client, 'arp', 'eth0', '10.78.1.77', '10.78.0.10', 'bcast', '3', '0.5');
    expect(mine.replies).toHaveLength(3);
    expect(mine.replies.every((r) => r.sha === lab.mac1 && r.ethSrc === lab.mac1)).toBe(true);
    const other = await run(lab.client, 'arp', 'eth0', '10.78.40.1', '10.78.0.10', 'bcast', '5', '0.3');
    expect(other.replies).toHaveLength(0);
    const after = await stats(v4);
    expect(after.replied! - before.replied!).toBe(3);
    // the 5 requests for 10.78.40.1 never reached the socket: dropped by the BPF filter in the kernel
    expect(after.received! - before.received!).toBe(3);
    expect(after.notOwned).toBe(before.notOwned);
    // the client kernel resolves a VIP through the native reply
    await sh('ip', ['neigh', 'flush', 'dev', 'eth0'], { ns: lab.client });
    await sh('ping', ['-c', '1', '-W', '1', '10.78.1.5'], { ns: lab.client }).catch(() => '');
    expect(await sh('ip', ['neigh', 'show', '10.78.1.5', 'dev', 'eth0'], { ns: lab.client })).toContain(lab.mac1);
  });

  it('drain: a draining VIP answers unicast ARP to our MAC only, never broadcast', async () => {
    await v4.cmd('set draining 10.78.1.9', /^ok /);
    const before = await stats(v4);
    const bcast = await run(lab.client, 'arp', 'eth0', '10.78.1.9', '10.78.0.10', 'bcast', '3', '0.4');
    expect(bcast.replies).toHaveLength(0);
    const uni = await run(lab.client, 'arp', 'eth0', '10.78.1.9', '10.78.0.10', lab.mac1, '2', '0.4');
    expect(uni.replies).toHaveLength(2);
    const after = await stats(v4);
    expect(after.drainIgnored! - before.drainIgnored!).toBe(3);
    expect(after.drainReplied! - before.drainReplied!).toBe(2);
    // withdrawn: nothing at all
    await v4.cmd('set off 10.78.1.9', /^ok /);
    expect((await run(lab.client, 'arp', 'eth0', '10.78.1.9', '10.78.0.10', lab.mac1, '2', '0.3')).replies).toHaveLength(0);
  });

  it('NDP: answers NS on the solicited-node group and unicast, ignores a wrong group; drain answers unicast only', async () => {
    await v6.cmd('join 33:33:ff:00:00:42', /^ok /);
    await v6.cmd('set active fd00:78::42', /^ok /);
    const before = await stats(v6);
    const group = await run(lab.client, 'ns', 'eth0', 'fd00:78::42', 'fd00:78::10', 'ff02::1:ff00:42', '33:33:ff:00:00:42', '2', '0.4');
    expect(group.replies).toHaveLength(2);
    expect(group.replies.every((r) => r.ethSrc === lab.mac1 && (r.flags! & 0x60) === 0x60)).toBe(true); // S and O
    // the same NS sent to another solicited-node group (wrong target group): ignored
    await v6.cmd('join 33:33:ff:00:00:43', /^ok /);
    const wrong = await run(lab.client, 'ns', 'eth0', 'fd00:78::42', 'fd00:78::10', 'ff02::1:ff00:43', '33:33:ff:00:00:43', '2', '0.3');
    expect(wrong.replies).toHaveLength(0);
    const uni = await run(lab.client, 'ns', 'eth0', 'fd00:78::42', 'fd00:78::10', 'fd00:78::42', lab.mac1, '1', '0.3');
    expect(uni.replies).toHaveLength(1);
    const mid = await stats(v6);
    expect(mid.wrongGroup! - before.wrongGroup!).toBe(2);
    expect(mid.replied! - before.replied!).toBe(3);
    // the client kernel resolves the VIP through a native NA
    await sh('ping', ['-6', '-c', '1', '-W', '1', 'fd00:78::42'], { ns: lab.client }).catch(() => '');
    expect(await sh('ip', ['-6', 'neigh', 'show', 'fd00:78::42', 'dev', 'eth0'], { ns: lab.client })).toContain(lab.mac1);
    await v6.cmd('set draining fd00:78::42', /^ok /);
    const mc = await run(lab.client, 'ns', 'eth0', 'fd00:78::42', 'fd00:78::10', 'ff02::1:ff00:42', '33:33:ff:00:00:42', '2', '0.3');
    expect(mc.replies).toHaveLength(0);
    const nud = await run(lab.client, 'ns', 'eth0', 'fd00:78::42', 'fd00:78::10', 'fd00:78::42', lab.mac1, '1', '0.3');
    expect(nud.replies).toHaveLength(1);
  });

  it('malformed frames are counted and dropped; the responder keeps answering', async () => {
    await v4.cmd('set active 10.78.1.200', /^ok /);
    const before = await stats(v4);
    // a valid request for an owned VIP, then copies with a bad htype, plen and hlen (the BPF filter passes them: same target)
    const py = [
      'import socket,struct',
      's=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind(("eth0",0))',
      `me=bytes.fromhex(open("/sys/class/net/eth0/address").read().strip().replace(":",""))`,
      'base=bytearray(b"\\xff"*6+me+b"\\x08\\x06"+struct.pack("!HHBBH",1,0x800,6,4,1)+me+socket.inet_aton("10.78.0.10")+b"\\0"*6+socket.inet_aton("10.78.1.200"))',
      'for off,val in ((14,7),(19,6),(18,8)):',
      '  f=bytearray(base); f[off]=val; s.send(bytes(f))',
    ].join('\n');
    await sh('python3', ['-c', py], { ns: lab.client });
    await sleep(200);
    const mine = await run(lab.client, 'arp', 'eth0', '10.78.1.200', '10.78.0.10', 'bcast', '1', '0.4');
    expect(mine.replies).toHaveLength(1);
    const after = await stats(v4);
    expect(after.malformed! - before.malformed!).toBe(3);
    expect(after.replied! - before.replied!).toBe(1);
  });

  it('sends 2000 gratuitous ARPs as one batch: the client sees all 2000, and learns them (arp_accept=1)', async () => {
    const sniffer = topo.spawnIn(lab.client, 'python3', [probe, 'sniff', 'eth0', '4']);
    let out = '';
    sniffer.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(50);
    await sh('sysctl', ['-qw', 'net.ipv4.conf.eth0.arp_accept=1'], { ns: lab.client });
    await sh('ip', ['neigh', 'flush', 'dev', 'eth0'], { ns: lab.client });
    const line = await v4.cmd('garp 10.78.20.1 2000', /^(sent|error) /);
    expect(line).toMatch(/^sent 2000 /);
    await new Promise((r) => sniffer.once('exit', r));
    const seen = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { garp: number; garpIps: number };
    expect(seen.garpIps).toBe(2000);
    expect(seen.garp).toBe(2000);
    // the kernel's neighbour table is shared by all namespaces (gc_thresh3 1024): count what it kept
    const neigh = await sh('ip', ['neigh', 'show', 'dev', 'eth0'], { ns: lab.client });
    const learned = neigh.split('\n').filter((l) => l.startsWith('10.78.') && l.includes(lab.mac1) && Number(l.split('.')[2]) >= 20).length;
    expect(learned).toBeGreaterThan(200);
  });
});
