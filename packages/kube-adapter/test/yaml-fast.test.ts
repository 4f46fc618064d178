/**
 * The fast YAML path (`src/yaml-fast.ts`) against js-yaml, the parser it stands in for: on every
 * text it accepts it must give exactly js-yaml's values (YAML 1.2 core schema), and everything
 * else (including every text js-yaml rejects) must be handed back (`undefined`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { fastLoadAll } from '../src/yaml-fast.js';
import { loadAllYaml } from '../src/yaml-load.js';
import { seededRandom as rng } from '../../../test-utils/random.js'; // reproducible documents and mutations

const ROOT = join(__dirname, '..', '..', '..');

/** js-yaml's verdict as comparable text: the JSON of the documents, or ERR. */
function reference(text: string): string {
  try {
    return JSON.stringify(jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA }));
  } catch {
    return 'ERR';
  }
}

/** Checks the contract on one text; returns whether the fast path took it. */
function agrees(text: string): boolean {
  const fast = fastLoadAll(text);
  if (fast === undefined) return false;
  expect(JSON.stringify(fast), JSON.stringify(text)).toBe(reference(text));
  return true;
}

const TRICKY_SCALARS = [
  'a', 'node1', '10.96.0.1', 'fd00::1', '2001:db8::/64', '64512:100', 'kubernetes.io/hostname', 'a b', 'a#b', 'a: b', 'a #b', '#x',
  '-1', '+1', '-x', '- x', '0x1F', '0o17', '012', '1_000', '1e3', '.5', '1.0', '.inf', '-.Inf', '.NaN', '~', 'null', 'Null', 'NULL',
  'true', 'True', 'FALSE', 'yes', 'no', 'on', '', ' ', ' lead', 'trail ', "it's", 'say "hi"', 'back\\slash', 'tab\there', 'new\nline',
  'é', '日本', '😀', '\u2028', '[x]', '{x}', 'x,y', '*a', '&a', '!t', '|', '>', '%p', '@x', '`x', '?x', ':x', 'x:', '2026-01-01',
  '9007199254740993', '1:2:3', '0b101', '---', '...', '<<',
];

function randomValue(r: () => number, depth: number): unknown {
  const p = r();
  if (depth > 3 || p < 0.45) {
    const q = r();
    if (q < 0.6) return TRICKY_SCALARS[Math.floor(r() * TRICKY_SCALARS.length)];
    if (q < 0.75) return Math.floor(r() * 100000) - 500;
    if (q < 0.85) return r() < 0.5;
    if (q < 0.9) return null;
    return Math.round(r() * 1e6) / 1000;
  }
  if (p < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[String(TRICKY_SCALARS[Math.floor(r() * TRICKY_SCALARS.length)]) || 'k'] = randomValue(r, depth + 1);
  return o;
}

describe('fast YAML path (agrees with js-yaml or hands the text back)', () => {
  it('edge cases of documents, scalars, flows and indentation', () => {
    const cases = [
      'a: 1\n---\n---\nb: 2', '---\na: 1', 'a: 1\n---\n', 'a: 1\n---', '', '# c\n', '---\n', '--- \na: 1', '--- # c\na: 1', 'a: -', 'a: 0x1F',
      'a: 012', 'a: 1_000', 'a: 1.0', '1.0: x', 'a: [a, b, ]', 'a: {x}', 'a: b # c', 'a: b#c', 'a:\n- 1\n- 2\nb: 3', '  a: 1\n  b: 2', 'a: "x" # c',
      '- - a', 'a: [1, 2', 'a: :x', 'a: ?x', 'a: {"b":1}', 'a: [b: 1]', 'a: 1\n...\n', 'key:\n  value', 'a: 9007199254740993', 'a: .5', 'a: +1',
      'a: 1e3', 'a: 10.96.0.0', '- a:\n  - x\n  b: 1', '- a:\n  b: 1', 'a: "\\u00e9\\x41\\n\\t\\\\\\"\\/\\0\\e\\N\\_\\L\\P\\ "', "a: 'it''s'", 'a: ~', 'a:',
      '"a": 1', '"a" : 1', 'a  : 1', 'true: 1', 'a: 1\na: 2', '__proto__: 1', 'a: {b: }', 'a: {b:1}', 'a: [ "x" , y]', 'a: b\n  c',
      'x:\n  - name: a\n    v: [1, {k: v}]\n  - name: b\n', 'a: [-1, -x, "q"]', 'a: "x"#c', 'a: b:c', 'a: {k: b:c}', '-\n  a: 1\n-\n- x', "a: ''",
      'a: ""', '- ""\n- \'\'', 'a: [[], {}, [[1]]]', 'a: 1 #c\n# c\n  # c\nb: 2', 'a: [fd00::1, "64512:100", 64512:100]', 'a: {x: [1, 2], y: {z: ~}}',
      'a:\n  b:\n    c: 1\n  d: 2\ne: 3', 'a:\n    - 1\n    - 2\n  b: 1', 'a:\n  - 1\n - 2', 'a: 1\n b: 2', 'a:\n\n\n  b: 1\n\n', 'a: [1,\n  2]',
      'a: |\n  x\n', 'a: >-\n  x\n', 'a: &x 1\nb: *x', 'a: !!str 1', '? a\n: b', '[a, b]: c', '{a: 1}: c', 'a: {a: 1, a: 2}', 'a:\tb',
      'a: 1\r\nb: 2\r\n', '\ufeffa: 1', 'a: "\\q"', 'a: "\\x4"', 'a: "unterminated', "a: 'it's'", 'a: b\n---\n- 1\n---\nplain\n', 'plain\n  more',
      '"quoted doc"', '[1, 2]', '- [a, {b: c}]\n- {d: [e]}', 'a: -.5', 'a: - 1', 'a: [- 1]', 'a: [a #c]', 'a: [a#c]', 'k: "a"b', 'x: 1 # c # d',
      '%YAML 1.2\n---\na: 1', 'a: @x', 'a: `x`', 'a: [x]y', '- a: 1\n   b: 2', '- a: 1\n  b: 2\n- c: 3', 'a:\n- b: 1\n  c: [x]\n- d',
    ];
    let fast = 0;
    for (const t of cases) if (agrees(t)) fast++;
    // the common shapes take the fast path; the rest were handed back, not misread
    expect(fast).toBeGreaterThanOrEqual(50);
    expect(fastLoadAll('a:\n- b: 1\n  c: [x, {y: "z"}]\n- d\n')).toEqual([{ a: [{ b: 1, c: ['x', { y: 'z' }] }, 'd'] }]);
  });

  it('every YAML file of the repository: same values, and the config files take the fast path', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.includes('/templates/'));
    expect(files.length).toBeGreaterThan(20);
    const taken: string[] = [];
    for (const f of files) if (agrees(readFileSync(join(ROOT, f), 'utf8'))) taken.push(f);
    for (const f of ['examples/demo.yaml', 'packages/kube-adapter/manifests/speaker.yaml', 'packages/kube-adapter/manifests/rbac.yaml', 'charts/lbkit/values.yaml'])
      expect(taken, f).toContain(f);
    expect(taken.filter((f) => f.includes('metallb-configsamples')).length).toBeGreaterThanOrEqual(16);
  });

  it('random objects written by js-yaml in block and flow style read back identically', () => {
    const r = rng(20261203);
    let fast = 0;
    const N = 1500;
    for (let i = 0; i < N; i++) {
      const docs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ apiVersion: 'v1', kind: 'Service', spec: randomValue(r, 0) }));
      const style = r() < 0.5 ? {} : { flowLevel: 1 + Math.floor(r() * 3) };
      const text = docs.map((d) => jsYaml.dump(d, { ...style, lineWidth: -1 })).join('---\n');
      if (agrees(text)) fast++;
    }
    expect(fast).toBeGreaterThan(N * 0.5);
  });

  it('mutated texts: never a value js-yaml would not give (errors included)', () => {
    const r = rng(7);
    const seeds = [
      readFileSync(join(ROOT, 'examples', 'demo.yaml'), 'utf8'),
      'apiVersion: v1\nkind: Service\nmetadata: { name: s0, namespace: default, annotations: { metallb.io/ip-allocated-from-pool: big } }\nspec: { type: LoadBalancer, ports: [{ port: 80, protocol: TCP }] }\nstatus: { loadBalancer: { ingress: [{ ip: 10.78.0.1 }] } }\n---\nkind: X\nendpoints: [{ addresses: [10.244.1.2], nodeName: node1, conditions: { ready: true } }]\n',
      'a:\n  - name: "x y"\n    v: \'q\'\n  - [1, -2, "3"]\nb:\n- c: ~\n  d: fd00::1 # c\n',
    ];
    const palette = [' ', '  ', ':', ': ', '-', '- ', '#', ' #', '\n', '\n  ', '"', "'", '[', ']', '{', '}', ',', 'a', '1', '\\', '---\n', '~', '.', '?', '&', '*', '!', '|', '>'];
    let fast = 0;
    let checked = 0;
    for (let i = 0; i < 4000; i++) {
      let t = seeds[i % seeds.length]!;
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
        const at = Math.floor(r() * t.length);
        const cut = Math.floor(r() * 3);
        t = t.slice(0, at) + (r() < 0.8 ? palette[Math.floor(r() * palette.length)] : '') + t.slice(at + cut);
      }
      checked++;
      if (agrees(t)) fast++;
    }
    expect(checked).toBe(4000);
    // many mutants are still valid YAML in the subset, and they were parsed, not just handed back
    expect(fast).toBeGreaterThan(500);
  });

  it('loadAllYaml takes the fast path for Kubernetes YAML and js-yaml for the rest, with the same errors', () => {
    expect(loadAllYaml('metadata: { name: a }\nspec:\n  ports: [{ port: 80 }]\n')).toEqual([{ metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } }]);
    expect(loadAllYaml('a: |\n  line\n')).toEqual([{ a: 'line\n' }]);
    expect(() => loadAllYaml('a: 1\na: 2\n')).toThrow(/duplicated mapping key.*line 2/);
  });
});
