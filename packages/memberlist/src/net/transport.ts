/**
 * Real-socket transport: one UDP socket and one TCP listener on the same address and port, speaking
 * hashicorp/memberlist's packet and stream formats. Implements the engine's {@link EngineTransport}.
 * Every malformed packet or stream is counted in {@link NetTransport.stats} and dropped (streams get
 * an errResp) — nothing is ever thrown out of a socket event handler.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Address, EngineTransport } from '../engine/transport.js';
import type { Message, PingMsg, PushPull } from '../engine/messages.js';
import { decodePacket, encodePacket, type PacketEncodeOptions, type WireOptions } from '../wire/packet.js';
import { LzwOutputLimitError } from '../wire/lzw.js';
import { encodeStreamMessage, StreamReader, StreamLabelError, type StreamMessage, type StreamReadResult } from '../wire/stream.js';

export type { Address, EngineTransport };

/** Options of {@link NetTransport.create}. */
export interface NetTransportOptions extends WireOptions {
  /** Address to bind (default 127.0.0.1). */
  bindAddr?: string;
  /** Port for both UDP and TCP; 0 (default) picks a free port usable by both. */
  bindPort?: number;
  /** Our node name; a TCP ping addressed to another name is answered with an errResp (as Go does). */
  nodeName?: string;
  /** Compress outgoing packets when smaller and every outgoing stream (Go's EnableCompression, default true). */
  compress?: boolean;
  /** Add a CRC layer to outgoing packets; a function decides per destination node name. Default false. */
  crc?: boolean | ((toNode: string | undefined) => boolean);
  /** Optional receiver of reliable user messages (stream type 8). */
  onUserMessage?: (from: Address, payload: Uint8Array) => void;
  /**
   * Deadline for reading an inbound stream message, from accept to its last byte (Go's TCPTimeout,
   * set once in handleConn; default 10 000 ms). A stream that trickles slower is closed.
   */
  tcpTimeoutMs?: number;
  /** UDP receive buffer to ask for (default 2 MiB, as memberlist); halved until the OS accepts. */
  udpRecvBufferBytes?: number;
}

/** memberlist's udpRecvBufSize (net_transport.go). */
export const UDP_RECV_BUFFER_BYTES = 2 * 1024 * 1024;
/** Inbound streams served at once; more are closed on accept (memberlist's maxPushPullRequests). */
export const MAX_INBOUND_STREAMS = 128;

/**
 * Asks for `bytes` of receive buffer on `udp`, halving on refusal as memberlist's setUDPRecvBuf
 * does; returns the size the kernel reports afterwards (Linux doubles the request and caps it at
 * `net.core.rmem_max`), or 0 when even the smallest request failed.
 */
export function setUdpRecvBuffer(udp: UdpSocket, bytes: number): number {
  for (let size = bytes; size > 0; size = Math.floor(size / 2)) {
    try {
      udp.setRecvBufferSize(size);
      return udp.getRecvBufferSize();
    } catch {
      // refused: try half (quietly, as Go does)
    }
  }
  return 0;
}

/** Counters kept by the transport. */
export interface TransportStats {
  packetsIn: number;
  packetsOut: number;
  /** Packets dropped as a whole (label, decryption, CRC, framing, decompression cap). */
  packetsDropped: number;
  /** Of those, packets whose decompressed size would exceed the cap (LZW bombs). */
  packetsOverDecompressCap: number;
  /** Compound parts or nested messages that failed to decode and were skipped. */
  partsDropped: number;
  streamsIn: number;
  streamsOut: number;
  /** Inbound streams answered with an errResp or closed because they were malformed. */
  streamErrors: number;
  /** Errors thrown by registered handlers (caught). */
  handlerErrors: number;
  /** The last drop reason, for diagnostics. */
  lastError: string;
  /** Inbound streams closed on accept because {@link MAX_INBOUND_STREAMS} were being served. */
  streamsRefused: number;
  /** UDP receive buffer size reported by the kernel after {@link setUdpRecvBuffer} (0 if refused). */
  udpRecvBufferBytes: number;
}

/** UDP + TCP memberlist transport on real sockets. */
export class NetTransport implements EngineTransport {
  /** Counters of traffic and dropped input. */
  readonly stats: TransportStats = {
    packetsIn: 0, packetsOut: 0, packetsDropped: 0, packetsOverDecompressCap: 0, partsDropped: 0, streamsIn: 0, streamsOut: 0, streamErrors: 0,
    handlerErrors: 0, lastError: '', streamsRefused: 0, udpRecvBufferBytes: 0,
  };
  private packetHandler: ((from: Address, msgs: Message[]) => void) | null = null;
  private pushPullHandler: ((from: Address, req: PushPull) => PushPull) | null = null;
  private closed = false;
  private readonly conns = new Set<Socket>();
  private inbound = 0;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    /** The bound address and port (same for UDP and TCP). */
    readonly localAddress: Address,
    private readonly opts: NetTransportOptions,
  ) {
    udp.on('message', (buf, rinfo) => this.ingest(new Uint8Array(buf), { addr: rinfo.address, port: rinfo.port }));
    udp.on('error', (e) => this.fail(`udp: ${e.message}`));
    this.stats.udpRecvBufferBytes = setUdpRecvBuffer(udp, opts.udpRecvBufferBytes ?? UDP_RECV_BUFFER_BYTES);
    tcp.on('connection', (s) => this.serve(s));
    tcp.on('error', (e) => this.fail(`tcp: ${e.message}`));
  }

  /** Binds UDP and TCP on the same port and returns a ready transport. */
  static async create(opts: NetTransportOptions = {}): Promise<NetTransport> {
    const host = opts.bindAddr ?? '127.0.0.1';
    for (let attempt = 0; ; attempt++) {
      const tcp = createServer();
      await new Promise<void>((res, rej) => {
        tcp.once('error', rej);
        tcp.listen(opts.bindPort ?? 0, host, () => res());
      });
      const port = (tcp.address() as { port: number }).port;
      // an IPv6 literal has a colon, a hostname or IPv4 literal none (net.isIPv6's regex costs ~5 ms
      // to compile, a fresh worker's first use)
      const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((res, rej) => {
          udp.once('error', rej);
          udp.bind(port, host, () => res());
        });
      } catch (err) {
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        if (opts.bindPort || attempt > 20) throw err;
        continue;
      }
      udp.removeAllListeners('error');
      tcp.removeAllListeners('error');
      return new NetTransport(udp, tcp, { addr: host, port }, opts);
    }
  }

  private fail(reason: string): void {
    this.stats.lastError = reason;
  }

  private packetOpts(toNode: string | undefined): PacketEncodeOptions {
    const crc = typeof this.opts.crc === 'function' ? this.opts.crc(toNode) : !!this.opts.crc;
    return { ...this.opts, crc, compress: this.opts.compress ?? true };
  }

  /** Sends messages in one UDP packet (a compound when several). */
  sendPacket(to: Address, msgs: Message[], toNode?: string): void {
    if (this.closed || msgs.length === 0) return;
    let buf: Uint8Array;
    try {
      buf = encodePacket(msgs, this.packetOpts(toNode));
    } catch (err) {
      this.fail(`encode: ${(err as Error).message}`);
      return;
    }
    this.sendRaw(to, buf);
  }

  /** Sends already-encoded bytes as one UDP datagram (used by tests and tools). */
  sendRaw(to: Address, buf: Uint8Array): void {
    if (this.closed) return;
    this.stats.packetsOut++;
    this.udp.send(buf, to.port, to.addr, (err) => {
      if (err) this.fail(`udp send: ${err.message}`);
    });
  }

  /** Registers the handler for received packets. */
  onPacket(handler: (from: Address, msgs: Message[]) => void): void {
    this.packetHandler = handler;
  }

  /** Registers the push/pull server handler. */
  onPushPull(handler: (from: Address, req: PushPull) => PushPull): void {
    this.pushPullHandler = handler;
  }

  /** Ingress pipeline for one datagram: label, decrypt, CRC, decompress, compound split. Never throws. */
  ingest(buf: Uint8Array, from: Address): void {
    if (this.closed) return;
    this.stats.packetsIn++;
    let msgs: Message[];
    try {
      const d = decodePacket(buf, this.opts);
      this.stats.partsDropped += d.errors.length;
      if (d.errors.length) this.fail(d.errors[0]!);
      msgs = d.messages;
    } catch (err) {
      this.stats.packetsDropped++;
      if (err instanceof LzwOutputLimitError) this.stats.packetsOverDecompressCap++;
      this.fail((err as Error).message);
      return;
    }
    if (!msgs.length || !this.packetHandler) return;
    try {
      this.packetHandler(from, msgs);
    } catch (err) {
      this.stats.handlerErrors++;
      this.fail(`packet handler: ${(err as Error).message}`);
    }
  }

  private streamOpts() {
    return { ...this.opts, compress: this.opts.compress ?? true };
  }

  /**
   * Reads one stream message from `s` with a {@link StreamReader} (linear in the message size),
   * calling back exactly once: with the message, or an error (malformed, too large, closed early,
   * or not complete within `timeoutMs` of the start — the read deadline).
   */
  private readOne(s: Socket, timeoutMs: number, reply: boolean, cb: (err: Error | null, r?: StreamReadResult) => void): void {
    const reader = new StreamReader({ ...this.opts, reply });
    let done = false;
    const finish = (err: Error | null, r?: StreamReadResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.removeListener('data', onData);
      try {
        cb(err, r);
      } catch (e) {
        this.stats.handlerErrors++;
        this.fail(`stream handler: ${(e as Error).message}`);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`stream: read deadline of ${timeoutMs} ms passed after ${reader.received} bytes`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      try {
        const r = reader.push(chunk);
        if (r) finish(null, r);
      } catch (err) {
        finish(err as Error);
      }
    };
    s.on('data', onData);
    s.once('end', () => finish(new Error('stream: closed before a complete message')));
    s.once('error', (e) => finish(new Error(`stream: ${e.message}`)));
    s.once('close', () => finish(new Error('stream: closed before a complete message')));
  }

  private serve(s: Socket): void {
    if (this.closed) { s.destroy(); return; }
    s.on('error', () => undefined);
    if (this.inbound >= MAX_INBOUND_STREAMS) {
      this.stats.streamsRefused++;
      s.destroy();
      return;
    }
    this.stats.streamsIn++;
    this.inbound++;
    this.conns.add(s);
    s.on('close', () => {
      this.conns.delete(s);
      this.inbound--;
    });
    const from: Address = { addr: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
    this.readOne(s, this.opts.tcpTimeoutMs ?? 10_000, false, (err, res) => {
      // Go answers on the stream without a label header; the stream's label stays the AAD.
      const replyOpts = { ...this.streamOpts(), label: res?.label ?? this.opts.label, labelHeader: false };
      const reply = (m: StreamMessage): void => {
        try {
          s.end(encodeStreamMessage(m, replyOpts));
        } catch (e) {
          this.fail(`stream reply: ${(e as Error).message}`);
          s.destroy();
        }
      };
      const msg = res?.msg;
      if (err || !msg) {
        this.stats.streamErrors++;
        this.fail(err?.message ?? 'stream: no message');
        // A refused label is closed silently, as Go's handleConn does; other errors get an errResp.
        if (err instanceof StreamLabelError) s.destroy();
        else if (!s.destroyed && s.writable) reply({ type: 'err', error: err?.message ?? 'bad stream' });
        else s.destroy();
        return;
      }
      switch (msg.type) {
        case 'pushPull': {
          if (!this.pushPullHandler) return void reply({ type: 'err', error: 'push/pull not supported' });
          let state: PushPull;
          try {
            state = this.pushPullHandler(from, msg.pushPull);
          } catch (e) {
            this.stats.handlerErrors++;
            return void reply({ type: 'err', error: (e as Error).message });
          }
          return void reply({ type: 'pushPull', pushPull: state });
        }
        case 'ping':
          if (this.opts.nodeName && msg.ping.node && msg.ping.node !== this.opts.nodeName) {
            return void reply({ type: 'err', error: `ping for "${msg.ping.node}" received by "${this.opts.nodeName}"` });
          }
          return void reply({ type: 'ack', ack: { type: 'ack', seqNo: msg.ping.seqNo } });
        case 'user':
          s.end();
          try {
            this.opts.onUserMessage?.(from, msg.payload);
          } catch {
            this.stats.handlerErrors++;
          }
          return;
        default:
          this.stats.streamErrors++;
          return void reply({ type: 'err', error: `unexpected stream message ${msg.type}` });
      }
    });
  }

  /** Opens a stream to `to`, sends `msg` and reads one reply message. */
  request(to: Address, msg: StreamMessage, timeoutMs: number, cb: (err: Error | null, reply?: StreamMessage) => void): void {
    if (this.closed) return cb(new Error('transport closed'));
    this.stats.streamsOut++;
    let bytes: Uint8Array;
    try {
      bytes = encodeStreamMessage(msg, this.streamOpts());
    } catch (err) {
      return cb(err as Error);
    }
    const s = connect({ host: to.addr, port: to.port });
    this.conns.add(s);
    s.on('close', () => this.conns.delete(s));
    s.on('error', () => undefined);
    s.write(bytes);
    this.readOne(s, timeoutMs, true, (err, reply) => {
      s.destroy();
      cb(err, reply?.msg);
    });
  }

  /** Push/pull state exchange over TCP (join or anti-entropy). */
  pushPull(to: Address, req: PushPull, timeoutMs: number, cb: (err: Error | null, res?: PushPull) => void): void {
    this.request(to, { type: 'pushPull', pushPull: req }, timeoutMs, (err, reply) => {
      if (err) return cb(err);
      if (reply?.type === 'pushPull') return cb(null, reply.pushPull);
      if (reply?.type === 'err') return cb(new Error(`remote error: ${reply.error}`));
      cb(new Error(`push/pull: unexpected reply ${reply?.type}`));
    });
  }

  /** TCP fallback ping: true when the peer acks `ping.seqNo` before the deadline. */
  tcpPing(to: Address, ping: PingMsg, timeoutMs: number, cb: (ok: boolean) => void): void {
    this.request(to, { type: 'ping', ping }, timeoutMs, (err, reply) => {
      cb(!err && reply?.type === 'ack' && reply.ack.seqNo === ping.seqNo);
    });
  }

  /** Sends a reliable user message (`08 | userMsgHeader | bytes`) over TCP. */
  sendReliable(to: Address, payload: Uint8Array, cb?: (err: Error | null) => void): void {
    if (this.closed) return cb?.(new Error('transport closed'));
    this.stats.streamsOut++;
    const s = connect({ host: to.addr, port: to.port });
    s.on('error', (e) => cb?.(e));
    s.end(encodeStreamMessage({ type: 'user', payload }, this.streamOpts()), () => cb?.(null));
  }

  /** Closes both sockets and open streams; no callbacks afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.packetHandler = null;
    this.pushPullHandler = null;
    for (const c of this.conns) c.destroy();
    try { this.udp.close(); } catch { /* already closed */ }
    this.tcp.close();
  }
}
