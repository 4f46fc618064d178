/**
 * End-to-end L2 failover with lbkitd's own backends: @lbkit/arp (IPv4) / @lbkit/ndp (IPv6)
 * user-space responders and @lbkit/memberlist membership (fast LAN timings), peers discovered from
 * the Node objects' InternalIP. 3 node namespaces + a client on a bridge, each node runs lbkitd from
 * the same YAML and an HTTP server answering its node name. Checked against the client's Linux
 * kernel (ARP / neighbour discovery, TCP) and curl: the controller assigns the VIP, the leader is
 * MetalLB's sha256(node#ip) winner, curl reaches it and the client's neighbour entry holds its MAC;
 * malformed ARP / NS frames from scapy are counted and logged with the interface and the VIP still
 * resolves; SIGKILL of the leader (unplanned) → the client reaches the next node by hash in < 1 s;
 * SIGTERM of that one (planned hand-over, memberlist leave) → the third node in < 1 s; the last
 * node's eth0 is deleted and re-created with a new MAC → the client's entry follows it (GARP from
 * ArpSpeaker for IPv4, unsolicited NA from NdpInterfaceSpeaker for IPv6, both with the new MAC).
 * Before all that, a non-leader's lbkitd is restarted while tcpdump captures on the client: the
 * startup hold (`--l2-startup-grace-ms`, default 5000) keeps it from announcing the VIP before it
 * rejoined, so the capture holds no gratuitous ARP / unsolicited NA for the VIP from its MAC and the
 * client's neighbour entry never leaves the leader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { duplicateTopLevelKeys } from '../helpers.js';
import { until, type ClusterNode } from './cluster.js';
import { hashOrder } from './l2-lab.js';
import { useL2Cluster } from './l2-setup.js';
import { l2Yaml, l2Yaml6 } from './l2yaml.js';

for (const family of ['ipv4', 'ipv6'] as const) {
  const v6 = family === 'ipv6';
  const service = v6 ? 'default/web6' : 'default/web';
  describeInterop(`lbkitd L2 failover (@lbkit/${v6 ? 'ndp' : 'arp'} + @lbkit/memberlist, ${family})`, { root: true, bins: ['ip', 'curl', '/usr/bin/python3', 'tcpdump', 'tshark'] }, () => {
    const c = useL2Cluster({
      prefix: v6 ? 'kl2v6' : 'kl2v4',
      nodes: 3,
      ipv6: v6,
      ...(v6 ? { vipRange6: 'fd00:77::200/125' } : { vipRange: '10.77.0.200/29' }),
      args: (n) => ['--l2-backend', 'lbkit', '--membership-backend', 'lbkit', '--memberlist-bind', `${n.ip}:7946`, '--memberlist-timings', 'fast'],
    }, v6 ? l2Yaml6(['node1', 'node2', 'node3']) : l2Yaml(['node1', 'node2', 'node3']));


    /** Waits for three members and one assignment everywhere; returns the VIP, the hash order and the single L2 owner. */
    const converged = async (): Promise<{ vip: string; order: string[]; leader: ClusterNode }> => {
      const names = c.nodes.map((n) => n.name);
      const vip = await until(() => {
        const ips = c.nodes.map((n) => c.state(n)?.services.find((s) => s.service === service)?.ingress[0]);
        return c.nodes.every((n) => c.state(n)?.members?.length === 3) && ips.every((ip) => ip && ip === ips[0]) ? ips[0] : undefined;
      }, 60_000, 'three members and the same assignment on every node');
      const owner = (): ClusterNode | undefined => {
        const owners = c.nodes.filter((n) => n.lbkitd?.exitCode === null && n.lbkitd.signalCode === null && (c.state(n)?.l2[service] ?? []).includes(vip));
        return owners.length === 1 ? owners[0] : undefined;
      };
      return { vip, order: hashOrder(vip, names), leader: await until(owner, 30_000, 'exactly one L2 owner') };
    };

    it('restarting a non-leader sends no gratuitous packet for the VIP before it rejoined; the client entry stays on the leader', async () => {
      const { vip, order, leader } = await converged();
      expect(leader.name).toBe(order[0]);
      expect(await until(() => c.curl(vip).then((b) => (b === leader.name ? b : null)), 20_000, 'client reaching the leader')).toBe(leader.name);
      expect(await c.neighMac(vip)).toBe(leader.mac);
      const other = c.nodes.find((n) => n.name === order[2])!;
      const otherIP = v6 ? other.ip6! : other.ip;

      // capture every ARP / ICMPv6 frame from the restarting node's MAC that reaches the client
      const pcap = join(c.dir, `restart-${family}.pcap`);
      const dump = c.topo.spawnIn(c.client, 'tcpdump', ['-i', 'eth0', '--immediate-mode', '-U', '-n', '-w', pcap, `ether src ${other.mac} and ${v6 ? 'icmp6' : 'arp'}`]);
      let dumpErr = '';
      dump.stderr?.on('data', (d: Buffer) => (dumpErr += d.toString()));
      await until(() => /listening on/.test(dumpErr), 10_000, 'tcpdump listening');
      // poll the client's neighbour entry for the VIP during the whole restart
      const seen = new Set<string>();
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const m = await c.neighMac(vip);
          if (m) seen.add(m);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      // restart the non-leader (rolling update: SIGTERM, then a fresh process with an empty state)
      other.lbkitd!.kill('SIGTERM');
      await until(() => other.lbkitd!.exitCode !== null, 10_000, 'lbkitd exit after SIGTERM');
      expect(other.lbkitd!.exitCode).toBe(0);
      const logsBefore = other.logs.length;
      const t0 = Date.now();
      c.startLbkitd(other);
      // it rejoined (three members in its own view) and the join, not the grace, released the hold
      await until(() => c.state(other)?.members?.length === 3 && c.state(other)?.l2Held === false, 20_000, 'restarted node rejoined with the hold released');
      const rejoinMs = Date.now() - t0;
      const restartLog = other.logs.slice(logsBefore).join('');
      // one log line with the message, the reason and the hold time (field order is the logger's)
      const releasedLine = restartLog.split('\n').find((l) => l.includes('"msg":"L2 startup hold released"') && l.includes('"reason":"joined the cluster"'));
      const released = releasedLine ? /"heldMs":(\d+)/.exec(releasedLine) : null;
      expect(released, restartLog).not.toBeNull();
      // keep watching longer than the gratuitous repeat gap (1.1 s), then a positive control: the node
      // sends one gratuitous ARP / unsolicited NA for its OWN address, which the capture must hold
      await new Promise((r) => setTimeout(r, 1500));
      const control = v6
        ? `from scapy.all import Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, sendp
sendp(Ether(src='${other.mac}',dst='33:33:00:00:00:01')/IPv6(src='${otherIP}',dst='ff02::1',hlim=255)/ICMPv6ND_NA(tgt='${otherIP}',R=0,S=0,O=1)/ICMPv6NDOptDstLLAddr(lladdr='${other.mac}'), iface='eth0', verbose=False)`
        : `from scapy.all import Ether, ARP, sendp
sendp(Ether(src='${other.mac}',dst='ff:ff:ff:ff:ff:ff')/ARP(op=1,hwsrc='${other.mac}',psrc='${otherIP}',pdst='${otherIP}'), iface='eth0', verbose=False)`;
      const claims = (ip: string) => (v6 ? `icmpv6.type == 136 && icmpv6.nd.na.target_address == ${ip}` : `arp.src.proto_ipv4 == ${ip}`);
      const count = async (filter: string) => (await sh('tshark', ['-n', '-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'frame.number'])).split('\n').filter(Boolean).length;
      await sh('/usr/bin/python3', ['-c', control], { ns: other.ns, timeoutMs: 60_000 });
      // the capture is in order: once the control frame is in the file, so is everything before it
      await until(() => count(claims(otherIP)).then((n) => n >= 1, () => false), 10_000, 'the control frame in the capture', 100);
      polling = false;
      await poller;
      dump.kill('SIGINT');
      await until(() => dump.exitCode !== null || dump.signalCode !== null, 10_000, 'tcpdump exit');

      expect(readFileSync(pcap).length).toBeGreaterThan(24); // more than the pcap file header
      const own = await count(claims(otherIP));
      const vipClaims = await count(claims(vip));
      console.log(`[kube-e2e] lbkit ${family} non-leader restart: rejoined in ${rejoinMs} ms, L2 held ${released![1]} ms, ${vipClaims} packets claiming the VIP, client entry MACs seen: ${[...seen].join(',')}`);
      const frames = await sh('tshark', ['-n', '-r', pcap]);
      expect(own, frames).toBeGreaterThanOrEqual(1);
      expect(vipClaims, frames).toBe(0);
      expect([...seen]).toEqual([leader.mac]);
      // and the leader still serves the VIP
      expect(await c.curl(vip)).toBe(leader.name);
    }, 120_000);

    it('assigns the VIP, elects the sha256 winner, fails over unplanned in < 1 s and hands over on SIGTERM', async () => {
      const { vip, order, leader } = await converged();
      // the controller assigned from the pool of the right family
      expect(vip).toMatch(v6 ? /^fd00:77::20[0-7]$/ : /^10\.77\.0\.20[0-7]$/);
      expect(leader.name).toBe(order[0]);
      expect(await until(() => c.curl(vip).then((b) => (b === leader.name ? b : null)), 20_000, 'client reaching the leader')).toBe(leader.name);
      // the client kernel resolved the VIP to the leader's MAC (answered by our ARP / NDP responder)
      expect(await c.neighMac(vip)).toBe(leader.mac);
      // its log: JSON lines, none with a field written twice (the announcing line once repeated "node")
      const lines = leader.logs.join('').split('\n').filter((l) => l.startsWith('{'));
      expect(lines.some((l) => l.includes('"msg":"announcing"'))).toBe(true);
      expect(lines.map((l) => duplicateTopLevelKeys(l).join(',')).filter(Boolean)).toEqual([]);

      // malformed frames from scapy that pass the socket's BPF filter (ARP request / ICMPv6 NS) reach
      // the decoder: lbkitd counts and logs them with the interface, keeps running and still answers
      const py = v6
        ? `
from scapy.all import Ether, IPv6, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, sendp
m='02:00:00:00:00:10'
full=bytes(Ether(dst='${leader.mac}',src=m)/IPv6(src='fd00:77::10',dst='${vip}',hlim=255)/ICMPv6ND_NS(tgt='${vip}')/ICMPv6NDOptSrcLLAddr(lladdr=m))
def patch(off, val):
    x=bytearray(full); x[off:off+len(val)]=val; return bytes(x)
bad=[patch(21,b'\\x40'), patch(55,b'\\x01'), patch(56,b'\\x00\\x00'), full[:70], patch(62,b'\\xff')]
sendp([Ether(f) for f in bad], iface='eth0', verbose=False)
print(len(bad))
`
        : `
from scapy.all import Ether, ARP, sendp
full=bytes(Ether(dst='ff:ff:ff:ff:ff:ff')/ARP(op=1,pdst='${vip}',psrc='10.77.0.10'))
def patch(off, val):
    x=bytearray(full); x[off:off+len(val)]=val; return bytes(x)
bad=[full[:22], full[:30], full[:41], patch(14,b'\\x00\\x06'), patch(16,b'\\x86\\xdd'), patch(18,b'\\x08'), patch(19,b'\\x10')]
sendp([Ether(f) for f in bad], iface='eth0', verbose=False)
print(len(bad))
`;
      const sent = Number((await sh('/usr/bin/python3', ['-c', py], { ns: c.client, timeoutMs: 60_000 })).trim());
      expect(sent).toBe(v6 ? 5 : 7);
      // The truncated ones end before the target address, which the kernel filter built from the
      // owned VIPs reads (ARP: offset 38, NS: the target's low 32 bits at 74): the kernel drops them.
      // Every other one reaches the native responder and is counted as malformed and reported with
      // the interface (the report runs every 2 s).
      const counted = v6 ? sent - 1 : sent - 3;
      const logged = (): boolean =>
        leader.logs
          .join('')
          .split('\n')
          .some((l) => l.includes('"msg":"dropped malformed frames"') && l.includes('"interface":"eth0"') && l.includes(`"arp":${v6 ? 0 : counted},`) && l.includes(`"ndp":${v6 ? counted : 0}`));
      await until(logged, 10_000, `${counted} malformed frames logged with the interface`);
      expect(leader.lbkitd!.exitCode).toBeNull();
      await sh('ip', [...(v6 ? ['-6'] : []), 'neigh', 'flush', 'to', vip, 'dev', 'eth0'], { ns: c.client });
      expect(await until(() => c.curl(vip).then((b) => (b === leader.name ? b : null)), 10_000, 'client re-resolving the VIP after the junk')).toBe(leader.name);
      expect(await c.neighMac(vip)).toBe(leader.mac);

      // unplanned: SIGKILL the leader's lbkitd and its HTTP server; memberlist failure detection decides
      const t1 = Date.now();
      leader.lbkitd!.kill('SIGKILL');
      leader.http!.kill('SIGKILL');
      await until(() => c.curl(vip, 0.2).then((b) => b === order[1]), 30_000, 'client reaching the next node', 5);
      const unplanned = Date.now() - t1;
      const second = c.nodes.find((n) => n.name === order[1])!;
      expect(await c.neighMac(vip)).toBe(second.mac);
      console.log(`[kube-e2e] lbkit ${family} unplanned failover ${order[0]} -> ${order[1]}: ${unplanned} ms`);
      expect(unplanned).toBeLessThan(1000);

      // planned: SIGTERM (memberlist leave, then withdraw) and stop its HTTP server at the same instant
      const t0 = Date.now();
      second.lbkitd!.kill('SIGTERM');
      second.http!.kill('SIGKILL');
      await until(() => c.curl(vip, 0.2).then((b) => b === order[2]), 30_000, 'client reaching the third node', 5);
      const planned = Date.now() - t0;
      const third = c.nodes.find((n) => n.name === order[2])!;
      expect(await c.neighMac(vip)).toBe(third.mac);
      console.log(`[kube-e2e] lbkit ${family} planned failover ${order[1]} -> ${order[2]}: ${planned} ms`);
      expect(planned).toBeLessThan(1000);
      // the stopped speaker exited cleanly after its leave
      await until(() => second.lbkitd!.exitCode !== null, 10_000, 'lbkitd exit after SIGTERM');
      expect(second.lbkitd!.exitCode).toBe(0);
      // the third node saw the leave (one log line; field order is the logger's)
      expect(
        third.logs
          .join('')
          .split('\n')
          .some((l) => l.includes('"msg":"member leave"') && l.includes(`"member":"${second.name}"`)),
      ).toBe(true);

      // the last node's eth0 is deleted and re-created (new ifindex, new MAC): the speaker reopens its
      // socket on the new interface and re-announces, so the client's entry moves to the new MAC
      await sh('ip', ['link', 'del', 'eth0'], { ns: third.ns });
      const newMac = await c.topo.connect(third.ns, 'eth0', c.sw, 'br0', [`${third.ip}/24`, ...(third.ip6 ? [`${third.ip6}/64`] : [])]);
      expect(newMac).not.toBe(third.mac);
      await until(() => c.neighMac(vip).then((m) => m === newMac), 10_000, 'client neighbour entry moving to the re-created interface');
      expect(await until(() => c.curl(vip).then((b) => (b === third.name ? b : null)), 10_000, 'client reaching the node over its new interface')).toBe(third.name);
      // the speaker of this family (ArpSpeaker for IPv4, NdpInterfaceSpeaker for IPv6) reopened with the new MAC
      const proto = v6 ? 'ndp' : 'arp';
      const reopenedLine = (l: string): boolean =>
        l.includes(`"msg":"interface re-created, ${proto.toUpperCase()} socket reopened"`) && l.includes('"interface":"eth0"') && l.includes(`"protocol":"${proto}"`) && l.includes(`"mac":"${newMac}"`);
      expect(third.logs.join('').split('\n').some(reopenedLine)).toBe(true);
    }, 240_000);
  });
}
