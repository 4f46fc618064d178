#!/usr/bin/env node
// Bundles the compiled daemon (dist/cli/lbkitd.js, from `tsc -b`) into dist/bundle/: the `lbkitd` bin and the
// image's entrypoint. One module graph instead of ~100 files cuts ESM resolution and loading: about 9 % of a
// speaker's CPU at the 5000-VIP start (docs/benchmarks.md, l2-lbkitd-scale).
//  - dist/bundle/ sits at the depth of dist/cli/, so the package-relative paths the daemon reads through
//    import.meta.url (package.json for --version, manifests/crds.yaml) are the same from either;
//  - kept as imports (not bundled): packages loaded by path from their own folder (@lbkit/memberlist starts
//    its worker from its dist/; @lbkit/afpacket loads its native addon, and is the optional L2 package whose
//    absence gives importL2's "install the optional packages" error), and what is loaded lazily anyway
//    (prom-client, ajv, @kubernetes/client-node, and koffi, which @lbkit/bgp, bfd and ndp require at run time:
//    from the bundle it resolves from kube-adapter's folder up, so kube-adapter depends on koffi itself);
//  - bundled: kube-adapter, its hard dependencies (@lbkit/ipam, bgp, bfd, pino, js-yaml, eventemitter3) and
//    the L2 protocol code of @lbkit/arp and @lbkit/ndp (in the L2 backend's chunk);
//  - code splitting: the dynamic imports of one mode (the Kubernetes source, the BGP and L2 backends) stay
//    separate chunks, loaded only when used; not minified, names kept (stack traces stay readable).
// Usage: node scripts/bundle-lbkitd.mjs   (from packages/kube-adapter or anywhere; needs esbuild, a devDependency)
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const EXTERNAL = ['@lbkit/memberlist', '@lbkit/afpacket', 'prom-client', 'ajv', 'koffi', '@kubernetes/client-node'];

const outdir = `${pkg}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: pkg,
  entryPoints: { lbkitd: 'dist/cli/lbkitd.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // the CommonJS packages inside (pino and its helpers) require Node's built-ins: give every output a require
  banner: { js: "import { createRequire as __lbkitCreateRequire } from 'node:module'; const require = __lbkitCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
