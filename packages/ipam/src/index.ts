/**
 * @packageDocumentation
 * `@lbkit/ipam`: IP pool parsing and a MetalLB-compatible allocator (IPv4/IPv6 as bigint, CIDRs and ranges,
 * sharing, dual-stack). Pure, no I/O, never enumerates a pool.
 */
export type * from './types.js';
export { parseIP, tryParseIP, formatIP, formatAddr, canonicalIP, isBuggy, parseCidr, parseRange, parseAddressEntry, summarize, makeCidr, cidrCapacity, saturateInt64, familyBits, addrBytes, addrFromBytes, tryParseIPBytes } from './ip.js';
export { matchesSelector, validateSelector } from './labels.js';
export { IpamConfigError, parsePools, poolCapacity, type ParsePoolsOptions } from './pool.js';
export { Allocator, AllocationError, isPoolCompatible } from './allocator.js';
export { RunSet } from './runs.js';
export { parseV4Number } from './v4.js';
export {
  type KubeServiceLike, ANNOTATION_PREFIX, LEGACY_ANNOTATION_PREFIX, Annotations, metallbAnnotation, deprecatedAnnotationsOf,
  serviceKey, sharingKeyOf, backendKeyOf, poolAnnotationOf, familyOfIPs, serviceFamilyOf, requestedIPsOf, requestedFamilyOf,
  ipFamilyPolicyOf, primaryFamilyOf, descriptorFromService,
} from './service.js';
