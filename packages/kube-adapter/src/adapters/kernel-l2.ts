/**
 * A Linux-kernel L2 backend (PureLB-style): the leader adds the VIP to the interface so the kernel
 * answers ARP/NDP for it, and sends gratuitous ARP with `arping -U` on takeover (MetalLB timing:
 * bursts at 0, 1.1, 2.2, 3.3, 4.4 s). Needs CAP_NET_ADMIN and iputils-arping.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseIP } from '../ip.js';
import { nullLogger, type Logger } from '../log.js';
import type { L2Announcer } from '../speaker.js';

const run = promisify(execFile);

let flavor: Promise<'iputils' | 'habets'> | undefined;
/** Detects which arping is installed (iputils or Thomas Habets' arping, Debian's `arping`). */
function arpingFlavor(): Promise<'iputils' | 'habets'> {
  flavor ??= run('arping', ['-V']).then(
    (r) => (/iputils/i.test(r.stdout + r.stderr) ? 'iputils' : 'habets'),
    (e: { stdout?: string; stderr?: string }) => (/iputils/i.test(`${e.stdout ?? ''}${e.stderr ?? ''}`) ? 'iputils' : 'habets'),
  );
  return flavor;
}

/** argv for one gratuitous ARP request (sender IP = target IP = ip). */
async function garpArgs(dev: string, ip: string): Promise<string[]> {
  return (await arpingFlavor()) === 'iputils' ? ['-U', '-c', '1', '-I', dev, '-s', ip, ip] : ['-q', '-U', '-i', dev, '-S', ip, '-c', '1', '-w', '1', ip];
}

/** Interfaces eligible for announcements: up, not loopback, not enslaved, ARP-capable. */
export function eligibleInterfaces(): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/sys/class/net')) {
    if (name === 'lo') continue;
    const base = `/sys/class/net/${name}`;
    try {
      const flags = parseInt(readFileSync(`${base}/flags`, 'utf8'), 16);
      if ((flags & 0x1) === 0) continue; // IFF_UP
      if (flags & 0x80) continue; // IFF_NOARP
      if (existsSync(`${base}/master`)) continue;
      out.push(name);
    } catch {
      /* interface vanished */
    }
  }
  return out.sort();
}

/** Options of {@link KernelL2Announcer}. */
export interface KernelL2Options {
  /** Restrict announcements to these interfaces (empty = every eligible interface). */
  interfaces?: string[];
  log?: Logger;
  /** Gratuitous bursts (default 5, 1100 ms apart). */
  bursts?: number;
  /** Callback per gratuitous packet sent (metrics). */
  onGratuitous?: (ip: string) => void;
}

/** Kernel-backed L2 announcer. */
export class KernelL2Announcer implements L2Announcer {
  private readonly active = new Map<string, { ifs: string[]; timers: NodeJS.Timeout[] }>();
  private readonly log: Logger;

  /** @param opts interface restriction, logger */
  constructor(private readonly opts: KernelL2Options = {}) {
    this.log = opts.log ?? nullLogger;
  }

  private targets(ifs: string[]): string[] {
    const allowed = this.opts.interfaces?.length ? this.opts.interfaces : eligibleInterfaces();
    return ifs.length ? ifs.filter((i) => allowed.includes(i)) : allowed;
  }

  /** @inheritdoc */
  async announce(ip: string, interfaces: string[]): Promise<boolean> {
    const p = parseIP(ip);
    if (!p) throw new Error(`kernel-l2: invalid IP ${JSON.stringify(ip)}`);
    if (this.active.has(ip)) await this.withdraw(ip);
    const ifs = this.targets(interfaces);
    if (ifs.length === 0) {
      this.log.log('warn', 'no matching interface for the VIP', { ip, interfaces });
      return false;
    }
    const v6 = p.family === 'ipv6';
    for (const dev of ifs) {
      // the kernel sends an unsolicited NA (O=1) for a new IPv6 address only with ndisc_notify=1
      if (v6) await run('sysctl', ['-qw', `net.ipv6.conf.${dev}.ndisc_notify=1`]).catch(() => {});
      try {
        await run('ip', [...(v6 ? ['-6'] : []), 'addr', 'add', `${ip}/${v6 ? 128 : 32}`, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
      } catch (e) {
        const msg = (e as { stderr?: string }).stderr ?? String(e);
        if (!/File exists/.test(msg)) this.log.log('warn', 'cannot add VIP', { ip, dev, err: msg.trim() });
      }
    }
    const timers: NodeJS.Timeout[] = [];
    const burst = () => {
      if (v6) return; // the kernel sends an unsolicited NA itself when ndisc_notify=1
      for (const dev of ifs)
        void garpArgs(dev, ip)
          .then((args) => run('arping', args, { timeout: 3000 }))
          .catch(() => {}) // Habets' arping exits 1 when nobody replies, which is expected for a GARP
          .then(() => this.opts.onGratuitous?.(ip));
    };
    burst();
    for (let i = 1; i < (this.opts.bursts ?? 5); i++) {
      const t = setTimeout(burst, i * 1100);
      t.unref?.();
      timers.push(t);
    }
    this.active.set(ip, { ifs, timers });
    this.log.log('info', 'kernel-l2 announce', { ip, interfaces: ifs });
    return true;
  }

  /** @inheritdoc */
  async withdraw(ip: string): Promise<void> {
    const a = this.active.get(ip);
    if (!a) return;
    this.active.delete(ip);
    for (const t of a.timers) clearTimeout(t);
    const v6 = ip.includes(':');
    for (const dev of a.ifs) await run('ip', [...(v6 ? ['-6'] : []), 'addr', 'del', `${ip}/${v6 ? 128 : 32}`, 'dev', dev]).catch(() => {});
    this.log.log('info', 'kernel-l2 withdraw', { ip });
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    for (const ip of [...this.active.keys()]) await this.withdraw(ip);
  }
}
