// Interop fixture: runs an NdpSpeaker over an AF_PACKET socket inside a namespace, driven by stdin lines
// ("announce IP", "withdraw IP", "stats", "quit"); answers one line per command on stdout.
// argv: IFNAME [afpacket|koffi] — the transport (@lbkit/afpacket's PacketSocket, or the koffi stop-gap).
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { KoffiPacketTransport, NdpSpeaker, followInterface, fromPacketSocket, linkLocalOf } from '../../dist/index.js';

const ifname = process.argv[2] ?? 'eth0';
const mac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
let transport;
if (process.argv[3] === 'afpacket') {
  const af = await import('@lbkit/afpacket');
  const sock = af.PacketSocket.open({ ifname, protocol: af.ETH_P_IPV6, filter: af.icmpv6NsFilter() });
  sock.on('error', (e) => process.stderr.write(`socket error: ${e.message}\n`));
  const watcher = new af.InterfaceWatcher(ifname, { intervalMs: 100 }).start();
  transport = Object.assign(fromPacketSocket(sock), { close: () => { watcher.stop(); sock.close(); } });
  transport.watcher = watcher;
} else {
  transport = KoffiPacketTransport.open({ ifname, pollMs: 1 });
}
const speaker = new NdpSpeaker({
  transport, mac,
  linkLocal: () => linkLocalOf(ifname) ?? 'fe80::1',
  burstMs: Number(process.env.NDP_BURST_MS ?? 5000),
  onError: (e) => process.stderr.write(`send error: ${e.message}\n`),
});
if (transport.watcher) followInterface(speaker, transport.watcher);
process.stdout.write(`ready ${mac}\n`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  try {
    if (cmd === 'announce') { speaker.announce(arg); process.stdout.write('ok\n'); }
    else if (cmd === 'withdraw') { speaker.withdraw(arg); process.stdout.write('ok\n'); }
    else if (cmd === 'stats') process.stdout.write(`stats ${JSON.stringify({ ...speaker.responder.stats, lastError: speaker.responder.lastError?.message })}\n`);
    else if (cmd === 'quit') { speaker.close(); transport.close(); process.exit(0); }
    else process.stdout.write(`error unknown command ${cmd}\n`);
  } catch (e) {
    process.stdout.write(`error ${e.message}\n`);
  }
});
rl.on('close', () => { speaker.close(); transport.close(); process.exit(0); });
