#!/usr/bin/env node
// Checks the npm packages as a user gets them, not as the monorepo sees them:
//  1. `npm pack` every workspace (runs each package's prepack: tsc -b; afpacket also builds its prebuilt binary)
//     and checks each tarball's contents (dist, types, LICENSE, README; no .tsbuildinfo; afpacket's prebuild);
//  2. installs all tarballs into a scratch project with the C/C++ toolchain hidden (cc, c++, g++, gcc, make and
//     node-gyp fail), so a package that compiles at install time fails here;
//  3. installs kube-adapter without its optional L2 packages and uses the controller/allocator;
//  4. loads every package through require() (CommonJS callers) and import();
//  5. extracts each README block marked `<!-- runnable-example ... -->`, type-checks it against the installed
//     packages' .d.ts with tsc, and runs it (Node 24, which strips TypeScript types natively).
// Exits non-zero on the first failure. Prints `pack-check: N passed, N failed` at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Outside the repository, so that nothing resolves through the monorepo's own node_modules.
const work = mkdtempSync(join(tmpdir(), 'lbkit-pack-check-'));
let passed = 0;
let failed = 0;
const check = (name, fn) => {
  try {
    fn();
    passed++;
    console.error(`[pack-check] ok   ${name}`);
  } catch (e) {
    failed++;
    console.error(`[pack-check] FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
};
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${(r.stderr || '') + (r.stdout || '')}`.slice(0, 4000));
  return r.stdout;
};

const tarballs = join(work, 'tarballs');
mkdirSync(tarballs, { recursive: true });

// 1. pack
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs, ...workspaces.flatMap((w) => ['-w', w])], { cwd: root, env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' } }));
for (const p of packed) {
  check(`${p.name}: tarball contents`, () => {
    const files = p.files.map((f) => f.path);
    const need = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'];
    const missing = need.filter((f) => !files.includes(f));
    if (missing.length) throw new Error(`missing ${missing.join(', ')}`);
    const bad = files.filter((f) => /tsbuildinfo$/.test(f) || f.startsWith('build/') || f.startsWith('test/'));
    if (bad.length) throw new Error(`should not ship ${bad.join(', ')}`);
    if (p.name === '@lbkit/kube-adapter' && !['manifests/crds.yaml', 'manifests/rbac.yaml'].every((f) => files.includes(f)))
      throw new Error('manifests/ (CRDs, RBAC) not packed');
    if (p.name === '@lbkit/kube-adapter' && !files.includes('dist/bundle/lbkitd.js')) throw new Error('the lbkitd bin (dist/bundle/lbkitd.js) not packed');
    if (p.name === '@lbkit/afpacket' && !files.some((f) => /^prebuilds\/linux-x64\/node\.napi\.(glibc|musl)\.node$/.test(f)))
      throw new Error('no prebuilt binary under prebuilds/linux-x64/');
    const pj = JSON.parse(readFileSync(join(root, 'packages', p.name.replace('@lbkit/', ''), 'package.json'), 'utf8'));
    for (const field of ['license', 'repository', 'engines', 'exports']) if (!pj[field]) throw new Error(`package.json has no ${field}`);
  });
}
const tgz = Object.fromEntries(packed.map((p) => [p.name, join(tarballs, p.filename)]));

// A PATH on which every compiler and build tool fails: installs must not need them.
const noTool = join(work, 'no-toolchain');
mkdirSync(noTool, { recursive: true });
for (const t of ['cc', 'c++', 'gcc', 'g++', 'make', 'node-gyp', 'python3', 'python']) {
  writeFileSync(join(noTool, t), `#!/bin/sh\necho "pack-check: ${t} is not available (simulated machine without a toolchain)" >&2\nexit 1\n`);
  chmodSync(join(noTool, t), 0o755);
}
const noToolEnv = { ...process.env, PATH: `${noTool}:${process.env.PATH}`, CC: join(noTool, 'cc'), CXX: join(noTool, 'c++') };
const scratch = (name, deps, extra = []) => {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `lbkit-pack-check-${name}`, private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', ...extra, ...deps.map((d) => tgz[d])], { cwd: dir, env: noToolEnv });
  return dir;
};

// 2. everything, no toolchain
const all = Object.keys(tgz);
let appDir;
check('all packages install without a C/C++ toolchain', () => {
  appDir = scratch('all', all);
});
const nodeRun = (dir, code, node = process.execPath) => run(node, ['--input-type=module', '-e', code], { cwd: dir, env: { ...process.env, NODE_PATH: '' } });
if (appDir) {
  check('@lbkit/afpacket loads its prebuilt binary', () => {
    const out = nodeRun(appDir, "import { loadAddon } from '@lbkit/afpacket'; console.log(typeof loadAddon().Socket)");
    if (out.trim() !== 'function') throw new Error(out);
    if (existsSync(join(appDir, 'node_modules/@lbkit/afpacket/build'))) throw new Error('a build/ folder was created at install');
  });
  for (const name of all) {
    check(`${name}: import() and require()`, () => {
      const out = nodeRun(appDir, `import { createRequire } from 'node:module';
        const esm = await import('${name}'); const cjs = createRequire(import.meta.url)('${name}');
        const keys = Object.keys(esm).filter((k) => k !== 'default');
        if (!keys.length) throw new Error('no exports');
        for (const k of keys) if (!(k in cjs)) throw new Error('require() lacks ' + k);
        console.log(keys.length);`);
      if (!(Number(out) > 0)) throw new Error(out);
    });
  }
  check('lbkitd --help runs from the installed bin', () => {
    const out = run(join(appDir, 'node_modules/.bin/lbkitd'), ['--help'], { cwd: appDir });
    if (!/lbkitd/.test(out)) throw new Error(out);
  });
}

// 3. kube-adapter without the optional L2 packages (e.g. a controller-only install, or a non-Linux machine)
check('@lbkit/kube-adapter works without its optional L2 packages', () => {
  const deps = all.filter((n) => !['@lbkit/arp', '@lbkit/ndp', '@lbkit/afpacket'].includes(n));
  // The L2 tarballs are not given, so npm looks for them on the registry, which has none: optional, so skipped.
  // (Not --omit=optional: that would also drop koffi's own optional prebuilt-binary packages.)
  const dir = scratch('no-l2', deps);
  for (const n of ['arp', 'ndp', 'afpacket']) if (existsSync(join(dir, 'node_modules/@lbkit', n))) throw new Error(`@lbkit/${n} was installed`);
  const out = nodeRun(dir, `import { IpamAllocator, availableBackends } from '@lbkit/kube-adapter';
    const a = new IpamAllocator(); console.log(typeof a, JSON.stringify(await availableBackends()));`);
  if (!/"l2":false/.test(out)) throw new Error(out);
  // the bundled bin carries arp's and ndp's code but imports @lbkit/afpacket, the native addon
  // (packages/kube-adapter/scripts/bundle-lbkitd.mjs): asked for the lbkit L2 backend, it says what to install
  writeFileSync(join(dir, 'node.yaml'), 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n');
  const r = spawnSync(join(dir, 'node_modules/.bin/lbkitd'), ['--config', 'node.yaml', '--node', 'n1', '--mode', 'speaker', '--l2-backend', 'lbkit', '--metrics-port', '0'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0 || !/install the optional packages @lbkit\/arp @lbkit\/ndp @lbkit\/afpacket/.test(r.stderr)) throw new Error(`lbkitd --l2-backend lbkit without the L2 packages: exit ${r.status}\n${r.stderr}`.slice(0, 2000));
});

// 5. README examples
if (appDir) {
  const node24 = run('bash', [join(root, 'scripts/node-matrix.sh'), '--fetch', '24'], { cwd: root }).trim().split('\n').pop();
  const exDir = join(appDir, 'examples');
  mkdirSync(exDir, { recursive: true });
  const examples = [];
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const readme = join(root, 'packages', pkg, 'README.md');
    if (!existsSync(readme)) continue;
    const re = /<!-- runnable-example[^>]*-->\s*```ts\n([\s\S]*?)```/g;
    let m;
    let i = 0;
    while ((m = re.exec(readFileSync(readme, 'utf8')))) {
      const file = join(exDir, `${pkg}-${++i}.ts`);
      writeFileSync(file, m[1]);
      examples.push({ pkg, file });
    }
  }
  writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
      allowImportingTsExtensions: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
    include: ['examples/*.ts'],
  }, null, 2));
  check(`README examples type-check against the packed .d.ts (${examples.length} examples)`, () => {
    if (examples.length < 5) throw new Error(`only ${examples.length} marked examples found`);
    run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: appDir });
  });
  for (const ex of examples) {
    check(`README example runs: ${ex.file.split('/').pop()}`, () => {
      run(node24, ['--no-warnings', ex.file], { cwd: appDir, timeout: 120_000 });
    });
  }
}

if (!failed) rmSync(work, { recursive: true, force: true });
else console.error(`[pack-check] scratch projects kept in ${work}`);
console.log(`\npack-check: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
