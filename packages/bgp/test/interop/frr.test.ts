/**
 * @lbkit/bgp speakers against FRR 8 (zebra + bgpd, `maximum-paths`) in a router namespace:
 * sessions (node 3 with TCP-MD5, RFC 2385), FRR's RIB attributes, kernel multipath route, withdraw,
 * Cease with RFC 8203 text, ROUTE-REFRESH; a tshark capture of the sessions must decode without malformed packets
 * and show the TCP-MD5 option on node 3's segments and IP TTL 1 on node 1's (configured `ttl: 1`).
 */
import { chownSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { buildDist, buildLab, type Lab, type NodeEvent, type NodeSpeaker, startNode, tmp, until } from './lab.js';
import { expectNexthopsOf, expectOneNexthopPerNode, expectWithdrawRemovesNode1 } from './ecmp.js';

const ZEBRA = '/usr/lib/frr/zebra';
const BGPD = '/usr/lib/frr/bgpd';
const PASSWORD = 'lbkit-md5-key';

describeInterop('bgp interop: FRR', { root: true, bins: [ZEBRA, BGPD, 'vtysh', 'tshark', 'ip'] }, () => {
  let lab: Lab;
  let dir: string;
  let capDir = '';
  let capture: ChildProcess | undefined;
  const nodes: NodeSpeaker[] = [];
  const vtysh = async (cmd: string): Promise<any> => JSON.parse(await sh('vtysh', ['--vty_socket', dir, '-c', cmd]));

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(3);
    dir = tmp('frr');
    execFileSync('chown', ['frr:frr', dir]);
    const conf = join(dir, 'frr.conf');
    writeFileSync(
      conf,
      `frr defaults traditional
hostname rtr
log file ${dir}/frr.log informational
router bgp 64512
 bgp router-id 10.0.0.1
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor NODES peer-group
 neighbor NODES remote-as 64513
 neighbor NODES timers 3 9
 neighbor NODES timers connect 5
 neighbor 10.0.0.11 peer-group NODES
 neighbor 10.0.0.11 passive
 neighbor 10.0.0.12 peer-group NODES
 neighbor 10.0.0.12 passive
 neighbor 10.0.0.13 peer-group NODES
 neighbor 10.0.0.13 passive
 neighbor 10.0.0.13 password ${PASSWORD}
 address-family ipv4 unicast
  neighbor NODES activate
  maximum-paths 16
 exit-address-family
 address-family ipv6 unicast
  neighbor NODES activate
  maximum-paths 16
 exit-address-family
exit
`,
    );
    chownSync(conf, 0, 0);
    const log = openSync(join(dir, 'stdout.log'), 'a');
    const common = ['-F', 'traditional', '-A', '127.0.0.1', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-f', conf];
    lab.topo.spawnIn(lab.rtr, ZEBRA, [...common, '-i', join(dir, 'zebra.pid'), '-s', '90000000'], { stdio: ['ignore', log, log] });
    await until(async () => (await sh('vtysh', ['--vty_socket', dir, '-d', 'zebra', '-c', 'show version']).catch(() => '')).includes('FRRouting'), 30_000, 'zebra up');
    lab.topo.spawnIn(lab.rtr, BGPD, [...common, '-i', join(dir, 'bgpd.pid')], { stdio: ['ignore', log, log] });
    await until(async () => !!(await vtysh('show bgp summary json').catch(() => null))?.ipv4Unicast, 30_000, 'bgpd up');
    capDir = tmp('cap'); // dumpcap drops capabilities: it cannot write into the frr-owned dir
    const pcap = join(capDir, 'bgp.pcap');
    capture = lab.topo.spawnIn(lab.rtr, 'tshark', ['-q', '-i', 'br0', '-f', 'tcp port 179', '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    let capErr = '';
    capture.stderr!.on('data', (d: Buffer) => (capErr += d.toString()));
    await until(() => /Capturing on/.test(capErr), 30_000, 'tshark capturing');
    for (let i = 1; i <= 3; i++) {
      nodes.push(
        startNode(lab, i, {
          holdTime: 9,
          attrs: { communities: ['64512:100'], largeCommunities: ['64512:1:2'] },
          // node 3: TCP-MD5; node 1: IP TTL 1 (eBGP single hop, set through setsockopt)
          // node 2: graceful-restart capability
          peer: i === 3 ? { password: PASSWORD } : i === 1 ? { ttl: 1 } : { gracefulRestart: true },
        }),
      );
    }
  });

  afterAll(async () => {
    await lab?.topo.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (capDir && !process.env.LBKIT_KEEP) rmSync(capDir, { recursive: true, force: true });
  });

  it('all three sessions (node 3 with TCP-MD5) reach Established', async () => {
    for (const n of nodes) await n.waitEvent((e) => e.ev === 'established', 60_000, 'established');
    await until(async () => {
      const s = await vtysh('show bgp summary json');
      return Object.values(s.ipv4Unicast?.peers ?? {}).filter((p: any) => p.state === 'Established').length === 3;
    }, 30_000, 'FRR sees 3 sessions');
    const caps = async (a: string) => (await vtysh(`show bgp neighbors ${a} json`))[a].neighborCapabilities;
    const c1 = await caps('10.0.0.11');
    const c2 = await caps('10.0.0.12');
    expect(c1['4byteAs']).toMatch(/advertisedAndReceived/);
    expect(c1.routeRefresh).toMatch(/advertisedAndReceived/i);
    expect(String(c1.gracefulRestart ?? '')).not.toMatch(/received/i);
    expect(String(c2.gracefulRestart)).toMatch(/advertisedAndReceived/);
  });

  it("FRR's RIB holds the /32 and /128 from every node with the attributes", async () => {
    await until(async () => ((await vtysh('show bgp ipv4 unicast 10.96.0.10/32 json')).paths ?? []).length === 3, 30_000, '3 v4 paths');
    const v4 = await vtysh('show bgp ipv4 unicast 10.96.0.10/32 json');
    expect(v4.paths.map((p: any) => p.nexthops[0].ip).sort()).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    for (const p of v4.paths) {
      expect(p.aspath.string).toBe('64513');
      expect(p.community.string).toBe('64512:100');
      expect(p.largeCommunity.string).toBe('64512:1:2');
    }
    await until(async () => ((await vtysh('show bgp ipv6 unicast fd0a:96::10/128 json')).paths ?? []).length === 3, 30_000, '3 v6 paths');
    const v6 = await vtysh('show bgp ipv6 unicast fd0a:96::10/128 json');
    expect(v6.paths.map((p: any) => p.nexthops[0].ip).sort()).toEqual(['fd0a::11', 'fd0a::12', 'fd0a::13']);
  });

  it('the kernel has a multipath route with exactly one nexthop per node (v4 and v6)', async () => {
    await expectOneNexthopPerNode(lab.rtr);
  });

  it('answers ROUTE-REFRESH (clear bgp soft in) by re-sending its Adj-RIB-Out', async () => {
    const n = nodes[2]!;
    const status = async (): Promise<{ updatesOut: number }> => {
      const since = Date.now();
      n.send({ cmd: 'status' });
      const e = (await n.waitEvent((x: NodeEvent) => x.ev === 'status' && (x.t as number) >= since)) as NodeEvent & {
        status: { stats: { updatesOut: number } }[];
      };
      return e.status[0]!.stats;
    };
    const before = await status();
    await sh('vtysh', ['--vty_socket', dir, '-c', 'clear bgp ipv4 unicast 10.0.0.13 soft in']);
    await until(async () => (await status()).updatesOut > before.updatesOut, 30_000, 'UPDATEs re-sent after ROUTE-REFRESH');
    expect((await vtysh('show bgp neighbors 10.0.0.13 json'))['10.0.0.13'].bgpState).toBe('Established');
    expect((await vtysh('show bgp ipv4 unicast 10.96.0.10/32 json')).paths.length).toBe(3);
  });

  it('withdrawing on node 1 removes its nexthop only', async () => {
    await expectWithdrawRemovesNode1(lab.rtr, nodes[0]!);
  });

  it('stopping node 2 (Cease 6/2 with text) removes its nexthop', async () => {
    nodes[1]!.send({ cmd: 'stop', text: 'node drained' });
    await expectNexthopsOf(lab.rtr, [3], 'only node 3 left');
    const n = await vtysh('show bgp neighbors 10.0.0.12 json');
    expect(JSON.stringify(n['10.0.0.12'])).toMatch(/Administrative Shutdown|Cease/i);
  });

  it('tshark decodes the captured sessions without malformed packets; node 3 segments carry TCP-MD5', async () => {
    const pcap = join(capDir, 'bgp.pcap');
    await new Promise((r) => setTimeout(r, 2000)); // let dumpcap drain its buffer
    capture!.kill('SIGINT');
    await new Promise((r) => (capture!.exitCode !== null ? r(null) : capture!.once('exit', r)));
    const bad = await sh('tshark', ['-r', pcap, '-d', 'tcp.port==179,bgp', '-Y', '_ws.malformed || (bgp && _ws.expert.severity >= "warning")']);
    expect(bad.trim()).toBe('');
    const types = (await sh('tshark', ['-r', pcap, '-d', 'tcp.port==179,bgp', '-Y', 'bgp && ip.src != 10.0.0.1', '-T', 'fields', '-e', 'bgp.type'])).split(/[\n,]/).filter(Boolean);
    for (const t of ['1', '2', '3', '4']) expect(types).toContain(t);
    const md5 = await sh('tshark', ['-r', pcap, '-Y', 'ip.src == 10.0.0.13 && tcp.option_kind == 19', '-T', 'fields', '-e', 'frame.number']);
    expect(md5.trim().split('\n').filter(Boolean).length).toBeGreaterThan(3);
    const ttls = async (src: string) =>
      new Set((await sh('tshark', ['-r', pcap, '-Y', `ip.src == ${src} && tcp.dstport == 179`, '-T', 'fields', '-e', 'ip.ttl'])).split('\n').filter(Boolean));
    expect([...(await ttls('10.0.0.11'))]).toEqual(['1']);
    expect([...(await ttls('10.0.0.12'))]).toEqual(['64']);
    const noMd5 = await sh('tshark', ['-r', pcap, '-Y', 'ip.src == 10.0.0.11 && tcp.option_kind == 19', '-T', 'fields', '-e', 'frame.number']);
    expect(noMd5.trim()).toBe('');
  });
});
