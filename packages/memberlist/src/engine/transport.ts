/**
 * What the engine needs from a network: unreliable packets carrying (compound) messages and a
 * reliable request/response exchange for push/pull and the TCP fallback ping. Callback-based so
 * the same engine runs on a virtual clock without promises.
 */
import type { Message, PingMsg, PushPull } from './messages.js';

/** A peer address. */
export interface Address {
  addr: string;
  port: number;
}

/** Packet + stream transport used by {@link Memberlist}. */
export interface EngineTransport {
  /** Sends messages to `to` in one packet (a compound when several). `toNode` is the name, if known. */
  sendPacket(to: Address, msgs: Message[], toNode?: string): void;
  /** Registers the handler for received packets (already split into messages). */
  onPacket(handler: (from: Address, msgs: Message[]) => void): void;
  /** Push/pull with `to`: sends our state, calls back with the peer's state or an error. */
  pushPull(to: Address, req: PushPull, timeoutMs: number, cb: (err: Error | null, res?: PushPull) => void): void;
  /** Registers the server side of push/pull: must return our state synchronously. */
  onPushPull(handler: (from: Address, req: PushPull) => PushPull): void;
  /** Optional TCP fallback ping: calls back true when the peer acked before the deadline. */
  tcpPing?(to: Address, ping: PingMsg, timeoutMs: number, cb: (ok: boolean) => void): void;
  /** Releases sockets; no callbacks after this. */
  close(): void;
}

/** `"addr:port"` key of an address. */
export function addrKey(a: Address): string {
  return `${a.addr}:${a.port}`;
}
