/** The version of the installed `@lbkit/kube-adapter` package (what `lbkitd --version` prints). */
import { readFileSync } from 'node:fs';

/** Reads `version` from the package's package.json (two levels up from `src/cli` and `dist/cli`). */
export function lbkitVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
