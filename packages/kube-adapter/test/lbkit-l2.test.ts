/**
 * LbkitL2Announcer (the @lbkit/arp + @lbkit/ndp backend) over fake link-layer transports, so it
 * runs without root: GARP and unsolicited NA on takeover, replies to ARP requests and NS for owned
 * VIPs only, malformed frames counted and logged with the interface, interface selection, open
 * failures, and following an interface that is deleted and re-created with a new MAC (both
 * speakers reopen and announce with the new MAC). Frames are built and checked byte by byte here (Ethernet/ARP/IPv6 offsets), not
 * through the codecs under test. The real-socket path is covered by test/interop/l2-lbkit.test.ts.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InterfaceInfo } from '@lbkit/afpacket';
import { encode as encodeNdp, solicitedNodeAddress, solicitedNodeMac } from '@lbkit/ndp';
import { LbkitL2Announcer } from '../src/adapters/lbkit-l2.js';
import type { Logger } from '../src/log.js';

class FakeLink extends EventEmitter {
  sent: Buffer[] = [];
  groups: string[] = [];
  closed = false;
  send(frame: Buffer): void {
    if (this.closed) throw new Error('closed');
    this.sent.push(Buffer.from(frame));
  }
  addMembership(mac: string): void {
    this.groups.push(mac);
  }
  dropMembership(mac: string): void {
    this.groups = this.groups.filter((g) => g !== mac);
  }
  close(): void {
    this.closed = true;
  }
  inject(frame: Buffer): void {
    this.emit('frame', frame, 0);
  }
}

const MAC = '02:00:00:00:00:11';
const CLIENT = '02:00:00:00:00:10';
const macBytes = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
const fmtIp4 = (b: Buffer) => [...b].join('.');
const fmtMac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** An ARP request written by hand (RFC 826 layout). */
function arpRequest(sha: string, spa: string, tpa: string): Buffer {
  return Buffer.concat([macBytes('ff:ff:ff:ff:ff:ff'), macBytes(sha), Buffer.from([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]), macBytes(sha), ip4(spa), Buffer.alloc(6), ip4(tpa)]);
}
/** Reads the ARP fields of a frame by offset. */
function arpFields(f: Buffer) {
  return { ethDst: fmtMac(f.subarray(0, 6)), type: f.readUInt16BE(12), op: f.readUInt16BE(20), sha: fmtMac(f.subarray(22, 28)), spa: fmtIp4(f.subarray(28, 32)), tha: fmtMac(f.subarray(32, 38)), tpa: fmtIp4(f.subarray(38, 42)) };
}

function setup(eligible = ['eth0']) {
  const arp = new Map<string, FakeLink>();
  const ndp = new Map<string, FakeLink>();
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log: Logger = { log: (level, msg, fields) => logs.push({ level, msg, fields }), child: () => log };
  const garps: string[] = [];
  const replies: string[] = [];
  const a = new LbkitL2Announcer({
    log,
    listInterfaces: () => eligible,
    onReply: (ip, n = 1) => replies.push(...Array<string>(n).fill(ip)),
    watchIntervalMs: 0,
    reportIntervalMs: 0,
    coalesce: false,
    drainMs: 0,
    repeatIntervalMs: 1000,
    repeatForMs: 0,
    onGratuitous: (ip) => garps.push(ip),
    transports: {
      mac: (i) => (eligible.includes(i) ? MAC : undefined),
      arp: (i) => {
        const l = new FakeLink();
        arp.set(i, l);
        return l;
      },
      ndp: (i) => {
        const l = new FakeLink();
        ndp.set(i, l);
        return l;
      },
    },
  });
  return { a, arp, ndp, logs, garps, replies };
}

describe('LbkitL2Announcer (IPv4, ARP)', () => {
  it('sends a GARP on takeover and answers ARP requests for the VIP only while it owns it', async () => {
    const { a, arp, garps, replies } = setup();
    await a.start();
    expect(a.announce('10.77.0.200', ['eth0'])).toBe(true);
    const link = arp.get('eth0')!;
    const g = arpFields(link.sent[0]!);
    // gratuitous request: broadcast, op 1, SPA = TPA = VIP, SHA = our MAC
    expect(g).toMatchObject({ ethDst: 'ff:ff:ff:ff:ff:ff', type: 0x0806, op: 1, sha: MAC, spa: '10.77.0.200', tpa: '10.77.0.200' });
    expect(garps).toEqual(['10.77.0.200']);

    link.sent = [];
    link.inject(arpRequest(CLIENT, '10.77.0.10', '10.77.0.200'));
    expect(link.sent).toHaveLength(1);
    expect(arpFields(link.sent[0]!)).toMatchObject({ ethDst: CLIENT, op: 2, sha: MAC, spa: '10.77.0.200', tha: CLIENT, tpa: '10.77.0.10' });
    // another address: no answer
    link.inject(arpRequest(CLIENT, '10.77.0.10', '10.77.0.201'));
    expect(link.sent).toHaveLength(1);
    // the metrics hook (metallb_layer2_requests_received / responses_sent) saw the answered request only
    expect(replies).toEqual(['10.77.0.200']);

    a.withdraw('10.77.0.200');
    link.inject(arpRequest(CLIENT, '10.77.0.10', '10.77.0.200'));
    expect(link.sent).toHaveLength(1);
    expect(a.announced().size).toBe(0);
    a.close();
    expect(link.closed).toBe(true);
  });

  it('counts malformed frames, never throws, keeps answering, and logs the interface', async () => {
    const { a, arp, logs } = setup();
    a.announce('10.77.0.200', []);
    const link = arp.get('eth0')!;
    const good = arpRequest(CLIENT, '10.77.0.10', '10.77.0.200');
    const bad = [Buffer.alloc(0), good.subarray(0, 20), Buffer.concat([good.subarray(0, 14), Buffer.from([0, 9])]), Buffer.from(good).fill(0xff, 14, 20)];
    for (const f of bad) expect(() => link.inject(f)).not.toThrow();
    link.sent = [];
    link.inject(good);
    expect(link.sent).toHaveLength(1);
    const s = a.stats().find((x) => x.interface === 'eth0')!;
    expect(s.arpMalformed).toBe(bad.length);
    a.report();
    const w = logs.find((l) => l.msg === 'dropped malformed frames');
    expect(w?.level).toBe('warn');
    expect(w?.fields).toMatchObject({ interface: 'eth0', arp: bad.length });
    a.close();
  });

  it('selects interfaces: requested ∩ eligible, else every eligible one; none → false', async () => {
    const { a, arp, logs } = setup(['eth0', 'eth1']);
    expect(a.announce('10.77.0.200', [])).toBe(true);
    expect([...arp.keys()].sort()).toEqual(['eth0', 'eth1']);
    expect(a.announce('10.77.0.201', ['eth1', 'eth7'])).toBe(true);
    expect(a.announced().get('10.77.0.201')).toEqual(['eth1']);
    expect(a.announce('10.77.0.202', ['eth7'])).toBe(false);
    expect(logs.some((l) => l.msg === 'no matching interface for the VIP')).toBe(true);
    expect(() => a.announce('10.77.0.999', [])).toThrow(/lbkit-l2: invalid IP "10.77.0.999"/);
    a.close();
  });

  it('an interface whose socket cannot be opened is logged by name and skipped', () => {
    const logs: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const log: Logger = { log: (_l, msg, fields) => logs.push({ msg, fields }), child: () => log };
    const a = new LbkitL2Announcer({
      log,
      listInterfaces: () => ['eth0'],
      watchIntervalMs: 0,
      reportIntervalMs: 0,
    coalesce: false,
    drainMs: 0,
      transports: {
        mac: () => MAC,
        arp: () => {
          throw new Error('socket(AF_PACKET): Operation not permitted');
        },
      },
    });
    expect(a.announce('10.77.0.200', [])).toBe(false);
    expect(logs.find((l) => l.msg === 'cannot announce on interface')?.fields).toMatchObject({ interface: 'eth0', ip: '10.77.0.200' });
    a.close();
  });
});

describe('LbkitL2Announcer (IPv6, NDP)', () => {
  const VIP6 = 'fd00:77::200';
  it('joins the solicited-node group, sends an unsolicited NA, answers NS (counted for the metrics), drops junk', () => {
    const { a, ndp, garps, replies } = setup();
    expect(a.announce(VIP6, ['eth0'])).toBe(true);
    const link = ndp.get('eth0')!;
    expect(link.groups).toEqual(['33:33:ff:00:02:00']);
    expect(solicitedNodeMac(VIP6)).toBe('33:33:ff:00:02:00');
    const na = link.sent[0]!;
    // Ethernet to 33:33:00:00:00:01, IPv6 next header 58 hop limit 255, ICMPv6 type 136, flags O=1 S=0 R=0, target = VIP
    expect(fmtMac(na.subarray(0, 6))).toBe('33:33:00:00:00:01');
    expect(na.readUInt16BE(12)).toBe(0x86dd);
    expect([na[20], na[21], na[54]]).toEqual([58, 255, 136]);
    expect(na[58]! & 0xe0).toBe(0x20);
    expect(na.subarray(62, 78).toString('hex')).toBe('fd000077000000000000000000000200');
    expect(garps).toEqual([VIP6]);

    link.sent = [];
    const ns = encodeNdp({ type: 'ns', ethSrc: CLIENT, ethDst: '33:33:ff:00:02:00', src: 'fd00:77::10', dst: solicitedNodeAddress(VIP6), target: VIP6, sourceLinkLayer: CLIENT });
    for (const junk of [Buffer.alloc(3), ns.subarray(0, 60), Buffer.from(ns).fill(0, 21, 22)]) expect(() => link.inject(junk)).not.toThrow();
    link.inject(ns);
    expect(link.sent).toHaveLength(1);
    const reply = link.sent[0]!;
    expect(fmtMac(reply.subarray(0, 6))).toBe(CLIENT);
    expect(reply[54]).toBe(136);
    expect(reply[58]! & 0xe0).toBe(0x60); // S=1 O=1
    expect(a.stats()[0]!.ndpMalformed).toBeGreaterThanOrEqual(2);
    // NDP counts like ARP: the answered NS reaches the metrics hook with its target, junk does not
    expect(replies).toEqual([VIP6]);

    a.withdraw(VIP6);
    expect(link.groups).toEqual([]);
    link.inject(ns);
    expect(link.sent).toHaveLength(1);
    a.close();
    expect(link.closed).toBe(true);
  });
});

/** A fake /sys/class/net entry. */
function iface(index: number, mac: string): InterfaceInfo {
  return { name: 'eth0', index, mac, mtu: 1500, flags: 0x1003, up: true, operstate: 'up', carrier: true, ipv4: [], ipv6: [] };
}

describe('LbkitL2Announcer follows a re-created interface', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const VIP4 = '10.77.0.200';
  const VIP6 = 'fd00:77::200';
  const MAC2 = '02:00:00:00:00:22';
  /** TLLA option of an NA written by our NDP speaker: ICMPv6 at 54, option after the 24-byte NA body. */
  const tlla = (na: Buffer) => ({ type: na[78], len: na[79], mac: fmtMac(na.subarray(80, 86)) });

  for (const source of ['the interface', 'transports.mac'] as const) {
    it(`deleted then re-created with a new ifindex and MAC: ARP and NDP reopen and announce the new MAC (MAC from ${source})`, () => {
      vi.useFakeTimers();
      const table = new Map<string, InterfaceInfo>([['eth0', iface(2, MAC)]]);
      const arp: FakeLink[] = [];
      const ndp: FakeLink[] = [];
      const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
      const log: Logger = { log: (level, msg, fields) => logs.push({ level, msg, fields }), child: () => log };
      const garps: string[] = [];
      const a = new LbkitL2Announcer({
        log,
        listInterfaces: () => [...table.keys()],
        watchIntervalMs: 100,
        reportIntervalMs: 0,
    coalesce: false,
    drainMs: 0,
        repeatIntervalMs: 1000,
        repeatForMs: 0,
        onGratuitous: (ip) => garps.push(ip),
        transports: {
          readInterface: (i) => table.get(i),
          ...(source === 'transports.mac' ? { mac: (i: string) => table.get(i)?.mac } : {}),
          arp: () => {
            const l = new FakeLink();
            arp.push(l);
            return l;
          },
          ndp: () => {
            const l = new FakeLink();
            ndp.push(l);
            return l;
          },
        },
      });
      expect(a.announce(VIP4, ['eth0'])).toBe(true);
      expect(a.announce(VIP6, ['eth0'])).toBe(true);
      expect(arp).toHaveLength(1);
      expect(ndp).toHaveLength(1);
      expect(arpFields(arp[0]!.sent[0]!).sha).toBe(MAC);
      expect(tlla(ndp[0]!.sent[0]!)).toEqual({ type: 2, len: 1, mac: MAC });
      arp[0]!.inject(Buffer.alloc(5)); // one malformed frame on the old socket: the count must survive the reopening

      // deleted: both sockets closed, the VIPs stay owned
      table.delete('eth0');
      vi.advanceTimersByTime(100);
      expect(arp[0]!.closed).toBe(true);
      expect(ndp[0]!.closed).toBe(true);
      expect(logs.filter((l) => l.msg.startsWith('interface deleted')).map((l) => l.fields?.['protocol']).sort()).toEqual(['arp', 'ndp']);
      expect(a.announced().get(VIP4)).toEqual(['eth0']);
      expect(a.announced().get(VIP6)).toEqual(['eth0']);

      // re-created under the same name: new ifindex, new MAC
      garps.length = 0;
      table.set('eth0', iface(3, MAC2));
      vi.advanceTimersByTime(100);
      expect(arp).toHaveLength(2);
      expect(ndp).toHaveLength(2);
      const [arp2, ndp2] = [arp[1]!, ndp[1]!];
      expect(arpFields(arp2.sent[0]!)).toMatchObject({ ethDst: 'ff:ff:ff:ff:ff:ff', op: 1, sha: MAC2, spa: VIP4, tpa: VIP4 });
      expect(ndp2.groups).toEqual([solicitedNodeMac(VIP6)]);
      expect(fmtMac(ndp2.sent[0]!.subarray(0, 6))).toBe('33:33:00:00:00:01');
      expect(fmtMac(ndp2.sent[0]!.subarray(6, 12))).toBe(MAC2);
      expect(tlla(ndp2.sent[0]!)).toEqual({ type: 2, len: 1, mac: MAC2 });
      expect(garps.sort()).toEqual([VIP4, VIP6].sort());
      for (const proto of ['arp', 'ndp']) {
        const l = logs.find((x) => x.msg === `interface re-created, ${proto.toUpperCase()} socket reopened`);
        expect(l?.fields).toMatchObject({ interface: 'eth0', protocol: proto, mac: MAC2 });
      }

      // requests on the new sockets are answered with the new MAC
      arp2.sent = [];
      arp2.inject(arpRequest(CLIENT, '10.77.0.10', VIP4));
      expect(arpFields(arp2.sent[0]!)).toMatchObject({ op: 2, sha: MAC2, spa: VIP4, tha: CLIENT });
      ndp2.sent = [];
      ndp2.inject(encodeNdp({ type: 'ns', ethSrc: CLIENT, ethDst: solicitedNodeMac(VIP6), src: 'fd00:77::10', dst: solicitedNodeAddress(VIP6), target: VIP6, sourceLinkLayer: CLIENT }));
      expect(ndp2.sent).toHaveLength(1);
      expect(fmtMac(ndp2.sent[0]!.subarray(0, 6))).toBe(CLIENT);
      expect(tlla(ndp2.sent[0]!)).toEqual({ type: 2, len: 1, mac: MAC2 });
      expect(a.stats()[0]).toMatchObject({ interface: 'eth0', arpMalformed: 1, arpReplied: 1, ndpAnswered: 1 });
      // nothing was sent on, or failed because of, the dead sockets
      expect(logs.filter((l) => l.level === 'warn' && /error/.test(l.msg))).toEqual([]);

      // a MAC change in place (same ifindex) is followed too
      table.set('eth0', iface(3, '02:00:00:00:00:33'));
      vi.advanceTimersByTime(100);
      expect(arp).toHaveLength(3);
      expect(ndp).toHaveLength(3);
      expect(arpFields(arp[2]!.sent[0]!).sha).toBe('02:00:00:00:00:33');
      expect(tlla(ndp[2]!.sent[0]!).mac).toBe('02:00:00:00:00:33');
      a.close();
      expect(arp[2]!.closed && ndp[2]!.closed).toBe(true);
    });
  }
});

describe('LbkitL2Announcer batching and drain window', () => {
  /** A fake link with `sendBatch` (like the native fast path): records each batch. */
  class BatchLink extends FakeLink {
    batches: Buffer[][] = [];
    sendBatch(frames: Buffer, len: number): Promise<number> {
      const b: Buffer[] = [];
      for (let o = 0; o < frames.length; o += len) b.push(Buffer.from(frames.subarray(o, o + len)));
      this.batches.push(b);
      return Promise.resolve(b.length);
    }
  }
  function batchSetup(drainMs: number) {
    const links: BatchLink[] = [];
    const logs: string[] = [];
    const log: Logger = { log: (_l, msg) => logs.push(msg), child: () => log };
    const a = new LbkitL2Announcer({
      log,
      listInterfaces: () => ['eth0'],
      watchIntervalMs: 0,
      reportIntervalMs: 0,
      drainMs,
      repeatIntervalMs: 60_000,
      repeatForMs: 0,
      transports: { mac: () => MAC, arp: () => (links.push(new BatchLink()), links[links.length - 1]!), ndp: () => new BatchLink() },
    });
    return { a, links, logs };
  }
  const tick = () => new Promise((r) => setImmediate(r));
  /** An ARP request to `dst` (broadcast or our MAC). */
  const request = (tpa: string, dst: string) => {
    const f = arpRequest(CLIENT, '10.77.0.10', tpa);
    macBytes(dst).copy(f, 0);
    return f;
  };

  it('announcements made in one event-loop turn answer at once and go out as one gratuitous batch', async () => {
    const { a, links } = batchSetup(0);
    const vips = Array.from({ length: 300 }, (_, i) => `10.77.1.${i % 250}`).slice(0, 250);
    for (const ip of vips) expect(a.announce(ip, ['eth0'])).toBe(true);
    const link = links[0]!;
    // answering starts synchronously...
    link.inject(request('10.77.1.7', 'ff:ff:ff:ff:ff:ff'));
    expect(link.sent).toHaveLength(1);
    expect(link.batches).toHaveLength(0);
    // ...and the gratuitous ARPs go out once, as one batch of 250 distinct requests
    await tick();
    expect(link.batches).toHaveLength(1);
    const sent = link.batches[0]!.map(arpFields);
    expect(new Set(sent.map((f) => f.spa)).size).toBe(250);
    expect(sent.every((f) => f.op === 1 && f.spa === f.tpa && f.ethDst === 'ff:ff:ff:ff:ff:ff' && f.sha === MAC)).toBe(true);
    a.close();
  });

  it('drain: after withdraw, no gratuitous ARP; unicast requests answered, broadcast not; withdrawn when the window ends', async () => {
    const { a, links } = batchSetup(150);
    a.announce('10.77.0.200', ['eth0']);
    await tick();
    const link = links[0]!;
    expect(link.batches).toHaveLength(1);
    a.withdraw('10.77.0.200');
    expect([...a.drainingVips().keys()]).toEqual(['10.77.0.200']);
    link.sent = [];
    link.inject(request('10.77.0.200', 'ff:ff:ff:ff:ff:ff'));
    expect(link.sent).toHaveLength(0); // broadcast: left to the new owner
    link.inject(request('10.77.0.200', MAC));
    expect(link.sent).toHaveLength(1); // unicast to our MAC: a client with a stale cache
    expect(arpFields(link.sent[0]!)).toMatchObject({ op: 2, sha: MAC, spa: '10.77.0.200' });
    await new Promise((r) => setTimeout(r, 250));
    expect(link.batches).toHaveLength(1); // no GARP during the drain window
    expect(a.drainingVips().size).toBe(0);
    link.sent = [];
    link.inject(request('10.77.0.200', MAC));
    expect(link.sent).toHaveLength(0); // withdrawn
    a.close();
  });

  it('a VIP announced again during its drain window is owned again (broadcast answered, new burst)', async () => {
    const { a, links } = batchSetup(60_000);
    a.announce('10.77.0.200', ['eth0']);
    await tick();
    a.withdraw('10.77.0.200');
    a.announce('10.77.0.200', ['eth0']);
    expect(a.drainingVips().size).toBe(0);
    const link = links[0]!;
    link.sent = [];
    link.inject(request('10.77.0.200', 'ff:ff:ff:ff:ff:ff'));
    expect(link.sent).toHaveLength(1);
    await tick();
    expect(link.batches).toHaveLength(2);
    a.close();
  });
});

describe('LbkitL2Announcer withdraw without drain', () => {
  it('withdraw(ip, { drain: false }) stops answering at once, also for a VIP already draining', async () => {
    const links: FakeLink[] = [];
    const a = new LbkitL2Announcer({
      listInterfaces: () => ['eth0'],
      watchIntervalMs: 0,
      reportIntervalMs: 0,
      coalesce: false,
      drainMs: 60_000,
      repeatForMs: 0,
      transports: { mac: () => MAC, arp: () => (links.push(new FakeLink()), links[links.length - 1]!), ndp: () => new FakeLink() },
    });
    const unicast = (tpa: string) => {
      const f = arpRequest(CLIENT, '10.77.0.10', tpa);
      macBytes(MAC).copy(f, 0);
      return f;
    };
    a.announce('10.77.0.200', ['eth0']);
    a.announce('10.77.0.201', ['eth0']);
    const link = links[0]!;
    a.withdraw('10.77.0.200', { drain: false });
    a.withdraw('10.77.0.201'); // draining
    link.sent = [];
    link.inject(unicast('10.77.0.200'));
    link.inject(unicast('10.77.0.201'));
    expect(link.sent).toHaveLength(1); // only the draining one answers its unicast request
    a.withdraw('10.77.0.201', { drain: false });
    expect(a.drainingVips().size).toBe(0);
    link.inject(unicast('10.77.0.201'));
    expect(link.sent).toHaveLength(1);
    a.close();
  });
});
