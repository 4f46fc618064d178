/**
 * RFC 7606 against BIRD 2 with the same bytes: a hand-written raw TCP peer (fixtures/raw-peer.mjs,
 * no @lbkit/bgp code) opens an eBGP session to BIRD and another to an @lbkit/bgp speaker, and sends
 * both the same UPDATEs, built by hand here: a good one; an attribute whose length runs past the
 * attribute list (§4); 1–3 stray bytes at the end of the list (§4); a malformed LOCAL_PREF from an
 * eBGP peer (§7.5); a treat-as-withdraw that must remove an installed route; and last an MP_REACH_NLRI
 * whose length runs past the list (its NLRI cannot be located: session reset). The test checks each
 * router's reaction: which prefixes it holds, whether the session stayed up, and the NOTIFICATION.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { birdRouterConf, buildDist, buildLab, dist, type Bird, type Lab, NodeSpeaker, startBird, until } from './lab.js';

const rawPeer = fileURLToPath(new URL('./fixtures/raw-peer.mjs', import.meta.url));
const speakerFixture = fileURLToPath(new URL('./fixtures/node-speaker.mjs', import.meta.url));

const O = '40010100'; // ORIGIN IGP
const P = '400206' + '0201' + '0000fc01'; // AS_PATH [64513], 4-octet
const NH = '4003040a00000b'; // NEXT_HOP 10.0.0.11
const nlri = (third: number) => '180a32' + third.toString(16).padStart(2, '0'); // 10.50.<third>.0/24
function update(attrs: string, nl: string): string {
  const a = attrs.length / 2;
  const body = '0000' + a.toString(16).padStart(4, '0') + attrs + nl;
  return 'ff'.repeat(16) + (19 + body.length / 2).toString(16).padStart(4, '0') + '02' + body;
}
const CASES = {
  good: update(O + P + NH, nlri(0)),
  overrun: update(O + P + NH + 'c00808fc000064', nlri(1)), // COMMUNITIES: length 8, 4 bytes present
  stray: update(O + P + NH + '4007', nlri(2)), // 2 bytes: no room for an attribute header
  localPref: update(O + P + NH + '4005020000', nlri(3)), // LOCAL_PREF of length 2 from an eBGP peer
  installFour: update(O + P + NH, nlri(4)),
  withdrawFour: update(O + P + NH + 'c00808fc000064', nlri(4)), // same overrun, for an installed prefix
  mpOverrun: update(O + P + '800e09000101', ''), // MP_REACH_NLRI: length 9, 3 bytes present
};

describeInterop('bgp interop: RFC 7606 malformed UPDATEs, BIRD vs @lbkit/bgp', { root: true, bins: ['bird', 'birdc', 'ip'] }, () => {
  let lab: Lab;
  let bird: Bird;
  let ours: NodeSpeaker;
  let toBird: NodeSpeaker;
  let toOurs: NodeSpeaker;

  const send = async (hex: string) => {
    toBird.send({ cmd: 'send', hex });
    toOurs.send({ cmd: 'send', hex });
    await new Promise((r) => setTimeout(r, 400));
  };
  const birdPrefixes = async () => [...(await bird.birdc('show', 'route', 'protocol', 'n1')).matchAll(/(10\.50\.\d+\.0\/24)/g)].map((m) => m[1]!).sort();
  /** Prefixes our speaker holds from the raw peer, replaying its `update` events in order. */
  const ourPrefixes = () => {
    const have = new Set<string>();
    for (const e of ours.events) {
      if (e.ev !== 'update') continue;
      for (const w of e.withdrawn as string[]) have.delete(w);
      for (const r of e.announced as { prefix: string }[]) have.add(r.prefix);
    }
    return [...have].sort();
  };

  beforeAll(async () => {
    await buildDist();
    lab = await buildLab(1);
    bird = await startBird(lab, birdRouterConf([{ node: 1, asn: 64513, holdTime: 90 }]));
    const cfg = {
      speaker: { asn: 64512, routerId: '10.0.0.1', listen: { port: 1179, address: '10.0.0.1' } },
      peers: [{ address: '10.0.0.11', asn: 64513, passive: true, holdTime: 90 }],
      routes: [],
    };
    ours = new NodeSpeaker(lab.topo.spawnIn(lab.rtr, process.execPath, [speakerFixture, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LBKIT_BGP_DIST: dist } }));
    await ours.waitEvent((e) => e.ev === 'started', 20_000, 'speaker started');
    const raw = (port: number) => {
      const c = { host: '10.0.0.1', port, localAddress: '10.0.0.11', asn: 64513, routerId: '10.0.0.11' };
      return new NodeSpeaker(lab.topo.spawnIn(lab.nodes[0]!, process.execPath, [rawPeer, JSON.stringify(c)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    };
    toBird = raw(179);
    toOurs = raw(1179);
    await toBird.waitEvent((e) => e.ev === 'established', 20_000, 'raw peer up with BIRD');
    await toOurs.waitEvent((e) => e.ev === 'established', 20_000, 'raw peer up with @lbkit/bgp');
  });

  afterAll(async () => {
    toBird?.send({ cmd: 'exit' });
    toOurs?.send({ cmd: 'exit' });
    await lab?.topo.destroy();
    if (bird) rmSync(bird.dir, { recursive: true, force: true });
  });

  it('the good UPDATE is installed by both', async () => {
    await send(CASES.good);
    await until(async () => (await birdPrefixes()).includes('10.50.0.0/24') && ourPrefixes().includes('10.50.0.0/24'), 10_000, 'good route');
  });

  it('§4: attribute length past the list, and stray bytes: treat-as-withdraw in both, sessions stay up', async () => {
    await send(CASES.overrun);
    await send(CASES.stray);
    expect(await birdPrefixes()).toEqual(['10.50.0.0/24']);
    expect(ourPrefixes()).toEqual(['10.50.0.0/24']);
    const taw = ours.events.filter((e) => e.ev === 'update' && e.treatAsWithdraw).map((e) => e.treatAsWithdraw as string);
    expect(taw).toEqual([expect.stringMatching(/COMMUNITIES.*runs past/), expect.stringMatching(/stray byte/)]);
    expect(toBird.events.filter((e) => e.ev === 'notification' || e.ev === 'closed')).toEqual([]);
    expect(toOurs.events.filter((e) => e.ev === 'notification' || e.ev === 'closed')).toEqual([]);
    expect(await bird.birdc('show', 'protocols', 'n1')).toMatch(/Established/);
  });

  it('§4: treat-as-withdraw removes a route that was installed, in both', async () => {
    await send(CASES.installFour);
    await until(async () => (await birdPrefixes()).includes('10.50.4.0/24') && ourPrefixes().includes('10.50.4.0/24'), 10_000, '10.50.4.0/24 installed');
    await send(CASES.withdrawFour);
    await until(async () => !(await birdPrefixes()).includes('10.50.4.0/24') && !ourPrefixes().includes('10.50.4.0/24'), 10_000, '10.50.4.0/24 withdrawn');
  });

  it('§7.5: a malformed LOCAL_PREF from an eBGP peer is discarded, the route installed (both)', async () => {
    await send(CASES.localPref);
    await until(async () => (await birdPrefixes()).includes('10.50.3.0/24') && ourPrefixes().includes('10.50.3.0/24'), 10_000, 'route with a bad LOCAL_PREF');
    const r = ours.events.filter((e) => e.ev === 'update').pop()!;
    expect((r.announced as { localPref?: number }[])[0]!.localPref).toBeUndefined();
    expect(await bird.birdc('show', 'route', 'all', '10.50.3.0/24')).not.toMatch(/local_pref/);
  });

  it('MP_REACH_NLRI running past the list: both reset the session; ours sends 3/5 with the attribute', async () => {
    await send(CASES.mpOverrun);
    const fromBird = await toBird.waitEvent((e) => e.ev === 'notification', 10_000, "BIRD's NOTIFICATION");
    const fromOurs = await toOurs.waitEvent((e) => e.ev === 'notification', 10_000, 'our NOTIFICATION');
    expect(fromOurs).toMatchObject({ code: 3, subcode: 5, data: '800e09000101' });
    // BIRD 2.0.12 answers Malformed Attribute List without data; RFC 4271 §6.3 names 3/5 for an
    // attribute whose length is wrong, with the attribute as data, which is what we send.
    expect([fromBird.code, fromBird.subcode]).toEqual([3, 1]);
    await toBird.waitEvent((e) => e.ev === 'closed', 10_000, 'BIRD closed the session');
    await toOurs.waitEvent((e) => e.ev === 'closed', 10_000, '@lbkit/bgp closed the session');
  });
});
