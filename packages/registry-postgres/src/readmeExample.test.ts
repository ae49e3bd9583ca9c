/** The README's example, as written there, with a fresh schema, a free port and a silent logger. */
import { HttpRegistryClient, createLogger } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { RegistryServer } from '@sov/registry';
import { PostgresRegistryStore } from './index';
import { DATABASE_URL, TestSchemas } from './__tests__/testSchema';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

it('the README example runs: a registry on PostgreSQL that takes a signed registration and finds it', async () => {
  const store = new PostgresRegistryStore({ connectionString: DATABASE_URL, schema: schemas.fresh(), logger: createLogger({ silent: true }) });
  const registry = await RegistryServer.start({
    host: '127.0.0.1',
    port: 0,
    store,
    verifier: new RequestVerifier(),
    receiptVerifier: verifyReceipt,
    logger: createLogger({ silent: true }),
  });
  try {
    const me = Identity.generate();
    await new HttpRegistryClient({ baseUrl: registry.url, signer: me.signer }).register({ id: me.id, name: 'readme', endpoint: 'http://127.0.0.1:9/', capabilities: ['readme'] });
    const page = await new HttpRegistryClient({ baseUrl: registry.url }).search({ capabilities: ['readme'] });
    expect(page.agents.map((a) => a.id)).toEqual([me.id]);
  } finally {
    await registry.close();
  }
});
