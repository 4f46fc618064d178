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

/** Absolute path of the compiled addon (same relative location from `src/` and `dist/`). */
export const addonPath = fileURLToPath(new URL('../build/Release/afpacket.node', import.meta.url));

/**
 * Loads the native addon. Throws a clear error when it has not been built
 * (`cd packages/afpacket && npx node-gyp rebuild`).
 */
export function loadAddon(): { Socket: NativeSocketCtor } {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new Error(
      `@lbkit/afpacket: native addon not built (${addonPath} missing); run "cd packages/afpacket && npx node-gyp rebuild"`,
    );
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as { Socket: NativeSocketCtor };
  return cached;
}
