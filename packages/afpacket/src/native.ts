import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Shape of the native socket object exported by `build/Release/afpacket.node`. */
export interface NativeSocket {
  /** Sends a full Ethernet frame; returns bytes sent. */
  send(frame: Buffer): number;
  /** Adds (`add`) or drops a 6-byte multicast MAC membership. */
  membership(mac: Buffer, add: boolean): void;
  /** Stops polling and closes the fd. */
  close(): void;
  /** Keeps the event loop alive. */
  ref(): void;
  /** Lets the event loop exit. */
  unref(): void;
}

/** Constructor of {@link NativeSocket}: `(ifname, protocol, filter, onFrame, onError)`. */
export type NativeSocketCtor = new (
  ifname: string,
  protocol: number,
  filter: Buffer | null,
  onFrame: (frame: Buffer, pkttype: number) => void,
  onError: (message: string) => void,
) => NativeSocket;

let cached: { Socket: NativeSocketCtor } | undefined;

/** Root of this package (same relative location from `src/` and `dist/`). */
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a locally compiled addon (`node-gyp rebuild`); preferred over a prebuilt one when present. */
export const addonPath = fileURLToPath(new URL('../build/Release/afpacket.node', import.meta.url));

/**
 * Loads the native addon through node-gyp-build: a local build (`build/Release`) first, else the prebuilt
 * N-API binary shipped in the package (`prebuilds/<platform>-<arch>/`). Throws a clear error when neither
 * exists for this platform.
 */
export function loadAddon(): { Socket: NativeSocketCtor } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    cached = nodeGypBuild(packageRoot) as { Socket: NativeSocketCtor };
  } catch (e) {
    if (existsSync(addonPath)) throw e; // a build exists but does not load: report the loader's own error
    throw new Error(
      `@lbkit/afpacket: no native addon for ${process.platform}-${process.arch} (no prebuilt binary and ${addonPath} missing); ` +
        `run "cd node_modules/@lbkit/afpacket && npx node-gyp rebuild" (needs python3, make and a C++ compiler): ${(e as Error).message}`,
    );
  }
  return cached;
}
