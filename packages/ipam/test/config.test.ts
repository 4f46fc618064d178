import { describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import { parseCidr as cidrToolsParse } from 'cidr-tools';
import { parsePools, parseIP, formatIP, parseRange, matchesSelector, canonicalIP, tryParseIP } from '../src/index.js';
import { configError } from './helpers.js';

describe('address parsing', () => {
  it('round-trips IPv4 and IPv6 in canonical form', () => {
    expect(formatIP('ipv4', parseIP('10.1.2.3').value)).toBe('10.1.2.3');
    expect(canonicalIP('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIP('1000:0:0:4::')).toBe('1000:0:0:4::');
    expect(canonicalIP('1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
    expect(canonicalIP('::ffff:1.2.3.4')).toBe('::ffff:102:304');
    expect(canonicalIP('::')).toBe('::');
    expect(parseIP('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').value).toBe((1n << 128n) - 1n);
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '', 'fe80::1%eth0', '1.2.3.4/32']) {
      expect(canonicalIP(bad), bad).toBeUndefined();
    }
  });
  it('the IPv4 fast paths (tryParseIP, canonicalIP) give what net.isIP and cidr-tools give, on valid and near-valid text', () => {
    // a seeded generator: dotted quads and their near misses (leading zeros, 256, missing or extra parts,
    // signs, spaces, other whitespace, IPv4-mapped IPv6)
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const octet = (): string => [String(rnd(256)), '0' + rnd(10), String(250 + rnd(10)), '00', '', '+1', String(rnd(1000))][rnd(10) < 7 ? 0 : 1 + rnd(6)]!;
    const texts = ['0.0.0.0', '255.255.255.255', ' 10.0.0.1 ', '\u00a010.0.0.1', '10.0.0.1\n', '1.2.3.4.5', '1..2.3', '::ffff:10.0.0.1', '1.2.3.4%eth0'];
    for (let i = 0; i < 20_000; i++) {
      const parts = Array.from({ length: rnd(10) < 8 ? 4 : 3 + rnd(3) }, octet);
      texts.push((rnd(10) === 0 ? ' ' : '') + parts.join(rnd(50) === 0 ? ',' : '.'));
    }
    let valid = 0;
    for (const t of texts) {
      const s = t.trim();
      const v = isIP(s);
      const want = v === 0 || s.includes('%') ? undefined : { family: v === 4 ? 'ipv4' : 'ipv6', value: cidrToolsParse(s).start };
      expect(tryParseIP(t), JSON.stringify(t)).toEqual(want);
      // canonicalIP's own IPv4 shortcut agrees with formatting the parsed value
      expect(canonicalIP(t), JSON.stringify(t)).toBe(want ? formatIP(want.family as 'ipv4' | 'ipv6', want.value) : undefined);
      if (want) valid++;
    }
    expect(valid).toBeGreaterThan(5000); // both valid and invalid text were checked
    expect(valid).toBeLessThan(texts.length - 5000);
  });
  it('summarizes ranges into minimal CIDRs with whitespace trimmed', () => {
    expect(parseRange('192.168.1.1 - 192.168.1.6').map((c) => c.text)).toEqual(['192.168.1.1/32', '192.168.1.2/31', '192.168.1.4/31', '192.168.1.6/32']);
    expect(parseRange('10.0.0.0-10.255.255.255').map((c) => c.text)).toEqual(['10.0.0.0/8']);
    expect(parseRange('fd00::-fd00::ffff:ffff:ffff:ffff').map((c) => c.text)).toEqual(['fd00::/64']);
    expect(parseRange('1.2.3.4-1.2.3.4').map((c) => c.text)).toEqual(['1.2.3.4/32']);
  });
});

describe('pool validation errors name pool, field and value', () => {
  it('overlaps in the same and across pools', () => {
    const e = configError(() => parsePools([{ name: 'a', addresses: ['10.0.0.0/24'] }, { name: 'b', addresses: ['10.0.0.128 - 10.0.0.130'] }]));
    expect(e).toMatchObject({ pool: 'b', field: 'addresses', value: '10.0.0.128 - 10.0.0.130' });
    expect(e.message).toContain('"a"');
    expect(e.message).toContain('"10.0.0.0/24"');
    expect(e.message).toContain('overlaps with already defined CIDR');
    const same = configError(() => parsePools([{ name: 'a', addresses: ['fd00::/64', 'fd00::1/128'] }]));
    expect(same).toMatchObject({ pool: 'a', value: 'fd00::1/128' });
    expect(same.message).toContain('"fd00::/64"');
    // IPv4 and IPv6 never overlap, even with equal numeric values
    expect(parsePools([{ name: 'a', addresses: ['0.0.0.0/8', '::/104'] }])[0]!.cidrs.length).toBe(2);
  });
  it('malformed input', () => {
    expect(configError(() => parsePools([{ name: 'p', addresses: ['10.0.0.0/33'] }]))).toMatchObject({ pool: 'p', field: 'addresses', value: '10.0.0.0/33' });
    expect(configError(() => parsePools([{ name: 'p', addresses: ['10.0.0.9-10.0.0.1'] }])).message).toContain('after range end');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['10.0.0.x-10.0.0.1'] }])).value).toBe('10.0.0.x-10.0.0.1');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['10.0.0.1-fd00::1'] }])).pool).toBe('p');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['hello'] }])).value).toBe('hello');
    expect(configError(() => parsePools([{ name: 'p', addresses: [] }])).message).toContain('pool has no prefixes defined');
    expect(configError(() => parsePools([{ name: '', addresses: ['1.2.3.0/24'] }])).field).toBe('name');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['1.0.0.0/24'] }, { name: 'p', addresses: ['2.0.0.0/24'] }])).message).toContain('duplicate');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['1.0.0.0/24'], serviceAllocation: { namespaces: ['a', 'a'] } }])).field).toBe('serviceAllocation.namespaces');
    expect(configError(() => parsePools([{ name: 'p', addresses: ['1.0.0.0/24'], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In' }] }] } }])).field).toBe('serviceAllocation.serviceSelectors');
    expect(configError(() => parsePools([{ name: 'p', addresses: [42 as unknown as string] }])).value).toBe('42');
  });
  it('host bits are masked and namespace selectors resolve through the lookup', () => {
    const [p] = parsePools([{ name: 'p', addresses: ['10.0.0.7/24'], serviceAllocation: { namespaceSelectors: [{ matchLabels: { env: 'prod' } }] } }], {
      namespaceLabels: { a: { env: 'prod' }, b: { env: 'dev' } },
    });
    expect(p!.cidrs[0]!.text).toBe('10.0.0.0/24');
    expect([...p!.serviceAllocation!.namespaces]).toEqual(['a']);
  });
});

describe('label selectors', () => {
  it('matchLabels and matchExpressions are ANDed', () => {
    const l = { app: 'web', tier: 'front' };
    expect(matchesSelector({}, l)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web' } }, l)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'db' } }, l)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, l)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['front'] }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matchesSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] }, l)).toBe(false);
    expect(matchesSelector({ matchLabels: { toString: 'x' } }, {})).toBe(false);
  });
});
