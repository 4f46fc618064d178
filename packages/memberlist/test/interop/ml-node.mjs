// A @lbkit/memberlist node as a process (for tests that put nodes in network namespaces).
// Uses the build output (dist/). Flags: --name N --bind ADDR --port P [--timings lan|fast]
// [--thread worker|main] [--join host:port,...]. Prints JSON lines {t, ev, node, ...} on stdout
// (ev: ready, join, leave, fail, suspect, alive, members, busy). stdin commands, one a line:
// `busy MS` (block the main thread synchronously), `busyloop TOTAL BUSY GAP` (busy BUSY ms, free GAP
// ms, for TOTAL ms), `members`, `join host:port`, `quit`.
import { createInterface } from 'node:readline';
import { createMemberlist, createMemberlistWorker } from '../../dist/index.js';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const out = (o) => process.stdout.write(JSON.stringify({ t: Date.now(), ...o }) + '\n');
const opts = { name: args.name, bindAddr: args.bind, bindPort: Number(args.port ?? 7946), timings: args.timings ?? 'fast' };
let members, join, close, on;
if ((args.thread ?? 'worker') === 'worker') {
  const w = await createMemberlistWorker(opts);
  members = () => w.members();
  join = (s) => w.join(s);
  close = () => w.close();
  on = (ev, f) => w.on(ev, f);
  // when the engine itself saw the event (this thread may be busy when it arrives)
  w.on('engineEvent', (ev, m, at) => out({ ev: `engine:${ev}`, node: m.name, at }));
} else {
  const n = await createMemberlist(opts);
  members = () => n.memberlist.members();
  join = (s) => n.join(s);
  close = async () => n.close();
  on = (ev, f) => n.memberlist.on(ev, f);
}
for (const ev of ['join', 'leave', 'fail', 'suspect', 'alive']) on(ev, (m) => out({ ev, node: m.name }));
out({ ev: 'ready', node: args.name });
if (args.join) await join(args.join.split(',')).catch((e) => out({ ev: 'joinError', error: String(e) }));
createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'busy') {
    const end = performance.now() + Number(arg);
    let x = 0;
    while (performance.now() < end) x = (x + Math.sqrt(x + 1)) % 1e9;
    out({ ev: 'busy', ms: Number(arg), x: x < 0 });
  } else if (cmd === 'busyloop') {
    const [total, on, off] = line.trim().split(/\s+/).slice(1).map(Number);
    const stop = performance.now() + total;
    const spin = () => {
      const end = Math.min(stop, performance.now() + on);
      let x = 0;
      while (performance.now() < end) x = (x + Math.sqrt(x + 1)) % 1e9;
      if (performance.now() < stop) setTimeout(spin, off);
      else out({ ev: 'busyloopDone', total, x: x < 0 });
    };
    spin();
  } else if (cmd === 'members') out({ ev: 'members', members: members().map((m) => m.name).sort() });
  else if (cmd === 'join') await join([arg]).then((n) => out({ ev: 'joined', n }), (e) => out({ ev: 'joinError', error: String(e) }));
  else if (cmd === 'quit') {
    await close();
    process.exit(0);
  }
});
