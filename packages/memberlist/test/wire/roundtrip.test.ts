import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  decodePacket, encodePacket, lzwCompress, lzwDecompress, crc32, tryDecodeStream, encodeStreamMessage, type Message,
} from '../../src/wire/index.js';
import { Keyring, metallbSecretToKey, decryptWithKey, encryptPayload } from '../../src/security/index.js';
import { readPcap } from './pcap.js';
import { NetTransport } from '../../src/net/index.js';

const sample: Message[] = [
  { type: 'ping', seqNo: 70000, node: 'node-a', sourceAddr: '10.0.0.1', sourcePort: 7946, sourceNode: 'node-b' },
  { type: 'indirectPing', seqNo: 5, target: 'fd00::1', port: 7946, node: 'x', nack: true, sourceAddr: '10.0.0.2', sourcePort: 1, sourceNode: 'y' },
  { type: 'ack', seqNo: 4294967295, payload: new Uint8Array(300).fill(9) },
  { type: 'nack', seqNo: 200 },
  { type: 'suspect', incarnation: 3, node: 'n', from: 'm' },
  { type: 'alive', incarnation: 1, node: 'n', addr: '192.168.1.1', port: 7946, meta: Uint8Array.of(0xff, 0x80), vsn: [1, 5, 2, 0, 0, 0] },
  { type: 'dead', incarnation: 9, node: 'n', from: 'n' },
  { type: 'user', payload: Uint8Array.of(1, 2, 3) },
];

describe('wire round trips', () => {
  it('every message type survives every layer combination', () => {
    const kr = new Keyring([new Uint8Array(randomBytes(24))]);
    for (const crc of [false, true]) for (const compress of [false, true]) for (const enc of [0, 1, 2] as const) for (const label of ['', 'lbl']) {
      const opts = { crc, compress, label, ...(enc ? { keyring: kr, encryptionVersion: (enc - 1) as 0 | 1 } : {}) };
      const d = decodePacket(encodePacket(sample, opts), opts);
      expect(d.messages).toEqual(sample);
      expect(d.hadCrc).toBe(crc);
      expect(d.encrypted).toBe(enc > 0);
    }
  });

  it('label mismatch and missing keys are rejected', () => {
    const p = encodePacket([sample[3]!], { label: 'a' });
    expect(() => decodePacket(p, { label: 'b' })).toThrow(/label/);
    expect(() => decodePacket(p)).toThrow(/label/);
    // SkipInboundLabelCheck as Go: a header still present is refused, a bare packet counts as ours.
    expect(() => decodePacket(p, { skipInboundLabelCheck: true })).toThrow(/double packet label/);
    const kr = new Keyring([new Uint8Array(16).fill(9)]);
    const bare = encodePacket([sample[3]!], { keyring: kr, label: 'a' }).subarray(3);
    expect(decodePacket(bare, { skipInboundLabelCheck: true, keyring: kr, label: 'a' }).messages).toEqual([sample[3]]);
  });

  it('LZW matches the Go-produced buffers and round-trips large/random input (table resets)', () => {
    const udp = readPcap(fileURLToPath(new URL('../fixtures/four.pcap', import.meta.url))).filter((x) => x.proto === 'udp');
    for (const data of [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(randomBytes(20000)), new Uint8Array(100000).fill(65)]) {
      expect(Buffer.from(lzwDecompress(lzwCompress(data))).equals(Buffer.from(data))).toBe(true);
    }
    expect(udp.some((p) => decodePacket(p.payload).compressed)).toBe(true);
    expect(() => lzwDecompress(Uint8Array.of(0, 1))).toThrow(/lzw/);
  });

  it('CRC32 is IEEE', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('streams are incremental: every prefix is incomplete, the whole decodes', () => {
    const kr = new Keyring([new Uint8Array(16).fill(3)]);
    const pp = { join: true, nodes: [{ name: 'a', addr: '127.0.0.1', port: 1, meta: new Uint8Array(0), incarnation: 1, state: 0, vsn: [1, 5, 2, 2, 5, 4] }], userState: Uint8Array.of(2, 0x80) };
    for (const opts of [{}, { compress: true }, { keyring: kr, label: 'x' }]) {
      const b = encodeStreamMessage({ type: 'pushPull', pushPull: pp }, opts);
      for (let i = 0; i < b.length; i++) expect(tryDecodeStream(b.subarray(0, i), opts)).toBeNull();
      const r = tryDecodeStream(b, opts)!;
      expect(r.msg).toEqual({ type: 'pushPull', pushPull: pp });
      expect(r.end).toBe(b.length);
    }
  });

  it('MetalLB secret-to-key derivation appends SHA-256("")', () => {
    const long = 'A'.repeat(40);
    expect(Buffer.from(metallbSecretToKey(long)).toString()).toBe('A'.repeat(32));
    const k = metallbSecretToKey('abc');
    expect(Buffer.from(k.subarray(0, 3)).toString()).toBe('abc');
    expect(Buffer.from(k.subarray(3)).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'.slice(0, 58));
    const ct = encryptPayload(0, k, Uint8Array.of(1, 2, 3), new Uint8Array(0));
    expect(ct.length).toBe(1 + 12 + 16 + 16);
    expect(Array.from(decryptWithKey(k, ct, new Uint8Array(0))!)).toEqual([1, 2, 3]);
  });
});

describe('malformed input never escapes the pipeline', () => {
  it('random mutations of captured packets are counted, never thrown', () => {
    const udp = readPcap(fileURLToPath(new URL('../fixtures/four.pcap', import.meta.url))).filter((x) => x.proto === 'udp').slice(0, 60);
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let thrownOther = 0;
    let dropped = 0;
    for (let i = 0; i < 6000; i++) {
      const src = udp[rnd(udp.length)]!.payload;
      const b = Uint8Array.from(src.subarray(0, rnd(3) === 0 ? rnd(src.length + 1) : src.length));
      for (let k = 0, n = 1 + rnd(4); k < n && b.length; k++) b[rnd(b.length)] = rnd(256);
      try {
        decodePacket(b);
      } catch (err) {
        if (!(err instanceof Error) || err.name !== 'Error' && err.name !== 'ShortBufferError' && err.name !== 'RangeError') thrownOther++;
        dropped++;
      }
      try { tryDecodeStream(b); } catch (err) { if (!(err instanceof Error)) thrownOther++; }
    }
    expect(thrownOther).toBe(0);
    expect(dropped).toBeGreaterThan(100);
  });

  it('the transport ingress counts garbage and keeps working', async () => {
    const t = await NetTransport.create({});
    const got: Message[][] = [];
    t.onPacket((_f, m) => got.push(m));
    for (let i = 0; i < 200; i++) t.ingest(new Uint8Array(randomBytes(1 + (i % 50))), { addr: '127.0.0.1', port: 1 });
    t.ingest(encodePacket([sample[3]!]), { addr: '127.0.0.1', port: 1 });
    t.close();
    expect(t.stats.packetsIn).toBe(201);
    expect(t.stats.packetsDropped + t.stats.partsDropped).toBeGreaterThan(150);
    expect(got.at(-1)).toEqual([sample[3]]);
  });
});

describe('NetTransport on loopback', () => {
  it('garbage on the TCP listener is answered with an errResp and counted', async () => {
    const { connect } = await import('node:net');
    const t = await NetTransport.create({});
    try {
      const reply = await new Promise<Uint8Array>((res) => {
        const s = connect(t.localAddress.port, '127.0.0.1');
        const chunks: Buffer[] = [];
        s.on('data', (d) => chunks.push(d));
        s.on('close', () => res(new Uint8Array(Buffer.concat(chunks))));
        s.on('error', () => undefined);
        s.write(Uint8Array.of(0x63, 1, 2, 3));
      });
      const r = tryDecodeStream(reply);
      expect(r?.msg.type).toBe('err');
      expect(t.stats.streamErrors).toBe(1);
      // The transport still works afterwards.
      t.onPushPull(() => ({ join: false, nodes: [], userState: Uint8Array.of(1) }));
      const u = await NetTransport.create({});
      const res = await new Promise<unknown>((ok, ko) => u.pushPull(t.localAddress, { join: true, nodes: [], userState: new Uint8Array(0) }, 5000, (e, x) => (e ? ko(e) : ok(x))));
      u.close();
      expect(res).toEqual({ join: false, nodes: [], userState: Uint8Array.of(1) });
    } finally {
      t.close();
    }
  });

  it('packets, push/pull and TCP ping between two transports (encrypted + label)', async () => {
    const kr = new Keyring([new Uint8Array(32).fill(5)]);
    const a = await NetTransport.create({ keyring: kr, label: 'c1', nodeName: 'a' });
    const b = await NetTransport.create({ keyring: kr, label: 'c1', nodeName: 'b', crc: true });
    try {
      expect(a.localAddress.port).toBeGreaterThan(0);
      const rx = new Promise<Message[]>((res) => a.onPacket((_f, m) => res(m)));
      b.sendPacket(a.localAddress, [sample[0]!, sample[4]!], 'a');
      expect(await rx).toEqual([sample[0], sample[4]]);
      const pp = { join: false, nodes: [], userState: new Uint8Array(0) };
      a.onPushPull((_f, req) => ({ ...req, userState: Uint8Array.of(42) }));
      const res = await new Promise<unknown>((r, j) => b.pushPull(a.localAddress, pp, 5000, (e, x) => (e ? j(e) : r(x))));
      expect(res).toEqual({ join: false, nodes: [], userState: Uint8Array.of(42) });
      const ok = await new Promise<boolean>((r) => b.tcpPing(a.localAddress, { type: 'ping', seqNo: 77, node: 'a' }, 5000, r));
      expect(ok).toBe(true);
      const wrong = await new Promise<boolean>((r) => b.tcpPing(a.localAddress, { type: 'ping', seqNo: 78, node: 'zz' }, 5000, r));
      expect(wrong).toBe(false);
    } finally {
      a.close();
      b.close();
    }
  });
});
