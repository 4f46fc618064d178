import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeInterop } from '../../../../test-utils/env.js';
import { Topology, sh } from '../../../../test-utils/netns.js';

const fixture = fileURLToPath(new URL('./fixture-capture.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../../../../node_modules/.bin/vite-node', import.meta.url));
const config = fileURLToPath(new URL('../../../../vite.config.ts', import.meta.url));

describeInterop('afpacket PacketSocket against the kernel and arping', { root: true, bins: ['arping', 'ip', 'python3'] }, () => {
  const topo = new Topology('arp');
  let a = '';
  let b = '';
  let macA = '';
  let macB = '';
  beforeAll(async () => {
    const sw = await topo.addNamespace('sw');
    await topo.addBridge(sw);
    a = await topo.addNamespace('a');
    b = await topo.addNamespace('b');
    macA = await topo.connect(a, 'eth0', sw, 'br0', ['10.77.0.1/24']);
    macB = await topo.connect(b, 'eth0', sw, 'br0', ['10.77.0.2/24']);
  });
  afterAll(async () => {
    await topo.destroy();
  });

  it('receives filtered ARP frames from arping, sends a raw frame the peer kernel accepts, joins multicast', async () => {
    const child = spawn('ip', ['netns', 'exec', a, viteNode, '--config', config, fixture], { stdio: ['pipe', 'pipe', 'pipe'] });
    topo.children.push(child);
    const lines: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const waitLine = async (re: RegExp, ms = 60_000): Promise<string> => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        const l = lines.find((x) => re.test(x));
        if (l) return l;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`timeout waiting for ${re}; stderr: ${err}`);
    };
    const ready = await waitLine(/^ready /);
    const info = JSON.parse(ready.slice(6)) as { mac: string; ipv4: string[]; index: number };
    expect(info.mac).toBe(macA);
    expect(info.ipv4).toContain('10.77.0.1');
    // arping from b: broadcast ARP request arrives through the arp filter; ICMP from ping does not.
    await sh('ping', ['-c', '1', '-W', '2', '10.77.0.1'], { ns: b });
    await sh('arping', ['-c', '1', '-w', '3', '-I', 'eth0', '10.77.0.1'], { ns: b }).catch(() => '');
    const got = await waitLine(/^frame /);
    const [, hex, pkttype] = got.split(' ');
    const frame = Buffer.from(hex!, 'hex');
    expect(frame.readUInt16BE(12)).toBe(0x0806);
    expect(frame.subarray(6, 12).toString('hex')).toBe(macB.replace(/:/g, ''));
    expect(['0', '1']).toContain(pkttype);
    expect(lines.filter((l) => l.startsWith('frame ')).every((l) => l.split(' ')[1]!.slice(24, 28) === '0806')).toBe(true);
    // Our raw frame: an ARP reply "10.77.0.99 is-at macA" unicast to b; b's kernel creates no entry
    // for an unsolicited reply (arp_accept=0) unless one exists, so first create one in b.
    await sh('ip', ['neigh', 'replace', '10.77.0.99', 'lladdr', '02:00:00:00:00:99', 'nud', 'stale', 'dev', 'eth0'], { ns: b });
    await new Promise((r) => setTimeout(r, 1100)); // ARP locktime
    child.stdin.write(`send ${macB} 10.77.0.99 10.77.0.2\n`);
    await waitLine(/^sent$/);
    let neigh = '';
    for (let i = 0; i < 200; i++) {
      neigh = await sh('ip', ['neigh', 'show', '10.77.0.99', 'dev', 'eth0'], { ns: b });
      if (neigh.includes(macA)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(neigh).toContain(macA);
    child.stdin.write('join 01:00:5e:01:02:03\n');
    await waitLine(/^joined$/);
    const maddr = await sh('ip', ['maddr', 'show', 'dev', 'eth0'], { ns: a });
    expect(maddr).toContain('01:00:5e:01:02:03');
    child.stdin.write('leave 01:00:5e:01:02:03\n');
    await waitLine(/^left$/);
    expect(await sh('ip', ['maddr', 'show', 'dev', 'eth0'], { ns: a })).not.toContain('01:00:5e:01:02:03');
    child.stdin.write('badopen\n');
    const bad = await waitLine(/^badopen /);
    expect(bad).toMatch(/if_nametoindex\(nosuchif0\)/);
    child.stdin.end();
    await waitLine(/^closed/);
  });
});
