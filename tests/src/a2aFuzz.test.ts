/**
 * A seeded, bounded fuzz of the A2A JSON-RPC route: whatever JSON arrives
 * (any method, params, message and parts), the answer is a JSON-RPC 2.0
 * reply (a result or an error object with an integer code), never a 5xx, and
 * the agent keeps serving.
 */
import fc from 'fast-check';
import { Agent, createLogger } from '@sov/core';
import { a2a } from '@sov/a2a';
import { serviceRouter } from '@sov/services';

const SEED = 20261202;
const RUNS = 300;

describe('A2A route fuzz', () => {
  let agent: Agent;
  beforeAll(async () => {
    agent = new Agent({ name: 'fuzzed', port: 0, host: '127.0.0.1', allowAnonymous: true, logger: createLogger({ silent: true }) });
    const services = agent.use(serviceRouter());
    services.register({ name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, handler: (p: unknown) => p });
    services.register({ name: 'job', handler: () => ({ done: true }) });
    agent.use(a2a({ services, taskServices: ['job'] }));
    await agent.start();
  });
  afterAll(() => agent.shutdown());

  const method = fc.constantFrom('SendMessage', 'SendStreamingMessage', 'GetTask', 'CancelTask', 'SubscribeToTask', 'ListTasks', 'x', '');
  const part = fc.oneof(fc.record({ data: fc.jsonValue() }), fc.record({ text: fc.string() }), fc.record({ url: fc.anything() }), fc.jsonValue());
  const message = fc.oneof(
    fc.record(
      {
        messageId: fc.oneof(fc.string(), fc.integer()),
        role: fc.constantFrom('ROLE_USER', 'ROLE_AGENT', 1, undefined),
        parts: fc.oneof(fc.array(part, { maxLength: 4 }), fc.jsonValue()),
        metadata: fc.oneof(fc.record({ skill: fc.constantFrom('echo', 'job', 'nope', 7, '') }), fc.jsonValue()),
        taskId: fc.option(fc.string()),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue(),
  );
  const params = fc.oneof(
    fc.record({ message, configuration: fc.oneof(fc.record({ returnImmediately: fc.boolean(), historyLength: fc.oneof(fc.integer(), fc.string()) }), fc.jsonValue()) }, { requiredKeys: [] }),
    fc.record({ id: fc.oneof(fc.string(), fc.uuid(), fc.integer()), historyLength: fc.jsonValue() }, { requiredKeys: [] }),
    fc.jsonValue(),
  );
  const envelope = fc.oneof(
    fc.record({ jsonrpc: fc.constantFrom('2.0', '1.0', 2), id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.jsonValue()), method, params }, { requiredKeys: [] }),
    fc.jsonValue(),
  );

  it('answers every request with a JSON-RPC reply or a wire-format refusal, never a 5xx, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(envelope, async (body) => {
        const res = await fetch(`${agent.url}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status).toBeLessThan(500);
        const type = res.headers.get('content-type') ?? '';
        const text = await res.text();
        if (type.startsWith('text/event-stream')) {
          expect(text.startsWith('data: {"jsonrpc":"2.0"')).toBe(true);
          return;
        }
        const reply = JSON.parse(text) as { jsonrpc?: string; result?: unknown; error?: { code: unknown }; success?: boolean };
        if (res.status === 200) {
          expect(reply.jsonrpc).toBe('2.0');
          expect(reply.result !== undefined || Number.isInteger(reply.error?.code)).toBe(true);
        } else {
          // Refused before JSON-RPC (a body nested too deep): the SDK's wire format.
          expect(reply.success).toBe(false);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const health = await fetch(`${agent.url}/health`);
    expect(health.status).toBe(200);
  });
});
