/** The worked examples in examples/own-controller (docs/build-your-own-controller.md) run and do what the doc says. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './interop/cluster.js';

const DIR = join(__dirname, '..', '..', '..', 'examples', 'own-controller');
const run = (file: string, args: string[] = []) => spawnSync(process.execPath, [join(DIR, file), ...args], { encoding: 'utf8', timeout: 30_000 });

describe('examples/own-controller', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('bgp-lb.mjs: ipam allocates, bgp announces to a real @lbkit/bgp router on loopback, a delete withdraws', () => {
    const r = run('bgp-lb.mjs');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('controller: default/web → 198.51.100.0, 2001:db8:100:: (pool public)');
    expect(lines).toContain('controller: default/db → 198.51.100.1 (pool public)');
    const routerLines = lines.filter((l) => l.startsWith('router:'));
    expect(routerLines.filter((l) => l.startsWith('router: +')).sort()).toEqual(['router: + 198.51.100.0/32 via AS path [64513]', 'router: + 198.51.100.1/32 via AS path [64513]', 'router: + 2001:db8:100::/128 via AS path [64513]']);
    // the withdraw comes after the announcement, and only for db
    expect(routerLines.filter((l) => l.startsWith('router: -'))).toEqual(['router: - 198.51.100.1/32']);
    expect(lines.indexOf('router: - 198.51.100.1/32')).toBeGreaterThan(lines.indexOf('router: + 198.51.100.1/32 via AS path [64513]'));
    expect(lines[lines.length - 1]).toBe('done');
  }, 60_000);

  it('custom-announcer.mjs: every node advertises the BGP service; exactly one node wins the L2 service', () => {
    const r = run('custom-announcer.mjs', [join(DIR, '..', 'demo.yaml'), 'node1,node2,node3']);
    expect(r.status, r.stderr).toBe(0);
    let l2Winners = 0;
    for (const node of ['node1', 'node2', 'node3']) {
      expect(r.stdout).toContain(`[${node}] bgp: peer tor 10.77.0.1 AS64512 (local AS64513): 10.96.10.0/32 [64512:100]`);
      expect(r.stdout).toContain(`[${node}] service default/api: 10.96.10.0`);
      expect(r.stdout).toContain(`[${node}] service default/web: 10.77.0.200`);
      if (r.stdout.includes(`[${node}] l2: answer ARP/NDP for 10.77.0.200 on eth0`)) l2Winners++;
    }
    expect(l2Winners).toBe(1);
  }, 60_000);
});
