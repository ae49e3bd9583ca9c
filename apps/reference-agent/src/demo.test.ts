import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('pnpm demo', () => {
  it('runs every step end to end and exits 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'demo.ts')], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/Registry listening at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/The client's peer_joined handler saw "uppercaser" did:key:\S+ join \(event registry:\d+, from registry\)/);
    expect(out).toContain("the client's stake_changed handler saw stake 150");
    expect(out).toMatch(/Client searched for "text\.uppercase": 1 match, "uppercaser"/);
    expect(out).toContain('returned "HELLO, SOVEREIGN AGENTS"');
    expect(out).toContain('opened by the uppercaser: {"note":"meet at the usual place"}');
    expect(out).toContain("register with the uppercaser's id: refused with ID_MISMATCH");
    expect(out).toContain('one bit of a signed call: refused with SIGNATURE_INVALID');
    expect(out).toContain('An unsigned call: refused with UNAUTHORIZED');
    expect(out).toContain('with stake 0 the client is refused with INSUFFICIENT_STAKE');
    expect(out).toMatch(/"analyse" now succeeds: 4 words/);
    expect(out).toMatch(/reputation to 0\.6; reusing the receipt: CONFLICT/);
    expect(out).toContain('added "count_words" while running; the client found it by search and counted 3 words');
    expect(out).toContain('Four calls, one session: 1 Ed25519-signed handshake');
    expect(out).toMatch(/\.\.\.on one connection: \d+ calls multiplexed \(sov-mux\/1/);
    expect(out).toContain('journaled 5 served calls');
    expect(out).toContain('The official A2A SDK client read the uppercaser\'s card (skills uppercase, analyse, count_words; its JWS verified) and called "uppercase" with a signed SendMessage: "HELLO FROM A2A"');
    // federation (#13)
    expect(out).toMatch(/Second registry at http:\/\/127\.0\.0\.1:\d+, id did:key:\S+ \(\/\.well-known\/sov-registry\)/);
    expect(out).toContain('status active');
    expect(out).toMatch(/own registry knows 0 translator; the federated search of both found "translator" at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('"hallo welt" -> "hello world"');
    expect(out).toMatch(/going, hop 1: did:key:\S+ verified the origin and the hops before it and signed: checks/);
    expect(out).toMatch(/returning, hop 0: did:key:\S+ countersigned the answer: checks/);
    expect(out).toContain('Route receipt verified from the did:keys alone: valid; the same receipt with the answer changed: refused');
    expect(out).toContain('Demo finished: every step passed.');
  });
});
