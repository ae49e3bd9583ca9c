import { TestRegistry } from '@sov/testing';
import { EXIT_CODES, runSov } from './index';

/** A stream that keeps what is written (not a TTY, so no colour). */
function buffer() {
  let text = '';
  return { write: (chunk: string) => (text += chunk), text: () => text };
}

describe('the README example: runSov from code', () => {
  it('runs a search and answers with the exit code, writing only to the streams it is given', async () => {
    const registry = await TestRegistry.start();
    try {
      const stdout = buffer();
      const stderr = buffer();
      const env = { SOV_REGISTRY_URL: registry.url };
      const code = await runSov(['search', '--capability', 'text.uppercase', '--json'], { stdout, stderr, env });
      expect(code).toBe(EXIT_CODES.OK);
      expect(JSON.parse(stdout.text())).toEqual({ agents: [], total: 0 });
      expect(stderr.text()).toBe('');
    } finally {
      await registry.stop();
    }
    const stderr = buffer();
    const code = await runSov(['agents'], { stdout: buffer(), stderr, env: { SOV_REGISTRY_URL: registry.url } });
    expect(code).toBe(EXIT_CODES.UNREACHABLE);
    expect(stderr.text()).toMatch(/^sov agents: NETWORK_ERROR: The registry at http:\/\/127\.0\.0\.1:\d+ did not answer/);
  });
});
