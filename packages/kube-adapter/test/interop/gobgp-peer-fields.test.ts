/**
 * The gobgp backend against Debian's real gobgpd: the FRR-mode BGPPeer fields as gobgpd applies
 * them (read back with `gobgp neighbor -j`): localASN as the session's local AS, dynamicASN
 * internal as our own AS, connectTime as connect-retry, enableGracefulRestart as the
 * graceful-restart capability (120 s) on both address families; a peer with `vrf` is left out.
 * No network namespace is needed: gobgpd does not listen (port -1) and the peers are loopback
 * addresses on a closed port, so nothing leaves the host.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { describeInterop } from '../../../../test-utils/env.js';
import { GobgpBgpAnnouncer } from '../../src/adapters/gobgp-bgp.js';
import { parseConfig, type PeerConfig } from '../../src/config.js';
import { emptySnapshot, type BGPPeer } from '../../src/types.js';

const run = promisify(execFile);
const NS = 'metallb-system';
const API_PORT = 51000 + (process.pid % 4000);

function peers(): PeerConfig[] {
  const p = (name: string, spec: BGPPeer['spec']): BGPPeer => ({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name, namespace: NS }, spec: { myASN: 64512, peerPort: 1, ...spec } });
  return parseConfig({
    ...emptySnapshot(),
    bgpPeers: [
      p('local-as', { peerASN: 64513, peerAddress: '127.0.0.2', localASN: 65010, connectTime: '9s', enableGracefulRestart: true }),
      p('internal', { dynamicASN: 'internal', peerAddress: '127.0.0.3' }),
      p('in-vrf', { peerASN: 64513, peerAddress: '127.0.0.4', vrf: 'red' }),
    ],
  }).peers;
}

interface Neighbor {
  conf: { neighbor_address: string; peer_asn: number; local_asn: number };
  timers: { config: { connect_retry: number } };
  graceful_restart?: { enabled?: boolean; restart_time?: number };
  afi_safis: Array<{ config: { family: { afi: number } }; mp_graceful_restart?: { config?: { enabled?: boolean } } }>;
}

describeInterop('gobgp backend: FRR-mode BGPPeer fields on the real gobgpd', { bins: ['gobgpd', 'gobgp'] }, () => {
  const bgp = new GobgpBgpAnnouncer({ node: 'n1', apiPort: API_PORT, routerID: '10.0.0.9' });
  afterAll(() => bgp.close());

  it('gobgpd runs the sessions with local-as, peer-as, connect-retry and graceful restart; the VRF peer is not configured', async () => {
    await bgp.update(peers(), new Map());
    const { stdout } = await run('gobgp', ['-u', '127.0.0.1', '-p', String(API_PORT), 'neighbor', '-j'], { timeout: 10_000 });
    const ns = JSON.parse(stdout) as Neighbor[];
    expect(ns.map((n) => n.conf.neighbor_address).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    const a = ns.find((n) => n.conf.neighbor_address === '127.0.0.2')!;
    expect(a.conf).toMatchObject({ peer_asn: 64513, local_asn: 65010 });
    expect(a.timers.config.connect_retry).toBe(9);
    expect(a.graceful_restart).toMatchObject({ enabled: true, restart_time: 120 });
    expect(a.afi_safis.map((f) => [f.config.family.afi, f.mp_graceful_restart?.config?.enabled])).toEqual([
      [1, true],
      [2, true],
    ]);
    const b = ns.find((n) => n.conf.neighbor_address === '127.0.0.3')!;
    expect(b.conf).toMatchObject({ peer_asn: 64512, local_asn: 64512 });
    expect(b.timers.config.connect_retry).toBe(1);
    expect(b.graceful_restart?.enabled ?? false).toBe(false);
  }, 30_000);
});
