/**
 * The stdin/stdout protocol of the layer-2 speaker fixtures (run with vite-node inside a node
 * namespace; driven by `LineProc` of `l2-lab.ts`). stdin lines: `announce IP`, `withdraw IP`,
 * `stats`, `mac`; stdout: one answer per command (`ok CMD ARG`, `stats JSON`, `mac MAC open=BOOL`,
 * `error MSG`) plus the speaker's event lines (`down`, `removed`, `reopened MAC`,
 * `reannounced IPS`, `error MSG`). Closing stdin closes the speaker and exits.
 */
import { createInterface } from 'node:readline';

/** What the protocol needs of a speaker (`ArpSpeaker`, `NdpInterfaceSpeaker`). */
export interface FixtureSpeaker {
  /** Takes an address. */
  announce(ip: string): void;
  /** Gives an address up. */
  withdraw(ip: string): void;
  /** Responder counters. */
  stats(): unknown;
  /** MAC in use. */
  currentMac(): string;
  /** True while a socket is open. */
  readonly isOpen: boolean;
  /** Stops the speaker. */
  close(): void;
  /** Subscribes to an event. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, fn: (...args: any[]) => void): unknown;
}

/** Writes one line to stdout. */
export const out = (s: string): boolean => process.stdout.write(`${s}\n`);

/**
 * Prints the speaker's interface events, starts it, prints `ready` (the result of `readyLine`
 * once started) and serves stdin commands until stdin closes.
 */
export function serveSpeaker(speaker: FixtureSpeaker & { start(): unknown }, readyLine: () => string): void {
  speaker.on('down', () => out('down'));
  speaker.on('removed', () => out('removed'));
  speaker.on('reopened', (mac: string) => out(`reopened ${mac}`));
  speaker.on('reannounced', (ips: string[]) => out(`reannounced ${ips.join(',')}`));
  speaker.on('error', (e: Error) => out(`error ${e.message}`));
  speaker.start();
  out(readyLine());
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
}
