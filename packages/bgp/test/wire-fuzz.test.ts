/**
 * Robustness of the decoders: random mutations of valid messages must either decode or raise a
 * WireError / NotificationError carrying a NOTIFICATION, never any other exception. For the codec,
 * whatever decodes must also re-encode, and decode again to the same fields.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codec, type Message } from '@lbkit/bgp';
import { readFlows, splitMessages } from './codec/pcap.js';
import { WireError, decodeOpen, decodeNotification, Framer } from '../src/session/wire.js';
import { decodeUpdate } from '../src/session/update.js';
import { seededRandom } from '../../../test-utils/random.js'; // reproducible mutations

// UPDATE body: ORIGIN, AS_PATH [64513], NEXT_HOP, COMMUNITIES, MP_REACH v6 fd0a:96::10/128, NLRI 10.96.0.10/32
const attrs = Buffer.concat([
  Buffer.from('40010100', 'hex'), // ORIGIN IGP
  Buffer.from('400206020100' + '00fc01', 'hex'), // AS_PATH AS_SEQUENCE [64513] (4-octet)
  Buffer.from('4003040a00000b', 'hex'), // NEXT_HOP 10.0.0.11
  Buffer.from('c00804fc000064', 'hex'), // COMMUNITIES 64512:100
  Buffer.from('800e26000201' + '10' + 'fd0a0000000000000000000000000011' + '00' + '80' + 'fd0a0096000000000000000000000010', 'hex'),
]);
const UPDATE = Buffer.concat([Buffer.from([0, 0, attrs.length >> 8, attrs.length & 255]), attrs, Buffer.from('200a60000a', 'hex')]);
const OPEN = Buffer.from('04fc00000a0a00000b0e020c0104000100014104 0000fc00'.replace(/ /g, ''), 'hex');

function mutate(b: Buffer, r: () => number): Buffer {
  const m = Buffer.from(b);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = r();
    const pos = Math.floor(r() * m.length);
    if (op < 0.6) m[pos] = Math.floor(r() * 256);
    else if (op < 0.8) return m.subarray(0, pos);
    else return Buffer.concat([m, Buffer.from([Math.floor(r() * 256)])]);
  }
  return m;
}

describe('decoders never throw anything but WireError', () => {
  it('the valid samples decode', () => {
    const u = decodeUpdate(UPDATE, true);
    expect(u.announced.map((x) => x.prefix).sort()).toEqual(['10.96.0.10/32', 'fd0a:96::10/128']);
    expect(decodeOpen(OPEN).asn4).toBe(64512);
  });

  // LBKIT_FUZZ_ROUNDS scales this up off CI (e.g. 333334 rounds ≈ 10^6 mutated messages).
  const ROUNDS = Number(process.env.LBKIT_FUZZ_ROUNDS ?? 5000);
  it(`${ROUNDS} rounds of mutated UPDATEs (2-/4-octet, iBGP/eBGP, own next hops), OPENs and NOTIFICATIONs`, () => {
    const r = seededRandom(42);
    let errors = 0;
    const own = ['10.0.0.11', 'fd0a::11'];
    for (let i = 0; i < ROUNDS; i++) {
      const ctx = { ibgp: r() < 0.5, ownAddresses: r() < 0.5 ? own : [] };
      for (const f of [() => decodeUpdate(mutate(UPDATE, r), r() < 0.5, ctx), () => decodeOpen(mutate(OPEN, r)), () => decodeNotification(mutate(Buffer.from([6, 2, 3, 97, 98, 99]), r))]) {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
          expect((e as WireError).notification.code).toBeGreaterThan(0);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(ROUNDS / 50); // the mutations really hit error paths
  }, 600_000);

  it('the framer rejects random byte streams with a header NOTIFICATION', () => {
    const r = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const f = new Framer();
      const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256)));
      try {
        f.push(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        expect((e as WireError).notification.code).toBe(1);
      }
    }
  });
});

/** Seeds: every message the three daemons' captured sessions contain, plus one UPDATE with every attribute kind. */
function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const d of ['gobgp', 'bird', 'frr']) {
    for (const f of readFlows(fileURLToPath(new URL(`./fixtures/${d}-session.pcap`, import.meta.url)))) out.push(...splitMessages(f.bytes));
  }
  out.push(
    codec.encode({
      type: 'update',
      withdrawn: ['10.1.0.0/16'],
      nlri: ['10.96.0.10/32', '10.2.0.0/15'],
      attributes: [
        { type: 'mp-reach', afi: 2, safi: 1, nextHop: 'fd0a::1', linkLocalNextHop: 'fe80::1', nlri: ['fd0a:96::10/128', '2001:db8::/33'] },
        { type: 'mp-unreach', afi: 2, safi: 1, withdrawn: ['2001:db8:1::/48'] },
        { type: 'origin', value: 1 },
        { type: 'as-path', segments: [{ type: 'sequence', asns: [64512, 23456] }, { type: 'set', asns: [7, 8] }] },
        { type: 'next-hop', address: '10.0.0.11' },
        { type: 'med', value: 10 },
        { type: 'local-pref', value: 100 },
        { type: 'atomic-aggregate' },
        { type: 'aggregator', asn: 23456, address: '10.0.0.1' },
        { type: 'communities', communities: [1, 2] },
        { type: 'extended-communities', communities: [new Uint8Array(8).fill(3)] },
        { type: 'as4-path', segments: [{ type: 'sequence', asns: [4200000001] }] },
        { type: 'as4-aggregator', asn: 4200000001, address: '10.0.0.1' },
        { type: 'large-communities', communities: [[1, 2, 3]] },
        { type: 'unknown', code: 99, flags: 0xe0, value: Uint8Array.of(1) },
      ],
    }, undefined, 0, { as4: false }),
  );
  return out;
}

/** A message without the decode-only fields. */
function fields(m: Message): unknown {
  if (m.type === 'update') return { withdrawn: m.withdrawn, nlri: m.nlri, attributes: m.attributes };
  if (m.type === 'open') return { ...m, capabilityLayout: undefined };
  return m;
}

describe('codec decoders never throw anything but NotificationError', () => {
  const all = seeds();

  it('every seed decodes', () => {
    expect(all.length).toBeGreaterThan(100);
    for (const s of all) expect(() => codec.decode(s, 0, { as4: false })).not.toThrow();
  });

  it('20000 mutated messages: NotificationError or a message that re-encodes to the same fields', () => {
    const r = seededRandom(1234);
    let errors = 0;
    let decoded = 0;
    const subcodes = new Set<string>();
    for (let i = 0; i < 20000; i++) {
      const seed = all[Math.floor(r() * all.length)]!;
      // keep the header length consistent half of the time, so the body decoders get exercised
      const m = mutate(seed, r);
      if (r() < 0.5 && m.length >= 19) m.writeUInt16BE(Math.min(m.length, 0xffff), 16);
      const opts = { as4: r() < 0.5, ibgp: r() < 0.2 };
      let msg: Message;
      try {
        msg = codec.decode(m, 0, opts);
      } catch (e) {
        expect(e).toBeInstanceOf(codec.NotificationError);
        const n = (e as InstanceType<typeof codec.NotificationError>).notification;
        expect(n.code).toBeGreaterThan(0);
        subcodes.add(`${n.code}/${n.subcode}`);
        errors++;
        continue;
      }
      decoded++;
      const again = codec.decode(codec.encode(msg, undefined, 0, opts), 0, opts);
      expect(fields(again)).toEqual(fields(msg));
    }
    expect(errors).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(1000);
    // the mutations reach header, OPEN and UPDATE error paths
    for (const s of ['1/1', '1/2', '2/0', '3/1']) expect(subcodes).toContain(s);
  });
});
