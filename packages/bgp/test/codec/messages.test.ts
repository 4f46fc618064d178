/**
 * Round trips of every message type, capability and path attribute, plus byte layouts written out
 * by hand from the RFCs (not produced by our encoder), offsets into shared buffers, RFC 6793
 * AS4_PATH reconstruction, RFC 8654 extended messages and UPDATE packing limits.
 */
import { describe, expect, it } from 'vitest';
import { codec, type Message, type PathAttribute, type UpdateMessage } from '@lbkit/bgp';
import { everyCapability } from './every-capability.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

function roundTrip(m: Message, opts: codec.DecodeOptions = {}): Message {
  const b = codec.encode(m, undefined, 0, opts);
  expect(b.length).toBe(codec.encodingLength(m, opts));
  const d = codec.decode(b, 0, opts);
  // and the decoded message encodes to the same bytes
  expect(codec.encode(d, undefined, 0, opts).equals(b)).toBe(true);
  return d;
}

const allAttributes: PathAttribute[] = [
  { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: ['2001:db8:1::/48', 'fd0a:96::10/128', '::/0'] },
  { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: ['2001:db8:2::/64'] },
  { type: 'origin', value: 2 },
  { type: 'as-path', segments: [{ type: 'sequence', asns: [64512, 4200000001] }, { type: 'set', asns: [1, 2, 3] }] },
  { type: 'next-hop', address: '192.0.2.1' },
  { type: 'med', value: 4294967295 },
  { type: 'local-pref', value: 200 },
  { type: 'atomic-aggregate' },
  { type: 'aggregator', asn: 4200000001, address: '192.0.2.9' },
  { type: 'communities', communities: [codec.WellKnownCommunity.NO_EXPORT, codec.parseCommunity('64512:100')] },
  { type: 'extended-communities', communities: [codec.parseExtendedCommunity('0002fc000000000a'), Uint8Array.from([0x40, 4, 0xfc, 0, 0x49, 0x98, 0x96, 0x80])] },
  { type: 'large-communities', communities: [[4200000001, 1, 2], [64512, 0, 4294967295]] },
  { type: 'unknown', code: 99, flags: 0xe0, value: Uint8Array.from([1, 2, 3]), partial: undefined } as PathAttribute,
];

describe('small messages', () => {
  it('KEEPALIVE is the bare 19-byte header (RFC 4271 §4.4)', () => {
    expect(codec.encode({ type: 'keepalive' }).toString('hex')).toBe(`${MARKER}001304`);
    expect(codec.decode(hex(`${MARKER}001304`))).toEqual({ type: 'keepalive' });
  });

  it('ROUTE-REFRESH: AFI, subtype, SAFI (RFC 2918 §3, RFC 7313 §3.2)', () => {
    expect(codec.encode({ type: 'route-refresh', afi: 2, safi: 1 }).toString('hex')).toBe(`${MARKER}0017050002` + '0001');
    const borr = roundTrip({ type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
    expect(borr).toEqual({ type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
  });

  it('NOTIFICATION with data, and Cease with an RFC 8203/9003 shutdown text (UTF-8, cut at 255 bytes)', () => {
    expect(codec.encode({ type: 'notification', code: 1, subcode: 2, data: Uint8Array.of(0, 18) }).toString('hex')).toBe(`${MARKER}0017030102` + '0012');
    const t = roundTrip({ type: 'notification', code: 6, subcode: 4, shutdownText: 'maintenance — back at 10:00' });
    expect(t).toMatchObject({ code: 6, subcode: 4, shutdownText: 'maintenance — back at 10:00' });
    const long = codec.notification.decode(codec.encode({ type: 'notification', code: 6, subcode: 2, shutdownText: 'é'.repeat(200) }));
    expect(long.data![0]).toBe(254); // 127 two-byte characters: the cut never splits one
    expect(long.shutdownText).toBe('é'.repeat(127));
    // invalid UTF-8 or a bad length byte: no text, data kept
    expect(codec.notification.decodeBody(Uint8Array.of(6, 2, 2, 0xff, 0xfe)).shutdownText).toBeUndefined();
    expect(codec.notification.decodeBody(Uint8Array.of(6, 2, 9, 0x41))).toMatchObject({ data: Uint8Array.of(9, 0x41) });
    expect(() => codec.encode({ type: 'notification', code: 3, subcode: 1, shutdownText: 'x' })).toThrow(/NOTIFICATION.shutdownText/);
  });

  it('names every RFC 4271 code and subcode', () => {
    const subs: Record<number, number[]> = { 1: [1, 2, 3], 2: [1, 2, 3, 4, 6], 3: [1, 2, 3, 4, 5, 6, 8, 9, 10, 11], 4: [0], 5: [0], 6: [0] };
    for (const [code, list] of Object.entries(subs)) for (const s of list) expect(codec.notificationName(+code, s)).not.toMatch(/subcode|Error code/);
    expect(codec.notificationName(3, 11)).toBe('UPDATE Message Error / Malformed AS_PATH');
    expect(codec.notificationName(9, 9)).toBe('Error code 9 / subcode 9');
  });
});

describe('OPEN', () => {
  const caps = everyCapability;

  it('round-trips every capability in both layouts and with RFC 9072 extended parameters', () => {
    for (const layout of ['single', 'per-capability'] as const) {
      const m: codec.OpenMessage = { type: 'open', version: 4, myAsn: codec.AS_TRANS, holdTime: 90, bgpId: '192.0.2.1', capabilities: caps, capabilityLayout: layout };
      expect(roundTrip(m)).toEqual(m);
      expect(roundTrip({ ...m, extendedParameters: true })).toEqual({ ...m, extendedParameters: true });
    }
  });

  it('lays out MP and 4-octet AS capabilities as RFC 5492 / 4760 / 6793 describe', () => {
    const b = codec.encode({ type: 'open', myAsn: 64512, holdTime: 9, bgpId: '10.0.0.1', capabilities: [caps[0]!, { type: 'as4', asn: 64512 }] });
    // version 4, AS fc00, hold 9, id 10.0.0.1, opt len 14: param 2 len 12: cap 1 len 4 (afi 1, res, safi 1), cap 65 len 4
    expect(b.toString('hex')).toBe(`${MARKER}002b01` + '04fc0000090a0000010e020c0104000100014104 0000fc00'.replace(/ /g, ''));
    expect(codec.open.myAsnField(4200000001)).toBe(23456);
  });

  it('chooses extended parameters automatically when capabilities exceed 255 bytes', () => {
    const big: codec.Capability[] = Array.from({ length: 3 }, (_, i) => ({ type: 'unknown', code: 200 + i, value: new Uint8Array(120).fill(i) }));
    const b = codec.encode({ type: 'open', myAsn: 1, holdTime: 0, bgpId: '1.1.1.1', capabilities: big });
    expect([b[28], b[29]]).toEqual([255, 255]);
    expect((codec.decode(b) as codec.OpenMessage).capabilities).toEqual(big);
  });
});

describe('UPDATE', () => {
  it('round-trips every attribute kind on a 4-octet session', () => {
    const m: UpdateMessage = { type: 'update', withdrawn: ['10.1.0.0/16', '0.0.0.0/0'], attributes: allAttributes, nlri: ['10.96.0.10/32', '10.2.3.0/24'] };
    const d = roundTrip(m) as UpdateMessage;
    expect(d.withdrawn).toEqual(m.withdrawn);
    expect(d.nlri).toEqual(m.nlri);
    expect(d.attributes).toEqual(allAttributes.map((a) => (a.type === 'unknown' ? { type: 'unknown', code: 99, flags: 0xe0, value: Uint8Array.from([1, 2, 3]) } : a)));
    expect(d.errors).toBeUndefined();
  });

  it('writes attributes as RFC 4271 §4.3 lays them out (hand-written bytes)', () => {
    const enc = (a: PathAttribute, as4 = true) => codec.attribute.encode(a, undefined, 0, { as4 }).toString('hex');
    expect(enc({ type: 'origin', value: 0 })).toBe('40010100');
    expect(enc({ type: 'as-path', segments: [{ type: 'sequence', asns: [64512] }] })).toBe('400206' + '0201' + '0000fc00');
    expect(enc({ type: 'as-path', segments: [{ type: 'sequence', asns: [64512, 4200000001] }] }, false)).toBe('400206' + '0202' + 'fc00' + '5ba0');
    expect(enc({ type: 'next-hop', address: '10.0.0.11' })).toBe('4003040a00000b');
    expect(enc({ type: 'med', value: 5 })).toBe('80040400000005');
    expect(enc({ type: 'local-pref', value: 100 })).toBe('40050400000064');
    expect(enc({ type: 'atomic-aggregate' })).toBe('400600');
    expect(enc({ type: 'aggregator', asn: 65001, address: '10.0.0.1' }, false)).toBe('c00706fde90a000001');
    expect(enc({ type: 'communities', communities: [codec.WellKnownCommunity.NO_EXPORT] })).toBe('c00804ffffff01');
    expect(enc({ type: 'large-communities', communities: [[2914, 0, 666]] })).toBe('c0200c00000b620000000000000' + '29a');
    expect(enc({ type: 'mp-unreach', afi: 2, safi: 1, withdrawn: [] })).toBe('800f03000201');
    expect(enc({ type: 'communities', communities: [1], partial: true })).toBe('e0080400000001');
    // a value longer than 255 bytes gets the Extended Length bit and a 2-byte length
    expect(enc({ type: 'communities', communities: new Array(70).fill(7) }).slice(0, 8)).toBe('d0080118');
  });

  it('keeps unknown optional attributes with their flags and the Partial bit', () => {
    const raw = hex('00000008' + 'e0630103' + '40010100'); // attr 99 optional transitive partial, len 1
    const u = codec.update.decodeBody(raw);
    expect(u.attributes[0]).toEqual({ type: 'unknown', code: 99, flags: 0xe0, value: Uint8Array.of(3) });
    expect(codec.update.encode(u).subarray(19).equals(raw)).toBe(true);
  });

  it('2-octet session: AS_TRANS + AS4_PATH, reconstructed per RFC 6793 §4.2.3', () => {
    const split = codec.asPath.splitForTwoOctet([{ type: 'sequence', asns: [64512, 4200000001, 4200000002, 100] }]);
    expect(split.asPath).toEqual([{ type: 'sequence', asns: [64512, 23456, 23456, 100] }]);
    const m: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', value: 0 },
        { type: 'as-path', segments: split.asPath },
        { type: 'next-hop', address: '10.0.0.1' },
        { type: 'as4-path', segments: split.as4Path! },
      ],
      nlri: ['10.0.0.0/8'],
    };
    const d = roundTrip(m, { as4: false }) as UpdateMessage;
    expect(codec.asPathOf(d)).toEqual([{ type: 'sequence', asns: [64512, 4200000001, 4200000002, 100] }]);
    // AS4_PATH from an old speaker's later hops: only the ASes AS4_PATH lacks are kept from AS_PATH
    expect(codec.asPath.reconstruct([{ type: 'sequence', asns: [1, 2, 23456] }, { type: 'set', asns: [5, 6] }], [{ type: 'sequence', asns: [4200000001] }, { type: 'set', asns: [5, 6] }])).toEqual([
      { type: 'sequence', asns: [1, 2, 4200000001] },
      { type: 'set', asns: [5, 6] },
    ]);
    // AS4_PATH longer than AS_PATH: ignored
    expect(codec.asPath.reconstruct([{ type: 'sequence', asns: [23456] }], [{ type: 'sequence', asns: [1, 2] }])).toEqual([{ type: 'sequence', asns: [23456] }]);
    // an AGGREGATOR with a real 2-octet AS means AS4_PATH must be ignored
    const agg = { ...d, attributes: [...d.attributes, { type: 'aggregator' as const, asn: 65001, address: '10.0.0.9' }] };
    expect(codec.asPathOf(agg)).toEqual([{ type: 'sequence', asns: [64512, 23456, 23456, 100] }]);
    // the same bytes read as a 4-octet session are a different (malformed) AS_PATH: treat-as-withdraw
    expect((codec.decode(codec.encode(m, undefined, 0, { as4: false }), 0, { as4: true }) as UpdateMessage).treatAsWithdraw).toBe(true);
  });

  it('splits AS_PATH segments longer than 255 ASes', () => {
    const asns = Array.from({ length: 300 }, (_, i) => i + 1);
    const a = codec.attribute.encode({ type: 'as-path', segments: [{ type: 'sequence', asns }] });
    expect(a[0]).toBe(0x50); // > 255 bytes: extended length
    expect([a[4], a[5]]).toEqual([2, 255]);
    const d = codec.update.decodeBody(Buffer.concat([hex('0000'), Buffer.from([a.length >> 8, a.length & 255]), a]));
    expect(codec.asPath.asns((d.attributes[0] as { segments: codec.AsPathSegment[] }).segments)).toEqual(asns);
  });

  it('End-of-RIB markers (RFC 4724 §2)', () => {
    expect(codec.encode(codec.endOfRib()).toString('hex')).toBe(`${MARKER}00170200000000`);
    expect(codec.encode(codec.endOfRib(2, 1)).toString('hex')).toBe(`${MARKER}001d0200000006800f03000201`);
    expect(codec.endOfRibFamily(codec.decode(codec.encode(codec.endOfRib(2, 1))) as UpdateMessage)).toEqual({ afi: 2, safi: 1 });
    expect(codec.endOfRibFamily({ type: 'update', withdrawn: ['10.0.0.0/8'], attributes: [], nlri: [] })).toBeUndefined();
  });

  it('many prefixes per UPDATE: 813 /32s fill a 4096-byte message, one more does not fit', () => {
    const attributes: PathAttribute[] = [
      { type: 'origin', value: 0 },
      { type: 'as-path', segments: [{ type: 'sequence', asns: [64513] }] },
      { type: 'next-hop', address: '10.0.0.11' },
    ];
    const room = 4096 - 23 - codec.update.attributesLength(attributes);
    const n = Math.floor(room / 5);
    const nlri = Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
    const b = codec.encode({ type: 'update', withdrawn: [], attributes, nlri });
    expect(b.length).toBeLessThanOrEqual(4096);
    expect((codec.decode(b) as UpdateMessage).nlri).toEqual(nlri);
    expect(() => codec.encode({ type: 'update', withdrawn: [], attributes, nlri: [...nlri, '10.255.255.255/32'] })).toThrow(/exceeds the maximum message length 4096/);
  });

  it('RFC 8654: messages up to 65535 bytes once extended messages are negotiated', () => {
    const nlri = Array.from({ length: 2000 }, (_, i) => `10.9.${i >> 8}.${i & 255}/32`);
    const m: UpdateMessage = { type: 'update', withdrawn: nlri, attributes: [], nlri: [] };
    const b = codec.encode(m, undefined, 0, { maxLength: 65535 });
    expect(b.length).toBe(23 + 2000 * 5);
    expect((codec.decode(b, 0, { maxLength: 65535 }) as UpdateMessage).withdrawn).toHaveLength(2000);
    expect(() => codec.decode(b)).toThrow(expect.objectContaining({ notification: expect.objectContaining({ code: 1, subcode: 2 }) }));
  });

  it('encodes at an offset into a caller buffer and decodes from there; decodeAll splits a stream', () => {
    const msgs: Message[] = [{ type: 'keepalive' }, { type: 'route-refresh', afi: 1, safi: 1 }, codec.endOfRib(2, 1)];
    const total = msgs.reduce((s, m) => s + codec.encodingLength(m), 0);
    const buf = Buffer.alloc(7 + total + 5);
    let off = 7;
    for (const m of msgs) {
      codec.encode(m, buf, off);
      expect(codec.decode(buf, off)).toEqual(m);
      off += codec.encodingLength(m);
    }
    const all = codec.decodeAll(buf.subarray(7, 7 + total + 5));
    expect(all.messages).toEqual(msgs);
    expect(all.bytes).toBe(total);
    expect(() => codec.encode({ type: 'keepalive' }, Buffer.alloc(10))).toThrow(RangeError);
  });

  it('rejects bad fields when encoding with the object and field named', () => {
    const base = { type: 'update' as const, withdrawn: [], attributes: [], nlri: [] };
    expect(() => codec.encode({ ...base, nlri: ['fd00::/8'] })).toThrow(/fd00::\/8.*AFI 1/);
    expect(() => codec.encode({ ...base, attributes: [{ type: 'med', value: -1 }] })).toThrow(/med.value/);
    expect(() => codec.encode({ ...base, attributes: [{ type: 'next-hop', address: 'fd00::1' }] })).toThrow(/next-hop.address/);
    expect(() => codec.encode({ ...base, attributes: [{ type: 'origin', value: 3 }] })).toThrow(/origin.value/);
    expect(() => codec.encode({ type: 'open', myAsn: 70000, holdTime: 9, bgpId: '1.2.3.4', capabilities: [] })).toThrow(/OPEN.myAsn/);
    expect(() => codec.encode({ type: 'open', myAsn: 1, holdTime: 9, bgpId: 'x', capabilities: [] })).toThrow(/IPv4/);
    expect(() => codec.parseLargeCommunity('1:2')).toThrow(/large community "1:2"/);
  });
});
