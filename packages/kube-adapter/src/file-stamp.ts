/**
 * A file's identity and last modification (device, inode, size, mtime in ns): equal stamps mean
 * the file was not written in between, without reading it. Only for a settled file: the kernel
 * stamps mtimes from a coarse clock, so a second write a few ms after the first can keep the same
 * mtime; a file last written over a second before it was stamped cannot be (git's "racily clean").
 */
import { statSync } from 'node:fs';

/** See the module comment. */
export interface FileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  /** The file had not been written for over a second when stamped: only then can stamps be compared. */
  settled: boolean;
}

/** The stamp of `path` now, or undefined when it cannot be stat'ed. */
export function fileStamp(path: string): FileStamp | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined;
  const settled = BigInt(Date.now()) * 1_000_000n - st.mtimeNs > 1_000_000_000n;
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, settled };
}

/** Whether the file stamped `before` (settled) is still unmodified, as stamped `now`. */
export function unchangedSince(before: FileStamp | undefined, now: FileStamp | undefined): boolean {
  return !!before?.settled && !!now && before.dev === now.dev && before.ino === now.ino && before.size === now.size && before.mtimeNs === now.mtimeNs;
}
