// Fixture run inside a namespace: opens an ARP PacketSocket on eth0 and follows stdin commands.
import { createInterface } from 'node:readline';
import { PacketSocket, arpFilter, interfaceInfo, parseMac } from '@lbkit/afpacket';

const info = interfaceInfo('eth0')!;
const s = PacketSocket.open({ ifname: 'eth0', protocol: 0x0806, filter: arpFilter() });
s.on('frame', (f, t) => process.stdout.write(`frame ${f.toString('hex')} ${t}\n`));
process.stdout.write(`ready ${JSON.stringify(info)}\n`);
const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(' ');
  try {
    if (cmd === 'send') {
      const [dstMac, spa, tpa] = args as [string, string, string];
      const f = Buffer.alloc(42);
      parseMac(dstMac).copy(f, 0);
      parseMac(info.mac).copy(f, 6);
      f.writeUInt16BE(0x0806, 12);
      f.writeUInt16BE(1, 14);
      f.writeUInt16BE(0x0800, 16);
      f[18] = 6;
      f[19] = 4;
      f.writeUInt16BE(2, 20);
      parseMac(info.mac).copy(f, 22);
      ip4(spa).copy(f, 28);
      parseMac(dstMac).copy(f, 32);
      ip4(tpa).copy(f, 38);
      s.send(f);
      process.stdout.write('sent\n');
    } else if (cmd === 'join') {
      s.addMembership(args[0]!);
      process.stdout.write('joined\n');
    } else if (cmd === 'leave') {
      s.dropMembership(args[0]!);
      process.stdout.write('left\n');
    } else if (cmd === 'badopen') {
      try {
        PacketSocket.open({ ifname: 'nosuchif0', protocol: 0x0806 });
        process.stdout.write('badopen opened?\n');
      } catch (e) {
        process.stdout.write(`badopen ${(e as Error).message}\n`);
      }
    }
  } catch (e) {
    process.stdout.write(`error ${(e as Error).message}\n`);
  }
});
rl.on('close', () => {
  s.close();
  process.stdout.write('closed\n');
});
