// Interop fixture (run with vite-node inside a node namespace): an NdpInterfaceSpeaker on IFNAME that
// owns its AF_PACKET socket and follows the interface. stdin lines: `announce IP`, `withdraw IP`,
// `stats`, `mac`; stdout: one answer per command plus event lines (`na IP`, `down`, `removed`,
// `reopened MAC`, `reannounced IPS`, `error MSG`). Env: NDP_BURST_MS (default 5000).
import { createInterface } from 'node:readline';
import { NdpInterfaceSpeaker } from '@lbkit/ndp';

const ifname = process.argv[2] ?? 'eth0';
const out = (s: string): boolean => process.stdout.write(`${s}\n`);
const speaker = new NdpInterfaceSpeaker({ ifname, watchIntervalMs: 200, burstMs: Number(process.env.NDP_BURST_MS ?? 5000) });
speaker.on('na', (ip) => out(`na ${ip}`));
speaker.on('down', () => out('down'));
speaker.on('removed', () => out('removed'));
speaker.on('reopened', (mac) => out(`reopened ${mac}`));
speaker.on('reannounced', (ips) => out(`reannounced ${ips.join(',')}`));
speaker.on('error', (e) => out(`error ${e.message}`));
speaker.start();
out(`ready ${speaker.currentMac()}`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  try {
    if (cmd === 'announce') speaker.announce(arg!);
    else if (cmd === 'withdraw') speaker.withdraw(arg!);
    else if (cmd === 'stats') return out(`stats ${JSON.stringify(speaker.stats())}`);
    else if (cmd === 'mac') return out(`mac ${speaker.currentMac()} open=${speaker.isOpen}`);
    else return out(`error unknown command ${cmd}`);
    out(`ok ${cmd} ${arg}`);
  } catch (e) {
    out(`error ${(e as Error).message}`);
  }
});
rl.on('close', () => {
  speaker.close();
  process.exit(0);
});
