/**
 * The one error type the codec's decoders throw: it carries the NOTIFICATION (code, subcode,
 * data) that RFC 4271 §6 / RFC 7606 prescribe for the malformation, so a session can send it as
 * is. Every decoder is total: any input either decodes or raises a {@link NotificationError}.
 */

/** Code, subcode and data of a BGP NOTIFICATION (RFC 4271 §4.5). */
export interface NotificationInfo {
  /** Error code (1 header, 2 OPEN, 3 UPDATE, 4 hold timer, 5 FSM, 6 Cease, 7 ROUTE-REFRESH). */
  code: number;
  /** Error subcode (0 = unspecific). */
  subcode: number;
  /** Data following the code and subcode, if any. */
  data?: Uint8Array;
}

/**
 * A decoding error that ends the session: `notification` is what to send to the peer.
 * `message` names the message and field that was wrong.
 */
export class NotificationError extends Error {
  constructor(
    message: string,
    /** The NOTIFICATION to send. */
    readonly notification: NotificationInfo,
  ) {
    super(message);
    this.name = 'NotificationError';
  }
}

/** Throws a {@link NotificationError}; `data` is attached only when given. */
export function fail(message: string, code: number, subcode: number, data?: Uint8Array): never {
  throw new NotificationError(message, data ? { code, subcode, data: Uint8Array.from(data) } : { code, subcode });
}

/**
 * Thrown by encoders when a message object cannot be encoded (a field out of range); never
 * thrown by a decoder.
 */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** Throws an {@link EncodeError} naming the object and field. */
export function badField(message: string): never {
  throw new EncodeError(message);
}
