/**
 * Gating for tests that need root or a Debian peer: on a laptop they skip with a clear
 * message; under CI (`CI=true`) a missing prerequisite is a failing test, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** What an interop suite needs. Binaries may be names on PATH or absolute paths. */
export interface Needs {
  root?: boolean;
  bins?: string[];
}

function hasBin(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns why the prerequisites are not met, or null when they are. */
export function missingPrerequisites(needs: Needs): string | null {
  const reasons: string[] = [];
  if (needs.root && !isRoot) reasons.push('needs root (network namespaces)');
  const missing = (needs.bins ?? []).filter((b) => !hasBin(b));
  if (missing.length) reasons.push(`missing ${missing.join(', ')} (run as root: npm test installs Debian peers)`);
  return reasons.length ? reasons.join('; ') : null;
}

/**
 * `describe` for an interop suite. Runs when prerequisites are met; otherwise skips with the
 * reason, except under CI where it registers one failing test naming what is missing.
 */
export function describeInterop(name: string, needs: Needs, fn: () => void): void {
  const reason = missingPrerequisites(needs);
  if (!reason) {
    describe(name, fn);
  } else if (isCI) {
    describe(name, () => {
      it('has its prerequisites (CI=true turns a skip into a failure)', () => {
        throw new Error(`${name}: ${reason}`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${reason}]`, fn);
  }
}
