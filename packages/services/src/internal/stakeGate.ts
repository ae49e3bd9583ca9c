import { toSovError, type SovError, type VerifiedCaller } from '@sov/core';
import type { CompiledService } from './compiledService';
import { refusal, type Refusal } from './refusal';
import type { StakeCache } from './stakeCache';

/**
 * The stake check of a stake-gated service: undefined when the caller may
 * call; else the refusal (UNAUTHORIZED for an anonymous caller, whose stake
 * is never read; INSUFFICIENT_STAKE below `minStake`), or the SovError of a
 * stake that could not be read (UNAVAILABLE). Stakes come from `stakes`, so
 * a burst of calls of one caller costs one lookup.
 */
export async function checkStake(stakes: StakeCache, service: CompiledService, caller: VerifiedCaller | undefined): Promise<SovError | Refusal | undefined> {
  if (caller === undefined) {
    return refusal('UNAUTHORIZED', `Service "${service.name}" needs a stake of ${service.minStake}: sign the request so that the caller's stake can be checked`);
  }
  let stake: number;
  try {
    const cached = stakes.get(caller.id);
    stake = typeof cached === 'number' ? cached : await cached;
  } catch (e) {
    return toSovError(e);
  }
  if (stake >= service.minStake) return undefined;
  return refusal('INSUFFICIENT_STAKE', `Insufficient stake for service "${service.name}": required ${service.minStake}, ${caller.id} has ${stake}`, {
    required: service.minStake,
    current: stake,
  });
}
