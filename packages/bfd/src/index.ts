/** @packageDocumentation BFD (RFC 5880/5881/5883) for lbkit. */
export const BFD_VERSION = 1;
