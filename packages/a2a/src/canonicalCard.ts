import canonicalize from 'canonicalize';
import type { A2aAgentCard, A2aAgentCardSignature } from './a2aWire';

/** Drops empty strings, nulls, empty arrays and empty objects, as A2A's canonical form (spec §8.4.1) does. */
function withoutEmpty(value: unknown): unknown {
  if (value === '' || value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpty).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const kept = withoutEmpty(v);
      if (kept !== undefined) out[key] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

/**
 * The bytes a card's JWS covers: the card without `signatures`, empty values
 * dropped, in JCS (RFC 8785) form. Matches `canonicalizeAgentCard` of the
 * official SDK for a card whose fields are all in the v1.0 schema (ours are).
 */
export function canonicalCard(card: A2aAgentCard): string {
  const { signatures: _signatures, ...rest } = card;
  return canonicalize(withoutEmpty(rest) ?? {}) ?? '{}';
}

/** Signs a card: a flattened JWS (EdDSA over the canonical card) named by the signer's key id. */
export function signCard(card: A2aAgentCard, keyId: string, sign: (data: Uint8Array) => Uint8Array): A2aAgentCardSignature {
  const protectedHeader = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: keyId, typ: 'JOSE' })).toString('base64url');
  const payload = Buffer.from(canonicalCard(card)).toString('base64url');
  const signature = Buffer.from(sign(Buffer.from(`${protectedHeader}.${payload}`, 'ascii'))).toString('base64url');
  return { protected: protectedHeader, signature };
}
