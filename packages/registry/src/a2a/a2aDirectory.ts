import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SovError, ValidationError, isAmount, type Clock, type FieldProblem, type Logger, type VerifiedCaller } from '@sov/core';
import { ajvProblems, createAjv } from '@sov/core/internal';
import type { RegistryStore } from '../registryStore';
import { PRIOR_REPUTATION } from '../internal/reputation';
import { fetchCard, type CardFetchLimits } from './cardFetcher';
import { a2aRegistrationSchema, agentCardSchema, type DirectoryCard } from './a2aCardSchema';

/** The URI of the Sovereign extension on a card (as @sov/a2a writes it). */
const SOV_EXTENSION_URI = 'urn:sov:a2a:agent:v1';

/** An agent card in the registry's A2A directory, as searches answer it. */
export interface A2aDirectoryEntry {
  /** The directory's id of the card (from its URL). */
  id: string;
  /** Where the card was fetched from: call the agent through it. */
  cardUrl: string;
  /** Where the registry serves its copy of the card. */
  registryCardPath: string;
  /** The agent's did when a registration signed by it vouched for the card. */
  agentId?: string;
  /**
   * True when the registration was signed by the did the card names (a
   * Sovereign agent): only then are stake and reputation shown. False for an
   * A2A-only agent, whose card was fetched from its own URL and nothing more.
   */
  verified: boolean;
  /** Reputation of the verified agent id (the registry's own, from receipts); absent when unverified. */
  reputation?: number;
  /** Stake of the verified agent id, whole minor units; absent when unverified. */
  stake?: number;
  name: string;
  description: string;
  skills: Array<{ id: string; name: string; tags: string[]; price?: number }>;
  card: DirectoryCard;
  registeredAt: string;
  expiresAt: string;
}

interface StoredCard {
  id: string;
  cardUrl: string;
  card: DirectoryCard;
  agentId: string | undefined;
  registeredAtMs: number;
  expiresAtMs: number;
}

/** What the directory needs of the registry server. */
export interface A2aDirectoryDeps {
  store: RegistryStore;
  clock: Clock;
  logger: Logger;
  /** The verified signer of a request, undefined for an unsigned one. */
  caller(req: FastifyRequest): Promise<VerifiedCaller | undefined>;
  /** The request's parsed JSON body. */
  body(req: FastifyRequest): unknown;
  /** The registry's bind address: loopback cards are fetched only by a loopback-bound registry. */
  bindHost: string;
  /** @default 10000 */
  maxCards?: number;
  /** @default { timeoutMs: 5000, maxBytes: 65536 } */
  fetchLimits?: Partial<Omit<CardFetchLimits, 'allowLoopback'>>;
}

function sovExtension(card: DirectoryCard): { did?: unknown; services?: Record<string, { price?: unknown }> } | undefined {
  const ext = card.capabilities?.extensions?.find((e) => e.uri === SOV_EXTENSION_URI);
  return ext?.params && typeof ext.params === 'object' ? (ext.params) : undefined;
}

function priceOf(card: DirectoryCard, skill: string): number {
  const price = sovExtension(card)?.services?.[skill]?.price;
  return isAmount(price) ? price : 0;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function many(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The registry as an A2A directory, on the registry's own server:
 * - `POST /v1/a2a/agents` `{ cardUrl, ttl? }` registers the agent card at
 *   `cardUrl`, fetched from that URL (http(s), no redirects, 5 s, 64 KiB;
 *   link-local and unspecified addresses never, loopback only for a loopback
 *   registry). Unsigned, the card is listed unverified. Signed (RFC 9421) by
 *   the did the card's Sovereign extension names, it is verified: its stake
 *   and reputation (the registry's, earned with receipts) are shown.
 * - `GET /v1/a2a/agents?skill=&capability=&minReputation=&maxPrice=&verified=&limit=`
 *   searches the cards: every skill (id or name) and capability (a skill's id
 *   or tag) must match; minReputation keeps verified agents only; maxPrice
 *   is the Sovereign price of the matched skills (none listed is free).
 * - `GET /v1/a2a/agents/:id/agent-card.json` serves the registered card.
 * Cards live for their ttl (default 1 h, at most 24 h): register again to keep one.
 */
export function a2aDirectoryRoutes(app: FastifyInstance, deps: A2aDirectoryDeps): void {
  const cards = new Map<string, StoredCard>();
  const maxCards = deps.maxCards ?? 10_000;
  const limits: CardFetchLimits = {
    timeoutMs: deps.fetchLimits?.timeoutMs ?? 5000,
    maxBytes: deps.fetchLimits?.maxBytes ?? 65_536,
    allowLoopback: isLoopbackHost(deps.bindHost),
  };
  const ajv = createAjv();
  const validateRegistration = ajv.compile(a2aRegistrationSchema);
  const validateCard = ajv.compile(agentCardSchema);

  const live = (entry: StoredCard | undefined): StoredCard | undefined => {
    if (!entry) return undefined;
    if (entry.expiresAtMs > deps.clock.now()) return entry;
    cards.delete(entry.id);
    return undefined;
  };

  const view = async (entry: StoredCard): Promise<A2aDirectoryEntry> => {
    const standing = entry.agentId ? await deps.store.getStanding(entry.agentId) : undefined;
    return {
      id: entry.id,
      cardUrl: entry.cardUrl,
      registryCardPath: `/v1/a2a/agents/${entry.id}/agent-card.json`,
      ...(entry.agentId ? { agentId: entry.agentId, reputation: standing?.reputation ?? PRIOR_REPUTATION, stake: await deps.store.getStake(entry.agentId) } : {}),
      verified: entry.agentId !== undefined,
      name: entry.card.name,
      description: entry.card.description ?? '',
      skills: entry.card.skills.map((s) => {
        const price = sovExtension(entry.card)?.services?.[s.id]?.price;
        return { id: s.id, name: s.name, tags: s.tags ?? [], ...(isAmount(price) ? { price } : {}) };
      }),
      card: entry.card,
      registeredAt: new Date(entry.registeredAtMs).toISOString(),
      expiresAt: new Date(entry.expiresAtMs).toISOString(),
    };
  };

  app.post('/v1/a2a/agents', async (req, reply) => {
    // The signature is checked before anything else, the card fetch included.
    const caller = await deps.caller(req);
    const body = deps.body(req);
    if (!validateRegistration(body)) throw new ValidationError('A2A registration', ajvProblems(validateRegistration.errors));
    const { cardUrl, ttl = 3600 } = body as { cardUrl: string; ttl?: number };
    const id = createHash('sha256').update(cardUrl).digest('base64url').slice(0, 22);
    const existing = live(cards.get(id));
    if (existing?.agentId && existing.agentId !== caller?.id) {
      throw new SovError('ID_MISMATCH', `The card at ${cardUrl} is registered by ${existing.agentId}; only it can register that card again`);
    }
    if (!existing && cards.size >= maxCards) {
      for (const e of [...cards.values()]) live(e);
      if (cards.size >= maxCards) throw new SovError('UNAVAILABLE', `The A2A directory holds ${maxCards} cards, its limit`);
    }
    const fetched = await fetchCard(cardUrl, limits);
    if (!validateCard(fetched)) throw new ValidationError(`agent card at ${cardUrl}`, ajvProblems(validateCard.errors));
    const card = fetched as DirectoryCard;
    let agentId: string | undefined;
    if (caller) {
      const did = sovExtension(card)?.did;
      if (did !== caller.id) {
        throw new SovError('ID_MISMATCH', `Request signed by ${caller.id} cannot vouch for a card that names ${typeof did === 'string' ? did : 'no did'}`);
      }
      agentId = caller.id;
    }
    const now = deps.clock.now();
    const entry: StoredCard = { id, cardUrl, card, agentId, registeredAtMs: existing?.registeredAtMs ?? now, expiresAtMs: now + ttl * 1000 };
    cards.set(id, entry);
    deps.logger.info('A2A card registered', { cardUrl, verified: agentId !== undefined, ...(agentId ? { agentId } : {}) });
    return reply.code(existing ? 200 : 201).send({ success: true, agent: await view(entry) });
  });

  app.get('/v1/a2a/agents', async (req) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const bad: FieldProblem[] = [];
    const number = (key: string): number | undefined => {
      const v = many(q[key])[0];
      if (v === undefined) return undefined;
      const n = v.trim() === '' ? NaN : Number(v);
      if (!Number.isFinite(n) || n < 0) bad.push({ path: `/${key}`, message: `must be a number >= 0 (got ${JSON.stringify(v.slice(0, 50))})` });
      return n;
    };
    const minReputation = number('minReputation');
    const maxPrice = number('maxPrice');
    const limit = number('limit') ?? 50;
    if (minReputation !== undefined && minReputation > 1) bad.push({ path: '/minReputation', message: 'must be at most 1' });
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) bad.push({ path: '/limit', message: 'must be an integer from 1 to 500' });
    const verified = many(q.verified)[0];
    if (verified !== undefined && verified !== 'true' && verified !== 'false') bad.push({ path: '/verified', message: 'must be true or false' });
    for (const key of Object.keys(q)) {
      if (!['skill', 'capability', 'minReputation', 'maxPrice', 'verified', 'limit'].includes(key)) bad.push({ path: `/${key.slice(0, 50)}`, message: 'is not a search field' });
    }
    if (bad.length) throw new ValidationError('A2A search', bad);
    const skills = many(q.skill);
    const capabilities = many(q.capability);
    const out: A2aDirectoryEntry[] = [];
    for (const entry of [...cards.values()]) {
      if (!live(entry)) continue;
      if (verified !== undefined && (entry.agentId !== undefined) !== (verified === 'true')) continue;
      const matched = new Set<string>();
      const hasAll =
        skills.every((want) => entry.card.skills.some((s) => (s.id === want || s.name === want) && matched.add(s.id))) &&
        capabilities.every((want) => entry.card.skills.some((s) => (s.id === want || (s.tags ?? []).includes(want)) && matched.add(s.id)));
      if (!hasAll) continue;
      if (maxPrice !== undefined) {
        const priced = matched.size > 0 ? [...matched] : entry.card.skills.map((s) => s.id);
        if (Math.min(...priced.map((s) => priceOf(entry.card, s))) > maxPrice) continue;
      }
      const shown = await view(entry);
      if (minReputation !== undefined && (shown.reputation === undefined || shown.reputation < minReputation)) continue;
      out.push(shown);
    }
    // Verified first, then by reputation.
    out.sort((a, b) => Number(b.verified) - Number(a.verified) || (b.reputation ?? 0) - (a.reputation ?? 0));
    return { success: true, agents: out.slice(0, limit) };
  });

  app.get<{ Params: { id: string } }>('/v1/a2a/agents/:id/agent-card.json', (req) => {
    const entry = live(cards.get(req.params.id));
    if (!entry) throw new SovError('NOT_FOUND', `No A2A card registered with id ${req.params.id}`);
    return entry.card;
  });
}
