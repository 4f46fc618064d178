import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkgs = ['afpacket', 'ipam', 'arp', 'ndp', 'bfd', 'bgp', 'memberlist', 'kube-adapter'];
/** Tests and benches import each package's TypeScript source directly, so no build is needed to run them. */
const alias = Object.fromEntries(
  pkgs.map((p) => [`@lbkit/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './test-utils/summary-reporter.ts'],
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/interop/**', '**/node_modules/**'],
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'interop',
          include: ['packages/*/test/interop/**/*.test.ts'],
          // Interop tests start real daemons in network namespaces: run files one at a time, in one worker.
          // (A project's `fileParallelism` is ignored by vitest 3: only the root's counts; `singleFork` is per project.)
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
