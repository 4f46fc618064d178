/** Factory for the controller's allocator. */
import type { IpAllocator } from '../allocator.js';
import { MetalLbAllocator } from '../allocator-impl.js';
import { IpamAllocator } from './ipam-allocator.js';

/**
 * Creates the allocator used by the controller: `@lbkit/ipam` (default) or the in-package
 * `MetalLbAllocator` (same semantics; both pass the MetalLB controller conformance tests).
 */
export function createAllocator(kind: 'ipam' | 'builtin' = 'ipam'): IpAllocator {
  return kind === 'builtin' ? new MetalLbAllocator() : new IpamAllocator();
}
