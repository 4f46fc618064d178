/**
 * Wire hardening (issue #11): LZW output capped while decompressing, the incremental stream reader
 * (any chunking gives the one-shot result, limits checked before bytes are awaited, labels as Go),
 * the msgpack boundary scanner, native CRC-32, the UDP receive buffer, stream labels and read
 * deadline on real sockets.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  crc32, crc32Table, CRC32_NATIVE, decodePacket, encodeCompress, encodePacket, encodePushPull, encodeStreamMessage,
  LzwOutputLimitError, lzwCompress, lzwDecompress, MAX_PACKET_DECOMPRESSED, MAX_STREAM_BYTES, mpDecode, MsgpackBoundary,
  StreamLabelError, StreamReader, tryDecodeStream, Writer, type PushPull, type StreamMessage,
} from '../../src/wire/index.js';
import { Keyring } from '../../src/security/index.js';
import { MAX_INBOUND_STREAMS, NetTransport, setUdpRecvBuffer, UDP_RECV_BUFFER_BYTES } from '../../src/net/index.js';
import { lzwBomb } from './lzw-bomb.js';

const kr = new Keyring([Uint8Array.from({ length: 32 }, (_, i) => i)]);

function bigPushPull(nodes: number, userState = 0): PushPull {
  return {
    join: false,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i}`, addr: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 7946, meta: Uint8Array.of(i & 255),
      incarnation: i, state: i % 4, vsn: [1, 5, 2, 0, 0, 0],
    })),
    userState: Uint8Array.from({ length: userState }, (_, i) => i & 255),
  };
}

/** Feeds `bytes` to a reader in chunks of `size`; returns the result and after how many bytes it came. */
function feed(bytes: Uint8Array, size: number, opts: ConstructorParameters<typeof StreamReader>[0] = {}) {
  const r = new StreamReader(opts);
  for (let i = 0; i < bytes.length; i += size) {
    const res = r.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
    if (res) return { res, at: Math.min(bytes.length, i + size) };
  }
  return { res: null, at: bytes.length };
}

describe('LZW decompression is capped while it runs', () => {
  it('the bomb builder is right: one table expands to the exact predicted run of zeros', () => {
    const b = lzwBomb(1);
    const out = lzwDecompress(b.data, 16 << 20);
    expect(out.length).toBe(b.expandedLength);
    expect(out.length).toBeGreaterThan(7_000_000);
    expect(out.every((x) => x === 0)).toBe(true);
  });

  it('a 37 KB bomb (≈ 49 MB expanded) is refused at the cap with a typed error', () => {
    const b = lzwBomb(7);
    expect(b.data.length).toBeLessThan(40_000);
    expect(b.expandedLength).toBeGreaterThan(40 << 20);
    expect(() => lzwDecompress(b.data)).toThrow(LzwOutputLimitError);
    expect(() => lzwDecompress(b.data, 1 << 20)).toThrow(/exceeds 1048576 bytes/);
  });

  it('a UDP packet carrying the bomb is dropped at the per-packet budget, also spread over compound parts', () => {
    const pkt = encodeCompress({ algo: 0, buf: lzwBomb(7).data });
    expect(() => decodePacket(pkt)).toThrow(new RegExp(`exceeds ${MAX_PACKET_DECOMPRESSED} bytes`));
    // 8 parts of ~200 KB each: each alone is under the cap, together they exceed the packet budget.
    const part = encodeCompress({ algo: 0, buf: lzwCompress(new Uint8Array(200_000)) });
    const res = decodePacket(encodePacket(Array(8).fill(part)));
    expect(res.errors.some((e) => /exceeds/.test(e))).toBe(true);
  });

  it('round trips still hold (random, repetitive, table resets) with the typed-buffer decoder', () => {
    for (const data of [randomBytes(70_000), new Uint8Array(300_000).fill(7), Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251)]) {
      expect(Buffer.from(lzwDecompress(lzwCompress(data))).equals(Buffer.from(data))).toBe(true);
    }
  });
});

describe('CRC-32', () => {
  it('uses zlib.crc32 on this Node and agrees with the table implementation', () => {
    const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
    const hasNative = maj > 22 || (maj === 22 && min >= 2) || (maj === 20 && min >= 15);
    expect(CRC32_NATIVE).toBe(hasNative);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (const n of [0, 1, 7, 1000, 65_536]) {
      const d = randomBytes(n);
      expect(crc32(d)).toBe(crc32Table(d));
    }
  });
});

describe('msgpack boundary scanner', () => {
  it('returns -1 on every proper prefix and the decoder\'s end offset on the whole value', () => {
    const p = encodePushPull(bigPushPull(3, 10));
    const values: Uint8Array[] = [p.subarray(1, mpDecode(p, 1).end), encodeCompress({ algo: 0, buf: randomBytes(70_000) }).subarray(1)];
    const w = new Writer();
    w.mapHeader(20);
    for (let i = 0; i < 20; i++) { w.raw(`k${i}`); w.uint(i * 100_003); }
    values.push(w.finish());
    for (const v of values) {
      const s = new MsgpackBoundary(0);
      for (let i = 0; i < v.length; i += 97) expect(s.scan(v, i)).toBe(-1);
      expect(s.scan(v, v.length)).toBe(mpDecode(v, 0).end);
    }
    expect(() => new MsgpackBoundary(0).scan(Uint8Array.of(0xc1), 1)).toThrow(/unsupported type/);
  });
});

describe('StreamReader: linear incremental stream decoding', () => {
  const pp = bigPushPull(500, 3000);
  const cases: [string, StreamMessage, object][] = [
    ['plain push/pull', { type: 'pushPull', pushPull: pp }, {}],
    ['compressed push/pull', { type: 'pushPull', pushPull: pp }, { compress: true }],
    ['encrypted + label push/pull', { type: 'pushPull', pushPull: pp }, { keyring: kr, label: 'c1', compress: true }],
    ['user message', { type: 'user', payload: Uint8Array.from(randomBytes(5000)) }, { label: 'c1' }],
    ['ping', { type: 'ping', ping: { type: 'ping', seqNo: 9, node: 'x' } }, {}],
    ['err', { type: 'err', error: 'nope' }, { compress: true }],
  ];
  for (const [what, msg, opts] of cases) {
    it(`${what}: every chunk size gives the one-shot result at exactly the message end`, () => {
      const bytes = encodeStreamMessage(msg, opts);
      const one = tryDecodeStream(bytes, opts)!;
      expect(one.msg).toEqual(msg);
      for (const size of [1, 7, 1000, 65_536]) {
        if (size === 1 && bytes.length > 50_000) continue;
        const { res, at } = feed(Uint8Array.from([...bytes, 0xde, 0xad]), size, opts);
        expect(res?.msg).toEqual(msg);
        expect(res?.end).toBe(bytes.length);
        expect(at).toBeGreaterThanOrEqual(bytes.length);
      }
    });
  }

  it('push/pull node states are decoded while they arrive (before the last byte)', () => {
    const bytes = encodeStreamMessage({ type: 'pushPull', pushPull: bigPushPull(2000) });
    const r = new StreamReader();
    expect(r.push(bytes.subarray(0, bytes.length >> 1))).toBeNull();
    expect(r.nodesDecoded).toBeGreaterThan(800);
    expect(r.nodesDecoded).toBeLessThan(1200);
    expect(r.push(bytes.subarray(bytes.length >> 1))!.msg.type).toBe('pushPull');
  });

  it('decoded node states are not kept: the buffer stays small while a large plain push/pull streams in', () => {
    const msg: StreamMessage = { type: 'pushPull', pushPull: bigPushPull(20_000, 1000) };
    const bytes = encodeStreamMessage(msg, { label: 'c9' });
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const r = new StreamReader({ label: 'c9' });
    let maxBuffered = 0;
    let res = null;
    for (let i = 0; i < bytes.length && !res; i += 4096) {
      res = r.push(bytes.subarray(i, i + 4096));
      maxBuffered = Math.max(maxBuffered, r.buffered);
    }
    expect(res?.msg).toEqual(msg);
    expect(res?.end).toBe(bytes.length);
    expect(r.received).toBe(bytes.length);
    expect(maxBuffered).toBeLessThan(64 * 1024);
  });

  it('declared sizes over the limit are refused at once, before the bytes are waited for', () => {
    const head = new Writer();
    head.u8(6); head.mapHeader(3);
    head.raw('Join'); head.bool(false); head.raw('Nodes'); head.uint(0); head.raw('UserStateLen'); head.uint(19 << 20);
    expect(() => new StreamReader({ maxBytes: 1 << 20 }).push(head.finish())).toThrow(/exceeds 1048576/);
    const enc = Uint8Array.of(10, 0x7f, 0xff, 0xff, 0xff);
    expect(() => new StreamReader({ keyring: kr }).push(enc)).toThrow(new RegExp(`exceeds ${MAX_STREAM_BYTES}`));
    // A plaintext message that never ends (a huge raw string) is cut at maxBytes of received data.
    const r = new StreamReader({ maxBytes: 100_000 });
    expect(r.push(Uint8Array.of(9, 0x82, 0xa4, ...new TextEncoder().encode('Algo'), 0, 0xa3, 66, 117, 102, 0xdb, 0x7f, 0, 0, 0))).toBeNull();
    expect(() => { for (let i = 0; i < 20; i++) r.push(new Uint8Array(10_000)); }).toThrow(/exceeds 100000/);
  });

  it('labels as Go: inbound may carry one (absent = ""), a reply has none and is authenticated with ours', () => {
    const ping: StreamMessage = { type: 'ping', ping: { type: 'ping', seqNo: 1, node: '' } };
    const labelled = encodeStreamMessage(ping, { label: 'c1', keyring: kr });
    const bare = encodeStreamMessage(ping, { label: 'c1', keyring: kr, labelHeader: false });
    expect(labelled[0]).toBe(244);
    expect(bare[0]).toBe(10);
    expect(new StreamReader({ label: 'c1', keyring: kr }).push(labelled)!.label).toBe('c1');
    expect(() => new StreamReader({ label: 'c1', keyring: kr }).push(bare)).toThrow(StreamLabelError);
    expect(new StreamReader({ label: 'c1', keyring: kr, reply: true }).push(bare)!.msg).toEqual(ping);
    expect(() => new StreamReader({ label: 'c2', keyring: kr, reply: true }).push(bare)).toThrow(/authentication|decrypt/i);
    expect(() => new StreamReader({ label: 'c2' }).push(encodeStreamMessage(ping, { label: 'c1' }))).toThrow(/label "c1" does not match ours "c2"/);
    expect(() => new StreamReader({}).push(Uint8Array.of(244, 0, 0))).toThrow(StreamLabelError);
    // SkipInboundLabelCheck (Go): a header still present is refused; a bare stream counts as ours (AAD too).
    expect(() => new StreamReader({ label: 'c1', keyring: kr, skipInboundLabelCheck: true }).push(labelled)).toThrow(/double stream label/);
    expect(new StreamReader({ label: 'c1', keyring: kr, skipInboundLabelCheck: true }).push(bare)!.msg).toEqual(ping);
  });
});

describe('NetTransport on loopback: labels, read deadline, UDP receive buffer', () => {
  it('asks for a 2 MiB UDP receive buffer (kernel-reported size, capped by rmem_max) and falls back quietly', async () => {
    const t = await NetTransport.create({});
    try {
      const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
      // Linux doubles the requested value for bookkeeping and caps the request at rmem_max.
      expect(t.stats.udpRecvBufferBytes).toBe(2 * Math.min(UDP_RECV_BUFFER_BYTES, rmemMax));
    } finally {
      t.close();
    }
    const tried: number[] = [];
    const fake = {
      setRecvBufferSize: (n: number) => { tried.push(n); if (n > 300_000) throw new Error('ENOBUFS'); },
      getRecvBufferSize: () => 2 * tried[tried.length - 1]!,
    } as unknown as Parameters<typeof setUdpRecvBuffer>[0];
    expect(setUdpRecvBuffer(fake, UDP_RECV_BUFFER_BYTES)).toBe(2 * 262_144);
    expect(tried).toEqual([2097152, 1048576, 524288, 262144]);
  });

  it('answers a labelled stream without a label header (as Go), and drops a mislabelled one without an errResp', async () => {
    const t = await NetTransport.create({ label: 'c1', nodeName: 'me', keyring: kr });
    try {
      const ask = (bytes: Uint8Array): Promise<Buffer> => new Promise((res) => {
        const s = connect({ host: '127.0.0.1', port: t.localAddress.port });
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('close', () => res(Buffer.concat(got)));
        s.on('error', () => undefined);
        s.write(bytes);
      });
      const ping: StreamMessage = { type: 'ping', ping: { type: 'ping', seqNo: 77, node: 'me' } };
      const reply = await ask(encodeStreamMessage(ping, { label: 'c1', keyring: kr }));
      expect(reply[0]).toBe(10); // encrypted frame, no 0xf4 label header
      const r = new StreamReader({ label: 'c1', keyring: kr, reply: true }).push(reply)!;
      expect(r.msg).toEqual({ type: 'ack', ack: { type: 'ack', seqNo: 77 } });
      expect((await ask(encodeStreamMessage(ping, { label: 'other', keyring: kr }))).length).toBe(0);
      expect(t.stats.lastError).toMatch(/label "other" does not match/);
    } finally {
      t.close();
    }
  });

  it(`serves at most ${MAX_INBOUND_STREAMS} inbound streams at once and closes the rest on accept`, async () => {
    const t = await NetTransport.create({ tcpTimeoutMs: 5000 });
    const socks: ReturnType<typeof connect>[] = [];
    try {
      for (let i = 0; i < MAX_INBOUND_STREAMS + 5; i++) {
        const s = connect({ host: '127.0.0.1', port: t.localAddress.port });
        s.on('error', () => undefined);
        s.write(Uint8Array.of(6)); // a push/pull that never completes
        socks.push(s);
      }
      for (let i = 0; i < 100 && t.stats.streamsIn + t.stats.streamsRefused < MAX_INBOUND_STREAMS + 5; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(t.stats.streamsIn).toBe(MAX_INBOUND_STREAMS);
      expect(t.stats.streamsRefused).toBe(5);
      // Once streams end, new ones are served again.
      for (const s of socks.splice(0, 10)) s.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const reply = await new Promise<Buffer>((res) => {
        const s = connect({ host: '127.0.0.1', port: t.localAddress.port });
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('close', () => res(Buffer.concat(got)));
        s.on('error', () => undefined);
        s.write(encodeStreamMessage({ type: 'ping', ping: { type: 'ping', seqNo: 5, node: '' } }));
      });
      expect(new StreamReader({ reply: true }).push(reply)!.msg).toEqual({ type: 'ack', ack: { type: 'ack', seqNo: 5 } });
    } finally {
      for (const s of socks) s.destroy();
      t.close();
    }
  });

  it('closes a stream that trickles past the read deadline', async () => {
    const t = await NetTransport.create({ tcpTimeoutMs: 300 });
    try {
      const bytes = encodeStreamMessage({ type: 'pushPull', pushPull: bigPushPull(200) });
      const closedAfter = await new Promise<number>((res) => {
        const s = connect({ host: '127.0.0.1', port: t.localAddress.port });
        let sent = 0;
        const t0 = Date.now();
        const timer = setInterval(() => {
          if (sent < bytes.length) s.write(bytes.subarray(sent, (sent += 100)));
        }, 20);
        s.on('data', () => undefined);
        s.on('close', () => { clearInterval(timer); res(Date.now() - t0); });
        s.on('error', () => undefined);
      });
      expect(closedAfter).toBeGreaterThanOrEqual(250);
      expect(closedAfter).toBeLessThan(3000);
      expect(t.stats.streamErrors).toBe(1);
      expect(t.stats.lastError).toMatch(/read deadline of 300 ms/);
    } finally {
      t.close();
    }
  });

  it('ten LZW-bomb datagrams are counted and dropped, the transport keeps working', async () => {
    const t = await NetTransport.create({});
    const got: string[] = [];
    t.onPacket((_f, msgs) => { for (const m of msgs) got.push(m.type); });
    const u = createSocket('udp4');
    try {
      const bomb = encodeCompress({ algo: 0, buf: lzwBomb(7).data });
      for (let i = 0; i < 10; i++) u.send(bomb, t.localAddress.port, '127.0.0.1');
      u.send(encodePacket([{ type: 'ping', seqNo: 1, node: '' }]), t.localAddress.port, '127.0.0.1');
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(['ping']);
      expect(t.stats.packetsDropped).toBe(10);
      expect(t.stats.packetsOverDecompressCap).toBe(10);
      expect(t.stats.lastError).toMatch(/lzw: output exceeds/);
    } finally {
      u.close();
      t.close();
    }
  });
});
