/** Network layer of @lbkit/memberlist: UDP + TCP transport on real sockets. */
export { NetTransport, setUdpRecvBuffer, UDP_RECV_BUFFER_BYTES, MAX_INBOUND_STREAMS } from './transport.js';
export type { NetTransportOptions, TransportStats, Address, EngineTransport } from './transport.js';
