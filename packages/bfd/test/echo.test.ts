import { describe, expect, it } from 'vitest';
import { BfdFsm, Diag, ECHO_FILTER, ECHO_FRAME_LENGTH, State, TimerQueue, buildEchoFrame, decode, decodeEchoPayload, encode, encodeEchoPayload, neighbourMac, parseEchoFrame } from '@lbkit/bfd';

/** RFC 1071 check: the one's-complement sum over a region including its checksum is 0xffff. */
function sums(b: Buffer, start: number, end: number, acc = 0): number {
  let s = acc;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Minimal classic-BPF interpreter for the opcodes ECHO_FILTER uses. */
function runFilter(pkt: Buffer): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < ECHO_FILTER.length; pc++) {
    const i = ECHO_FILTER[pc]!;
    switch (i.code) {
      case 0x30: a = pkt[i.k] ?? 0; break;
      case 0x28: a = pkt.readUInt16BE(i.k); break;
      case 0x48: a = pkt.readUInt16BE(x + i.k); break;
      case 0xb1: x = 4 * (pkt[i.k]! & 0xf); break;
      case 0x15: pc += a === i.k ? i.jt : i.jf; break;
      case 0x45: pc += (a & i.k) !== 0 ? i.jt : i.jf; break;
      case 0x06: return i.k;
      default: throw new Error(`opcode ${(i as { code: number }).code}`);
    }
  }
  throw new Error('fell off the program');
}

const mac = (s: string) => Buffer.from(s.split(':').map((x) => parseInt(x, 16)));

describe('BFD echo codec', () => {
  it('payload round trip; other systems\' echo formats and a zero discriminator are not ours', () => {
    const b = encodeEchoPayload({ discriminator: 0xdeadbeef, sequence: 2n ** 40n + 7n });
    expect(b.length).toBe(16);
    expect(decodeEchoPayload(b)).toEqual({ discriminator: 0xdeadbeef, sequence: 2n ** 40n + 7n });
    const frr = Buffer.alloc(24); // FRR's echo: version 1, length 24
    frr[0] = 1;
    frr[1] = 24;
    expect(decodeEchoPayload(frr)).toBeUndefined();
    expect(decodeEchoPayload(encodeEchoPayload({ discriminator: 0, sequence: 1n }))).toBeUndefined();
    expect(decodeEchoPayload(b.subarray(0, 10))).toBeUndefined();
  });

  it('builds an Ethernet/IPv4/UDP frame to the router MAC with source = destination = our IP, TTL 255, valid checksums', () => {
    const payload = encodeEchoPayload({ discriminator: 42, sequence: 1n });
    const f = buildEchoFrame({ srcMac: mac('02:00:00:00:00:11'), dstMac: mac('02:00:00:00:00:01'), ip: '10.0.0.11', payload });
    expect(f.length).toBe(ECHO_FRAME_LENGTH);
    expect(f.subarray(0, 6)).toEqual(mac('02:00:00:00:00:01'));
    expect(f.subarray(6, 12)).toEqual(mac('02:00:00:00:00:11'));
    expect(f.readUInt16BE(12)).toBe(0x0800);
    expect(f[14 + 8]).toBe(255);
    expect(sums(f, 14, 34)).toBe(0xffff); // IPv4 header checksum
    const udpLen = f.readUInt16BE(34 + 4);
    expect(udpLen).toBe(8 + 16);
    expect(sums(f, 34, 34 + udpLen, sums(f, 26, 34) + 17 + udpLen)).toBe(0xffff); // UDP with pseudo-header
    const p = parseEchoFrame(f)!;
    expect(p).toMatchObject({ srcIp: '10.0.0.11', dstIp: '10.0.0.11', ttl: 255, srcPort: 3785, dstPort: 3785 });
    expect(decodeEchoPayload(p.payload)).toEqual({ discriminator: 42, sequence: 1n });
    expect(runFilter(f)).toBeGreaterThan(0);
    expect(() => buildEchoFrame({ srcMac: Buffer.alloc(5), dstMac: Buffer.alloc(6), ip: '10.0.0.1', payload })).toThrow(/MAC/);
    expect(() => buildEchoFrame({ srcMac: Buffer.alloc(6), dstMac: Buffer.alloc(6), ip: '10.0.0', payload })).toThrow(/IPv4/);
  });

  it('parseEchoFrame and the kernel filter reject other traffic, fragments and truncated frames without throwing', () => {
    const f = buildEchoFrame({ srcMac: Buffer.alloc(6, 1), dstMac: Buffer.alloc(6, 2), ip: '192.0.2.1', payload: encodeEchoPayload({ discriminator: 1, sequence: 1n }) });
    const port = Buffer.from(f);
    port.writeUInt16BE(3784, 36); // a control packet's port
    expect(parseEchoFrame(port)).toBeUndefined();
    expect(runFilter(port)).toBe(0);
    const frag = Buffer.from(f);
    frag.writeUInt16BE(0x2000, 20); // MF
    expect(parseEchoFrame(frag)).toBeUndefined();
    expect(runFilter(frag)).toBe(0);
    const tcp = Buffer.from(f);
    tcp[23] = 6;
    expect(runFilter(tcp)).toBe(0);
    for (let n = 0; n < f.length; n += 7) expect(() => parseEchoFrame(f.subarray(0, n))).not.toThrow();
    expect(parseEchoFrame(f.subarray(0, 40))).toBeUndefined();
  });

  it('neighbourMac reads complete /proc/net/arp entries of the interface only', () => {
    const t = [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '10.0.0.1         0x1         0x2         aa:bb:cc:dd:ee:01     *        eth0',
      '10.0.0.2         0x1         0x0         00:00:00:00:00:00     *        eth0',
      '10.0.0.3         0x1         0x2         aa:bb:cc:dd:ee:03     *        eth1',
    ].join('\n');
    expect(neighbourMac('10.0.0.1', 'eth0', t)).toEqual(mac('aa:bb:cc:dd:ee:01'));
    expect(neighbourMac('10.0.0.2', 'eth0', t)).toBeUndefined();
    expect(neighbourMac('10.0.0.3', 'eth0', t)).toBeUndefined();
  });
});

describe('BFD echo function in the state machine', () => {
  function upPair(echoA: number, echoRxB: number) {
    const A = new BfdFsm({ localDiscriminator: 1, transmitInterval: 100, receiveInterval: 100, echoTransmitInterval: echoA });
    const B = new BfdFsm({ localDiscriminator: 2, transmitInterval: 100, receiveInterval: 100, echoReceiveInterval: echoRxB || undefined });
    const x = (f: BfdFsm, t: BfdFsm, now: number) => t.receive(decode(encode(f.nextPacket())), now);
    x(A, B, 0);
    x(B, A, 1);
    x(A, B, 2);
    x(B, A, 3);
    return { A, B };
  }

  it('echo runs at the slower of our interval and the peer\'s RequiredMinEchoRx, only while Up', () => {
    const { A } = upPair(50, 80);
    expect(A.state).toBe(State.Up);
    expect(A.echoTxIntervalMs()).toBe(80);
    expect(A.echoDetectionTimeMs()).toBe(240);
    expect(upPair(50, 20).A.echoTxIntervalMs()).toBe(50);
    // a peer that does not loop echo packets (RequiredMinEchoRx 0): no echo
    expect(upPair(50, 0).A.echoTxIntervalMs()).toBe(Infinity);
    expect(new BfdFsm({ localDiscriminator: 3, echoTransmitInterval: 50 }).echoTxIntervalMs()).toBe(Infinity); // not Up
  });

  it('missing echoes take the session Down with diag 2 (Echo Function Failed); looped ones keep it Up', () => {
    const { A } = upPair(50, 50);
    expect(A.echoDeadline()).toBe(Infinity); // not started
    A.echoStarted(1000);
    expect(A.echoDeadline()).toBe(1150);
    A.echoReceived(1100);
    expect(A.checkEchoDetection(1200)).toBeUndefined();
    expect(A.state).toBe(State.Up);
    expect(A.checkEchoDetection(1250)).toEqual({ from: State.Up, to: State.Down, diag: Diag.EchoFunctionFailed });
    expect(A.nextPacket().diag).toBe(Diag.EchoFunctionFailed);
    expect(A.echoDeadline()).toBe(Infinity); // echo stops with the session
  });

  it('advertises RequiredMinEchoRx in µs and rejects a bad echo interval naming the field', () => {
    expect(new BfdFsm({ localDiscriminator: 1, echoReceiveInterval: 50 }).nextPacket().requiredMinEchoRx).toBe(50_000);
    expect(() => new BfdFsm({ localDiscriminator: 1, echoTransmitInterval: -5 })).toThrow(/echoTransmitInterval/);
  });
});

describe('TimerQueue', () => {
  it('pops deadlines in order, only the due ones', () => {
    const q = new TimerQueue<string>();
    const at = [50, 10, 30, 10, 70, 20, 60, 40];
    at.forEach((t, i) => q.push(t, `x${i}`, i % 2));
    expect(q.peek()).toBe(10);
    const out: number[] = [];
    for (let e = q.popDue(45); e; e = q.popDue(45)) out.push(e.at);
    expect(out).toEqual([10, 10, 20, 30, 40]);
    expect(q.size).toBe(3);
    q.removeWhere((x) => x === 'x4');
    expect(q.size).toBe(2);
    expect(q.popDue(1000)!.at).toBe(50);
    expect(q.popDue(1000)!.at).toBe(60);
    expect(q.popDue(1000)).toBeUndefined();
    expect(q.peek()).toBe(Infinity);
  });

  it('stays ordered under random pushes and pops (heap invariant)', () => {
    const q = new TimerQueue<number>();
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const ref: number[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20; i++) {
        const t = Math.floor(rnd() * 1000);
        q.push(t, t, 0);
        ref.push(t);
      }
      const now = Math.floor(rnd() * 1000);
      const got: number[] = [];
      for (let e = q.popDue(now); e; e = q.popDue(now)) got.push(e.at);
      ref.sort((a, b) => a - b);
      const want = ref.filter((t) => t <= now);
      ref.splice(0, want.length);
      expect(got).toEqual(want);
    }
  });
});
