// ArpSpeaker against the kernel when the node's interface is deleted and re-created (new ifindex,
// new MAC), and the on-the-wire GARP schedule captured with tshark. Prefix `arprc`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { capture, makeLab, neigh, sleep, startSpeaker, waitNeigh, type Fixture, type Lab } from './harness.js';

const VIP = '10.78.0.100';
const VIP_T = '10.78.0.150';
const re = (s: string): string => s.replace(/\./g, '\\.');

describeInterop('ArpSpeaker: interface re-creation and GARP schedule on the wire', { root: true, bins: ['arping', 'ip', 'ping', 'tshark'] }, () => {
  let lab: Lab;
  let s1: Fixture;
  let s2: Fixture;
  beforeAll(async () => {
    lab = await makeLab('arprc');
    [s1, s2] = await Promise.all([startSpeaker(lab.topo, lab.node1, { ARP_REFRESH_MS: '2000' }), startSpeaker(lab.topo, lab.node2)]);
  });
  afterAll(async () => {
    await lab?.topo.destroy();
  });

  it('GARP on the wire: request, SPA = TPA = VIP, broadcast, at once then every 1.1 s for 5 s, then the 2 s refresh', async () => {
    const cap = await capture(lab.topo, lab.client, `arp and ether src ${lab.mac1}`, [
      'frame.time_epoch', 'eth.dst', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4',
    ]);
    await s1.cmd(`announce ${VIP_T}`, /^ok announce/);
    await sleep(9000); // burst 0..4.4 s, refresh at 6.4 and 8.4 s
    await s1.cmd(`withdraw ${VIP_T}`, /^ok withdraw/);
    const rows = (await cap.stop()).filter((r) => r[4] === VIP_T);
    for (const r of rows) expect(r.slice(1)).toEqual(['ff:ff:ff:ff:ff:ff', '1', lab.mac1, VIP_T, 'ff:ff:ff:ff:ff:ff', VIP_T]);
    const t = rows.map((r) => Number(r[0]) * 1000);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    console.log(`GARP gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(' ')}`);
    expect(rows).toHaveLength(7);
    for (const g of gaps.slice(0, 4)) expect(Math.abs(g - 1100)).toBeLessThan(150);
    for (const g of gaps.slice(4)) expect(Math.abs(g - 2000)).toBeLessThan(150);
  });

  it('interface deleted: socket dropped without a crash; re-created with a new MAC: the client entry follows it', async () => {
    await s2.cmd(`announce ${VIP}`, /^ok announce/);
    await sh('ip', ['neigh', 'flush', 'to', VIP, 'dev', 'eth0'], { ns: lab.client });
    await sh('ping', ['-c', '1', '-W', '1', VIP], { ns: lab.client }).catch(() => '');
    expect((await neigh(lab.client, VIP))?.lladdr).toBe(lab.mac2);

    const from = s2.lines.length;
    await sh('ip', ['link', 'del', 'eth0'], { ns: lab.node2 }); // also deletes the bridge-side peer
    await s2.wait(/^removed$/, 10_000, from);
    expect(await s2.cmd('mac', /^mac /)).toMatch(/open=false$/);
    // announcing while the interface is absent is accepted and kept
    await s2.cmd(`announce 10.78.0.101`, /^ok announce/);
    await s2.cmd(`withdraw 10.78.0.101`, /^ok withdraw/);

    const newMac = await lab.topo.connect(lab.node2, 'eth0', lab.topo.name('sw'), 'br0', ['10.78.0.2/24']);
    const t0 = performance.now();
    expect(newMac).not.toBe(lab.mac2);
    await s2.wait(new RegExp(`^reopened ${newMac}$`), 10_000, from);
    await s2.wait(new RegExp(`^reannounced ${re(VIP)}$`), 10_000, from);
    const ms = await waitNeigh(lab.client, VIP, newMac, t0, 10_000);
    console.log(`re-created interface up -> client entry at the new MAC: ${ms.toFixed(1)} ms (watcher polls every 200 ms)`);
    // A send racing the deletion (ENXIO before the watcher's tick) triggers an immediate poll and is not
    // reported as an error, since the interface really is gone: no error line at all.
    expect(s2.lines.slice(from).filter((l) => l.startsWith('error'))).toEqual([]);
    expect(s2.child.exitCode).toBeNull();
    // the new socket (BPF re-attached) answers requests with the new MAC
    const out = (await sh('arping', ['-c', '2', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(newMac);
    expect(out).not.toContain(lab.mac2);
    const stats = JSON.parse((await s2.cmd('stats', /^stats /)).slice(6)) as { replied: number };
    expect(stats.replied).toBeGreaterThanOrEqual(2);
  });

  it('MAC changed in place (ip link set address): socket reopened, the client entry follows the new MAC', async () => {
    const from = s2.lines.length;
    const mac = '02:78:00:00:00:2e';
    const before = await neigh(lab.client, VIP);
    expect(before?.lladdr).not.toBe(mac);
    await sh('ip', ['link', 'set', 'eth0', 'address', mac], { ns: lab.node2 });
    const t0 = performance.now();
    await s2.wait(new RegExp(`^reopened ${mac}$`), 10_000, from);
    const ms = await waitNeigh(lab.client, VIP, mac, t0, 10_000);
    console.log(`MAC change -> client entry at the new MAC: ${ms.toFixed(1)} ms`);
    expect(s2.lines.slice(from).filter((l) => l.startsWith('error'))).toEqual([]);
    const out = (await sh('arping', ['-c', '1', '-w', '4', '-I', 'eth0', VIP], { ns: lab.client }).catch((e: Error) => e.message)).toLowerCase();
    expect(out).toContain(mac);
  });
});
