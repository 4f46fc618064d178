import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPcap, tcpFlows } from '../wire/pcap.js';
import { decodePacket, mpDecode, tryDecodeStream } from '../../src/wire/index.js';
import {
  SerfDelegate,
  SerfMessageType,
  decodeSerfClocks,
  decodeSerfTags,
  encodeSerfJoin,
  encodeSerfLeave,
  encodeSerfPushPull,
  encodeSerfTags,
} from '../../src/index.js';

const LAB = fileURLToPath(new URL('../fixtures', import.meta.url));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** serf payloads gossiped as memberlist user messages in a capture of serf 0.9.4. */
function capturedUserPayloads(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of readPcap(`${LAB}/${file}`).filter((x) => x.proto === 'udp')) {
    for (const m of decodePacket(p.payload).messages) if (m.type === 'user') out.push(m.payload);
  }
  return out;
}

/** serf push/pull user states and node metas from the captured TCP streams. */
function capturedPushPulls(file: string): { userState: Uint8Array; metas: Uint8Array[] }[] {
  const out: { userState: Uint8Array; metas: Uint8Array[] }[] = [];
  for (const [, b] of tcpFlows(readPcap(`${LAB}/${file}`))) {
    const r = tryDecodeStream(b);
    if (r?.msg.type === 'pushPull') out.push({ userState: r.msg.pushPull.userState, metas: r.msg.pushPull.nodes.map((n) => n.meta) });
  }
  return out;
}

describe('serf payload codecs vs captured serf 0.9.4 traffic', () => {
  it('join intents: decoded clocks/node, and our encoder reproduces serf\'s bytes exactly', () => {
    const joins = capturedUserPayloads('four.pcap').filter((p) => p[0] === SerfMessageType.Join);
    expect(joins.length).toBeGreaterThan(0);
    for (const j of joins) {
      const c = decodeSerfClocks(j);
      expect(c.type).toBe(SerfMessageType.Join);
      expect(c.node).toMatch(/^n\d$/);
      expect(c.ltime).toBeGreaterThan(0);
      expect(hex(encodeSerfJoin({ ltime: c.ltime!, node: c.node! }))).toBe(hex(j));
    }
  });

  it('empty serf tags: serf\'s meta decodes to {} and encodeSerfTags({}) gives the same bytes', () => {
    const pps = capturedPushPulls('serf.pcap');
    expect(pps.length).toBeGreaterThan(0);
    // Metas of serf agents (the capture also holds a research peer announcing no meta at all).
    const metas = pps.flatMap((pp) => pp.metas).filter((m) => m.length > 0);
    expect(metas.length).toBeGreaterThan(0);
    for (const meta of metas) {
      expect(decodeSerfTags(meta)).toEqual({});
      expect(hex(encodeSerfTags({}))).toBe(hex(meta));
    }
  });

  it('push/pull user state: serf\'s decodes; ours has the same keys and a witnessing delegate moves past serf\'s clock', () => {
    const [pp] = capturedPushPulls('four.pcap');
    const c = decodeSerfClocks(pp!.userState);
    expect(c.type).toBe(SerfMessageType.PushPull);
    expect(c.ltime).toBeGreaterThan(0);
    const theirs = mpDecode(pp!.userState, 1).value as Map<string, unknown>;
    const ours = mpDecode(encodeSerfPushPull({ ltime: 3, statusLTimes: { x: 2 } }), 1).value as Map<string, unknown>;
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());

    const d = new SerfDelegate('me');
    d.mergeRemoteState(pp!.userState);
    expect(d.malformed).toBe(0);
    expect(d.time()).toBeGreaterThanOrEqual(c.ltime! - 1);
    const leave = decodeSerfClocks(d.leaveIntent());
    expect(leave.type).toBe(SerfMessageType.Leave);
    expect(leave.node).toBe('me');
    expect(leave.ltime).toBeGreaterThan(c.ltime! - 1); // serf accepts a leave only after the status times it knows
  });

  it('tags round-trip, legacy role meta, and errors that name the field', () => {
    const tags = { role: 'lbkit', zone: 'a', 'ü': 'ünïcode' };
    const meta = encodeSerfTags(tags);
    expect(meta[0]).toBe(0xff);
    expect(decodeSerfTags(meta)).toEqual(tags);
    expect(decodeSerfTags(new TextEncoder().encode('web'))).toEqual({ role: 'web' });
    expect(decodeSerfTags(new Uint8Array(0))).toEqual({ role: '' });
    expect(() => decodeSerfTags(Uint8Array.of(0xff, 0x01))).toThrow(/serf tags/);
    expect(() => decodeSerfTags(Uint8Array.of(0xff, 0x81, 0xa1, 0x61, 0x01))).toThrow(/tag "a"/);
    expect(() => encodeSerfTags({ a: 1 as unknown as string })).toThrow(/tag "a"/);
  });

  it('leave intent layout: {LTime, Node, Prune} map after type byte 0', () => {
    const b = encodeSerfLeave({ ltime: 300, node: 'n1', prune: true });
    expect(b[0]).toBe(SerfMessageType.Leave);
    const m = mpDecode(b, 1).value as Map<string, unknown>;
    expect(m.get('LTime')).toBe(300);
    expect(Buffer.from(m.get('Node') as Uint8Array).toString()).toBe('n1');
    expect(m.get('Prune')).toBe(true);
  });

  it('the delegate counts and drops malformed serf payloads, tracks clocks from intents, forwards good ones', () => {
    const got: Uint8Array[] = [];
    const d = new SerfDelegate('me', { onMessage: (b) => got.push(b) });
    d.notifyMsg(new Uint8Array(0));
    d.notifyMsg(Uint8Array.of(1, 0xc1));
    d.mergeRemoteState(Uint8Array.of(7, 0x80));
    expect(d.malformed).toBe(3);
    expect(got.length).toBe(0);
    d.notifyMsg(encodeSerfJoin({ ltime: 41, node: 'other' }));
    expect(got.length).toBe(1);
    expect(d.time()).toBeGreaterThan(41);
    expect(decodeSerfClocks(d.joinIntent()).ltime).toBeGreaterThan(41);
  });
});
