// Fixture run inside a node namespace: an ArpSpeaker on eth0 driven by stdin lines
// (`announce IP`, `withdraw IP`, `stats`, `mac`), reporting events on stdout.
// Env: ARP_REFRESH_MS sets the periodic GARP refresh (default none).
import { createInterface } from 'node:readline';
import { ArpSpeaker } from '@lbkit/arp';

const ifname = process.argv[2] ?? 'eth0';
const out = (s: string): boolean => process.stdout.write(`${s}\n`);
const speaker = new ArpSpeaker({ ifname, watchIntervalMs: 200, refreshIntervalMs: Number(process.env.ARP_REFRESH_MS ?? 0) });
speaker.on('reannounced', (ips) => out(`reannounced ${ips.join(',')}`));
speaker.on('down', () => out('down'));
speaker.on('removed', () => out('removed'));
speaker.on('reopened', (mac) => out(`reopened ${mac}`));
speaker.on('error', (e) => out(`error ${e.message}`));
speaker.start();
out('ready');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ');
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
