import { Writable } from 'node:stream';
import { HttpRegistryClient, createLogger, type AgentRegistration } from '@sov/core';
import { Identity, RequestVerifier, verifyReceipt } from '@sov/crypto';
import { RegistryServer } from './registryServer';

const silent = createLogger({ silent: true });
const reg = (id: string): AgentRegistration => ({ id, name: 'n', endpoint: 'http://127.0.0.1:1', capabilities: ['c'] });

describe('a registry that checks signatures', () => {
  let registry: RegistryServer;
  const alice = Identity.generate();
  const mallory = Identity.generate();
  beforeAll(async () => {
    registry = await RegistryServer.start({ logger: silent, verifier: new RequestVerifier(), receiptVerifier: verifyReceipt });
  });
  afterAll(() => registry.close());

  const as = (who: Identity) => new HttpRegistryClient({ baseUrl: registry.url, signer: who.signer });
  const anonymous = () => new HttpRegistryClient({ baseUrl: registry.url });

  it('registers, renews, updates and deregisters an agent that signs as itself', async () => {
    const client = as(alice);
    await client.register(reg(alice.id));
    await client.heartbeat(alice.id);
    await client.updateMetadata(alice.id, { motto: 'signed' });
    expect((await anonymous().get(alice.id)).metadata).toEqual({ motto: 'signed' });
    await client.deregister(alice.id);
  });

  it('refuses an impersonation: registering, renewing, changing or removing another agent', async () => {
    await as(alice).register(reg(alice.id));
    const fake = as(mallory);
    await expect(fake.register(reg(alice.id))).rejects.toMatchObject({ code: 'ID_MISMATCH', status: 403 });
    await expect(fake.heartbeat(alice.id)).rejects.toMatchObject({ code: 'ID_MISMATCH' });
    await expect(fake.updateMetadata(alice.id, { motto: 'pwned' })).rejects.toMatchObject({ code: 'ID_MISMATCH' });
    await expect(fake.deregister(alice.id)).rejects.toMatchObject({ code: 'ID_MISMATCH' });
    const record = await anonymous().get(alice.id);
    expect(record.endpoint).toBe('http://127.0.0.1:1');
    expect(record.metadata).toEqual({});
    await as(alice).deregister(alice.id);
  });

  it('refuses unsigned changes with 401 UNAUTHORIZED but lets anyone read', async () => {
    await expect(anonymous().register(reg(alice.id))).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    await expect(anonymous().heartbeat(alice.id)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anonymous().search({ capabilities: ['c'] })).resolves.toMatchObject({ total: 0 });
  });

  it('refuses a replayed registration request', async () => {
    const body = Buffer.from(JSON.stringify(reg(mallory.id)));
    const url = `${registry.url}/v1/agents`;
    const headers = { 'content-type': 'application/json', ...mallory.signer.sign({ method: 'POST', url, body, headers: {} }) };
    expect((await fetch(url, { method: 'POST', headers, body })).status).toBe(201);
    const again = await fetch(url, { method: 'POST', headers, body });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('REPLAY_DETECTED');
  });

  it('refuses feedback signed by someone other than the served caller', async () => {
    await as(alice).register(reg(alice.id));
    const receipt = { id: 'r-1', caller: mallory.id, callee: alice.id, service: 's', at: new Date().toISOString() };
    const signed = { ...receipt, signature: alice.signReceipt(receipt) };
    const bob = Identity.generate();
    await expect(as(bob).submitFeedback({ receipt: signed, rating: 0 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(mallory).submitFeedback({ receipt: { ...signed, service: 'other' }, rating: 0 })).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    await expect(as(mallory).submitFeedback({ receipt: signed, rating: 0 })).resolves.toMatchObject({ reputation: 0.4 });
  });
});

describe('insecure mode', () => {
  it('must be asked for, and says so in the log at start', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const registry = await RegistryServer.start({ insecure: true, logger: createLogger({ stream }) });
    await registry.close();
    expect(lines.join('')).toMatch(/"level":"warn","message":"registry running in INSECURE mode/);
  });
});
