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

/** Diagnostic codes (RFC 5880 §4.1): the values 0–8, in the RFC's order. */
export enum Diag {
  None,
  ControlDetectionTimeExpired,
  EchoFunctionFailed,
  NeighborSignaledSessionDown,
  ForwardingPlaneReset,
  PathDown,
  ConcatenatedPathDown,
  AdministrativelyDown,
  ReverseConcatenatedPathDown,
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

/** Readable state names (the {@link State} member names). */
export const STATE_NAMES: Record<State, string> = { 0: State[0], 1: State[1], 2: State[2], 3: State[3] };

/** Readable diagnostic names, from the {@link Diag} member names ("Control Detection Time Expired"). */
export const DIAG_NAMES: Record<number, string> = Object.fromEntries(
  Object.values(Diag)
    .filter((v): v is Diag => typeof v === 'number')
    .map((v) => [v, v === Diag.None ? 'No Diagnostic' : Diag[v].replace(/(?<=[a-z])(?=[A-Z])/g, ' ')]),
);
