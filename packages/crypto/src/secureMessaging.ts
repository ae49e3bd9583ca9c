import { SovError, toSovError, type AgentContext, type Capability } from '@sov/core';
import type { Identity } from './identity';
import { identityKeysOf } from './internal/identityKeys';
import { postJson } from './internal/postJson';
import { registryKeyResolver } from './registryKeyResolver';
import { SecureMessenger, type OpenedMessage, type SecureMessengerOptions } from './secureMessenger';

/** Options of the secureMessaging capability: the messenger's, plus delivery settings. */
export interface SecureMessagingOptions extends Omit<SecureMessengerOptions, 'identity' | 'registry'> {
  /** The route that receives envelopes. @default '/secure/messages' */
  path?: string;
  /** Time budget of one delivery in ms. @default 10000 */
  timeoutMs?: number;
}

/** What sending a sealed message answers. */
export interface SecureDelivery {
  /** The envelope id. */
  id: string;
  /** Who it was delivered to. */
  to: string;
  sentAt: number;
}

/** A listener for received sealed messages. */
export type SecureMessageListener = (message: OpenedMessage) => void | Promise<void>;

/** The API of the secureMessaging capability (the guide's SecureAgent). */
export interface SecureMessagingApi {
  /**
   * Seals a JSON message for a peer and delivers it to the peer's
   * `POST /secure/messages`, found through the registry; the request is
   * signed with the agent's identity.
   */
  sendSecureMessage(recipientId: string, message: unknown): Promise<SecureDelivery>;
  /** Opens and checks an envelope sealed to this agent, then hands it to the listeners. */
  receiveSecureMessage(envelope: unknown): Promise<OpenedMessage>;
  /** Subscribes to received messages; returns a function that unsubscribes. A listener that throws is logged, not fatal. */
  onMessage(listener: SecureMessageListener): () => void;
  /** The messenger (after the agent initialized). */
  readonly messenger: SecureMessenger;
}

/**
 * End-to-end sealed messaging for an agent: publishes nothing new (the
 * identity already publishes its signed X25519 key), adds the signed route
 * `POST /secure/messages`, and offers the guide's `sendSecureMessage` /
 * `receiveSecureMessage`. Needs the agent to have an @sov/crypto Identity.
 *
 * @example
 * const secure = agent.use(secureMessaging());
 * secure.onMessage(({ from, message }) => console.log(from, message));
 * await agent.start();
 * await secure.sendSecureMessage(peerId, { text: 'for your eyes only' });
 */
export function secureMessaging(options: SecureMessagingOptions = {}): Capability<SecureMessagingApi> {
  const path = options.path ?? '/secure/messages';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const listeners = new Set<SecureMessageListener>();
  let messenger: SecureMessenger | undefined;
  let identity: Identity | undefined;
  let context: AgentContext | undefined;

  const ready = (): SecureMessenger => {
    if (!messenger) throw new SovError('LIFECYCLE', 'secureMessaging is usable once the agent is initialized');
    return messenger;
  };

  const api: SecureMessagingApi = {
    get messenger() {
      return ready();
    },
    async sendSecureMessage(recipientId, message) {
      const m = ready();
      const envelope = await m.seal(recipientId, message);
      const { endpoint } = await m.lookupPeer(recipientId);
      if (!endpoint) throw new SovError('NOT_FOUND', `No endpoint is known for ${recipientId}`);
      await postJson(`${endpoint.replace(/\/+$/, '')}${path}`, envelope, { signer: identity!.signer, timeoutMs, receiver: recipientId });
      return { id: envelope.id, to: recipientId, sentAt: envelope.sentAt };
    },
    async receiveSecureMessage(envelope) {
      const opened = await ready().open(envelope);
      for (const listener of [...listeners]) {
        try {
          await listener(opened);
        } catch (e) {
          context?.logger.warn('secure message listener failed', { from: opened.from, id: opened.id, error: toSovError(e).message });
        }
      }
      return opened;
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };

  return {
    name: 'secureMessaging',
    api,
    initialize(ctx) {
      if (!ctx.identity || !identityKeysOf(ctx.identity)) {
        throw new SovError('INVALID_CONFIG', 'secureMessaging needs the agent to have an @sov/crypto Identity (new Agent({ identity }))');
      }
      context = ctx;
      identity = ctx.identity as Identity;
      const { path: _path, timeoutMs: _timeout, ...messengerOptions } = options;
      messenger = new SecureMessenger({
        ...messengerOptions,
        identity,
        clock: options.clock ?? ctx.clock,
        // Read the registry at call time: another capability may replace the client during initialize.
        resolver: options.resolver ?? registryKeyResolver(() => ctx.registry),
      });
      ctx.endpoint.addRoute({
        method: 'POST',
        url: path,
        signed: true,
        handler: async (request) => {
          const from = (request.body as { from?: unknown } | undefined)?.from;
          if (request.caller && from !== request.caller.id) {
            throw new SovError('FORBIDDEN', `Envelope sender ${String(from).slice(0, 80)} is not the signer of the request ${request.caller.id}`);
          }
          const opened = await api.receiveSecureMessage(request.body);
          return { body: { success: true, received: true, id: opened.id } };
        },
      });
    },
  };
}
