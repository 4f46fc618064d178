/**
 * @packageDocumentation
 * @lbkit/bgp: BGP-4 for a bare-metal load balancer. The session layer (RFC 4271 FSM, TCP
 * transport with TCP-MD5 / TTL, multi-peer speaker) is built on the pure message codec, exported
 * as `codec` (encode / decode / encodingLength of every message, path attribute and capability).
 */
export * as codec from './codec/index.js';
export type {
  Capability,
  DecodeOptions,
  EncodeOptions,
  Message,
  NotificationMessage,
  OpenMessage,
  PathAttribute,
  RouteRefreshMessage,
  UpdateMessage,
  KeepaliveMessage,
  AsPathSegment,
  AttributeError,
} from './codec/index.js';
export { NotificationError, EncodeError } from './codec/index.js';
export { BgpSpeaker, resolveCollision } from './speaker.js';
export type {
  Family,
  NotificationEvent,
  PeerOptions,
  PeerStats,
  PeerStatus,
  Route,
  SpeakerEvents,
  SpeakerOptions,
} from './speaker.js';
export { BgpFsm, OPEN_SENT_HOLD_SECONDS } from './session/fsm.js';
export type { BgpState, FsmAction, FsmConfig, FsmEvent, FsmTimer, NotificationInfo, OutMessage } from './session/fsm.js';
export { backoffDelay } from './session/backoff.js';
export type { BackoffOptions } from './session/backoff.js';
export { validateOpen, peerAsnOf } from './session/open-check.js';
export type { OpenInfo } from './session/open-check.js';
export { dial, Listener, setMd5Key, setTtl } from './session/transport.js';
export type { DialOptions } from './session/transport.js';
export type { RouteAttributes, ReceivedRoute, ReceivedUpdate } from './session/update.js';
