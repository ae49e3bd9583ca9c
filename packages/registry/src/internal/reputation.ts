import type { AgentStanding } from '../storedAgent';

/** How ratings become reputation (see the registry README, "Reputation"). */
export interface ReputationRules {
  /** Weight of the newcomer's prior of 0.5, counted as that many raters. */
  priorWeight: number;
  /** Raters remembered one by one; older ones are folded into one sum. */
  maxRaters: number;
}

/** A newcomer's reputation, and what an agent with no ratings keeps. */
export const PRIOR_REPUTATION = 0.5;

/** The standing of an agent that has never been rated. */
export function emptyStanding(agentId: string): AgentStanding {
  return { agentId, reputation: PRIOR_REPUTATION, ratings: 0, raters: [], folded: { sum: 0, count: 0 } };
}

/**
 * The standing after `rater` rated the agent `rating` at `nowMs`. One rater,
 * one vote: a rater's vote is the mean of all its ratings of this agent, so
 * rating again refines that vote and never adds weight. Reputation is the
 * mean of every rater's vote and a prior of 0.5 worth `priorWeight` raters:
 * one caller, however often it rates, moves a newcomer at most from 0.5 to
 * 0.5 · priorWeight / (priorWeight + 1) (0.4 with the default prior of 4).
 */
export function ratedStanding(standing: AgentStanding | undefined, agentId: string, rater: string, rating: number, nowMs: number, rules: ReputationRules): AgentStanding {
  const base = standing ?? emptyStanding(agentId);
  const raters = base.raters.filter((r) => r.id !== rater);
  const previous = base.raters.find((r) => r.id === rater);
  const count = (previous?.count ?? 0) + 1;
  const mean = previous ? previous.mean + (rating - previous.mean) / count : rating;
  raters.push({ id: rater, mean, count, lastAtMs: nowMs });
  const folded = { ...base.folded };
  // Oldest first: the list is kept in order of each rater's last rating.
  while (raters.length > rules.maxRaters) {
    const oldest = raters.shift()!;
    folded.sum += oldest.mean;
    folded.count += 1;
  }
  let sum = rules.priorWeight * PRIOR_REPUTATION + folded.sum;
  for (const r of raters) sum += r.mean;
  const reputation = Math.round((sum / (rules.priorWeight + folded.count + raters.length)) * 1e6) / 1e6;
  return { agentId, reputation, ratings: base.ratings + 1, raters, folded };
}
