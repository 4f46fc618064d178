/** Network layer of @lbkit/memberlist: UDP + TCP transport on real sockets. */
export { NetTransport } from './transport.js';
export type { NetTransportOptions, TransportStats, Address, EngineTransport } from './transport.js';
