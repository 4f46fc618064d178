/**
 * Malformed input gives the NOTIFICATION RFC 4271 §6 prescribes, or the RFC 7606 handling
 * (treat-as-withdraw, attribute-discard) where that RFC replaces the session reset. The bytes are
 * written by hand here, one malformation each.
 */
import { describe, expect, it } from 'vitest';
import { codec } from '@lbkit/bgp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const M = 'ff'.repeat(16);
const ORIGIN = '40010100';
const ASPATH = '400206' + '0201' + '0000fc01'; // AS_SEQUENCE [64513], 4-octet
const NH = '4003040a00000b';
const MPREACH = '800e1a' + '000201' + '10' + 'fd0a0000000000000000000000000011' + '00' + '20fd0a0096'; // fd0a:96::/32

/** UPDATE body from attribute hex and NLRI hex. */
function body(attrs: string, nlri = '200a60000a', withdrawn = ''): Buffer {
  const w = hex(withdrawn);
  const a = hex(attrs);
  return Buffer.concat([Buffer.from([w.length >> 8, w.length & 255]), w, Buffer.from([a.length >> 8, a.length & 255]), a, hex(nlri)]);
}

function notif(f: () => unknown): codec.NotificationInfo {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(codec.NotificationError);
    return (e as codec.NotificationError).notification;
  }
  throw new Error('decoded without error');
}

describe('header (RFC 4271 §6.1)', () => {
  it('1/1 marker, 1/2 length (data = the length), 1/3 type (data = the type)', () => {
    expect(notif(() => codec.decode(hex('fe'.repeat(16) + '001304')))).toEqual({ code: 1, subcode: 1 });
    expect(notif(() => codec.decode(hex(M + '001204')))).toEqual({ code: 1, subcode: 2, data: Uint8Array.of(0, 0x12) });
    expect(notif(() => codec.decode(hex(M + '0014' + '0400')))).toEqual({ code: 1, subcode: 2, data: Uint8Array.of(0, 0x14) });
    expect(notif(() => codec.decode(hex(M + '001c01' + '00'.repeat(9))))).toMatchObject({ code: 1, subcode: 2 }); // OPEN < 29
    expect(notif(() => codec.decode(hex(M + '001402' + '00')))).toMatchObject({ code: 1, subcode: 2 }); // UPDATE < 23
    expect(notif(() => codec.decode(hex(M + '001403' + '06')))).toMatchObject({ code: 1, subcode: 2 }); // NOTIFICATION < 21
    expect(notif(() => codec.decode(Buffer.concat([hex(M + '1001' + '02'), Buffer.alloc(4096 - 19 + 1)])))).toMatchObject({ code: 1, subcode: 2 }); // 4097
    expect(notif(() => codec.decode(hex(M + '001309')))).toEqual({ code: 1, subcode: 3, data: Uint8Array.of(9) });
  });
});

describe('OPEN (RFC 4271 §6.2)', () => {
  // version 4, AS 64513, hold 90, id 10.0.0.11, one parameter with MP 1/1
  const open = (s: string) => () => codec.open.decodeBody(hex(s));
  it('2/1 version (data: largest supported version, 4)', () => {
    expect(notif(open('03fc01005a0a00000b00'))).toEqual({ code: 2, subcode: 1, data: Uint8Array.of(0, 4) });
  });
  it('2/2 bad peer AS: AS 0 in the header field or in the 4-octet AS capability (RFC 7607)', () => {
    expect(notif(open('040000005a0a00000b00'))).toEqual({ code: 2, subcode: 2 });
    expect(notif(open('04fc01005a0a00000b080206410400000000'))).toEqual({ code: 2, subcode: 2 });
  });
  it('2/3 BGP identifier 0', () => {
    expect(notif(open('04fc01005a0000000000'))).toMatchObject({ code: 2, subcode: 3 });
  });
  it('2/4 unsupported optional parameter (type 1, the deprecated authentication parameter)', () => {
    expect(notif(open('04fc01005a0a00000b03010100'))).toEqual({ code: 2, subcode: 4 });
  });
  it('2/6 hold time 1 or 2', () => {
    expect(notif(open('04fc0100010a00000b00'))).toEqual({ code: 2, subcode: 6 });
    expect(notif(open('04fc0100020a00000b00'))).toEqual({ code: 2, subcode: 6 });
    expect(codec.open.decodeBody(hex('04fc0100000a00000b00')).holdTime).toBe(0);
  });
  it('2/0 for broken structure: parameter length mismatch, capability overrun, wrong capability length', () => {
    expect(notif(open('04fc01005a0a00000b0702060104000100'))).toMatchObject({ code: 2, subcode: 0 });
    expect(notif(open('04fc01005a0a00000b0402020104'))).toMatchObject({ code: 2, subcode: 0 });
    expect(notif(open('04fc01005a0a00000b050203010100'))).toMatchObject({ code: 2, subcode: 0 }); // MP of length 1
  });
  it('the session-level checks (peer AS mismatch 2/2) live in validateOpen', async () => {
    const { validateOpen } = await import('@lbkit/bgp');
    const info = { version: 4, myAsn: 64513, holdTime: 90, bgpId: 1, capabilities: [], families: [] };
    expect(validateOpen(info, { localAsn: 64512, peerAsn: 64999, localId: 2 })?.notification).toEqual({ code: 2, subcode: 2 });
  });
});

describe('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH', () => {
  it('NOTIFICATION body shorter than 2 bytes is 1/2', () => {
    expect(notif(() => codec.notification.decodeBody(Uint8Array.of(6)))).toMatchObject({ code: 1, subcode: 2 });
  });
  it('ROUTE-REFRESH of the wrong length is 7/1 with the whole message as data (RFC 7313 §5)', () => {
    const msg = hex(M + '0018050001000100');
    expect(notif(() => codec.decode(msg))).toEqual({ code: 7, subcode: 1, data: new Uint8Array(msg) });
  });
});

describe('UPDATE: session resets', () => {
  const upd = (b: Buffer, opts: codec.DecodeOptions = {}) => () => codec.update.decodeBody(b, opts);
  it('3/1: withdrawn length or total attribute length overrun the message', () => {
    expect(notif(upd(hex('00ff0000')))).toEqual({ code: 3, subcode: 1 });
    expect(notif(upd(hex('000000ff40010100')))).toEqual({ code: 3, subcode: 1 });
    expect(notif(upd(hex('00')))).toEqual({ code: 3, subcode: 1 });
  });
  it('3/1: MP_REACH_NLRI twice (RFC 7606 §3.g)', () => {
    expect(notif(upd(body(MPREACH + ORIGIN + ASPATH + MPREACH, '')))).toEqual({ code: 3, subcode: 1 });
  });
  it('3/5: MP_REACH_NLRI or MP_UNREACH_NLRI whose length runs past the attribute list (its NLRI cannot be located)', () => {
    expect(notif(upd(body(ORIGIN + '800e09000201', '')))).toEqual({ code: 3, subcode: 5, data: new Uint8Array(hex('800e09000201')) });
    expect(notif(upd(body('900f0009000201', '')))).toEqual({ code: 3, subcode: 5, data: new Uint8Array(hex('900f0009000201')) });
  });
  it('3/2: unrecognized well-known attribute, with the attribute as data', () => {
    expect(notif(upd(body(ORIGIN + ASPATH + NH + '40630100')))).toEqual({ code: 3, subcode: 2, data: Uint8Array.of(0x40, 0x63, 1, 0) });
  });
  it('3/4: MP_REACH_NLRI with the transitive flag; 3/9: bad MP_REACH next-hop length or NLRI (RFC 4760 §7)', () => {
    expect(notif(upd(body('c0' + MPREACH.slice(2) + ORIGIN + ASPATH, '')))).toMatchObject({ code: 3, subcode: 4 });
    expect(notif(upd(body('800e0b' + '000201' + '05' + '0102030405' + '00' + '00', '')))).toMatchObject({ code: 3, subcode: 9 });
    expect(notif(upd(body('800e0a' + '000101' + '04' + '0a000001' + '00' + '21', '')))).toMatchObject({ code: 3, subcode: 9 }); // /33 for IPv4
    expect(notif(upd(body('800f04' + '000201' + '81', '')))).toMatchObject({ code: 3, subcode: 9 }); // /129 in MP_UNREACH
    expect(notif(upd(body('800e03' + '000201', '')))).toMatchObject({ code: 3, subcode: 9 }); // shorter than 5
  });
  it('3/10: bad prefixes in the NLRI or withdrawn routes fields', () => {
    expect(notif(upd(body(ORIGIN + ASPATH + NH, '210a000001')))).toEqual({ code: 3, subcode: 10 });
    expect(notif(upd(body(ORIGIN + ASPATH + NH, '180a00')))).toEqual({ code: 3, subcode: 10 });
    expect(notif(upd(body('', '', '200a00')))).toEqual({ code: 3, subcode: 10 });
  });
});

describe('UPDATE: RFC 7606 treat-as-withdraw', () => {
  const taw = (attrs: string, subcode: number, name: RegExp, opts: codec.DecodeOptions = {}, nlri?: string) => {
    const u = codec.update.decodeBody(body(attrs, nlri), opts);
    expect(u.treatAsWithdraw).toBe(true);
    const e = u.errors!.find((x) => x.action === 'treat-as-withdraw')!;
    expect(e.subcode).toBe(subcode);
    expect(e.reason).toMatch(name);
    expect(u.nlri).toEqual(nlri === '' ? [] : ['10.96.0.10/32']); // the prefixes to withdraw are still reported
    return u;
  };
  it('3/3 missing well-known attributes (NEXT_HOP with classic NLRI; ORIGIN; LOCAL_PREF on iBGP)', () => {
    taw(ORIGIN + ASPATH, 3, /NEXT-HOP/);
    taw(ASPATH + NH, 3, /ORIGIN/);
    taw(ORIGIN + ASPATH + NH, 3, /LOCAL-PREF/, { ibgp: true });
    // an MP-only UPDATE needs no NEXT_HOP
    expect(codec.update.decodeBody(body(MPREACH + ORIGIN + ASPATH, '')).errors).toBeUndefined();
    expect(codec.update.decodeBody(body(MPREACH + ASPATH, '')).treatAsWithdraw).toBe(true);
  });
  it('3/4 attribute flags: ORIGIN sent as optional', () => {
    taw('c0010100' + ASPATH + NH, 4, /ORIGIN: flags/);
  });
  it('3/5 attribute lengths: ORIGIN, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, EXTENDED and LARGE communities', () => {
    taw('4001020000' + ASPATH + NH, 5, /ORIGIN/);
    taw(ORIGIN + ASPATH + '4003030a0000', 5, /NEXT_HOP/);
    taw(ORIGIN + ASPATH + NH + '800403000000', 5, /MULTI_EXIT_DISC/);
    taw(ORIGIN + ASPATH + NH + '4005020000', 5, /LOCAL_PREF/);
    taw(ORIGIN + ASPATH + NH + 'c00803010203', 5, /COMMUNITIES/);
    taw(ORIGIN + ASPATH + NH + 'c0100700000000000000', 5, /EXTENDED_COMMUNITIES/);
    taw(ORIGIN + ASPATH + NH + 'c0200d' + '00'.repeat(13), 5, /LARGE_COMMUNITIES/);
  });
  it('3/6 ORIGIN value, 3/8 NEXT_HOP 0.0.0.0, 3/11 malformed AS_PATH (bad type, zero-length or overrunning segment)', () => {
    taw('40010103' + ASPATH + NH, 6, /ORIGIN/);
    taw(ORIGIN + ASPATH + '40030400000000', 8, /NEXT_HOP/);
    taw(ORIGIN + '400206' + '0501' + '0000fc01' + NH, 11, /AS_PATH/);
    taw(ORIGIN + '400202' + '0200' + NH, 11, /AS_PATH/);
    taw(ORIGIN + '400206' + '0202' + '0000fc01' + NH, 11, /AS_PATH/);
    // 4-octet path bytes read on a 2-octet session do parse ([0, 64513]); 2-octet bytes on a 4-octet session don't
    taw(ORIGIN + '400204' + '0201' + 'fc01' + NH, 11, /AS_PATH/, { as4: true });
  });
  it('RFC 7606 §4: the last attribute runs past the list, or 1–3 stray bytes end it; the NLRI is still located', () => {
    // COMMUNITIES declares 8 bytes, 4 are present: the classic NLRI after the list is withdrawn
    const a = taw(ORIGIN + ASPATH + NH + 'c00808' + 'fc000064', 5, /COMMUNITIES: length 8 runs past the path attributes by 4/);
    expect(a.attributes.map((x) => x.type)).toEqual(['origin', 'as-path', 'next-hop']);
    expect(a.errors![0]!.data).toEqual(new Uint8Array(hex('c00808fc000064')));
    taw('40010900', 5, /ORIGIN: length 9/, {}, ''); // nothing announced: still no reset
    for (const stray of ['40', '4001', '9001ff']) {
      const u = taw(ORIGIN + ASPATH + NH + stray, 1, /stray byte/);
      expect(u.errors![0]!.data).toEqual(new Uint8Array(hex(stray)));
    }
  });
  it('an attribute overrunning the list after MP_REACH was found (RFC 7606 §4)', () => {
    const u = codec.update.decodeBody(body(MPREACH + ORIGIN + '400209' + '0201', ''));
    expect(u.treatAsWithdraw).toBe(true);
    expect((u.attributes[0] as codec.MpReach).nlri).toEqual(['fd0a:96::/32']);
  });
});

describe('UPDATE: RFC 7606 attribute discard', () => {
  it('LOCAL_PREF from an external peer (ibgp: false) is discarded, malformed or not (§7.5); iBGP treat-as-withdraw', () => {
    const bad = codec.update.decodeBody(body(ORIGIN + ASPATH + NH + '4005020000'), { ibgp: false });
    expect(bad.treatAsWithdraw).toBeUndefined();
    expect(bad.errors).toMatchObject([{ action: 'attribute-discard', attribute: 5, subcode: 5 }]);
    expect(bad.attributes.map((a) => a.type)).toEqual(['origin', 'as-path', 'next-hop']);
    const badFlags = codec.update.decodeBody(body(ORIGIN + ASPATH + NH + 'c00504000000c8'), { ibgp: false });
    expect(badFlags.treatAsWithdraw).toBeUndefined();
    const good = codec.update.decodeBody(body(ORIGIN + ASPATH + NH + '400504000000c8'), { ibgp: false });
    expect(good.errors).toMatchObject([{ action: 'attribute-discard', attribute: 5 }]);
    expect(good.attributes.some((a) => a.type === 'local-pref')).toBe(false);
    expect(codec.update.decodeBody(body(ORIGIN + ASPATH + NH + '4005020000'), { ibgp: true }).treatAsWithdraw).toBe(true);
    expect(codec.update.decodeBody(body(ORIGIN + ASPATH + NH + '400504000000c8'), { ibgp: true }).attributes.at(-1)).toEqual({ type: 'local-pref', value: 200 });
  });
  const disc = (attrs: string, opts: codec.DecodeOptions = {}) => {
    const u = codec.update.decodeBody(body(ORIGIN + ASPATH + NH + attrs), opts);
    expect(u.treatAsWithdraw).toBeUndefined();
    expect(u.errors!.every((e) => e.action === 'attribute-discard')).toBe(true);
    return u;
  };
  it('duplicates of attributes other than MP_*: the first is kept', () => {
    const u = disc('c00804fc000064' + 'c00804fc0000c8');
    expect(u.attributes.filter((a) => a.type === 'communities')).toEqual([{ type: 'communities', communities: [64512 * 65536 + 100] }]);
    expect(u.errors![0]!.reason).toMatch(/COMMUNITIES: duplicate/);
  });
  it('a malformed NEXT_HOP in an UPDATE with only MP NLRI is discarded, not treat-as-withdraw (RFC 7606 §3.j)', () => {
    const u = codec.update.decodeBody(body(MPREACH + ORIGIN + ASPATH + '4003030a0000', ''));
    expect(u.treatAsWithdraw).toBeUndefined();
    expect(u.errors).toMatchObject([{ action: 'attribute-discard', attribute: 3, subcode: 5 }]);
  });
  it('ATOMIC_AGGREGATE and AGGREGATOR of the wrong length; AS4_PATH / AS4_AGGREGATOR on a 4-octet session; malformed AS4_PATH', () => {
    expect(disc('40060100').attributes.map((a) => a.type)).toEqual(['origin', 'as-path', 'next-hop']);
    disc('c00706fde90a000001'); // 6 bytes on a 4-octet session
    disc('c0110602010000fc01');
    disc('c01208fa56ea010a000001');
    const u = codec.update.decodeBody(body(ORIGIN + '400204' + '0201fc01' + NH + 'c0110603010000fc01'), { as4: false });
    expect(u.errors).toMatchObject([{ action: 'attribute-discard', attribute: 17 }]);
  });
});
