/**
 * File mode with a config mounted from a ConfigMap: kubelet never writes the file; it writes a new
 * timestamped directory and atomically swaps the `..data` symlink the file points through. The
 * source must reload on that swap (and only when the content changed).
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { YamlFileSource } from '../src/source/yaml.js';
import type { Snapshot } from '../src/types.js';
import { tempDirs } from './config-helpers.js';
import { until } from './helpers.js';

const pool = (name: string, cidr: string) => `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: ${name}}\nspec: {addresses: ["${cidr}"]}\n`;

/** Lays out a ConfigMap volume the way kubelet's atomic writer does. */
class ConfigMapVolume {
  private gen = 0;
  private current: string | undefined;
  constructor(readonly dir: string) {}
  /** Writes a new generation and swaps `..data` to it; the previous generation is removed. */
  publish(files: Record<string, string>): void {
    const ts = `..2026_12_03_00_00_${String(++this.gen).padStart(2, '0')}.${process.pid}`;
    mkdirSync(join(this.dir, ts));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, ts, name), text);
    symlinkSync(ts, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(this.dir, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    if (this.current) rmSync(join(this.dir, this.current), { recursive: true });
    this.current = ts;
  }
}

const sources: YamlFileSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
});
const tmp = tempDirs('kube-cm-');


describe('YamlFileSource on a ConfigMap volume', () => {
  it('reloads when kubelet swaps the ..data symlink, and reports a bad new config while keeping the old one', async () => {
    const d = tmp();
    const vol = new ConfigMapVolume(d);
    vol.publish({ 'config.yaml': pool('p1', '10.0.0.0/30') });
    const src = new YamlFileSource(join(d, 'config.yaml'), { debounceMs: 20 });
    sources.push(src);
    const changes: Snapshot[] = [];
    const errors: Error[] = [];
    src.onChange((s) => changes.push(s));
    src.onError((e) => errors.push(e));
    await src.start();
    expect(src.snapshot().pools.map((p) => p.metadata!.name)).toEqual(['p1']);

    vol.publish({ 'config.yaml': pool('p2', '10.0.1.0/30') });
    await until(() => changes.length > 0, 5000, 'a change event');
    expect(src.snapshot().pools.map((p) => p.metadata!.name)).toEqual(['p2']);
    expect((src.snapshot().pools[0]!.spec as { addresses: string[] }).addresses).toEqual(['10.0.1.0/30']);

    // an update that changes another key of the ConfigMap only: same content, no change event
    const before = changes.length;
    vol.publish({ 'config.yaml': pool('p2', '10.0.1.0/30'), 'other.txt': 'x' });
    await new Promise((r) => setTimeout(r, 300));
    expect(changes.length).toBe(before);

    // a broken config: error reported, last good state kept
    vol.publish({ 'config.yaml': 'kind: IPAddressPool\nmetadata: {name: [\n' });
    await until(() => errors.length > 0, 5000, 'an error event');
    expect(errors[0]!.message).toContain('YAML syntax error');
    expect(src.snapshot().pools.map((p) => p.metadata!.name)).toEqual(['p2']);

    vol.publish({ 'config.yaml': pool('p3', '10.0.2.0/30') });
    await until(() => src.snapshot().pools[0]?.metadata?.name === 'p3', 5000, 'pool p3');
  });

  it('still reloads a plain file replaced with mv, and ignores unrelated files in the directory', async () => {
    const d = tmp();
    const f = join(d, 'c.yaml');
    writeFileSync(f, pool('a', '10.0.0.0/30'));
    const src = new YamlFileSource(f, { debounceMs: 20 });
    sources.push(src);
    let n = 0;
    src.onChange(() => n++);
    await src.start();
    writeFileSync(join(d, 'unrelated.yaml'), pool('zz', '10.9.0.0/30'));
    await new Promise((r) => setTimeout(r, 200));
    expect(n).toBe(0);
    writeFileSync(join(d, 'c.yaml.new'), pool('b', '10.0.0.4/30'));
    renameSync(join(d, 'c.yaml.new'), f);
    await until(() => src.snapshot().pools[0]?.metadata?.name === 'b', 5000, 'pool b');
    expect(n).toBe(1);
  });
});
