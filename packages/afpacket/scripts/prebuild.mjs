#!/usr/bin/env node
// Builds the addon with node-gyp and copies it to prebuilds/<platform>-<arch>/node.napi.<libc>.node, where
// node-gyp-build finds it at install and load time (N-API: one binary serves every Node version >= the
// NAPI_VERSION in binding.gyp). Run by `npm pack` (prepack), so published tarballs install without a toolchain.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.platform !== 'linux') {
  console.error('@lbkit/afpacket prebuild: AF_PACKET is Linux-only; nothing to build');
  process.exit(0);
}
const gyp = spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild'], {
  cwd: root,
  stdio: ['ignore', process.stderr, 'inherit'], // stdout stays clean for `npm pack --json`
  env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
});
if (gyp.status !== 0) process.exit(gyp.status ?? 1);
// glibc unless the running Node reports musl (no glibcVersionRuntime in its header).
const libc = process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
copyFileSync(join(root, 'build', 'Release', 'afpacket.node'), join(dir, `node.napi.${libc}.node`));
console.error(`@lbkit/afpacket prebuild: ${join(dir, `node.napi.${libc}.node`)}`);
