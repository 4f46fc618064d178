/**
 * Decoders read nothing past the lengths a message declares. Each attribute (and each OPEN
 * capability) is decoded with every shorter declared length, once alone in an exactly sized buffer
 * and once followed by more bytes inside the same list: the outcome for it must be the same. A
 * decoder that read past the declared length would see `undefined` (or a RangeError) in the first
 * case and real bytes in the second. Whole messages likewise decode the same with trailing garbage.
 */
import { describe, expect, it } from 'vitest';
import { codec } from '@lbkit/bgp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** One attribute per kind: [flags, type, value hex]. */
const ATTRS: [number, number, string][] = [
  [0x40, 1, '00'],
  [0x40, 2, '0202' + '0000fc01' + '0000fc02'],
  [0x40, 3, '0a00000b'],
  [0x80, 4, '00000064'],
  [0x40, 5, '000000c8'],
  [0x40, 6, ''],
  [0xc0, 7, '0000fc01' + '0a000001'],
  [0xc0, 8, 'fc000064' + 'fc0000c8'],
  [0x80, 14, '000201' + '10' + 'fd0a0000000000000000000000000011' + '00' + '80' + 'fd0a0096000000000000000000000010' + '20fd0a0096'],
  [0x80, 14, '000101' + '04' + '0a00000b' + '00' + '200a60000a' + '180a6100'],
  [0x80, 15, '000201' + '80' + 'fd0a0096000000000000000000000010'],
  [0x80, 15, '000101' + '200a60000a'],
  [0xc0, 16, '0002fc00000000640002fc00000000c8'],
  [0xc0, 17, '0201' + 'fa56ea01'],
  [0xc0, 18, 'fa56ea01' + '0a000001'],
  [0xc0, 32, 'fc000000' + '00000001' + '00000002'],
  [0xc0, 99, 'abcdef'],
];
const TRAILER = 'c0fe02abcd'; // an unknown optional transitive attribute

function attr(flags: number, type: number, value: Buffer, ext: boolean): Buffer {
  return ext
    ? Buffer.concat([Buffer.from([flags | 0x10, type, value.length >> 8, value.length & 255]), value])
    : Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

/** The outcome for the first attribute of `list`: its decoded form, its RFC 7606 error, or the NOTIFICATION. */
function first(list: Buffer, as4: boolean, ibgp?: boolean): unknown {
  try {
    const { attributes, errors } = codec.decodeAttributes(list, 0, list.length, as4, ibgp);
    const e = errors.find((x) => x.data && x.data.length && list.subarray(0, x.data.length).equals(Buffer.from(x.data)));
    return e ? { error: e.action, subcode: e.subcode, reason: e.reason } : JSON.stringify(attributes[0], (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  } catch (e) {
    if (!(e instanceof codec.NotificationError)) throw e;
    return { notification: e.notification.code * 256 + e.notification.subcode, message: e.message.replace(/ by \d+ byte\(s\)/, '') };
  }
}

describe('decoders stay inside declared lengths', () => {
  it('every attribute, every shorter declared length, 2- and 4-octet sessions, short and extended length', () => {
    let cases = 0;
    for (const [flags, type, v] of ATTRS) {
      const value = hex(v);
      for (let len = 0; len <= value.length; len++) {
        for (const ext of [false, true]) {
          for (const as4 of [true, false]) {
            const alone = attr(flags, type, value.subarray(0, len), ext);
            // the rest of the original value, then another attribute: all inside the list
            const followed = Buffer.concat([alone, hex(TRAILER)]);
            const a = first(alone, as4, false);
            const b = first(followed, as4, false);
            expect(b, `type ${type} len ${len} ext ${ext} as4 ${as4}`).toEqual(a);
            cases++;
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(500);
  });

  it('every capability, every shorter declared length, inside an OPEN parameter', () => {
    const caps = ['01040001' + '0001', '0200', '4104fa56ea01', '4006' + '8078' + '00010180', '4008' + '0078' + '0001018000020100', '4600', '0600', '4903' + '727472'];
    let cases = 0;
    for (const c of caps) {
      const code = c.slice(0, 2);
      const value = hex(c.slice(4));
      for (let len = 0; len <= value.length; len++) {
        const one = Buffer.concat([hex(code), Buffer.from([len]), value.subarray(0, len)]);
        const open = (params: Buffer) => {
          const body = Buffer.concat([hex('04fc01005a0a00000b'), Buffer.from([params.length + 2, 2, params.length]), params]);
          try {
            return JSON.stringify(codec.open.decodeBody(body).capabilities[0], (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
          } catch (e) {
            if (!(e instanceof codec.NotificationError)) throw e;
            return e.notification.code * 256 + e.notification.subcode;
          }
        };
        expect(open(Buffer.concat([one, hex('0200')])), `capability ${code} len ${len}`).toEqual(open(one));
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(30);
  });

  it('whole messages decode the same with garbage after their declared length', () => {
    const msgs: codec.Message[] = [
      { type: 'open', myAsn: 64513, holdTime: 90, bgpId: '10.0.0.11', capabilities: [{ type: 'as4', asn: 64513 }] },
      { type: 'update', withdrawn: ['10.96.0.9/32'], attributes: [{ type: 'origin', value: 0 }, { type: 'as-path', segments: [] }, { type: 'next-hop', address: '10.0.0.11' }], nlri: ['10.96.0.10/32'] },
      { type: 'notification', code: 6, subcode: 2, shutdownText: 'bye' },
      { type: 'keepalive' },
      { type: 'route-refresh', afi: 1, safi: 1 },
    ];
    for (const m of msgs) {
      const b = codec.encode(m);
      const padded = Buffer.concat([b, Buffer.alloc(64, 0xa5)]);
      expect(codec.decode(padded)).toEqual(codec.decode(b));
    }
  });
});
