/**
 * Session behaviour against a hand-written raw peer on loopback (bytes built here by hand, not by
 * our encoder): hold timer enforcement, NOTIFICATIONs for malformed messages, RFC 7606
 * treat-as-withdraw without reset, and collision resolution between two speakers.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BgpSpeaker, type ReceivedUpdate } from '@lbkit/bgp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const hdr = (type: number, body: Buffer): Buffer => {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
};
// OPEN: version 4, AS 64513, hold, id 10.255.0.3, one opt param with MP v4 + AS4(64513)
const rawOpen = (hold: number) =>
  hdr(1, Buffer.from([4, 0xfc, 0x01, hold >> 8, hold & 255, 10, 255, 0, 3, 14, 2, 12, 1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xfc, 0x01]));
const KA = hdr(4, Buffer.alloc(0));

interface Raw {
  sock: net.Socket;
  msgs: { type: number; body: Buffer }[];
  closed: Promise<void>;
}

async function rawPeer(hold: number): Promise<{ sp: BgpSpeaker; raw: Raw; updates: ReceivedUpdate[] }> {
  const sp = new BgpSpeaker({ asn: 64512, routerId: '10.255.0.1', listen: { port: 0, address: '127.0.0.1' } });
  sp.addPeer({ address: '127.0.0.3', asn: 64513, passive: true, holdTime: 3 });
  const updates: ReceivedUpdate[] = [];
  sp.on('update', (_p, u) => updates.push(u));
  await sp.start();
  const sock = net.connect({ host: '127.0.0.1', port: sp.listenPort, localAddress: '127.0.0.3' });
  const msgs: { type: number; body: Buffer }[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
      const l = buf.readUInt16BE(16);
      msgs.push({ type: buf[18]!, body: buf.subarray(19, l) });
      buf = buf.subarray(l);
    }
  });
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('error', () => undefined);
  cleanups.push(async () => {
    sock.destroy();
    await sp.stop();
  });
  await new Promise((r) => sock.once('connect', r));
  sock.write(rawOpen(hold));
  await until(() => msgs.some((m) => m.type === 4));
  sock.write(KA);
  await until(() => sp.peerStatus('127.0.0.3')!.state === 'Established');
  return { sp, raw: { sock, msgs, closed }, updates };
}

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const notif = (raw: Raw) => raw.msgs.filter((m) => m.type === 3).map((m) => [m.body[0], m.body[1], ...m.body.subarray(2)]);

describe('session against a raw peer', () => {
  it('OPEN from the speaker carries our AS, hold time and capabilities', async () => {
    const { raw } = await rawPeer(30);
    const o = raw.msgs.find((m) => m.type === 1)!.body;
    expect(o[0]).toBe(4);
    expect(o.readUInt16BE(1)).toBe(64512);
    expect(o.readUInt16BE(3)).toBe(3);
    expect([...o.subarray(5, 9)]).toEqual([10, 255, 0, 1]);
    expect(o.includes(Buffer.from([65, 4, 0, 0, 0xfc, 0x00]))).toBe(true); // AS4 capability, AS 64512
  });

  it('enforces the hold timer: a silent peer gets NOTIFICATION 4/0 and the connection is closed', async () => {
    const { sp, raw } = await rawPeer(3);
    const t0 = Date.now();
    const down = new Promise<string>((r) => sp.once('down', (_p, reason) => r(reason)));
    await raw.closed;
    const dt = Date.now() - t0;
    expect(await down).toBe('hold timer expired');
    expect(notif(raw)).toEqual([[4, 0]]);
    expect(dt).toBeGreaterThan(2500);
    expect(dt).toBeLessThan(6000);
  }, 20_000);

  it('keepalives from the peer keep the session up past the hold time', async () => {
    const { sp, raw } = await rawPeer(3);
    const iv = setInterval(() => raw.sock.write(KA), 800);
    cleanups.push(() => clearInterval(iv));
    await new Promise((r) => setTimeout(r, 4500));
    expect(sp.peerStatus('127.0.0.3')!.state).toBe('Established');
    // and the speaker sent its own keepalives (every hold/3 = 1 s)
    expect(raw.msgs.filter((m) => m.type === 4).length).toBeGreaterThanOrEqual(4);
  }, 20_000);

  const bad: { name: string; bytes: () => Buffer; expect: number[] }[] = [
    { name: 'bad marker → 1/1', bytes: () => Buffer.concat([Buffer.alloc(16, 0xfe), Buffer.from([0, 19, 4])]), expect: [1, 1] },
    { name: 'length 18 → 1/2 with the length', bytes: () => Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 18, 4])]), expect: [1, 2, 0, 18] },
    { name: 'KEEPALIVE of length 20 → 1/2', bytes: () => Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 20, 4, 0])]), expect: [1, 2, 0, 20] },
    { name: 'type 9 → 1/3 with the type', bytes: () => hdr(9, Buffer.alloc(0)), expect: [1, 3, 9] },
    { name: 'UPDATE total attribute length overruns the message → 3/1', bytes: () => hdr(2, Buffer.from([0, 0, 0, 9, 0x40, 1, 1, 0])), expect: [3, 1] },
    // MP_REACH_NLRI whose own length runs past the attribute list: its NLRI cannot be located (RFC 7606 §3)
    { name: 'UPDATE MP_REACH length overrun → 3/5 with the attribute', bytes: () => hdr(2, Buffer.from([0, 0, 0, 6, 0x80, 14, 9, 0, 2, 1])), expect: [3, 5, 0x80, 14, 9, 0, 2, 1] },
    { name: 'UPDATE bad NLRI prefix length → 3/10', bytes: () => hdr(2, Buffer.from([0, 0, 0, 0, 33, 10, 0, 0, 1, 1])), expect: [3, 10] },
    { name: 'OPEN in Established → 5/3', bytes: () => rawOpen(3), expect: [5, 3] },
  ];
  for (const b of bad) {
    it(`malformed: ${b.name}`, async () => {
      const { sp, raw } = await rawPeer(30);
      const down = new Promise<string>((r) => sp.once('down', (_p, reason) => r(reason)));
      raw.sock.write(b.bytes());
      await raw.closed;
      expect(notif(raw)).toEqual([b.expect]);
      expect(await down).toBeTruthy();
    });
  }

  it('RFC 7606: a malformed COMMUNITIES attribute is treat-as-withdraw, the session stays up', async () => {
    const { sp, raw, updates } = await rawPeer(30);
    // ORIGIN IGP, AS_PATH [64513], NEXT_HOP 127.0.0.3, COMMUNITIES of length 3, NLRI 10.1.2.0/24
    const attrs = Buffer.from([0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x01, 0x40, 3, 4, 127, 0, 0, 3, 0xc0, 8, 3, 1, 2, 3]);
    raw.sock.write(hdr(2, Buffer.concat([Buffer.from([0, 0, 0, attrs.length]), attrs, Buffer.from([24, 10, 1, 2])])));
    await until(() => updates.length > 0);
    expect(updates[0]!.treatAsWithdraw).toMatch(/COMMUNITIES/);
    expect(updates[0]!.withdrawn).toEqual(['10.1.2.0/24']);
    expect(updates[0]!.announced).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sp.peerStatus('127.0.0.3')!.state).toBe('Established');
    expect(notif(raw)).toEqual([]);
  });
});

describe('received UPDATE checks against a raw peer (eBGP, bytes by hand)', () => {
  // ORIGIN IGP, AS_PATH [64513] (4-octet), then the given NEXT_HOP and extra attributes; NLRI 10.1.2.0/24
  const upd = (nh: number[], extra: number[] = []) => {
    const attrs = Buffer.from([0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x01, 0x40, 3, 4, ...nh, ...extra]);
    return hdr(2, Buffer.concat([Buffer.from([0, 0, 0, attrs.length]), attrs, Buffer.from([24, 10, 1, 2])]));
  };
  it('a route whose NEXT_HOP is our own address is ignored, no NOTIFICATION (RFC 4271 §6.3)', async () => {
    const { sp, raw, updates } = await rawPeer(30);
    raw.sock.write(upd([127, 0, 0, 3]));
    await until(() => updates.length === 1);
    expect(updates[0]!.announced.map((r) => r.prefix)).toEqual(['10.1.2.0/24']);
    expect(sp.peerStatus('127.0.0.3')!.stats.prefixesReceived).toBe(1);
    raw.sock.write(upd([127, 0, 0, 1])); // the speaker's end of the TCP session
    await until(() => updates.length === 2);
    expect(updates[1]!.announced).toEqual([]);
    expect(updates[1]!.ignored).toEqual([{ prefix: '10.1.2.0/24', reason: expect.stringMatching(/127\.0\.0\.1 is our own address/) }]);
    expect(sp.peerStatus('127.0.0.3')!.stats.prefixesReceived).toBe(0); // it replaced the earlier path
    expect(sp.peerStatus('127.0.0.3')!.state).toBe('Established');
    expect(notif(raw)).toEqual([]);
  });
  it('a malformed LOCAL_PREF from an eBGP peer is discarded, the route kept (RFC 7606 §7.5)', async () => {
    const { sp, raw, updates } = await rawPeer(30);
    raw.sock.write(upd([127, 0, 0, 3], [0x40, 5, 2, 0, 0])); // LOCAL_PREF of length 2
    await until(() => updates.length === 1);
    expect(updates[0]!.treatAsWithdraw).toBeUndefined();
    expect(updates[0]!.announced).toMatchObject([{ prefix: '10.1.2.0/24', nextHop: '127.0.0.3', asPath: [64513] }]);
    expect(updates[0]!.announced[0]!.localPref).toBeUndefined();
    expect(sp.peerStatus('127.0.0.3')!.state).toBe('Established');
  });
  it('an attribute running past the list and 1–3 stray bytes: treat-as-withdraw, the session stays up (RFC 7606 §4)', async () => {
    const { sp, raw, updates } = await rawPeer(30);
    raw.sock.write(upd([127, 0, 0, 3], [0xc0, 8, 8, 0xfc, 0, 0, 100])); // COMMUNITIES: 8 declared, 4 present
    raw.sock.write(upd([127, 0, 0, 3], [0x40, 0x07])); // 2 stray bytes
    await until(() => updates.length === 2);
    for (const u of updates) {
      expect(u.treatAsWithdraw).toBeTruthy();
      expect(u.withdrawn).toEqual(['10.1.2.0/24']);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(sp.peerStatus('127.0.0.3')!.state).toBe('Established');
    expect(notif(raw)).toEqual([]);
  });
});

describe('RFC 6793: 4-octet local AS, 2-octet router', () => {
  it('accepts a peer without capability 65; after its 2/2 to our capability, retries without it', async () => {
    // A hand-written router in AS 64512 with no capability 65 that (like BIRD `enable as4 off`)
    // answers an OPEN carrying capability 65 with 2/2, and accepts one without it.
    const opens: Buffer[] = [];
    const srv = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.write(hdr(1, Buffer.from([4, 0xfc, 0x00, 0, 30, 10, 255, 0, 9, 8, 2, 6, 1, 4, 0, 1, 0, 1])));
      let buf = Buffer.alloc(0);
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
          const l = buf.readUInt16BE(16);
          if (buf[18] === 1) {
            const body = buf.subarray(19, l);
            opens.push(body);
            if (body.includes(Buffer.from([65, 4]))) sock.end(hdr(3, Buffer.from([2, 2])));
            else sock.write(KA);
          }
          buf = buf.subarray(l);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const sp = new BgpSpeaker({ asn: 4200000001, routerId: '10.255.0.2' });
    sp.addPeer({ address: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, asn: 64512, holdTime: 30, backoff: { initialMs: 50, maxMs: 100 } });
    const downs: string[] = [];
    sp.on('down', (_p, r) => downs.push(r));
    cleanups.push(async () => {
      await sp.stop();
      srv.close();
    });
    await sp.start();
    await until(() => sp.peerStatus('127.0.0.1')!.state === 'Established');
    expect(opens.length).toBe(2);
    expect(opens[0]!.readUInt16BE(1)).toBe(23456); // AS_TRANS in My AS both times
    expect(opens[1]!.readUInt16BE(1)).toBe(23456);
    expect(opens[1]!.includes(Buffer.from([65, 4]))).toBe(false);
    expect(downs).toEqual([expect.stringMatching(/2\/2.*retrying without the 4-octet AS capability/)]);
  });
});

describe('connection collision (§6.8)', () => {
  it('two speakers dialing each other end with one session each side', async () => {
    const mk = (id: string, asn: number) => new BgpSpeaker({ asn, routerId: id, listen: { port: 0, address: id === '10.255.0.1' ? '127.0.0.1' : '127.0.0.2' } });
    const a = mk('10.255.0.1', 64512);
    const b = mk('10.255.0.2', 64513);
    await a.start();
    await b.start();
    const notes: string[] = [];
    a.on('notification', (_p, n) => notes.push(`a ${n.direction} ${n.code}/${n.subcode}`));
    b.on('notification', (_p, n) => notes.push(`b ${n.direction} ${n.code}/${n.subcode}`));
    cleanups.push(async () => {
      await a.stop();
      await b.stop();
    });
    // both active, both listening: they dial at the same time
    a.addPeer({ address: '127.0.0.2', asn: 64513, port: b.listenPort, sourceAddress: '127.0.0.1', holdTime: 9 });
    b.addPeer({ address: '127.0.0.1', asn: 64512, port: a.listenPort, sourceAddress: '127.0.0.2', holdTime: 9 });
    await until(() => a.peerStatus('127.0.0.2')!.state === 'Established' && b.peerStatus('127.0.0.1')!.state === 'Established');
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.peerStatus('127.0.0.2')!.state).toBe('Established');
    expect(b.peerStatus('127.0.0.1')!.state).toBe('Established');
    expect(a.peerStatus('127.0.0.2')!.stats.establishedCount).toBe(1);
    expect(b.peerStatus('127.0.0.1')!.stats.establishedCount).toBe(1);
    // any NOTIFICATION exchanged must be the collision Cease 6/7
    for (const n of notes) expect(n).toMatch(/6\/7$/);
    b.announce('10.96.0.10/32');
    await until(() => a.peerStatus('127.0.0.2')!.stats.prefixesReceived === 1);
  });
});
