/**
 * The `lbkitd` bin is the compiled daemon bundled by scripts/bundle-lbkitd.mjs: what it bundles and
 * what it keeps as imports, and that the bundle runs from its own folder (package-relative files).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, LBKITD, PKG } from './interop/cluster.js';

const BUNDLE = join(PKG, 'dist', 'bundle');
const outputs = (): Array<{ name: string; text: string }> => readdirSync(BUNDLE).filter((f) => f.endsWith('.js')).map((name) => ({ name, text: readFileSync(join(BUNDLE, name), 'utf8') }));

describe('lbkitd bundle', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('keeps as imports exactly the packages loaded from their own folder (memberlist, afpacket) and the lazy ones; inlines none of their files', () => {
    const bare = new Set<string>();
    for (const { text } of outputs())
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["']([^"'.][^"']*)["']/gm)) if (!m[1]!.startsWith('node:')) bare.add(m[1]!);
    // (Node's built-ins, required by the CommonJS parts through the banner's require, are not imports)
    expect([...bare].sort()).toEqual(['@kubernetes/client-node', '@lbkit/afpacket', '@lbkit/memberlist']);
    // esbuild heads each bundled file with its path: none of those packages' files is inside
    const inlined = outputs().flatMap(({ text }) => [...text.matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1]!));
    expect(inlined.some((p) => p.includes('kube-adapter/dist/') || p.startsWith('dist/'))).toBe(true);
    expect(inlined.filter((p) => /(^|\/)(memberlist|afpacket|client-node|prom-client|ajv|koffi)\//.test(p))).toEqual([]);
    // the hard dependencies and the L2 protocol code are inside (one module graph): ipam, bgp, pino, arp, ndp
    for (const dep of ['../ipam/dist/', '../bgp/dist/', 'pino/', '../arp/dist/', '../ndp/dist/']) expect(inlined.some((p) => p.includes(dep)), dep).toBe(true);
    // arp and ndp only in the L2 backend's chunk, which a BGP-only or controller start never loads
    const l2 = outputs().filter(({ text }) => /^\/\/ \.\.\/(arp|ndp)\/dist\//m.test(text)).map((o) => o.name);
    expect(l2.length).toBeGreaterThan(0);
    expect(l2.every((n) => n.startsWith('lbkit-l2-') || n.startsWith('chunk-'))).toBe(true);
    const staticImports = [...readFileSync(LBKITD, 'utf8').matchAll(/^(?:import|export)\b[^;]*?["']\.\/([^"']+)["']/gm)].map((m) => m[1]!);
    expect(staticImports.length).toBeGreaterThan(0);
    expect(l2.filter((n) => n === 'lbkitd.js' || staticImports.includes(n))).toEqual([]);
    // prom-client, ajv and koffi are required lazily through createRequire, as in the unbundled daemon
    const all = outputs().map((o) => o.text).join('\n');
    for (const lazy of ['prom-client', 'ajv', 'koffi']) expect(all).toMatch(new RegExp(`require\\w*\\)?\\(["']${lazy}["']\\)`));
  });

  it('one mode does not load the others: the Kubernetes source, the BGP and L2 backends are chunks of their own', () => {
    const main = readFileSync(LBKITD, 'utf8');
    const dynamic = [...main.matchAll(/import\(\s*["'](\.\/[^"']+)["']\s*\)/g)].map((m) => m[1]!.replace(/-[A-Z0-9]{8}\.js$/, ''));
    for (const chunk of ['./kube', './lbkit-l2', './lbkit-bgp', './gobgp-bgp', './lbkit-membership']) expect(dynamic).toContain(chunk);
  });

  it('runs from its folder: --version reads the package version, --check reads the CRDs from manifests/', () => {
    const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { version: string };
    const v = spawnSync(process.execPath, [LBKITD, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(v.stdout).toBe(`lbkitd ${pkg.version}\n`);
    const c = spawnSync(process.execPath, [LBKITD, '--check', '--config', join(PKG, '..', '..', 'examples', 'demo.yaml')], { encoding: 'utf8', timeout: 20_000 });
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/demo\.yaml: OK \(2 IPAddressPool/);
  });
});
