import { addressAllowed, fetchCard } from './cardFetcher';

describe('addressAllowed: which addresses the A2A directory fetches cards from', () => {
  it('never fetches from link-local (cloud metadata), unspecified, multicast or broadcast addresses', () => {
    for (const ip of ['169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'fe80::1', 'ff02::1', '::ffff:169.254.169.254']) {
      expect([ip, addressAllowed(ip, true)]).toEqual([ip, false]);
    }
  });

  it('fetches from loopback only when the registry itself is bound to loopback', () => {
    expect(addressAllowed('127.0.0.1', true)).toBe(true);
    expect(addressAllowed('::1', true)).toBe(true);
    expect(addressAllowed('127.0.0.1', false)).toBe(false);
    expect(addressAllowed('::1', false)).toBe(false);
    expect(addressAllowed('::ffff:127.0.0.1', false)).toBe(false);
  });

  it('fetches from private and public unicast addresses (agents in a compose or cluster network)', () => {
    for (const ip of ['10.0.0.5', '172.18.0.3', '192.168.1.10', '93.184.216.34', '2001:db8::1', 'fd00::1']) expect(addressAllowed(ip, false)).toBe(true);
  });

  it('refuses a name that is not an address', () => {
    expect(addressAllowed('localhost', true)).toBe(false);
  });

  it('a registry bound elsewhere refuses a loopback card URL before connecting', async () => {
    await expect(fetchCard('http://127.0.0.1:9/card', { timeoutMs: 1000, maxBytes: 1000, allowLoopback: false })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(fetchCard('http://localhost:9/card', { timeoutMs: 1000, maxBytes: 1000, allowLoopback: false })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
