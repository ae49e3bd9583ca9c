import type { AgentRecord } from '../wire';

/*
 * The guide's service score, in one place: @sov/federation ranks merged
 * search results with it (and exports it), the registry ranks its federated
 * search page with it (GET /v1/federation/search), so both agree.
 */

/** Weights of the guide's service score; each term is in [0, 1] before its weight. */
export interface ScoreWeights {
  /** Weight of the agent's reputation. @default 0.4 */
  reputation: number;
  /** Weight of cheapness, 1 − price / maxPrice. @default 0.3 */
  price: number;
  /** Weight of the agent's availability. @default 0.2 */
  availability: number;
  /** Added when the agent comes from the primary registry. @default 0.1 */
  primary: number;
}

/** The guide's weights: reputation × 0.4 + (1 − price / maxPrice) × 0.3 + availability × 0.2 + 0.1 from the primary. */
export const DEFAULT_SCORE_WEIGHTS: Readonly<ScoreWeights> = Object.freeze({ reputation: 0.4, price: 0.3, availability: 0.2, primary: 0.1 });

/**
 * The price an agent asks for a service: the listing named `service`, else
 * the cheapest priced listing; undefined when it lists no price.
 */
export function servicePrice(agent: AgentRecord, service: string): number | undefined {
  let cheapest: number | undefined;
  for (const s of agent.services) {
    if (s.price === undefined) continue;
    if (s.name === service) return s.price;
    if (cheapest === undefined || s.price < cheapest) cheapest = s.price;
  }
  return cheapest;
}

/**
 * The guide's service score of one agent: reputation × w.reputation +
 * (1 − price / maxPrice) × w.price + availability × w.availability, plus
 * w.primary when it comes from the primary registry. A missing price counts
 * as maxPrice (the guide's default), a price above it as maxPrice.
 *
 * @example
 * serviceScore({ reputation: 0.9, availability: 1, price: 10, maxPrice: 100, fromPrimary: true }); // 0.36 + 0.27 + 0.2 + 0.1
 */
export function serviceScore(
  input: { reputation: number; availability: number; price: number | undefined; maxPrice: number; fromPrimary: boolean },
  weights: Readonly<ScoreWeights> = DEFAULT_SCORE_WEIGHTS,
): number {
  const price = Math.min(input.price ?? input.maxPrice, input.maxPrice);
  const cheapness = input.maxPrice > 0 ? 1 - price / input.maxPrice : 0;
  return (
    input.reputation * weights.reputation +
    cheapness * weights.price +
    input.availability * weights.availability +
    (input.fromPrimary ? weights.primary : 0)
  );
}
