import { describe, expect, it } from 'vitest';
import { metallbMemberlistKey } from '../src/adapters/serf-membership.js';
describe('metallbMemberlistKey', () => {
  it('is secret ‖ sha256("") truncated to 32 bytes (research §4 example)', () => {
    const k = metallbMemberlistKey('abcdefghijklmnopqrstuv')!; // 22 chars like the controller-generated secret
    expect(k.length).toBe(32);
    expect(k.subarray(0, 22).toString()).toBe('abcdefghijklmnopqrstuv');
    expect(k.subarray(22).toString('hex')).toBe('e3b0c44298fc1c149afb');
    expect(metallbMemberlistKey('x'.repeat(40))!.toString()).toBe('x'.repeat(32));
    expect(metallbMemberlistKey('')).toBeNull();
  });
});
