import { InvalidArgumentError } from 'commander';
import { MAX_AMOUNT, REGISTRY_EVENT_TYPES, type RegistryEventType } from '@sov/core';

/** A reputation bound: a number from 0 to 1. */
export function reputationArg(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1.');
  return n;
}

/** An amount of minor units: a whole number from 0 (or 1) to MAX_AMOUNT. */
export function amountArg(min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= MAX_AMOUNT)) {
      throw new InvalidArgumentError(`must be a whole number of minor units from ${min} to ${MAX_AMOUNT}.`);
    }
    return n;
  };
}

/** A whole number within bounds. */
export function integerArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty.');
  return [...(previous ?? []), value];
}

/** Collects event types, checked against the registry's list. */
export function collectEventType(value: string, previous: RegistryEventType[] | undefined): RegistryEventType[] {
  if (!(REGISTRY_EVENT_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${REGISTRY_EVENT_TYPES.join(', ')}.`);
  }
  return [...(previous ?? []), value as RegistryEventType];
}
