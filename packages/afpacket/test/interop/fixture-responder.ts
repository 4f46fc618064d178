// Fixture run inside a namespace: a NativeResponder on eth0 (family from argv[3], default 4) driven
// by stdin lines. Commands: `set active|draining|off IP...`, `range active|draining|off FIRST N`
// (N consecutive addresses), `stats`, `garp FIRST N` (one batch of N gratuitous ARP requests),
// `join MAC`. Answers one line each.
import { createInterface } from 'node:readline';
import { NativeResponder, interfaceInfo, parseMac, type EntryState } from '@lbkit/afpacket';

const ifname = process.argv[2] ?? 'eth0';
const family = Number(process.argv[3] ?? process.env.LBKIT_FAMILY ?? 4) === 6 ? 6 : 4;
const info = interfaceInfo(ifname)!;
const r = NativeResponder.open({ ifname, family, mac: info.mac });

function v4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}
function v6(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}
const parse = (ip: string): Buffer => (family === 4 ? v4(ip) : v6(ip));
function consecutive(first: string, n: number): Buffer[] {
  const base = parse(first);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.from(base);
    b.writeUInt32BE((b.readUInt32BE(b.length - 4) + i) >>> 0, b.length - 4);
    out.push(b);
  }
  return out;
}

process.stdout.write(`ready ${info.mac}\n`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  try {
    if (cmd === 'set') {
      r.set(args.slice(1).map(parse), args[0] as EntryState);
      const f = r.syncFilter();
      process.stdout.write(`ok ${JSON.stringify({ entries: r.size, insns: f?.program.length, exact: f?.exact })}\n`);
    } else if (cmd === 'range') {
      r.set(consecutive(args[1]!, Number(args[2])), args[0] as EntryState);
      const f = r.syncFilter();
      process.stdout.write(`ok ${JSON.stringify({ entries: r.size, insns: f?.program.length, exact: f?.exact })}\n`);
    } else if (cmd === 'stats') {
      process.stdout.write(`stats ${JSON.stringify(r.stats())}\n`);
    } else if (cmd === 'join') {
      r.addMembership(args[0]!);
      process.stdout.write('ok joined\n');
    } else if (cmd === 'garp') {
      const ips = consecutive(args[0]!, Number(args[1]));
      const mac = parseMac(info.mac);
      const frames = Buffer.alloc(ips.length * 42);
      ips.forEach((ip, i) => {
        const o = i * 42;
        frames.fill(0xff, o, o + 6);
        mac.copy(frames, o + 6);
        frames.writeUInt16BE(0x0806, o + 12);
        Buffer.from([0, 1, 8, 0, 6, 4, 0, 1]).copy(frames, o + 14);
        mac.copy(frames, o + 22);
        ip.copy(frames, o + 28);
        frames.fill(0xff, o + 32, o + 38);
        ip.copy(frames, o + 38);
      });
      const t0 = performance.now();
      void r.sendBatch(frames, 42).then(
        (n) => process.stdout.write(`sent ${n} ${(performance.now() - t0).toFixed(1)}\n`),
        (e: Error) => process.stdout.write(`error ${e.message}\n`),
      );
    } else process.stdout.write(`error unknown command ${cmd}\n`);
  } catch (e) {
    process.stdout.write(`error ${(e as Error).message}\n`);
  }
});
rl.on('close', () => r.close());
