import { afterEach, describe, expect, it } from 'vitest';
import { createMemberlist, metallbKey, parseAddress, type CreateMemberlistOptions, type NetMemberlist } from '../src/index.js';

const nodes: NetMemberlist[] = [];
async function node(name: string, extra: Partial<CreateMemberlistOptions> = {}): Promise<NetMemberlist> {
  const n = await createMemberlist({ name, bindAddr: '127.0.0.1', bindPort: 0, timings: 'fast', ...extra });
  nodes.push(n);
  return n;
}
const until = async (pred: () => boolean, ms: number): Promise<boolean> => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms && !pred()) await new Promise((r) => setTimeout(r, 10));
  return pred();
};
const names = (n: NetMemberlist): string[] => n.memberlist.members().map((m) => m.name).sort();

describe('createMemberlist on loopback (real UDP/TCP sockets)', () => {
  afterEach(() => {
    for (const n of nodes.splice(0)) n.close();
  });

  it('three nodes join by "host:port" seeds, a closed node is a fail, a leaving node is a leave', async () => {
    const a = await node('cm-a');
    const b = await node('cm-b', { seeds: [`127.0.0.1:${a.address.port}`] });
    const c = await node('cm-c', { seeds: [{ addr: '127.0.0.1', port: b.address.port }] });
    expect(await until(() => [a, b, c].every((n) => names(n).join() === 'cm-a,cm-b,cm-c'), 5000)).toBe(true);
    const events: string[] = [];
    a.memberlist.on('fail', (m) => events.push(`fail ${m.name}`));
    a.memberlist.on('leave', (m) => events.push(`leave ${m.name}`));
    b.close();
    expect(await until(() => events.includes('fail cm-b'), 5000)).toBe(true);
    await c.leave();
    expect(await until(() => events.includes('leave cm-c'), 5000)).toBe(true);
    expect(events).toEqual(['fail cm-b', 'leave cm-c']);
    expect(a.transport.stats.packetsDropped).toBe(0);
  });

  it('MetalLB secret: same secret joins, a different secret is refused', async () => {
    const a = await node('cm-enc-a', { secretKey: 'abcdefghijklmnopqrstuv' });
    const b = await node('cm-enc-b', { secretKey: 'abcdefghijklmnopqrstuv', seeds: [`127.0.0.1:${a.address.port}`] });
    expect(await until(() => names(a).length === 2 && names(b).length === 2, 5000)).toBe(true);
    const x = await node('cm-enc-x', { secretKey: 'abcdefghijklmnopqrstuw' });
    await expect(x.join([`127.0.0.1:${a.address.port}`])).rejects.toThrow(/join failed/);
    expect(names(a)).toEqual(['cm-enc-a', 'cm-enc-b']);
    expect(a.transport.stats.streamErrors).toBeGreaterThan(0);
  });

  it('MetalLB key derivation matches the research notes vector (22-char secret ‖ SHA-256("") prefix)', () => {
    const secret = 'Q2hhbmdlTWVJblByb2Q0Mg'; // 22 characters like the controller's
    const key = metallbKey(secret)!;
    expect(key.length).toBe(32);
    expect(Buffer.from(key.subarray(0, 22)).toString()).toBe(secret);
    expect(Buffer.from(key.subarray(22)).toString('hex')).toBe('e3b0c44298fc1c149afb');
    expect(metallbKey('')).toBeNull();
    const long = 'x'.repeat(40);
    expect(Buffer.from(metallbKey(long)!).toString()).toBe('x'.repeat(32));
  });

  it('rejects bad options with errors naming the field', async () => {
    await expect(createMemberlist({ name: '' })).rejects.toThrow(/options\.name/);
    await expect(createMemberlist({ name: 'x', bindAddr: '0.0.0.0', bindPort: 0 })).rejects.toThrow(/advertise\.addr/);
    await expect(createMemberlist({ name: 'x', bindAddr: '127.0.0.1', bindPort: 0, meta: new Uint8Array(513) })).rejects.toThrow(/512/);
    await expect(createMemberlist({ name: 'x', bindAddr: '127.0.0.1', bindPort: 0, profile: 'nope' as 'serf' })).rejects.toThrow(/options\.profile/);
    await expect(createMemberlist({ name: 'x', bindAddr: '127.0.0.1', bindPort: 0, timings: 'slow' as 'lan' })).rejects.toThrow(/options\.timings/);
    await expect(node('cm-noseed', { seeds: ['127.0.0.1:1'] })).rejects.toThrow(/join failed/);
  });

  it('parseAddress', () => {
    expect(parseAddress('10.0.0.1:8000', 7946)).toEqual({ addr: '10.0.0.1', port: 8000 });
    expect(parseAddress('10.0.0.1', 7946)).toEqual({ addr: '10.0.0.1', port: 7946 });
    expect(parseAddress('[fd00::1]:7000', 7946)).toEqual({ addr: 'fd00::1', port: 7000 });
    expect(parseAddress('fd00::1', 7946)).toEqual({ addr: 'fd00::1', port: 7946 });
    expect(() => parseAddress('h:x', 1)).toThrow(/address "h:x"/);
    expect(() => parseAddress('h:70000', 1)).toThrow(/out of range/);
  });
});
