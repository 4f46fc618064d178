import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readPcap, tcpFlows } from './pcap.js';
import { decodePacket, encodePacket, encodeMessage, tryDecodeStream, encodeStreamMessage, removeLabel } from '../../src/wire/index.js';
import { Keyring } from '../../src/security/index.js';

const LAB = fileURLToPath(new URL('../fixtures', import.meta.url));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('captured serf/memberlist 0.2.2 traffic', () => {
  for (const file of ['serf.pcap', 'four.pcap']) {
    it(`${file}: every UDP packet decodes and re-encodes byte-identically`, () => {
      const udp = readPcap(`${LAB}/${file}`).filter((p) => p.proto === 'udp');
      expect(udp.length).toBeGreaterThan(10);
      const types = new Set<string>();
      for (const p of udp) {
        const d = decodePacket(p.payload);
        expect(d.errors).toEqual([]);
        expect(d.messages.length).toBeGreaterThan(0);
        for (const m of d.messages) types.add(m.type);
        const again = encodePacket(d.messages, { crc: d.hadCrc, compress: d.compressed });
        expect(hex(again)).toBe(hex(p.payload));
      }
      expect(types.has('ping')).toBe(true);
      expect(types.has('ack')).toBe(true);
      expect(types.has('alive')).toBe(true);
      if (file === 'four.pcap') {
        for (const t of ['indirectPing', 'nack', 'suspect', 'dead']) expect(types.has(t)).toBe(true);
      }
    });

    it(`${file}: every TCP push/pull stream decodes and re-encodes byte-identically`, () => {
      const flows = tcpFlows(readPcap(`${LAB}/${file}`));
      expect(flows.size).toBeGreaterThan(0);
      let pushPulls = 0;
      for (const [, bytes] of flows) {
        const r = tryDecodeStream(bytes);
        expect(r).not.toBeNull();
        expect(r!.end).toBe(bytes.length);
        if (r!.msg.type === 'pushPull') {
          pushPulls++;
          expect(r!.msg.pushPull.nodes.length).toBeGreaterThan(0);
          for (const n of r!.msg.pushPull.nodes) expect(n.vsn.slice(0, 3)).toEqual([1, 5, 2]);
        }
        const compressed = bytes[0] === 9;
        expect(hex(encodeStreamMessage(r!.msg, { compress: compressed }))).toBe(hex(bytes));
      }
      expect(pushPulls).toBeGreaterThan(0);
    });
  }

  it('decodes the ping documented byte-by-byte in the research notes', () => {
    const udp = readPcap(`${LAB}/serf.pcap`).filter((p) => p.proto === 'udp');
    const ping = udp.find((p) => p.payload[0] === 0)!;
    const m = decodePacket(ping.payload).messages[0]!;
    expect(m.type).toBe('ping');
    if (m.type !== 'ping') return;
    expect(m.sourceAddr).toMatch(/^127\.0\.0\.\d$/);
    expect(m.sourcePort).toBe(ping.sport);
    expect(hex(encodeMessage(m))).toBe(hex(ping.payload));
  });

  it('enc.pcap: decrypts every UDP packet and TCP stream with enc.key', () => {
    const key = Buffer.from(/key=(\S+)/.exec(readFileSync(`${LAB}/enc.key`, 'utf8'))![1]!, 'base64');
    const kr = new Keyring([new Uint8Array(key)]);
    const pkts = readPcap(`${LAB}/enc.pcap`);
    const udp = pkts.filter((p) => p.proto === 'udp');
    expect(udp.length).toBeGreaterThan(5);
    let msgs = 0;
    for (const p of udp) {
      expect(() => decodePacket(p.payload)).toThrow(); // ciphertext is not a valid plaintext packet
      const d = decodePacket(p.payload, { keyring: kr });
      expect(d.encrypted).toBe(true);
      expect(d.errors).toEqual([]);
      msgs += d.messages.length;
    }
    expect(msgs).toBeGreaterThan(udp.length - 1);
    const wrong = new Keyring([new Uint8Array(32).fill(7)]);
    expect(() => decodePacket(udp[0]!.payload, { keyring: wrong })).toThrow(/no installed key/);
    const multi = new Keyring([new Uint8Array(16).fill(1), new Uint8Array(key)]);
    expect(decodePacket(udp[0]!.payload, { keyring: multi }).encrypted).toBe(true);
    const flows = tcpFlows(pkts);
    let streams = 0;
    for (const [, bytes] of flows) {
      const r = tryDecodeStream(bytes, { keyring: kr });
      expect(r).not.toBeNull();
      expect(r!.encrypted).toBe(true);
      expect(r!.end).toBe(bytes.length);
      streams++;
    }
    expect(streams).toBeGreaterThan(0);
    expect(removeLabel(udp[0]!.payload).label).toBe('');
  });
});
