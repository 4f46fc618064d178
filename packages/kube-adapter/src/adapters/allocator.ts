/** Factory for the controller's allocator. */
import type { IpAllocator } from '../allocator.js';
import { IpamAllocator } from './ipam-allocator.js';

/** Creates the allocator used by the controller: the `IpamAllocator` over `@lbkit/ipam`. */
export function createAllocator(): IpAllocator {
  return new IpamAllocator();
}
