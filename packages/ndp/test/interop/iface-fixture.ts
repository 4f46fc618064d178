// Interop fixture (run with vite-node inside a node namespace): an NdpInterfaceSpeaker on IFNAME that
// owns its AF_PACKET socket and follows the interface. stdin lines: `announce IP`, `withdraw IP`,
// `stats`, `mac`; stdout: one answer per command plus event lines (`na IP`, `down`, `removed`,
// `reopened MAC`, `reannounced IPS`, `replies IP N`, `error MSG`); protocol in test-utils/l2-fixture.ts.
// Prints `ready MAC` once started. Env: NDP_BURST_MS (default 5000).
import { NdpInterfaceSpeaker } from '@lbkit/ndp';
import { out, serveSpeaker } from '../../../../test-utils/l2-fixture.js';

const ifname = process.argv[2] ?? 'eth0';
const speaker = new NdpInterfaceSpeaker({ ifname, watchIntervalMs: 200, burstMs: Number(process.env.NDP_BURST_MS ?? 5000), replyReportMs: 100 });
speaker.on('na', (ip) => out(`na ${ip}`));
// per-VIP counts of the native responder (the metrics hook: metallb_layer2_requests_received / responses_sent)
speaker.on('replies', (ip, n) => out(`replies ${ip} ${n}`));
serveSpeaker(speaker, () => `ready ${speaker.currentMac()}`);
