import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { makeLab, neigh, sleep, startSpeaker, waitNeigh, type Fixture, type Lab } from './harness.js';

const VIP = '10.78.0.100';

describeInterop('ArpSpeaker against the Linux neighbour cache, arping and scapy', { root: true, bins: ['arping', 'ip', '/usr/bin/python3'] }, () => {
  let lab: Lab;
  let s1: Fixture;
  let s2: Fixture;
  beforeAll(async () => {
    lab = await makeLab('arp');
    [s1, s2] = await Promise.all([startSpeaker(lab.topo, lab.node1), startSpeaker(lab.topo, lab.node2)]);
  });
  afterAll(async () => {
    await lab?.topo.destroy();
  });

  it('answers arping for an announced VIP with node1 MAC, and nothing for an unannounced address', async () => {
    await s1.cmd(`announce ${VIP}`, /^ok announce/);
    const out = (await sh('arping', ['-c', '2', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(lab.mac1);
    expect(out).not.toContain(lab.mac2);
    const none = await sh('arping', ['-c', '2', '-w', '3', '-I', 'eth0', '10.78.0.200'], { ns: lab.client }).then(
      (o) => `answered: ${o}`,
      (e: Error) => e.message,
    );
    expect(none.toLowerCase()).not.toMatch(new RegExp(`${lab.mac1}|${lab.mac2}`));
    expect(none).not.toMatch(/^answered/);
  });

  it('kernel resolution reaches node1; after withdraw + announce on node2 the entry switches to node2', async () => {
    await sh('ip', ['neigh', 'flush', 'to', VIP, 'dev', 'eth0'], { ns: lab.client });
    // The VIP is not local on node1, so the ping itself fails; the ARP resolution is what counts.
    await sh('ping', ['-c', '1', '-W', '1', VIP], { ns: lab.client }).catch(() => '');
    const before = await neigh(lab.client, VIP);
    expect(before?.lladdr).toBe(lab.mac1);
    expect(before?.state).toContain('REACHABLE');
    await s1.cmd(`withdraw ${VIP}`, /^ok withdraw/);
    const t0 = performance.now();
    s2.send(`announce ${VIP}`);
    const ms = await waitNeigh(lab.client, VIP, lab.mac2, t0, 10_000);
    console.log(`announce-to-switch: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(10_000);
    const after = await neigh(lab.client, VIP);
    expect(after?.state).toContain('STALE'); // a GARP does not assert reachability
    const out = (await sh('arping', ['-c', '2', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(lab.mac2);
    expect(out).not.toContain(lab.mac1);
  });

  it('survives malformed ARP from scapy, counts it, and still answers', async () => {
    const before = JSON.parse((await s2.cmd('stats', /^stats /)).slice(6)) as { malformed: number; replied: number };
    // Malformed frames that still pass the kernel-side filter (ARP, opcode 1 at offset 20) and so
    // reach the decoder, followed by junk that the BPF filter may drop before user space.
    const py = `
from scapy.all import Ether, ARP, Raw, sendp
import os
b='ff:ff:ff:ff:ff:ff'
full=bytes(Ether(dst=b)/ARP(op=1,pdst='${VIP}',psrc='10.78.0.10'))
def patch(off, val):
    x=bytearray(full); x[off:off+len(val)]=val; return bytes(x)
bad=[full[:22], full[:30], full[:41], patch(14,b'\\x00\\x06'), patch(16,b'\\x86\\xdd'), patch(18,b'\\x08'), patch(19,b'\\x10')]
junk=[patch(20,b'\\x00\\x09'), full[:19]] + [bytes(Ether(dst=b,type=0x0806)/Raw(os.urandom(20))) for _ in range(4)]
sendp([Ether(f) for f in bad+junk], iface='eth0', verbose=False)
print(len(bad))
`;
    const n = Number((await sh('/usr/bin/python3', ['-c', py], { ns: lab.client, timeoutMs: 60_000 })).trim());
    expect(n).toBe(7);
    let stats = before;
    // The three truncated frames end before the target address (offset 38), which the kernel filter
    // built from the owned VIPs reads: the kernel drops them. The four with a bad header reach the
    // native decoder and are counted.
    const counted = n - 3;
    for (let i = 0; i < 100 && stats.malformed < before.malformed + counted; i++) {
      await sleep(50);
      stats = JSON.parse((await s2.cmd('stats', /^stats /)).slice(6)) as typeof before;
    }
    await sleep(300);
    stats = JSON.parse((await s2.cmd('stats', /^stats /)).slice(6)) as typeof before;
    expect(stats.malformed - before.malformed).toBeGreaterThanOrEqual(counted);
    expect(stats.malformed - before.malformed).toBeLessThanOrEqual(n + 6);
    expect(stats.replied).toBe(before.replied);
    const out = (await sh('arping', ['-c', '1', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(lab.mac2);
  });

  it('re-announces when the interface comes back up', async () => {
    const from = s2.lines.length;
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: lab.node2 });
    await s2.wait(/^down$/, 10_000, from);
    await sh('ip', ['link', 'set', 'eth0', 'up'], { ns: lab.node2 });
    await s2.wait(new RegExp(`^reannounced ${VIP.replace(/\./g, '\\.')}$`), 10_000, from);
    expect(s2.lines.slice(from).filter((l) => l.startsWith('error'))).toEqual([]);
    // The socket survived the link flap (POLLERR handled): it still answers requests.
    const out = (await sh('arping', ['-c', '1', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(lab.mac2);
  });
});
