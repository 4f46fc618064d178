// Fixture run inside a node namespace: an ArpSpeaker on eth0 driven by stdin lines
// (`announce IP`, `withdraw IP`, `stats`, `mac`), reporting events on stdout (protocol in
// test-utils/l2-fixture.ts); prints `ready` once started.
// Env: ARP_REFRESH_MS sets the periodic GARP refresh (default none).
import { ArpSpeaker } from '@lbkit/arp';
import { serveSpeaker } from '../../../../test-utils/l2-fixture.js';

const ifname = process.argv[2] ?? 'eth0';
const speaker = new ArpSpeaker({ ifname, watchIntervalMs: 200, refreshIntervalMs: Number(process.env.ARP_REFRESH_MS ?? 0) });
serveSpeaker(speaker, () => 'ready');
