/**
 * RFC 6793 §4.2 against routers without the 4-octet AS capability: a node speaker in AS 4200000001
 * peers with BIRD 2 (`enable as4 off`, which only accepts the neighbor as AS_TRANS 23456, and reads
 * capability 65 anyway, answering 2/2 to it: node 1 is set `fourOctetAs: false`, node 2 keeps the
 * default and must fall back to no capability 65 after BIRD's first 2/2) and with
 * FRR 8 (`dont-capability-negotiate`). Our OPEN carries AS_TRANS (23456); our UPDATEs carry AS_PATH
 * [23456…] plus AS4_PATH [4200000001…]. Both routers must accept the session (no NOTIFICATION 2/7 any
 * more) and install the route with the real AS path, which they can only know from the AS4_PATH.
 * FRR ignores AS4_PATH from a peer that advertised capability 65 even though FRR itself did not
 * negotiate it, so FRR shows the real path only when the node sets `fourOctetAs: false` (the
 * equivalent of BIRD's `enable as4 off`); with the default it keeps AS_TRANS, as checked here.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { birdRouterConf, buildDist, buildLab, type Bird, type Frr, type Lab, type NodeSpeaker, startBird, startFrr, startNode, until } from './lab.js';

const AS4 = 4200000001;

describeInterop('bgp interop: 4-octet AS towards BIRD without AS4 (enable as4 off)', { root: true, bins: ['bird', 'birdc', 'ip'] }, () => {
  let lab: Lab;
  let bird: Bird;
  let node: NodeSpeaker;
  let node2: NodeSpeaker;

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(2);
    // BIRD rejects a 4-octet neighbor AS with as4 off: it expects AS_TRANS
    const peer = (node: number) => ({ node, asn: 23456, keepalive: 3, extra: 'enable as4 off;' });
    bird = await startBird(lab, birdRouterConf([peer(1), peer(2)]));
    // BIRD reads capability 65 even with `enable as4 off` and then finds 4200000001 ≠ 23456 (2/2), so
    // this node does not advertise it (fourOctetAs: false), as a 2-octet-only router would need.
    node = startNode(lab, 1, { asn: AS4, peer: { fourOctetAs: false }, routes: [{ prefix: '10.96.0.10/32', attrs: { asPathPrepend: 1 } }] });
    // node 2 keeps the default: BIRD answers its first OPEN with 2/2, then it retries without capability 65
    node2 = startNode(lab, 2, { asn: AS4, routes: [{ prefix: '10.96.0.20/32' }] });
  });

  afterAll(async () => {
    await lab?.topo.destroy();
    if (bird) rmSync(bird.dir, { recursive: true, force: true });
  });

  it('the session reaches Established with no NOTIFICATION either way', async () => {
    await node.waitEvent((e) => e.ev === 'established', 30_000, 'established');
    await until(async () => /Established/.test(await bird.birdc('show', 'protocols', 'all', 'n1')), 20_000, 'BIRD Established');
    const p = await bird.birdc('show', 'protocols', 'all', 'n1');
    expect(p).not.toMatch(/4-octet AS numbers/); // BIRD neither advertised nor saw AS4 negotiated
    expect(node.events.filter((e) => e.ev === 'notification')).toEqual([]);
  });

  it('with the default, the first attempt gets 2/2 from BIRD and the retry without capability 65 succeeds', async () => {
    const up = await node2.waitEvent((e) => e.ev === 'established', 30_000, 'node 2 established');
    const before = node2.events.filter((e) => e.t <= up.t);
    expect(before.filter((e) => e.ev === 'notification')).toEqual([expect.objectContaining({ direction: 'received', code: 2, subcode: 2 })]);
    expect(before.some((e) => e.ev === 'down' && /retrying without the 4-octet AS capability/.test(String(e.reason)))).toBe(true);
    await until(async () => /BGP\.as_path: 4200000001\n/.test(await bird.birdc('show', 'route', 'all', '10.96.0.20/32')), 20_000, 'node 2 route in BIRD');
    expect(node2.events.filter((e) => e.t > up.t && (e.ev === 'notification' || e.ev === 'down'))).toEqual([]);
  });

  it('BIRD installs the route with the real 4-octet AS path (from AS4_PATH)', async () => {
    await until(async () => /BGP\.as_path/.test(await bird.birdc('show', 'route', 'all', '10.96.0.10/32')), 20_000, 'route in BIRD');
    const r = await bird.birdc('show', 'route', 'all', '10.96.0.10/32');
    expect(r).toMatch(/BGP\.as_path: 4200000001 4200000001\n/); // prepend 1: two copies, none of them 23456
    expect(r).not.toMatch(/23456/);
    expect(r).toContain('BGP.next_hop: 10.0.0.11');
  });
});

describeInterop('bgp interop: 4-octet AS towards FRR without capabilities (dont-capability-negotiate)', { root: true, bins: ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', 'vtysh', 'ip'] }, () => {
  let lab: Lab;
  let frr: Frr;
  let node: NodeSpeaker;
  let node2: NodeSpeaker;

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(2);
    frr = await startFrr(
      lab,
      `frr defaults traditional
hostname rtr
log file %LOG% informational
router bgp 64512
 bgp router-id 10.0.0.1
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
${[11, 12].map((i) => ` neighbor 10.0.0.${i} remote-as ${i === 11 ? AS4 : 23456}\n neighbor 10.0.0.${i} timers 3 9\n neighbor 10.0.0.${i} passive\n neighbor 10.0.0.${i} dont-capability-negotiate\n`).join('')} address-family ipv4 unicast
  neighbor 10.0.0.11 activate
  neighbor 10.0.0.12 activate
 exit-address-family
exit
`,
    );
    node = startNode(lab, 1, { asn: AS4, routes: [{ prefix: '10.96.0.10/32', attrs: { communities: ['64512:7'] } }] });
    node2 = startNode(lab, 2, { asn: AS4, peer: { fourOctetAs: false }, routes: [{ prefix: '10.96.0.10/32', attrs: { communities: ['64512:7'] } }] });
  });

  afterAll(async () => {
    await lab?.topo.destroy();
    if (frr) rmSync(frr.dir, { recursive: true, force: true });
  });

  it('both sessions reach Established without 4-octet AS negotiated, no NOTIFICATION', async () => {
    for (const [n, a] of [[node, '10.0.0.11'], [node2, '10.0.0.12']] as const) {
      await n.waitEvent((e) => e.ev === 'established', 30_000, 'established');
      await until(async () => (await frr.vtysh(`show bgp neighbors ${a} json`))[a]?.bgpState === 'Established', 20_000, 'FRR Established');
      const st = (await frr.vtysh(`show bgp neighbors ${a} json`))[a];
      expect(String(st.neighborCapabilities?.['4byteAs'] ?? '')).not.toMatch(/advertisedAndReceived/);
      expect(n.events.filter((e) => e.ev === 'notification')).toEqual([]);
    }
  });

  it('FRR installs the route; with fourOctetAs: false its AS path is 4200000001 (from AS4_PATH)', async () => {
    await until(async () => ((await frr.vtysh('show bgp ipv4 unicast 10.96.0.10/32 json')).paths ?? []).length === 2, 20_000, 'routes in FRR');
    const r = await frr.vtysh('show bgp ipv4 unicast 10.96.0.10/32 json');
    const by = (ip: string) => r.paths.find((p: any) => p.nexthops[0].ip === ip);
    expect(by('10.0.0.12').aspath.string).toBe('4200000001');
    expect(by('10.0.0.12').community.string).toBe('64512:7');
    // default (capability 65 advertised): FRR accepts the route but ignores our AS4_PATH
    expect(by('10.0.0.11').aspath.string).toBe('23456');
  });
});
