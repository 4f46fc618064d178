// NdpInterfaceSpeaker (owns its socket, follows the interface) against the Linux kernel's neighbour
// code, tshark, `ip maddr` and scapy: NA schedule on the wire, refcounted solicited-node joins seen by
// the kernel, and deletion + re-creation of the node's interface with a new MAC. Prefix `ndprc`.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh, Topology } from '../../../../test-utils/netns.js';
import { addL2Lab } from '../../../../test-utils/l2-lab.js';
import { sleep, startIfaceSpeaker, tshark, type SpeakerProc } from './iface-harness.js';

const HELPER = fileURLToPath(new URL('./scapy-helper.py', import.meta.url));
const VIP = 'fd00:79::100';
const VIP_SAME_GROUP = 'fd00:7a::100'; // same last 24 bits: same solicited-node group 33:33:ff:00:01:00
const VIP_T = 'fd00:79::150';
const GROUP = '33:33:ff:00:01:00';

async function neighMac(ns: string, ip: string): Promise<string | undefined> {
  return /lladdr (\S+)/.exec(await sh('ip', ['-6', 'neigh', 'show', ip, 'dev', 'eth0'], { ns }))?.[1];
}
async function waitMac(ns: string, ip: string, mac: string, ms: number): Promise<string | undefined> {
  const end = Date.now() + ms;
  let m: string | undefined;
  while (Date.now() < end) {
    if ((m = await neighMac(ns, ip)) === mac) return m;
    await sleep(10);
  }
  return m;
}
/** Link-layer groups of eth0 in `ns` as the kernel reports them (`ip maddr`). */
async function linkGroups(ns: string): Promise<string[]> {
  const out = await sh('ip', ['maddr', 'show', 'dev', 'eth0'], { ns });
  return [...out.matchAll(/link\s+([0-9a-f:]{17})/g)].map((m) => m[1]!);
}

describeInterop('NdpInterfaceSpeaker: NA schedule, kernel-visible joins, interface re-creation', { root: true, bins: ['ip', 'ping', 'tshark', '/usr/bin/python3'] }, () => {
  const topo = new Topology('ndprc');
  let sw = '', client = '', n1 = '', n2 = '';
  let mac1 = '', mac2 = '';
  let s1: SpeakerProc, s2: SpeakerProc;

  beforeAll(async () => {
    ({ sw, client, node1: n1, node2: n2, mac1, mac2 } = await addL2Lab(topo, { addrs: ['fd00:79::10/64', 'fd00:79::11/64', 'fd00:79::12/64'], clientRole: 'c', ipv6: true }));
    [s1, s2] = await Promise.all([startIfaceSpeaker(topo, n1), startIfaceSpeaker(topo, n2, { NDP_BURST_MS: '0' })]);
    expect(s1.lines[0]).toBe(`ready ${mac1}`);
  });
  afterAll(async () => {
    await topo.destroy();
  });

  it('unsolicited NAs on the wire: O=1 S=0 R=0, hop limit 255, to ff02::1, TLLA; at once then every 1.1 s for 5 s', async () => {
    const cap = await tshark(topo, client, `icmp6 and ether src ${mac1}`, [
      'frame.time_epoch', 'eth.dst', 'ipv6.dst', 'ipv6.hlim', 'icmpv6.type', 'icmpv6.nd.na.flag.r', 'icmpv6.nd.na.flag.s', 'icmpv6.nd.na.flag.o',
      'icmpv6.nd.na.target_address', 'icmpv6.opt.linkaddr',
    ]);
    await s1.cmd(`announce ${VIP_T}`, /^ok announce/);
    await sleep(6500);
    await s1.cmd(`withdraw ${VIP_T}`, /^ok withdraw/);
    const flag = (v: string): string => ({ True: '1', False: '0' })[v] ?? v; // tshark prints 0/1 or True/False by version
    const rows = (await cap.stop()).filter((r) => r[4] === '136' && r[8] === VIP_T).map((r) => r.map((v, i) => (i >= 5 && i <= 7 ? flag(v) : v)));
    for (const r of rows) expect(r.slice(1)).toEqual(['33:33:00:00:00:01', 'ff02::1', '255', '136', '0', '0', '1', VIP_T, mac1]);
    const t = rows.map((r) => Number(r[0]) * 1000);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    console.log(`NA gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(' ')}`);
    expect(rows).toHaveLength(5);
    for (const g of gaps) expect(Math.abs(g - 1100)).toBeLessThan(150);
  });

  it('solicited-node joins are refcounted as the kernel sees them (ip maddr)', async () => {
    expect(await linkGroups(n2)).not.toContain(GROUP);
    await s2.cmd(`announce ${VIP}`, /^ok announce/);
    await s2.cmd(`announce ${VIP_SAME_GROUP}`, /^ok announce/);
    expect(await linkGroups(n2)).toContain(GROUP);
    await s2.cmd(`withdraw ${VIP_SAME_GROUP}`, /^ok withdraw/);
    expect(await linkGroups(n2)).toContain(GROUP); // still needed by VIP
    // the group really delivers: a multicast NS to it is answered
    const na = JSON.parse((await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', GROUP, 'fd00:79::10', VIP, 'slla'], { ns: client, timeoutMs: 60_000 })).trim().split('\n').pop()!);
    expect(na).toMatchObject({ tlla: mac2, S: 1, O: 1 });
    await s2.cmd(`withdraw ${VIP}`, /^ok withdraw/);
    expect(await linkGroups(n2)).not.toContain(GROUP);
    await s2.cmd(`announce ${VIP}`, /^ok announce/);
    expect(await linkGroups(n2)).toContain(GROUP);
  });

  it('interface deleted: socket dropped without a crash; re-created with a new MAC: group re-joined, client entry follows', async () => {
    await sh('ip', ['-6', 'neigh', 'flush', 'to', VIP, 'dev', 'eth0'], { ns: client });
    await sh('ping', ['-6', '-c1', '-W2', VIP], { ns: client }).catch(() => undefined); // VIP not local on node2: resolution only
    expect(await waitMac(client, VIP, mac2, 5000)).toBe(mac2);

    const from = s2.lines.length;
    await sh('ip', ['link', 'del', 'eth0'], { ns: n2 });
    await s2.wait(/^removed$/, 10_000, from);
    expect(await s2.cmd('mac', /^mac /)).toBe('mac  open=false');

    const newMac = await topo.connect(n2, 'eth0', sw, 'br0', ['fd00:79::12/64']);
    const t0 = performance.now();
    expect(newMac).not.toBe(mac2);
    await s2.wait(new RegExp(`^reopened ${newMac}$`), 10_000, from);
    await s2.wait(new RegExp(`^reannounced ${VIP}$`), 10_000, from);
    expect(await waitMac(client, VIP, newMac, 10_000)).toBe(newMac);
    console.log(`re-created interface up -> client entry at the new MAC: ${(performance.now() - t0).toFixed(1)} ms (watcher polls every 200 ms)`);
    // A send racing the deletion (ENXIO before the watcher's tick) triggers an immediate poll and is not
    // reported as an error, since the interface really is gone: no error line at all.
    expect(s2.lines.slice(from).filter((l) => l.startsWith('error'))).toEqual([]);
    expect(s2.child.exitCode).toBeNull();
    // the new socket joined the solicited-node group on the new ifindex and answers multicast and unicast NS
    expect(await linkGroups(n2)).toContain(GROUP);
    for (const [dst, extra] of [[GROUP, ['slla']], [newMac, []]] as const) {
      const out = await sh('/usr/bin/python3', [HELPER, 'ns', 'eth0', dst, 'fd00:79::10', VIP, ...extra], { ns: client, timeoutMs: 60_000 });
      expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({ ethSrc: newMac, tlla: newMac, src: VIP, hlim: 255, S: 1, O: 1, R: 0 });
    }
    const stats = JSON.parse((await s2.cmd('stats', /^stats /)).slice(6)) as { answered: number };
    expect(stats.answered).toBeGreaterThanOrEqual(3); // cumulative over both sockets
    // the native responder's per-target counts reach JavaScript (what lbkitd turns into the metallb_layer2_* counters)
    await s2.wait(new RegExp(`^replies ${VIP} [1-9]`), 5000, from);
  });

  it('after the re-creation, down/up of the new interface re-announces (entry taken back from node1)', async () => {
    const mac = (await s2.cmd('mac', /^mac /)).split(' ')[1]!;
    await s1.cmd(`announce ${VIP}`, /^ok announce/); // steal the client's entry with one NA, then stop
    await s1.cmd(`withdraw ${VIP}`, /^ok withdraw/);
    expect(await waitMac(client, VIP, mac1, 5000)).toBe(mac1);
    const from = s2.lines.length;
    await sh('ip', ['link', 'set', 'eth0', 'down'], { ns: n2 });
    await s2.wait(/^down$/, 10_000, from);
    await sh('ip', ['link', 'set', 'eth0', 'up'], { ns: n2 });
    await s2.wait(new RegExp(`^reannounced ${VIP}$`), 10_000, from);
    expect(await waitMac(client, VIP, mac, 10_000)).toBe(mac);
    expect(s2.lines.slice(from).filter((l) => l.startsWith('error') || l.startsWith('reopened'))).toEqual([]);
  });
});
