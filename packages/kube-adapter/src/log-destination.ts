/**
 * Where the JSON logger writes (stderr by default): lines are batched and written asynchronously,
 * so a slow reader never stalls the event loop; what is still queued at exit is written
 * synchronously, so nothing logged before `process.exit` is lost; and a reader that went away ends
 * the logging instead of being retried.
 *
 * pino's own destination (sonic-boom 4) retries a failed synchronous write every 100 ms for ever
 * when the error is not EAGAIN: with the reader of stderr gone (EPIPE) and two lines queued at exit,
 * the process never exited (`lbkitd … 2>&1 | head`, then SIGTERM).
 */
import { write, writeSync } from 'node:fs';

/** How long the exit flush keeps retrying a full pipe (EAGAIN) before it gives up. */
const EXIT_FLUSH_MS = 2000;

/** A pino destination on a file descriptor (see the module comment). */
export class LogDestination {
  private queued: string[] = [];
  /** the batch being written asynchronously, and how much of it is written */
  private inflight: Buffer | undefined;
  private offset = 0;
  private broken = false;
  /** Lines dropped since the reader went away. */
  dropped = 0;

  /**
   * @param fd the file descriptor (default 2, stderr)
   * @param flushAtExit write what is queued when the process exits (default true)
   */
  constructor(
    private readonly fd = 2,
    flushAtExit = true,
  ) {
    if (flushAtExit) process.on('exit', () => this.flushSync());
  }

  /** Queues one line (pino's stream interface); a write is started when none is running. */
  write(line: string): boolean {
    if (this.broken) {
      this.dropped++;
      return false;
    }
    this.queued.push(line);
    if (!this.inflight) this.next();
    return true;
  }

  private next(): void {
    this.inflight = Buffer.from(this.queued.join(''));
    this.queued = [];
    this.offset = 0;
    this.writeInflight();
  }

  private writeInflight(): void {
    const buf = this.inflight!;
    write(this.fd, buf, this.offset, buf.length - this.offset, null, (err, n) => {
      if (err) {
        if (err.code === 'EAGAIN') setTimeout(() => this.writeInflight(), 10);
        else this.fail();
        return;
      }
      this.offset += n;
      if (this.offset < buf.length) return this.writeInflight();
      this.inflight = undefined;
      if (this.queued.length > 0) this.next();
    });
  }

  /** The reader is gone (EPIPE, EBADF…): drop what is queued and every later line. */
  private fail(): void {
    this.broken = true;
    this.dropped += this.queued.length;
    this.queued = [];
    this.inflight = undefined;
  }

  /**
   * Writes what is queued synchronously (at exit: no event loop left). A batch already handed to an
   * asynchronous write is left to it. A full pipe is retried for {@link EXIT_FLUSH_MS} at most; any
   * other error ends the logging.
   */
  flushSync(): void {
    if (this.broken || this.queued.length === 0) return;
    const buf = Buffer.from(this.queued.join(''));
    this.queued = [];
    const deadline = Date.now() + EXIT_FLUSH_MS;
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.fd, buf, off, buf.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) {
          this.fail();
          return;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
}
