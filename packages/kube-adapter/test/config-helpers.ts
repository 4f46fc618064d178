/** Shared by the configuration tests: the errors a parse reports, and metallb.io object builders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, expect } from 'vitest';
import { ConfigErrors } from '../src/errors.js';
import type { BGPAdvertisement, BGPPeer } from '../src/types.js';
import { NS } from './helpers.js';

/** The messages of the {@link ConfigErrors} `fn` throws (fails the test when it throws nothing or something else). */
export function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigErrors);
    return (e as ConfigErrors).errors.map((x) => x.message);
  }
  throw new Error('expected a ConfigErrors');
}

/** A BGPPeer in {@link NS}. */
export const peer = (name: string, spec: BGPPeer['spec']): BGPPeer => ({ kind: 'BGPPeer', metadata: { name, namespace: NS }, spec });

/** A BGPAdvertisement in {@link NS}. */
export const bgpAd = (name: string, spec: BGPAdvertisement['spec']): BGPAdvertisement => ({ kind: 'BGPAdvertisement', metadata: { name, namespace: NS }, spec });

/**
 * Fresh temporary directories (`prefix` + random), each removed after the test that made it. Call
 * at the top of a test file; returns the maker.
 */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** A KubeConfig for an in-test API server (plain HTTP, a static token). */
export function kubeconfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'fake', server, skipTLSVerify: true }], users: [{ name: 'u', token: 'test-token' }], contexts: [{ name: 'ctx', cluster: 'fake', user: 'u' }], currentContext: 'ctx' });
  return kc;
}
