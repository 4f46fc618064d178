/**
 * The codec against Wireshark's BGP dissector: every message type with every attribute and
 * capability kind is encoded by the codec, written as TCP/179 segments into a pcap, and tshark
 * must decode each field to the value we encoded, with no malformed-packet or expert warnings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codec, type Message } from '@lbkit/bgp';
import { describeInterop } from '../../../../test-utils/env.js';
import { sh } from '../../../../test-utils/netns.js';
import { everyCapability } from '../codec/every-capability.js';
import { readHexDump } from '../codec/pcap.js';
import { writePcap, type Segment } from './pcap-write.js';

const A = { src: '198.51.100.11', dst: '198.51.100.1', sport: 40001, dport: 179 };
const OLD = { src: '198.51.100.12', dst: '198.51.100.1', sport: 40002, dport: 179 };

const caps = everyCapability;
const rt = Uint8Array.from([0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 100]); // route target 64512:100 (RFC 4360 §4)

/** The messages, in order, one per segment (frame i + 1). */
const messages: { flow: Segment['flow']; m: Message; opts?: codec.EncodeOptions }[] = [
  { flow: A, m: { type: 'open', myAsn: codec.AS_TRANS, holdTime: 90, bgpId: '10.0.0.11', capabilities: caps } },
  { flow: A, m: { type: 'open', myAsn: 64513, holdTime: 9, bgpId: '10.0.0.12', capabilities: caps.slice(0, 3), capabilityLayout: 'per-capability' } },
  { flow: A, m: { type: 'keepalive' } },
  {
    flow: A,
    m: {
      type: 'update',
      withdrawn: ['10.1.0.0/16', '10.2.3.0/24'],
      attributes: [
        { type: 'origin', value: 2 },
        { type: 'as-path', segments: [{ type: 'sequence', asns: [4200000001, 64512] }, { type: 'set', asns: [65001, 65002] }] },
        { type: 'next-hop', address: '10.0.0.11' },
        { type: 'med', value: 77 },
        { type: 'local-pref', value: 200 },
        { type: 'atomic-aggregate' },
        { type: 'aggregator', asn: 4200000001, address: '10.0.0.9' },
        { type: 'communities', communities: [codec.parseCommunity('64512:100'), codec.WellKnownCommunity.NO_EXPORT] },
        { type: 'extended-communities', communities: [rt] },
        { type: 'large-communities', communities: [[4200000001, 1, 2]] },
        { type: 'unknown', code: 250, flags: 0xe0, value: Uint8Array.of(1, 2, 3, 4) },
      ],
      nlri: ['10.96.0.10/32', '10.96.1.0/24', '10.128.0.0/9'],
    },
  },
  {
    flow: A,
    m: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'mp-reach', afi: 2, safi: 1, nextHop: 'fd0a::11', linkLocalNextHop: 'fe80::11', nlri: ['fd0a:96::10/128', '2001:db8::/32'] },
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [] },
      ],
      nlri: [],
    },
  },
  { flow: A, m: { type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: ['fd0a:96::20/128'] }], nlri: [] } },
  {
    flow: A,
    m: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'mp-reach', afi: 1, safi: 1, nextHop: '10.0.0.11', nlri: ['10.96.0.30/32'] },
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [{ type: 'sequence', asns: [64513] }] },
      ],
      nlri: [],
    },
  },
  { flow: A, m: codec.endOfRib(1, 1) },
  { flow: A, m: codec.endOfRib(2, 1) },
  { flow: A, m: { type: 'route-refresh', afi: 2, safi: 1 } },
  { flow: A, m: { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 } },
  { flow: A, m: { type: 'notification', code: 3, subcode: 10 } },
  { flow: A, m: { type: 'notification', code: 6, subcode: 2, shutdownText: 'node drained' } },
  // a 2-octet AS session: OPEN without capability 65, AS_TRANS + AS4_PATH + AS4_AGGREGATOR
  { flow: OLD, m: { type: 'open', myAsn: 64514, holdTime: 90, bgpId: '10.0.0.13', capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }] } },
  {
    flow: OLD,
    opts: { as4: false },
    m: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: [{ type: 'sequence', asns: [64514, 23456] }] },
        { type: 'next-hop', address: '10.0.0.13' },
        { type: 'aggregator', asn: 23456, address: '10.0.0.13' },
        { type: 'as4-path', segments: [{ type: 'sequence', asns: [64514, 4200000002] }] },
        { type: 'as4-aggregator', asn: 4200000002, address: '10.0.0.13' },
      ],
      nlri: ['10.96.0.40/32'],
    },
  },
];

const FIELDS = [
  'frame.number',
  'bgp.type',
  'bgp.open.myas',
  'bgp.open.holdtime',
  'bgp.open.identifier',
  'bgp.open.opt.param.type',
  'bgp.cap.type',
  'bgp.cap.mp.afi',
  'bgp.cap.4as',
  'bgp.cap.gr.timers.restart_flag',
  'bgp.cap.gr.timers.notification_flag',
  'bgp.cap.gr.timers.restart_time',
  'bgp.cap.gr.afi',
  'bgp.cap.gr.flag.pfs',
  'bgp.cap.orf.fqdn.hostname',
  'bgp.withdrawn_prefix',
  'bgp.nlri_prefix',
  'bgp.prefix_length',
  'bgp.update.path_attribute.type_code',
  'bgp.update.path_attribute.flags.partial',
  'bgp.update.path_attribute.origin',
  'bgp.update.path_attribute.as_path_segment.type',
  'bgp.update.path_attribute.as_path_segment.as4',
  'bgp.update.path_attribute.as_path_segment.as2',
  'bgp.update.path_attribute.next_hop',
  'bgp.update.path_attribute.multi_exit_disc',
  'bgp.update.path_attribute.local_pref',
  'bgp.update.path_attribute.aggregator_as',
  'bgp.update.path_attribute.aggregator_origin',
  'bgp.update.path_attribute.community_as',
  'bgp.update.path_attribute.community_value',
  'bgp.update.path_attribute.community_wellknown',
  'bgp.ext_com.value_as2',
  'bgp.ext_com.value_an4',
  'bgp.large_communities.ga',
  'bgp.large_communities.ldp1',
  'bgp.large_communities.ldp2',
  'bgp.update.path_attribute.mp_reach_nlri.afi',
  'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6',
  'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local',
  'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4',
  'bgp.mp_reach_nlri_ipv6_prefix',
  'bgp.mp_reach_nlri_ipv4_prefix',
  'bgp.update.path_attribute.mp_unreach_nlri.afi',
  'bgp.update.path_attribute.mp_unreach_nlri.safi',
  'bgp.mp_unreach_nlri_ipv6_prefix',
  'bgp.route_refresh.afi',
  'bgp.route_refresh.subtype',
  'bgp.route_refresh.safi',
  'bgp.notify.major_error',
  'bgp.notify.minor_error_update',
  'bgp.notify.minor_error_cease',
  'bgp.notify.communication',
];

describeInterop('bgp codec vs tshark', { bins: ['tshark'] }, () => {
  let dir = '';
  let pcap = '';
  let frames: Record<string, string[]>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbkit-bgp-tshark-'));
    pcap = join(dir, 'codec.pcap');
    writePcap(
      pcap,
      messages.map(({ flow, m, opts }) => ({ flow, payload: codec.encode(m, undefined, 0, opts) })),
    );
    const out = await sh('tshark', ['-r', pcap, '-d', 'tcp.port==179,bgp', '-T', 'json', ...FIELDS.flatMap((f) => ['-e', f])]);
    frames = (JSON.parse(out) as { _source: { layers: Record<string, string[]> } }[]).map((p) => p._source.layers);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const f = (i: number, field: string) => frames[i]?.[field] ?? [];

  it('dissects every message with no malformed packet or expert warning', async () => {
    expect(frames).toHaveLength(messages.length);
    const bad = await sh('tshark', ['-r', pcap, '-o', 'tcp.desegment_tcp_streams:FALSE', '-d', 'tcp.port==179,bgp', '-Y', '_ws.malformed || _ws.expert.severity >= "warning"']);
    expect(bad.trim()).toBe('');
    // the gate is live: the lab's malformed UPDATE (MP_REACH length off by one) is flagged
    const badPcap = join(dir, 'bad.pcap');
    writePcap(badPcap, [{ flow: A, payload: readHexDump(new URL('../fixtures/bad.hex', import.meta.url).pathname) }]);
    const flagged = await sh('tshark', ['-r', badPcap, '-o', 'tcp.desegment_tcp_streams:FALSE', '-d', 'tcp.port==179,bgp', '-Y', '_ws.malformed || _ws.expert.severity >= "warning"']);
    expect(flagged.trim()).not.toBe('');
    const typeCode = { open: '1', update: '2', notification: '3', keepalive: '4', 'route-refresh': '5' };
    messages.forEach(({ m }, i) => expect(f(i, 'bgp.type')).toEqual([typeCode[m.type]]));
  });

  it('OPEN: AS, hold time, identifier and every capability', () => {
    expect(f(0, 'bgp.open.myas')).toEqual(['23456']);
    expect(f(0, 'bgp.open.holdtime')).toEqual(['90']);
    expect(f(0, 'bgp.open.identifier')).toEqual(['10.0.0.11']);
    expect(f(0, 'bgp.open.opt.param.type')).toEqual(['2']);
    expect(f(0, 'bgp.cap.type')).toEqual(['1', '1', '2', '70', '6', '65', '64', '73']);
    expect(f(0, 'bgp.cap.mp.afi')).toEqual(['1', '2']);
    expect(f(0, 'bgp.cap.4as')).toEqual(['4200000001']);
    expect(f(0, 'bgp.cap.gr.timers.restart_flag')).toEqual(['1']);
    expect(f(0, 'bgp.cap.gr.timers.notification_flag')).toEqual(['1']);
    expect(f(0, 'bgp.cap.gr.timers.restart_time')).toEqual(['120']);
    expect(f(0, 'bgp.cap.gr.afi')).toEqual(['1', '2']);
    expect(f(0, 'bgp.cap.gr.flag.pfs')).toEqual(['1', '0']);
    expect(f(0, 'bgp.cap.orf.fqdn.hostname')).toEqual(['node']);
    // one capability per optional parameter
    expect(f(1, 'bgp.open.opt.param.type')).toEqual(['2', '2', '2']);
    expect(f(1, 'bgp.cap.type')).toEqual(['1', '1', '2']);
  });

  it('UPDATE: withdrawn, NLRI and every path attribute', () => {
    expect(f(3, 'bgp.withdrawn_prefix')).toEqual(['10.1.0.0', '10.2.3.0']);
    expect(f(3, 'bgp.nlri_prefix')).toEqual(['10.96.0.10', '10.96.1.0', '10.128.0.0']);
    expect(f(3, 'bgp.update.path_attribute.type_code')).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '16', '32', '250']);
    expect(f(3, 'bgp.update.path_attribute.origin')).toEqual(['2']);
    expect(f(3, 'bgp.update.path_attribute.as_path_segment.type')).toEqual(['2', '1']);
    expect(f(3, 'bgp.update.path_attribute.as_path_segment.as4')).toEqual(['4200000001', '64512', '65001', '65002']);
    expect(f(3, 'bgp.update.path_attribute.next_hop')).toEqual(['10.0.0.11']);
    expect(f(3, 'bgp.update.path_attribute.multi_exit_disc')).toEqual(['77']);
    expect(f(3, 'bgp.update.path_attribute.local_pref')).toEqual(['200']);
    expect(f(3, 'bgp.update.path_attribute.aggregator_as')).toEqual(['4200000001']);
    expect(f(3, 'bgp.update.path_attribute.aggregator_origin')).toEqual(['10.0.0.9']);
    expect(f(3, 'bgp.update.path_attribute.community_as')).toEqual(['64512']);
    expect(f(3, 'bgp.update.path_attribute.community_value')).toEqual(['100']);
    expect(f(3, 'bgp.update.path_attribute.community_wellknown').map(Number)).toEqual([0xffffff01]);
    expect(f(3, 'bgp.ext_com.value_as2')).toEqual(['64512']);
    expect(f(3, 'bgp.ext_com.value_an4')).toEqual(['100']);
    expect(f(3, 'bgp.large_communities.ga')).toEqual(['4200000001']);
    expect(f(3, 'bgp.large_communities.ldp1')).toEqual(['1']);
    expect(f(3, 'bgp.large_communities.ldp2')).toEqual(['2']);
    // the unknown optional transitive attribute carries the Partial bit we set
    expect(f(3, 'bgp.update.path_attribute.flags.partial').slice(-1)).toEqual(['1']);
  });

  it('MP_REACH / MP_UNREACH for IPv6 (global + link-local next hop) and IPv4', () => {
    expect(f(4, 'bgp.update.path_attribute.mp_reach_nlri.afi')).toEqual(['2']);
    expect(f(4, 'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6')).toEqual(['fd0a::11']);
    expect(f(4, 'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local')).toEqual(['fe80::11']);
    expect(f(4, 'bgp.mp_reach_nlri_ipv6_prefix')).toEqual(['fd0a:96::10', '2001:db8::']);
    expect(f(4, 'bgp.update.path_attribute.type_code')).toEqual(['14', '1', '2']);
    expect(f(5, 'bgp.update.path_attribute.mp_unreach_nlri.afi')).toEqual(['2']);
    expect(f(5, 'bgp.mp_unreach_nlri_ipv6_prefix')).toEqual(['fd0a:96::20']);
    expect(f(6, 'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4')).toEqual(['10.0.0.11']);
    expect(f(6, 'bgp.mp_reach_nlri_ipv4_prefix')).toEqual(['10.96.0.30']);
  });

  it('End-of-RIB for IPv4 (empty UPDATE) and IPv6 (empty MP_UNREACH)', () => {
    expect(f(7, 'bgp.update.path_attribute.type_code')).toEqual([]);
    expect(f(7, 'bgp.nlri_prefix')).toEqual([]);
    expect(f(8, 'bgp.update.path_attribute.type_code')).toEqual(['15']);
    expect(f(8, 'bgp.update.path_attribute.mp_unreach_nlri.safi')).toEqual(['1']);
    expect(f(8, 'bgp.mp_unreach_nlri_ipv6_prefix')).toEqual([]);
  });

  it('ROUTE-REFRESH and NOTIFICATION (with the RFC 8203 shutdown text)', () => {
    expect([f(9, 'bgp.route_refresh.afi'), f(9, 'bgp.route_refresh.safi')]).toEqual([['2'], ['1']]);
    expect(f(10, 'bgp.route_refresh.subtype')).toEqual(['1']);
    expect(f(11, 'bgp.notify.major_error')).toEqual(['3']);
    expect(f(11, 'bgp.notify.minor_error_update')).toEqual(['10']);
    expect(f(12, 'bgp.notify.major_error')).toEqual(['6']);
    expect(f(12, 'bgp.notify.minor_error_cease')).toEqual(['2']);
    expect(f(12, 'bgp.notify.communication')).toEqual(['node drained']);
  });

  it('2-octet AS session: AS_TRANS in AS_PATH and AGGREGATOR, real ASes in AS4_PATH and AS4_AGGREGATOR', () => {
    expect(f(13, 'bgp.cap.type')).toEqual(['1']);
    expect(f(14, 'bgp.update.path_attribute.type_code')).toEqual(['1', '2', '3', '7', '17', '18']);
    expect(f(14, 'bgp.update.path_attribute.as_path_segment.as2')).toEqual(['64514', '23456']);
    expect(f(14, 'bgp.update.path_attribute.as_path_segment.as4')).toEqual(['64514', '4200000002']);
    expect(f(14, 'bgp.update.path_attribute.aggregator_as')).toEqual(['23456', '4200000002']);
  });
});
