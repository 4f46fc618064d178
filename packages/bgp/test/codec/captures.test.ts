/**
 * The codec against what real daemons sent (captures in ../fixtures, recorded in the lab with
 * GoBGP 3.10, BIRD 2.0.12 and FRR 8.4.4; expected values read from tshark's decode and the daemons'
 * configs): every message of every capture decodes and re-encodes to the identical bytes, and the
 * daemons' OPENs and FRR's UPDATEs decode to the fields tshark shows.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codec, type OpenMessage, type UpdateMessage } from '@lbkit/bgp';
import { readFlows, readHexDump, splitMessages } from './pcap.js';

const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/${n}`, import.meta.url));
const daemons = ['gobgp', 'bird', 'frr'] as const;

function messagesFrom(daemon: string, src?: string): Buffer[] {
  return readFlows(fixture(`${daemon}-session.pcap`))
    .filter((f) => (src ? f.src === src : true) && (f.sport === 179 || f.dport === 179))
    .flatMap((f) => splitMessages(f.bytes));
}

describe('captured sessions', () => {
  for (const d of daemons) {
    it(`${d}: every message decodes and re-encodes byte for byte`, () => {
      const msgs = messagesFrom(d);
      expect(msgs.length).toBeGreaterThan(30);
      const types = new Set<string>();
      for (const m of msgs) {
        const decoded = codec.decode(m);
        types.add(decoded.type);
        expect(codec.encodingLength(decoded)).toBe(m.length);
        expect(codec.encode(decoded).equals(m)).toBe(true);
      }
      expect([...types].sort()).toEqual(['keepalive', 'notification', 'open', 'update']);
    });
  }

  const firstOpen = (d: string) => codec.decode(messagesFrom(d, '10.0.0.1').find((m) => m[18] === 1)!) as OpenMessage;

  it('GoBGP OPEN: one optional parameter with route refresh, FQDN, MP v4/v6, AS4 64512, extended next hop', () => {
    const o = firstOpen('gobgp');
    expect(o).toMatchObject({ version: 4, myAsn: 64512, holdTime: 9, bgpId: '10.0.0.1', capabilityLayout: 'single' });
    expect(o.capabilities).toEqual([
      { type: 'route-refresh' },
      { type: 'unknown', code: 73, value: Uint8Array.from([2, 0x76, 0x6d, 0]) }, // FQDN "vm"
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'as4', asn: 64512 },
      { type: 'unknown', code: 5, value: Uint8Array.from([0, 1, 0, 1, 0, 2]) }, // RFC 8950 IPv4 NLRI / IPv6 NH
    ]);
    expect(codec.peerAsn(o)).toBe(64512);
  });

  it('BIRD OPEN: graceful restart 120 s without flags, enhanced route refresh, LLGR kept raw', () => {
    const o = firstOpen('bird');
    expect(o.capabilities).toEqual([
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'route-refresh' },
      { type: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] },
      { type: 'as4', asn: 64512 },
      { type: 'enhanced-route-refresh' },
      { type: 'unknown', code: 71, value: new Uint8Array(0) },
    ]);
  });

  it('FRR OPEN: eleven parameters of one capability each, GR with R and N bits, add-path kept raw', () => {
    const o = firstOpen('frr');
    expect(o.capabilityLayout).toBe('per-capability');
    expect(o.capabilities.map((c) => (c.type === 'unknown' ? c.code : c.type))).toEqual([
      'multiprotocol',
      'multiprotocol',
      128,
      'route-refresh',
      'enhanced-route-refresh',
      'as4',
      'extended-message',
      69,
      73,
      'graceful-restart',
      71,
    ]);
    expect(o.capabilities[9]).toEqual({ type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [] });
    expect(o.capabilities[7]).toEqual({ type: 'unknown', code: 69, value: Uint8Array.from([0, 1, 1, 1, 0, 2, 1, 1]) });
  });

  it('FRR UPDATEs to a node: extended-length AS_PATH [64512 64513], MP_REACH with a link-local next hop, End-of-RIB', () => {
    const ups = messagesFrom('frr', '10.0.0.1')
      .filter((m) => m[18] === 2)
      .slice(0, 4)
      .map((m) => codec.decode(m) as UpdateMessage);
    expect(ups[0]!.nlri).toEqual(['10.96.0.10/32']);
    expect(ups[0]!.attributes).toEqual([
      { type: 'origin', value: 0 },
      { type: 'as-path', segments: [{ type: 'sequence', asns: [64512, 64513] }], extendedLength: true },
      { type: 'next-hop', address: '10.0.0.12' },
    ]);
    expect(ups[1]!.attributes[0]).toEqual({
      type: 'mp-reach',
      afi: 2,
      safi: 1,
      nextHop: 'fd0a::1',
      linkLocalNextHop: 'fe80::cd0:abff:fe09:760e',
      nlri: ['fd0a:96::10/128'],
      extendedLength: true,
    });
    expect(codec.endOfRibFamily(ups[2]!)).toEqual({ afi: 1, safi: 1 });
    expect(codec.endOfRibFamily(ups[3]!)).toEqual({ afi: 2, safi: 1 });
    for (const u of ups) expect(u.errors).toBeUndefined();
  });

  it('Cease 6/2 with the RFC 8203 text "node drained"', () => {
    const n = messagesFrom('bird').find((m) => m[18] === 3)!;
    expect(codec.decode(n)).toMatchObject({ type: 'notification', code: 6, subcode: 2, shutdownText: 'node drained' });
    expect(codec.notificationName(6, 2)).toBe('Cease / Administrative Shutdown');
  });

  it('msg.hex (tshark: valid) decodes; bad.hex (tshark: MP_REACH length off by one) is NOTIFICATION 3/9', () => {
    const good = codec.decode(readHexDump(fixture('msg.hex'))) as UpdateMessage;
    expect(good.attributes.map((a) => a.type)).toEqual(['origin', 'mp-reach', 'as-path', 'communities', 'large-communities']);
    expect(good.attributes[1]).toMatchObject({ nextHop: 'fd0a::11', nlri: ['fd0a:96::10/128'] });
    expect(good.attributes[3]).toEqual({ type: 'communities', communities: [64512 * 65536 + 100] });
    expect(good.attributes[4]).toEqual({ type: 'large-communities', communities: [[64512, 1, 2]] });
    let err: unknown;
    try {
      codec.decode(readHexDump(fixture('bad.hex')));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(codec.NotificationError);
    expect((err as InstanceType<typeof codec.NotificationError>).notification).toMatchObject({ code: 3, subcode: 9 });
  });
});
