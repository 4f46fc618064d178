/**
 * @packageDocumentation BFD (RFC 5880/5881/5883) for lbkit: a pure control-packet codec with
 * authentication, the session state machine without I/O, and a UDP manager running many sessions
 * over a few sockets and one timer, with the echo function on an AF_PACKET socket.
 */
export * as codec from './codec/index.js';
export { State, Diag, AuthType, STATE_NAMES, DIAG_NAMES, PORT_SINGLE_HOP, PORT_MULTIHOP, PORT_ECHO, BFD_VERSION } from './codec/constants.js';
export { encode, decode, encodingLength, BfdDecodeError, type ControlPacket, type AuthSection } from './codec/control.js';
export { encodeSigned, verifyAuth, sequenceOk, type AuthKey } from './codec/auth.js';
export { encodeEchoPayload, decodeEchoPayload, buildEchoFrame, parseEchoFrame, ECHO_FRAME_LENGTH, ECHO_PAYLOAD_LENGTH, type EchoPayload, type EchoFrameSpec, type ParsedEchoFrame } from './codec/echo.js';
export { TimerQueue, type TimerEntry } from './timer-queue.js';
export { ECHO_FILTER, echoRoute, neighbourMac } from './echo-port.js';
export { BfdFsm, type FsmOptions, type Transition, type ReceiveResult } from './fsm.js';
export { BfdSession, sessionKey, type SessionConfig, type SessionStatus, type SessionStats } from './session.js';
export { BfdManager, type ManagerOptions, type ManagerEvents, type ManagerStats, type StateEvent } from './manager.js';
export { attachTtlFilter, ttlProgram, socketFd } from './ttl-filter.js';
