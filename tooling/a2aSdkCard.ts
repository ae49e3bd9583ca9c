/**
 * An agent card for a server built with the official A2A SDK (`@a2a-js/sdk`
 * 1.x), for the tests and benches that run one beside our agents: the fields
 * that matter are given, every other field the SDK's `AgentCard` type
 * requires is filled empty. It imports nothing from the SDK (tooling does not
 * depend on it): assign the result to an `AgentCard`, and the SDK's type
 * checks it there.
 */
export function a2aSdkCard(card: {
  name: string;
  description: string;
  /** The JSON-RPC endpoint. */
  url: string;
  skills: Array<{ id: string; description: string; tags?: string[] }>;
}) {
  return {
    name: card.name,
    description: card.description,
    supportedInterfaces: [{ url: card.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['application/json'],
    defaultOutputModes: ['application/json'],
    skills: card.skills.map((s) => ({
      id: s.id,
      name: s.id,
      description: s.description,
      tags: s.tags ?? [],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    signatures: [],
  };
}
