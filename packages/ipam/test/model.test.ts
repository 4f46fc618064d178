/**
 * Differential test: the allocator against a deliberately naive reference model written from MetalLB's rules
 * (enumerate every address of every CIDR in declared order, take the lowest one that is not buggy and passes
 * the sharing checks). Small pools cross /24 boundaries (buggy .255/.0 inside) so the clean-index and run
 * structures are exercised; random allocate/release sequences must give identical IPs and identical failures.
 */
import { describe, expect, it } from 'vitest';
import { Allocator, parseIP, parsePools, type IPFamily, type PoolSpec, type ServiceDescriptor, type ServiceFamily } from '../src/index.js';
import { seededRandom } from '../../../test-utils/random.js';

interface MIp { sk?: { s: string; b: string }; ports: Map<string, string>; services: string[] }

class Model {
  private ips = new Map<string, MIp>();
  private allocs = new Map<string, { ips: string[]; ports: string[] }>();
  private pools: Array<{ name: string; addrs: Array<{ fam: IPFamily; text: string; buggy: boolean }>; avoid: boolean }>;
  constructor(specs: PoolSpec[]) {
    this.pools = parsePools(specs).filter((p) => p.autoAssign).sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => ({
      name: p.name, avoid: p.avoidBuggyIPs,
      addrs: p.cidrs.flatMap((c) => {
        const out = [];
        for (let v = c.first; v <= c.last; v++) {
          const text = c.family === 'ipv4' ? [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.') : ipv6Text(v);
          out.push({ fam: c.family, text, buggy: c.family === 'ipv4' && ((v & 255n) === 0n || (v & 255n) === 255n) });
        }
        return out;
      }),
    }));
  }
  private ok(svc: ServiceDescriptor, ip: string): boolean {
    const e = this.ips.get(ip);
    if (!e || !e.sk) return true;
    const sk = { s: svc.sharingKey ?? '', b: svc.backendKey ?? '' };
    const compatible = e.sk.s !== '' && sk.s !== '' && e.sk.s === sk.s && e.sk.b === sk.b;
    if (!compatible && e.services.some((s) => s !== svc.key)) return false;
    return (svc.ports ?? []).every((p) => { const cur = e.ports.get(`${p.protocol}/${p.port}`); return cur === undefined || cur === svc.key; });
  }
  allocate(svc: ServiceDescriptor): string[] | 'error' {
    const have = this.allocs.get(svc.key);
    if (have) {
      // MetalLB re-Assigns an existing allocation (sharing re-checked, failure keeps it); the service moves
      // to the end of each IP's arrival order.
      if (!have.ips.every((ip) => this.ok(svc, ip))) return 'error';
      this.unassign(svc.key);
      return this.record(svc, have.ips);
    }
    const want: IPFamily[] = svc.family === 'dual' ? ['ipv4', 'ipv6'] : [svc.family];
    let pOnly: string[] | undefined;
    let sOnly: string[] | undefined;
    for (const p of this.pools) {
      const got: Partial<Record<IPFamily, string>> = {};
      for (const a of p.addrs) if (want.includes(a.fam) && !got[a.fam] && !(p.avoid && a.buggy) && this.ok(svc, a.text)) got[a.fam] = a.text;
      if (svc.family !== 'dual') { if (got[svc.family]) return this.record(svc, [got[svc.family]!]); continue; }
      if (got.ipv4 && got.ipv6) return this.record(svc, [got.ipv4, got.ipv6]);
      if (svc.ipFamilyPolicy === 'PreferDualStack') { if (got.ipv4 && !pOnly) pOnly = [got.ipv4]; if (got.ipv6 && !sOnly) sOnly = [got.ipv6]; }
    }
    const r = pOnly ?? sOnly;
    return r ? this.record(svc, r) : 'error';
  }
  private record(svc: ServiceDescriptor, ips: string[]): string[] {
    const ports = (svc.ports ?? []).map((p) => `${p.protocol}/${p.port}`);
    for (const ip of ips) {
      let e = this.ips.get(ip);
      if (!e) this.ips.set(ip, (e = { ports: new Map(), services: [] }));
      for (const p of ports) e.ports.set(p, svc.key);
      e.services.push(svc.key);
      e.sk = { s: svc.sharingKey ?? '', b: svc.backendKey ?? '' };
    }
    this.allocs.set(svc.key, { ips, ports });
    return ips;
  }
  unassign(key: string): void {
    const a = this.allocs.get(key);
    if (!a) return;
    this.allocs.delete(key);
    for (const ip of a.ips) {
      const e = this.ips.get(ip)!;
      for (const p of a.ports) if (e.ports.get(p) === key) e.ports.delete(p);
      e.services = e.services.filter((s) => s !== key);
      if (e.ports.size === 0) e.sk = undefined;
      if (e.services.length === 0) this.ips.delete(ip);
    }
  }
  ipsOf(key: string): string[] | null {
    return this.allocs.get(key)?.ips ?? null;
  }
  servicesOn(ip: string): string[] {
    return this.ips.get(ip)?.services ?? [];
  }
  usedIPs(): string[] {
    return [...this.ips.keys()];
  }
}

function ipv6Text(v: bigint): string {
  // Written out by hand for the two prefixes used below (fd00:0:0:1::/126 and fd00:1:2:3::1:fffe-…::2:2), so the
  // model does not depend on the package's formatter: RFC 5952 compresses the longest zero run.
  const hi = v >> 64n;
  const g6 = Number((v >> 16n) & 0xffffn);
  const g7 = Number(v & 0xffffn);
  if (hi === 0xfd00000000000001n) return `fd00:0:0:1::${g7 ? g7.toString(16) : ''}`;
  if (hi === 0xfd00000100020003n && g6 !== 0) return `fd00:1:2:3::${g6.toString(16)}:${g7.toString(16)}`;
  throw new Error(`model cannot format ${v.toString(16)}`);
}


const specs: PoolSpec[] = [
  { name: 'a-buggy', addresses: ['10.0.0.250 - 10.0.1.5', '10.0.6.255 - 10.0.7.2', '10.0.8.0/32', '10.0.8.254/31'], avoidBuggyIPs: true },
  { name: 'b-dual', addresses: ['10.0.2.252/30', '10.0.3.0/31', 'fd00:0:0:1::/126'] },
  { name: 'c-v6', addresses: ['fd00:1:2:3::1:fffe - fd00:1:2:3::2:2'] },
  { name: 'd-plain', addresses: ['10.0.4.254 - 10.0.5.1'] },
  { name: 'e-off', addresses: ['10.0.9.0/30'], autoAssign: false },
];
const portsPool = [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }, { protocol: 'UDP', port: 53 }];
const families: Array<[ServiceFamily, ServiceDescriptor['ipFamilyPolicy']]> = [['ipv4', 'SingleStack'], ['ipv6', 'SingleStack'], ['dual', 'RequireDualStack'], ['dual', 'PreferDualStack']];

describe('allocator = naive enumerating model (random sequences)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: 3000 operations give the same IPs and failures`, () => {
      const r = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const a = new Allocator(specs);
      const m = new Model(specs);
      const descs = new Map<string, ServiceDescriptor>();
      let allocated = 0;
      let failed = 0;
      let shared = 0;
      for (let op = 0; op < 3000; op++) {
        const name = `s${Math.floor(r() * 40)}`;
        const key = `default/${name}`;
        if (r() < 0.35) {
          a.unassign(key);
          m.unassign(key);
          descs.delete(key);
        } else {
          const [family, ipFamilyPolicy] = pick(families);
          const d: ServiceDescriptor = descs.get(key) ?? {
            key, namespace: 'default', family, ipFamilyPolicy,
            sharingKey: pick(['', '', 'k1', 'k2']), backendKey: pick(['', '', 'sel=x']),
            ports: portsPool.filter(() => r() < 0.5),
          };
          const want = m.allocate(d);
          let got: string[] | 'error';
          try { got = a.allocate(d); } catch { got = 'error'; }
          expect(got, `op ${op} ${JSON.stringify(d)}`).toEqual(want);
          if (got !== 'error') { descs.set(key, d); allocated++; } else failed++;
        }
        expect(a.ipsOf(key) ?? null, `op ${op} ipsOf ${key}`).toEqual(m.ipsOf(key));
        if (op % 50 === 0) {
          for (const ip of m.usedIPs()) expect(a.servicesOn(ip), `op ${op} servicesOn ${ip}`).toEqual(m.servicesOn(ip));
          shared = Math.max(shared, ...m.usedIPs().map((ip) => m.servicesOn(ip).length));
          const used = new Set(m.usedIPs());
          const v4 = [...used].filter((ip) => parseIP(ip).family === 'ipv4');
          expect(a.stats().reduce((s, p) => s + Number(p.assignedIPv4), 0)).toBe(v4.length);
          expect(a.stats().reduce((s, p) => s + Number(p.assignedIPv6), 0)).toBe(used.size - v4.length);
        }
      }
      // the sequence really exercised allocation, exhaustion and sharing
      expect(allocated).toBeGreaterThan(300);
      expect(failed).toBeGreaterThan(50);
      expect(shared).toBeGreaterThan(1);
    });
  }
});
