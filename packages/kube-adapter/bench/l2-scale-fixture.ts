// Node-side process of the L2 scale bench: lbkitd's L2 backend (LbkitL2Announcer: native ARP
// responder, BPF filter from the owned VIPs, batched gratuitous ARP) on eth0, driven by stdin lines:
//   announce FIRST N   announce N consecutive VIPs (IPv4, or IPv6 counting in the low 32 bits), one `announce` call each in one event-loop
//                      turn (as the speaker does); prints `announced N <epoch ms at command>`
//   withdraw FIRST N   withdraw them (drain window per LBKIT_DRAIN_MS, default the backend's)
//   stats              `stats {json}` (responder counters, event-loop delay)
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LbkitL2Announcer } from '../src/adapters/lbkit-l2.js';

const ifname = process.argv[2] ?? 'eth0';
const drain = process.env.LBKIT_DRAIN_MS;
const a = new LbkitL2Announcer({ interfaces: [ifname], listInterfaces: () => [ifname], reportIntervalMs: 0, ...(drain !== undefined ? { drainMs: Number(drain) } : {}) });
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();

/** `n` consecutive IPv6 addresses (the low 32 bits count up), written uncompressed. */
function range6(first: string, n: number): string[] {
  const [head, tail] = first.includes('::') ? first.split('::') : [first, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = (tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]).map((g) => parseInt(g, 16));
  const base = ((groups[6]! << 16) | groups[7]!) >>> 0;
  return Array.from({ length: n }, (_, i) => {
    const v = (base + i) >>> 0;
    return [...groups.slice(0, 6), v >>> 16, v & 0xffff].map((g) => g.toString(16)).join(':');
  });
}

function range(first: string, n: number): string[] {
  if (first.includes(':')) return range6(first, n);
  const p = first.split('.').map(Number);
  const base = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  return Array.from({ length: n }, (_, i) => {
    const v = (base + i) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  });
}

await a.start();
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, first, n] = line.trim().split(/\s+/);
  const t = performance.timeOrigin + performance.now();
  try {
    if (cmd === 'announce') {
      const ips = range(first!, Number(n));
      let ok = 0;
      for (const ip of ips) if (a.announce(ip, [ifname])) ok++;
      process.stdout.write(`announced ${ok} ${t.toFixed(3)} ${(performance.timeOrigin + performance.now() - t).toFixed(1)}\n`);
    } else if (cmd === 'withdraw') {
      for (const ip of range(first!, Number(n))) a.withdraw(ip);
      process.stdout.write(`withdrawn ${n} ${t.toFixed(3)}\n`);
    } else if (cmd === 'stats') {
      process.stdout.write(`stats ${JSON.stringify({ ...a.stats()[0], loopDelayMaxMs: h.max / 1e6, loopDelayP99Ms: h.percentile(99) / 1e6 })}\n`);
      h.reset();
    } else process.stdout.write(`error unknown command ${cmd}\n`);
  } catch (e) {
    process.stdout.write(`error ${(e as Error).message}\n`);
  }
});
