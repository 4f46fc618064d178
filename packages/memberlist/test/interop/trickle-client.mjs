// Abuse client for go-memberlist-abuse.test.ts, run as a separate process so its work does not
// load the event loop of the node under test. Opens `streams` TCP connections to 127.0.0.1:port
// and trickles the file's bytes into each (`chunk` bytes every `everyMs`), then reports on stdout
// one JSON line per stream: bytes sent, ms taken, whether and when the server answered (first
// reply byte) or closed.
// Usage: node trickle-client.mjs <port> <payload-file> <streams> <chunk> <everyMs>
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';

const [port, file, streams, chunk, everyMs] = process.argv.slice(2);
const payload = readFileSync(file);
const size = Number(chunk);
const t0 = Date.now();

function one(i) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: Number(port) });
    let sent = 0;
    let firstReplyByte = null;
    let replyMs = null;
    let replyBytes = 0;
    const timer = setInterval(() => {
      if (sent >= payload.length || s.destroyed) return clearInterval(timer);
      if (s.writableLength > 4 * size) return; // do not queue: trickle at most what the peer takes
      s.write(payload.subarray(sent, Math.min(payload.length, sent + size)));
      sent = Math.min(payload.length, sent + size);
    }, Number(everyMs));
    s.on('data', (d) => {
      if (firstReplyByte === null) {
        firstReplyByte = d[0];
        replyMs = Date.now() - t0;
      }
      replyBytes += d.length;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ stream: i, sent, ms: Date.now() - t0, firstReplyByte, replyMs, replyBytes });
    });
  });
}

const results = await Promise.all(Array.from({ length: Number(streams) }, (_, i) => one(i)));
for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
