import { describe, expect, it } from 'vitest';
import { backoffDelay, BgpFsm, resolveCollision, type FsmAction, type FsmConfig, type FsmEvent, type OpenInfo } from '@lbkit/bgp';

const cfg: FsmConfig = { localAsn: 64513, peerAsn: 64512, localId: 0x0a00000b, holdTime: 9, random: () => 0.5 };
const open = (o: Partial<OpenInfo> = {}): OpenInfo => ({
  version: 4,
  myAsn: 64512,
  asn4: 64512,
  holdTime: 90,
  bgpId: 0x0a000001,
  capabilities: [1, 65],
  families: ['1/1'],
  ...o,
});

function drive(events: FsmEvent[], c: Partial<FsmConfig> = {}): { fsm: BgpFsm; last: FsmAction[] } {
  const fsm = new BgpFsm({ ...cfg, ...c });
  let last: FsmAction[] = [];
  for (const e of events) last = fsm.handle(e);
  return { fsm, last };
}
const sends = (a: FsmAction[]) => a.filter((x) => x.type === 'send').map((x) => (x as { message: unknown }).message);
const toOpenConfirm: FsmEvent[] = [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open() }];
const toEstablished: FsmEvent[] = [...toOpenConfirm, { type: 'KeepAliveMsg' }];

describe('BgpFsm transitions (RFC 4271 §8.2.2)', () => {
  const table: { name: string; events: FsmEvent[]; cfg?: Partial<FsmConfig>; state: string; sent?: unknown[]; has?: Partial<FsmAction>[] }[] = [
    { name: 'ManualStart dials', events: [{ type: 'ManualStart' }], state: 'Connect', has: [{ type: 'connect' }, { type: 'startTimer', timer: 'connectRetry', ms: 5000 } as FsmAction] },
    { name: 'passive ManualStart waits in Active', events: [{ type: 'ManualStart' }], cfg: { passive: true }, state: 'Active' },
    { name: 'TCP up sends OPEN, 240 s hold', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }], state: 'OpenSent', sent: [{ kind: 'open', holdTime: 9 }], has: [{ type: 'startTimer', timer: 'hold', ms: 240_000 } as FsmAction] },
    { name: 'connect timeout backs off in Idle', events: [{ type: 'ManualStart' }, { type: 'ConnectRetryTimerExpires' }], state: 'Idle', has: [{ type: 'close' }, { type: 'startTimer', timer: 'idleHold', ms: 1000 } as FsmAction] },
    { name: 'good OPEN → KEEPALIVE, hold=min(9,90), keepalive 3 s', events: toOpenConfirm, state: 'OpenConfirm', sent: [{ kind: 'keepalive' }], has: [{ type: 'startTimer', timer: 'hold', ms: 9000 } as FsmAction, { type: 'startTimer', timer: 'keepalive', ms: 3000 } as FsmAction] },
    { name: 'KEEPALIVE in OpenConfirm → Established', events: toEstablished, state: 'Established', has: [{ type: 'established' } as FsmAction] },
    { name: 'hold expiry in Established sends 4/0', events: [...toEstablished, { type: 'HoldTimerExpires' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 4, subcode: 0 } }] },
    { name: 'hold expiry in OpenSent sends 4/0', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'HoldTimerExpires' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 4, subcode: 0 } }] },
    { name: 'peer AS mismatch → 2/2', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open({ asn4: 65000, myAsn: 65000 }) }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 2, subcode: 2 } }] },
    { name: 'BGP id 0 → 2/3', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open({ bgpId: 0 }) }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 2, subcode: 3 } }] },
    { name: 'hold time 2 → 2/6', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open({ holdTime: 2 }) }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 2, subcode: 6 } }] },
    { name: '4-octet AS via capability, AS_TRANS in header', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open({ myAsn: 23456, asn4: 4200000000 }) }], cfg: { peerAsn: 4200000000 }, state: 'OpenConfirm' },
    // RFC 6793 §4.2: a 2-octet (OLD) peer is accepted; our OPEN carries AS_TRANS and UPDATEs an AS4_PATH
    { name: '4-octet local AS and a peer without capability 65 → accepted (AS_TRANS)', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: { ...open(), asn4: undefined, capabilities: [1] } as OpenInfo }], cfg: { localAsn: 4200000000 }, state: 'OpenConfirm', sent: [{ kind: 'keepalive' }] },
    { name: 'a peer without capability 65 announcing AS_TRANS as its AS → 2/2', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: { ...open(), myAsn: 23456, asn4: undefined, capabilities: [1] } as OpenInfo }], cfg: { peerAsn: 4200000000 }, state: 'Idle', sent: [{ kind: 'notification', notification: { code: 2, subcode: 2 } }] },
    { name: 'hold 0 negotiates no keepalives', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'BGPOpen', open: open({ holdTime: 0 }) }], state: 'OpenConfirm', has: [{ type: 'stopTimer', timer: 'hold' } as FsmAction] },
    { name: 'UPDATE in OpenConfirm → FSM error 5/2', events: [...toOpenConfirm, { type: 'UpdateMsg' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 5, subcode: 2 } }] },
    { name: 'OPEN in Established → 5/3', events: [...toEstablished, { type: 'BGPOpen', open: open() }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 5, subcode: 3 } }] },
    { name: 'KEEPALIVE in OpenSent → 5/1', events: [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'KeepAliveMsg' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 5, subcode: 1 } }] },
    { name: 'decode error sends the decoder NOTIFICATION', events: [...toEstablished, { type: 'DecodeError', notification: { code: 3, subcode: 1 } }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 3, subcode: 1 } }] },
    { name: 'ManualStop in Established sends Cease 6/2, no restart', events: [...toEstablished, { type: 'ManualStop' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 6, subcode: 2 } }] },
    { name: 'collision dump sends Cease 6/7', events: [...toOpenConfirm, { type: 'OpenCollisionDump' }], state: 'Idle', sent: [{ kind: 'notification', notification: { code: 6, subcode: 7 } }] },
    { name: 'received NOTIFICATION closes without answering', events: [...toEstablished, { type: 'NotifMsg', notification: { code: 6, subcode: 2 } }], state: 'Idle', sent: [] },
    { name: 'keepalive timer sends KEEPALIVE and re-arms', events: [...toEstablished, { type: 'KeepaliveTimerExpires' }], state: 'Established', sent: [{ kind: 'keepalive' }], has: [{ type: 'startTimer', timer: 'keepalive', ms: 3000 } as FsmAction] },
    { name: 'UPDATE in Established restarts hold and delivers', events: [...toEstablished, { type: 'UpdateMsg' }], state: 'Established', has: [{ type: 'startTimer', timer: 'hold', ms: 9000 } as FsmAction, { type: 'deliver', what: 'update' }] },
    { name: 'events in Idle are ignored', events: [{ type: 'KeepAliveMsg' }, { type: 'HoldTimerExpires' }], state: 'Idle', sent: [] },
  ];
  for (const t of table) {
    it(t.name, () => {
      const { fsm, last } = drive(t.events, t.cfg);
      expect(fsm.state).toBe(t.state);
      if (t.sent) expect(sends(last)).toEqual(t.sent);
      for (const h of t.has ?? []) expect(last).toContainEqual(expect.objectContaining(h));
    });
  }

  it('idle hold expiry restarts and failures back off exponentially up to the cap', () => {
    const fsm = new BgpFsm({ ...cfg, backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
    fsm.handle({ type: 'ManualStart' });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = fsm.handle({ type: 'TcpConnectionFails' });
      const t = a.find((x) => x.type === 'startTimer' && x.timer === 'idleHold') as { ms: number };
      delays.push(t.ms);
      expect(fsm.state).toBe('Idle');
      const r = fsm.handle({ type: 'IdleHoldTimerExpires' });
      expect(fsm.state).toBe('Connect');
      expect(r).toContainEqual({ type: 'connect' });
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // Established resets the backoff
    fsm.handle({ type: 'TcpConnectionConfirmed' });
    fsm.handle({ type: 'BGPOpen', open: open() });
    fsm.handle({ type: 'KeepAliveMsg' });
    const a = fsm.handle({ type: 'TcpConnectionFails' });
    expect(a).toContainEqual({ type: 'startTimer', timer: 'idleHold', ms: 1000 });
  });

  it('default backoff: 1 s doubling, capped at 30 s with the jitter below the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, {}, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(100);
      expect(d).toBeGreaterThanOrEqual(27_000);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
  it('backoff jitter stays within ±jitter/2 and the cap', () => {
    expect(backoffDelay(1, { initialMs: 1000, jitter: 0.2 }, () => 0)).toBe(900);
    expect(backoffDelay(1, { initialMs: 1000, jitter: 0.2 }, () => 0.999999)).toBe(1100);
    expect(backoffDelay(20, { initialMs: 1000, maxMs: 5000, jitter: 0.2 }, () => 0.99)).toBe(5000);
  });

  it('ManualStop stops automatic restarts', () => {
    const fsm = new BgpFsm(cfg);
    fsm.handle({ type: 'ManualStart' });
    fsm.handle({ type: 'ManualStop' });
    expect(fsm.handle({ type: 'IdleHoldTimerExpires' })).toEqual([]);
    expect(fsm.state).toBe('Idle');
  });

  it('collision: the higher BGP identifier keeps the connection it initiated (unsigned compare)', () => {
    expect(resolveCollision(0x0a00000b, 0x0a000001)).toBe('local-initiated');
    expect(resolveCollision(0x0a000001, 0x0a00000b)).toBe('remote-initiated');
    expect(resolveCollision(0xc0000001, 0x0a000001)).toBe('local-initiated');
  });
});
