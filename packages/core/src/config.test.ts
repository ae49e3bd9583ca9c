import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { isConfigError } from './errors/configError';
import { Agent } from './agent';
import { createLogger } from './logger';

const dir = mkdtempSync(join(tmpdir(), 'sov-config-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('loadConfig', () => {
  it('applies defaults < file < environment < options', async () => {
    const f = file('layered.json', JSON.stringify({ name: 'from-file', port: 1111, logLevel: 'debug', leaseTtlSec: 9 }));
    const cfg = await loadConfig({ file: f, env: { SOV_PORT: '2222', SOV_CAPABILITIES: 'a, b' }, options: { name: 'from-options' } });
    expect(cfg).toMatchObject({ name: 'from-options', port: 2222, logLevel: 'debug', leaseTtlSec: 9, capabilities: ['a', 'b'] });
    expect(cfg.heartbeatIntervalMs).toBe(3000);
    expect(cfg.host).toBe('127.0.0.1');
  });

  it('reads the file named by SOV_CONFIG_FILE', async () => {
    const f = file('env-named.json', JSON.stringify({ name: 'named' }));
    expect((await loadConfig({ env: { SOV_CONFIG_FILE: f } })).name).toBe('named');
  });

  it.each([
    [{ env: { SOV_NAME: 'a', SOV_PORT: 'eighty' } }, 'port', /must be integer \(from SOV_PORT="eighty"\)/],
    [{ env: { SOV_NAME: 'a', SOV_PORT: '70000' } }, 'port', /must be <= 65535/],
    [{ options: { name: 'a', logLevel: 'loud' as never } }, 'logLevel', /must be one of "error", "warn", "info", "debug" \(got "loud"\)/],
    [{ options: { name: 'a', registryUrl: 'registry:7000' } }, 'registryUrl', /must be an http\(s\) URL/],
    [{ options: {} }, 'name', /is required/],
    [{ options: { name: 'a', capabilities: ['ok', 3 as never] } }, 'capabilities.1', /must be string/],
    [{ env: { SOV_NAME: 'a', SOV_ALLOW_ANONYMOUS: 'yes' } }, 'allowAnonymous', /must be boolean/],
  ])('names the bad field and the expected shape (%#)', async (sources, field, message) => {
    const error = await loadConfig({ env: {}, ...sources }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', field });
    expect((error as Error).message).toMatch(message);
  });

  it('names the file when it holds an unknown field or bad JSON', async () => {
    const unknown = file('unknown.json', JSON.stringify({ name: 'a', prot: 80 }));
    await expect(loadConfig({ file: unknown, env: {} })).rejects.toThrow(/Invalid config prot: is not a known field .*unknown\.json/);
    const broken = file('broken.json', '{ name: ');
    await expect(loadConfig({ file: broken, env: {} })).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(loadConfig({ file: join(dir, 'missing.json'), env: {} })).rejects.toThrow(/cannot read .*missing\.json/);
  });

  it('fails agent start with the config error and leaves the agent unstarted', async () => {
    const agent = new Agent({ name: 'bad', port: -1, logger: createLogger({ silent: true }) });
    await expect(agent.start()).rejects.toMatchObject({ code: 'INVALID_CONFIG', field: 'port' });
    expect(agent.state).toBe('failed');
    expect(agent.url).toBeUndefined();
  });
});
