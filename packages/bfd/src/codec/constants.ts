/** RFC 5880 wire constants. */

/** Protocol version carried in every control packet. */
export const BFD_VERSION = 1;
/** Length of a control packet without an authentication section. */
export const CONTROL_LENGTH = 24;
/** UDP destination port of single-hop control packets (RFC 5881). */
export const PORT_SINGLE_HOP = 3784;
/** UDP destination port of single-hop echo packets (RFC 5881). */
export const PORT_ECHO = 3785;
/** UDP destination port of multihop control packets (RFC 5883). */
export const PORT_MULTIHOP = 4784;
/** First and last UDP source port allowed for control packets (RFC 5881 §4). */
export const SOURCE_PORT_MIN = 49152;
/** Last UDP source port allowed for control packets. */
export const SOURCE_PORT_MAX = 65535;

/** Session states (RFC 5880 §4.1, the Sta field). */
export enum State {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

/** Diagnostic codes (RFC 5880 §4.1). */
export enum Diag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

/** Authentication types (RFC 5880 §4.1). */
export enum AuthType {
  None = 0,
  SimplePassword = 1,
  KeyedMD5 = 2,
  MeticulousKeyedMD5 = 3,
  KeyedSHA1 = 4,
  MeticulousKeyedSHA1 = 5,
}

/** Readable state names. */
export const STATE_NAMES: Record<State, string> = { 0: 'AdminDown', 1: 'Down', 2: 'Init', 3: 'Up' };

/** Readable diagnostic names. */
export const DIAG_NAMES: Record<number, string> = {
  0: 'No Diagnostic',
  1: 'Control Detection Time Expired',
  2: 'Echo Function Failed',
  3: 'Neighbor Signaled Session Down',
  4: 'Forwarding Plane Reset',
  5: 'Path Down',
  6: 'Concatenated Path Down',
  7: 'Administratively Down',
  8: 'Reverse Concatenated Path Down',
};
