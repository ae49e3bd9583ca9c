/**
 * `@sov/registry/internal`: the registry's record logic that `@sov/testing`'s
 * MockRegistry shares so it answers exactly as the real server.
 *
 * NOT PUBLIC API: anything here may change or go away in any release, patch
 * releases included. Import it only from a `@sov/*` package of the same
 * release.
 *
 * It holds functions only (no classes), so this entry's own bundle beside
 * the main one never makes two copies of a class.
 *
 * @packageDocumentation
 */
export { availabilityOf, registeredAgent, renewedAgent, toRecord } from './storedAgent';
export { ratedStanding } from './internal/reputation';
