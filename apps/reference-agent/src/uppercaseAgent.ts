import { Agent, SovError, type AgentOptions } from '@sov/core';

/** The capability the reference agent offers. */
export const UPPERCASE_CAPABILITY = 'text.uppercase';

/**
 * The reference agent: offers `text.uppercase`, which turns `params.text`
 * into capitals. Unknown services and bad params get clear coded errors.
 */
export function createUppercaseAgent(options: AgentOptions): Agent {
  const agent = new Agent({ capabilities: [UPPERCASE_CAPABILITY], ...options });
  agent.handle((request) => {
    if (request.service !== undefined && request.service !== 'uppercase') {
      throw new SovError('SERVICE_NOT_FOUND', `Unknown service ${JSON.stringify(request.service)}; this agent offers "uppercase"`);
    }
    const text = (request.params as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string') throw new SovError('INVALID_INPUT', 'params.text must be a string');
    return { result: { text: text.toUpperCase() } };
  });
  return agent;
}
