/**
 * The repository's Dockerfile, checked without a container builder (no registry is reachable from
 * CI, so no base image can be pulled): every COPY source exists in the build context left after
 * .dockerignore, `npm ci` and `tsc -b` find what they need there, stages and the entrypoint line
 * up, and the entrypoint (the built lbkitd) runs. The image itself is built by
 * scripts/build-image.sh (mmdebstrap base + buildah bud, then --version and --check inside the
 * image); that build is not part of CI (minutes, root, Debian's buildah) — here only its agreement
 * with the Dockerfile is checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './interop/cluster.js';

const ROOT = join(__dirname, '..', '..', '..');

interface Instr {
  op: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i]!;
    if (/^\s*(#|$)/.test(l)) continue;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + ' ' + lines[++i]!.replace(/^\s*#.*$/, '');
    const m = /^\s*(\w+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

/** `.dockerignore` patterns as a matcher on context-relative paths (Go filepath.Match + `**`, `!` exceptions). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const neg = l.startsWith('!');
      const p = (neg ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = p
        .split('/')
        .map((seg) => (seg === '**' ? '(?:.*/)?' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '/'))
        .join('')
        .replace(/\/$/, '');
      return { neg, re: new RegExp(`^${re.replace(/\(\?:\.\*\/\)\?$/, '.*')}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.neg;
    return ignored;
  };
}

/** Files of the build context below `dir` (context-relative), after .dockerignore. */
function contextFiles(dir: string, ignored: (p: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      const rel = relative(ROOT, abs);
      if (ignored(rel)) continue;
      if (e.isDirectory()) walk(abs);
      else out.push(rel);
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  else if (!ignored(relative(ROOT, dir))) out.push(relative(ROOT, dir));
  return out;
}

const instrs = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;

/** Stages in order, with their instructions. */
function stages() {
  const out: Array<{ name: string; base: string; body: Instr[] }> = [];
  for (const i of instrs) {
    if (i.op === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)!;
      out.push({ base: m[1]!, name: m[2] ?? String(out.length), body: [] });
    } else if (out.length) out[out.length - 1]!.body.push(i);
  }
  return out;
}

const copyArgs = (i: Instr) => {
  const words = i.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice(7);
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from, srcs: rest.slice(0, -1), dest: rest[rest.length - 1]! };
};

describe('Dockerfile', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('.dockerignore matcher behaves like Docker on the patterns used', () => {
    expect(ignored('node_modules')).toBe(true);
    expect(ignored('packages/afpacket/node_modules/x')).toBe(true);
    expect(ignored('packages/kube-adapter/dist/cli/lbkitd.js')).toBe(true);
    expect(ignored('packages/kube-adapter/test/chart.test.ts')).toBe(true);
    expect(ignored('packages/kube-adapter/src/cli/lbkitd.ts')).toBe(false);
    expect(ignored('packages/kube-adapter/manifests/crds.yaml')).toBe(false);
    expect(ignored('.git')).toBe(true);
  });

  it('multi-stage: a build stage and a runtime stage on the same NODE_IMAGE; COPY --from names an earlier stage', () => {
    const st = stages();
    expect(st.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(st.every((s) => s.base === '${NODE_IMAGE}')).toBe(true);
    expect(instrs.find((i) => i.op === 'ARG')?.args).toMatch(/^NODE_IMAGE=\S+/);
    st.forEach((s, n) => {
      for (const i of s.body.filter((x) => x.op === 'COPY')) {
        const { from } = copyArgs(i);
        if (from !== undefined) expect(st.slice(0, n).map((x) => x.name), `line ${i.line}`).toContain(from);
      }
    });
    // the runtime runs as non-root and exposes lbkitd's metrics and memberlist ports
    const rt = st[1]!.body;
    expect(rt.find((i) => i.op === 'USER')?.args).toBe('65534:65534');
    expect(rt.find((i) => i.op === 'EXPOSE')?.args.split(/\s+/)).toEqual(['7472', '7946/tcp', '7946/udp']);
  });

  it('every context COPY source exists after .dockerignore, and npm ci + tsc -b find what they need', () => {
    const copied = new Set<string>();
    for (const i of stages()[0]!.body.filter((x) => x.op === 'COPY')) {
      const { from, srcs } = copyArgs(i);
      expect(from).toBeUndefined();
      for (const s of srcs) {
        const abs = join(ROOT, s);
        expect(existsSync(abs), `COPY ${s} (line ${i.line})`).toBe(true);
        const files = contextFiles(abs, ignored);
        expect(files.length, `COPY ${s}: everything excluded by .dockerignore`).toBeGreaterThan(0);
        for (const f of files) copied.add(f);
      }
    }
    expect(copied.has('package-lock.json')).toBe(true);
    for (const w of workspaces) {
      expect(copied.has(`${w}/package.json`), `${w}/package.json (npm ci)`).toBe(true);
      const ts = JSON.parse(readFileSync(join(ROOT, w, 'tsconfig.json'), 'utf8')) as { extends?: string; include?: string[] };
      expect(copied.has(`${w}/tsconfig.json`), `${w}/tsconfig.json (tsc -b)`).toBe(true);
      for (const inc of ts.include ?? []) expect([...copied].some((f) => f.startsWith(`${w}/${inc}/`)), `${w}/${inc} (tsc include)`).toBe(true);
      if (ts.extends) expect(copied.has(relative(ROOT, join(ROOT, w, ts.extends))), `${w}: extends ${ts.extends}`).toBe(true);
    }
    expect(copied.has('packages/afpacket/binding.gyp')).toBe(true);
    expect([...copied].some((f) => f.startsWith('packages/afpacket/src/') && f.endsWith('.cc'))).toBe(true);
    // runtime data lbkitd reads (CRD schemas) travel with the package
    expect(copied.has('packages/kube-adapter/manifests/crds.yaml')).toBe(true);
    // nothing prebuilt from this machine leaks into the image
    expect([...copied].filter((f) => /(^|\/)(node_modules|dist|build)\//.test(f))).toEqual([]);
  });

  it('scripts/build-image.sh parses, passes only build args the Dockerfile declares, and the proxy CA never reaches the runtime image', () => {
    const script = join(ROOT, 'scripts', 'build-image.sh');
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const text = readFileSync(script, 'utf8');
    const passed = [...text.matchAll(/--build-arg[ =]"?([A-Z_]+)=/g)].map((m) => m[1]!);
    expect(passed.sort()).toEqual(['NODE_EXTRA_CA_CERTS', 'NODE_IMAGE']);
    const [build, runtime] = stages();
    const declared = new Set([...instrs.filter((i) => i.op === 'ARG' && instrs.indexOf(i) < instrs.findIndex((x) => x.op === 'FROM')), ...build!.body.filter((i) => i.op === 'ARG')].map((i) => i.args.split('=')[0]!));
    for (const a of passed) expect(declared, `--build-arg ${a}`).toContain(a);
    // an ARG of the build stage only: not in the runtime stage, never an ENV
    expect(runtime!.body.some((i) => /NODE_EXTRA_CA_CERTS/.test(i.args))).toBe(false);
    expect(instrs.some((i) => i.op === 'ENV' && /NODE_EXTRA_CA_CERTS/.test(i.args))).toBe(false);
    // the checks it runs in the image are lbkitd's real flags
    expect(text).toContain('run --version');
    expect(text).toContain('run --check --config /tmp/demo.yaml');
  });

  it('the entrypoint is the compiled lbkitd the build stage produces, and it runs', () => {
    const [build, runtime] = stages();
    const run = build!.body.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(run).toContain('npm ci');
    expect(run).toContain('npx tsc -b packages/kube-adapter');
    // the compiled daemon is bundled (scripts/bundle-lbkitd.mjs) before the dev dependencies (esbuild) are pruned
    expect(run).toMatch(/npx tsc -b packages\/kube-adapter[^]*node packages\/kube-adapter\/scripts\/bundle-lbkitd\.mjs[^]*npm prune --omit=dev/);
    expect(run).toContain('node packages/kube-adapter/dist/bundle/lbkitd.js --version');
    const ep = JSON.parse(runtime!.body.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(ep[0]).toBe('node');
    // /app/packages ← build:/src/packages ← context packages/
    const workdir = runtime!.body.find((i) => i.op === 'WORKDIR')!.args;
    const pk = runtime!.body.map((i) => (i.op === 'COPY' ? copyArgs(i) : undefined)).find((c) => c?.srcs[0] === '/src/packages')!;
    const dest = join(workdir, pk.dest);
    expect(ep[1]!.startsWith(dest + '/')).toBe(true);
    const inRepo = join(ROOT, 'packages', relative(dest, ep[1]!));
    expect(inRepo).toBe(join(ROOT, 'packages', 'kube-adapter', 'dist', 'bundle', 'lbkitd.js'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', 'kube-adapter', 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    expect(join(ROOT, 'packages', 'kube-adapter', pkg.bin.lbkitd!)).toBe(inRepo);
    const v = spawnSync(process.execPath, [inRepo, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(v.stdout).toBe(`lbkitd ${pkg.version}\n`);
    // CMD --help: the image run bare prints usage and exits 0
    const cmd = JSON.parse(runtime!.body.find((i) => i.op === 'CMD')!.args) as string[];
    const h = spawnSync(process.execPath, [inRepo, ...cmd], { encoding: 'utf8', timeout: 20_000 });
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('Usage:');
  });
});
