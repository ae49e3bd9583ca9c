import type { AgentRecord } from '@sov/core';
import { agentRecord } from '@sov/testing';
import { DEFAULT_SCORE_WEIGHTS, serviceScore, servicePrice } from './index';

const record = (services: AgentRecord['services']): AgentRecord =>
  agentRecord({ id: 'did:key:z6Mkx', name: 'x', capabilities: ['quote'], services });

describe('the guide\'s service score', () => {
  it('is reputation x 0.4 + (1 - price / maxPrice) x 0.3 + availability x 0.2 + 0.1 from the primary', () => {
    expect(serviceScore({ reputation: 0.9, availability: 1, price: 10, maxPrice: 100, fromPrimary: true })).toBeCloseTo(0.36 + 0.27 + 0.2 + 0.1, 12);
    expect(serviceScore({ reputation: 0.9, availability: 1, price: 10, maxPrice: 100, fromPrimary: false })).toBeCloseTo(0.83, 12);
  });

  it('scores a missing price, or one above maxPrice, as maxPrice (no cheapness credit)', () => {
    const base = { reputation: 0.5, availability: 0.5, maxPrice: 100, fromPrimary: false };
    expect(serviceScore({ ...base, price: undefined })).toBeCloseTo(0.3, 12);
    expect(serviceScore({ ...base, price: 500 })).toBeCloseTo(0.3, 12);
  });

  it('takes other weights', () => {
    const input = { reputation: 1, availability: 0, price: 0, maxPrice: 10, fromPrimary: true };
    expect(serviceScore(input, { ...DEFAULT_SCORE_WEIGHTS, price: 0, primary: 0 })).toBeCloseTo(0.4, 12);
  });

  it("prices by the named listing, else the cheapest priced one, else none", () => {
    expect(servicePrice(record([{ name: 'a', price: 9 }, { name: 'quote', price: 30 }]), 'quote')).toBe(30);
    expect(servicePrice(record([{ name: 'a', price: 9 }, { name: 'b', price: 4 }, { name: 'c' }]), 'quote')).toBe(4);
    expect(servicePrice(record([{ name: 'quote' }]), 'quote')).toBeUndefined();
  });
});
