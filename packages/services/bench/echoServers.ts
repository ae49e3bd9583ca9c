/**
 * The servers of the services benchmark, one per process, as deployed. Prints
 * the bound port on stdout. Modes:
 * - `agent`: an Agent with an identity (verifies every call) and the service router
 *   (echo; the guide's process_data, and the same declared cacheable as `process_data_cached`);
 * - `bare-signed`: fastify echo that verifies an inline Ed25519 signature
 *   (method, path, body digest, time) with cached public KeyObjects;
 * - `bare`: fastify echo, unsigned.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import Fastify from 'fastify';
import { Agent, createLogger } from '@sov/core';
import { Identity } from '@sov/crypto';
import { serviceRouter } from '@sov/services';
import { processDataService } from '../src/__tests__/routerFixtures';
import { echoService } from './echoService';

const mode = process.argv[2];

async function agentServer(): Promise<number> {
  const agent = new Agent({ name: 'bench-server', identity: Identity.generate(), logger: createLogger({ silent: true }), port: 0 });
  agent
    .use(serviceRouter())
    .register(echoService)
    .register(processDataService)
    .register({ ...processDataService, name: 'process_data_cached', cache: { ttlMs: 60_000 } });
  await agent.start();
  return Number(new URL(agent.url!).port);
}

async function bareServer(signed: boolean): Promise<number> {
  const app = Fastify({ logger: false });
  const keys = new Map<string, KeyObject>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/rpc', async (req, reply) => {
    const raw = req.body as Buffer;
    if (signed) {
      const keyId = req.headers['x-key-id'] as string;
      let key = keys.get(keyId);
      if (!key) {
        key = createPublicKey({ key: Buffer.from(keyId, 'base64url'), format: 'der', type: 'spki' });
        keys.set(keyId, key);
      }
      const digest = createHash('sha256').update(raw).digest('base64');
      const base = `${req.method}\n${req.url}\n${digest}\n${req.headers['x-created'] as string}`;
      if (!verify(null, Buffer.from(base), key, Buffer.from(req.headers['x-signature'] as string, 'base64url'))) {
        return reply.code(401).send({ success: false, error: { code: 'SIGNATURE_INVALID', message: 'bad signature' } });
      }
    }
    const body = JSON.parse(raw.toString('utf8')) as { service: string; params: { text: string } };
    return reply.send({ success: true, service: body.service, result: { text: body.params.text } });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

const port = await (mode === 'agent' ? agentServer() : bareServer(mode === 'bare-signed'));
process.stdout.write(`${port}\n`);
