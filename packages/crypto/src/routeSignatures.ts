import { createHash, verify, type KeyObject } from 'node:crypto';
import type { CallReceipt } from '@sov/core';
import { isDidKey, publicKeyFromDidKey } from './didKey';
import { canonicalJson } from './internal/canonicalJson';
import { fromBase64Url, toBase64Url } from './internal/base64url';

/** Signs bytes with an identity key (an Identity's `sign`). */
export type SignBytes = (data: Uint8Array) => Uint8Array;

/** What a cross-registry transaction asks the target agent to do. */
export interface FederatedOperation {
  service: string;
  params?: unknown;
}

/** A cross-registry transaction as its origin agent builds it, before signing. */
export interface UnsignedFederatedRequest {
  /** Unique per transaction (16 to 128 url-safe characters): every registry on the path refuses a second use. */
  id: string;
  /** The origin agent's id (a did:key): it signs the request. */
  origin: string;
  /** The registry id (did:key) the request enters the federation at: `path[0]`. */
  sourceRegistry: string;
  /** The registry id the target agent is registered at: the last of `path`. */
  targetRegistry: string;
  /** The agent id that serves the operation. */
  targetAgent: string;
  /** Registry ids from source to target; each forwards to the next. */
  path: string[];
  operation: FederatedOperation;
  /** ISO time the origin made the request; registries refuse it outside their window. */
  timestamp: string;
}

/** A cross-registry transaction signed by its origin (base64url Ed25519 over the canonical request). */
export interface FederatedRequest extends UnsignedFederatedRequest {
  signature: string;
}

/** One registry's signature on a routed request (going) or on its answer (returning). */
export interface RouteHop {
  /** The registry id (did:key) that signed. */
  registry: string;
  /** base64url Ed25519 signature; see signRequestHop / signAnswerHop for what it covers. */
  signature: string;
}

/** What the target agent answered, as the last registry received it. */
export type FederatedOutcome = { success: true; result: unknown } | { success: false; error: { code: string; message: string } };

/** The target's answer as it travels back: the outcome, when it was received, and the agent's own call receipt when it gave one. */
export interface FederatedAnswer {
  outcome: FederatedOutcome;
  /** ISO time the last registry received the answer. */
  at: string;
  /** The target agent's signed receipt of the call (callee = target agent, caller = last registry). */
  receipt?: CallReceipt;
}

/**
 * Proof of a cross-registry transaction that anyone can check from the
 * did:keys alone (verifyRouteReceipt): the origin's signed request, each
 * registry's going signature in path order, the answer, and each registry's
 * returning countersignature in path order.
 */
export interface RouteReceipt {
  request: FederatedRequest;
  hops: RouteHop[];
  answer: FederatedAnswer;
  returns: RouteHop[];
}

/** A registry's peer as its signed peer list names it. */
export interface PeerListEntry {
  id: string;
  url: string;
}

/** A registry's statement of who its peers are, before signing. */
export interface UnsignedPeerList {
  /** The registry id (did:key) that signs the list. */
  registry: string;
  /** The URL the registry is reached at. */
  url: string;
  peers: PeerListEntry[];
  /** ISO time the list was signed. */
  issuedAt: string;
}

/** A registry's peer list signed by the registry (base64url Ed25519 over the canonical list). */
export interface SignedPeerList extends UnsignedPeerList {
  signature: string;
}

/** The verdict of a route check: where it broke and why when it did. */
export type RouteVerdict = { valid: true } | { valid: false; reason: string; hop?: number };

const encoder = new TextEncoder();

function bytesOf(tag: string, value: unknown): Uint8Array {
  return encoder.encode(`${tag}\n${canonicalJson(value)}`);
}

function requestPayload(request: UnsignedFederatedRequest): Uint8Array {
  const { id, origin, sourceRegistry, targetRegistry, targetAgent, path, operation, timestamp } = request;
  return bytesOf('sov-federated-request-v1', { id, origin, sourceRegistry, targetRegistry, targetAgent, path, operation, timestamp });
}

// A route names the same few registries again and again: parse each did:key once.
const keys = new Map<string, KeyObject>();
function keyOf(did: string): KeyObject | undefined {
  let key = keys.get(did);
  if (!key) {
    if (!isDidKey(did)) return undefined;
    key = publicKeyFromDidKey(did);
    if (keys.size >= 1024) keys.delete(keys.keys().next().value!);
    keys.set(did, key);
  }
  return key;
}

function signatureValid(did: string, data: Uint8Array, signature: unknown): boolean {
  const bytes = fromBase64Url(signature, 64);
  if (bytes === undefined) return false;
  const key = keyOf(did);
  try {
    return key !== undefined && verify(null, data, key, bytes);
  } catch {
    return false;
  }
}

/** The SHA-256 (base64url) of a signed request, its signature included: what every hop signature names. */
export function federatedRequestDigest(request: FederatedRequest): string {
  return createHash('sha256').update(requestPayload(request)).update(String(request.signature)).digest('base64url');
}

/** The SHA-256 (base64url) of an answer: what every returning signature names. */
export function federatedAnswerDigest(answer: FederatedAnswer): string {
  return createHash('sha256').update(bytesOf('sov-federated-answer-v1', answer)).digest('base64url');
}

/**
 * Signs a cross-registry transaction as its origin (an Identity's `sign`).
 *
 * @example
 * const request = signFederatedRequest({ id, origin: identity.id, sourceRegistry, targetRegistry, targetAgent, path, operation, timestamp }, (d) => identity.sign(d));
 */
export function signFederatedRequest(request: UnsignedFederatedRequest, sign: SignBytes): FederatedRequest {
  return { ...request, signature: toBase64Url(sign(requestPayload(request))) };
}

/** Whether the request carries its origin's signature over exactly these fields. Never throws. */
export function verifyFederatedRequest(request: FederatedRequest): boolean {
  try {
    return signatureValid(request.origin, requestPayload(request), request.signature);
  } catch {
    return false;
  }
}

function requestHopPayload(digest: string, index: number, registry: string, previous: string): Uint8Array {
  return bytesOf('sov-route-hop-v1', ['request', digest, index, registry, previous]);
}

function answerHopPayload(digest: string, answer: string, index: number, registry: string, previous: string): Uint8Array {
  return bytesOf('sov-route-hop-v1', ['answer', digest, answer, index, registry, previous]);
}

/**
 * The going signature of the registry at `path[hops.length]`: it covers the
 * request's digest, its index on the path, its id, and the signature before
 * it (the origin's for the first hop), so the chain is checked hop by hop.
 */
export function signRequestHop(request: FederatedRequest, hops: readonly RouteHop[], sign: SignBytes): RouteHop {
  const index = hops.length;
  const registry = request.path[index];
  if (registry === undefined) throw new RangeError(`The path has ${request.path.length} registries; there is no hop ${index}`);
  const previous = index === 0 ? request.signature : hops[index - 1]!.signature;
  return { registry, signature: toBase64Url(sign(requestHopPayload(federatedRequestDigest(request), index, registry, previous))) };
}

/**
 * The returning countersignature of the registry at `path[index]` over the
 * answer: it covers the request and answer digests, its index, its id and
 * the signature after it on the path (the next registry's returning one, or
 * its own going one at the last registry). `later` are the returning
 * signatures of path[index + 1 ...], in path order.
 */
export function signAnswerHop(
  request: FederatedRequest,
  hops: readonly RouteHop[],
  answer: FederatedAnswer,
  later: readonly RouteHop[],
  sign: SignBytes,
): RouteHop {
  const index = request.path.length - 1 - later.length;
  const registry = request.path[index];
  if (registry === undefined || hops[index] === undefined) throw new RangeError(`No going hop ${index} to countersign the answer after`);
  const previous = later.length ? later[0]!.signature : hops[index].signature;
  const payload = answerHopPayload(federatedRequestDigest(request), federatedAnswerDigest(answer), index, registry, previous);
  return { registry, signature: toBase64Url(sign(payload)) };
}

/**
 * Checks the origin's signature and the going signatures `hops` (a prefix of
 * the path, in order): each by the registry the signed path names at its
 * index. `from` skips what the caller already checked: the origin's
 * signature and hops before `from` (a registry checking what came back
 * after the hops it saw going out). Never throws.
 */
export function verifyRequestHops(request: FederatedRequest, hops: readonly RouteHop[], options: { from?: number } = {}): RouteVerdict {
  try {
    const from = options.from ?? 0;
    if (from === 0 && !verifyFederatedRequest(request)) return { valid: false, reason: `the request is not signed by its origin ${request.origin} as it reads now` };
    if (hops.length > request.path.length) return { valid: false, reason: `${hops.length} hop signatures for a path of ${request.path.length}` };
    const digest = federatedRequestDigest(request);
    for (let i = from; i < hops.length; i++) {
      const hop = hops[i]!;
      const expected = request.path[i]!;
      if (hop.registry !== expected) return { valid: false, hop: i, reason: `hop ${i} is signed by ${hop.registry}, the path names ${expected}` };
      const previous = i === 0 ? request.signature : hops[i - 1]!.signature;
      if (!signatureValid(expected, requestHopPayload(digest, i, expected, previous), hop.signature)) {
        return { valid: false, hop: i, reason: `hop ${i} signature of ${expected} does not verify` };
      }
    }
    return { valid: true };
  } catch (e) {
    return { valid: false, reason: `malformed route: ${(e as Error).message}` };
  }
}

/**
 * Checks the returning countersignatures `returns` (of the last
 * `returns.length` registries of the path, in path order) over `answer`,
 * against the going signatures `hops` (the whole path). `first` checks only
 * the nearest that many (a registry checking the one it countersigns after;
 * the later ones were checked by the registries that signed after them).
 * Never throws.
 */
export function verifyAnswerHops(
  request: FederatedRequest,
  hops: readonly RouteHop[],
  answer: FederatedAnswer,
  returns: readonly RouteHop[],
  options: { first?: number } = {},
): RouteVerdict {
  try {
    const n = request.path.length;
    if (hops.length !== n) return { valid: false, reason: `${hops.length} going signatures for a path of ${n}` };
    if (returns.length > n) return { valid: false, reason: `${returns.length} returning signatures for a path of ${n}` };
    const digest = federatedRequestDigest(request);
    const answerDigest = federatedAnswerDigest(answer);
    const first = n - returns.length;
    const last = Math.min(returns.length, options.first ?? returns.length) - 1;
    for (let k = last; k >= 0; k--) {
      const index = first + k;
      const hop = returns[k]!;
      const expected = request.path[index]!;
      if (hop.registry !== expected) return { valid: false, hop: index, reason: `the answer's hop ${index} is signed by ${hop.registry}, the path names ${expected}` };
      const previous = k === returns.length - 1 ? hops[index]!.signature : returns[k + 1]!.signature;
      if (!signatureValid(expected, answerHopPayload(digest, answerDigest, index, expected, previous), hop.signature)) {
        return { valid: false, hop: index, reason: `the answer's countersignature by ${expected} (hop ${index}) does not verify: the answer was altered after it` };
      }
    }
    return { valid: true };
  } catch (e) {
    return { valid: false, reason: `malformed route: ${(e as Error).message}` };
  }
}

/**
 * Checks a whole route receipt from the did:keys alone: the origin's
 * signature, every going signature along the path, and every returning
 * countersignature over the answer. Never throws.
 *
 * @example
 * const verdict = verifyRouteReceipt(receipt);
 * if (!verdict.valid) throw new Error(`route receipt refused: ${verdict.reason}`);
 */
export function verifyRouteReceipt(receipt: RouteReceipt): RouteVerdict {
  if (typeof receipt !== 'object' || receipt === null || !Array.isArray(receipt.hops) || !Array.isArray(receipt.returns)) {
    return { valid: false, reason: 'a route receipt needs request, hops, answer and returns' };
  }
  const n = Array.isArray(receipt.request?.path) ? receipt.request.path.length : 0;
  if (receipt.hops.length !== n || receipt.returns.length !== n) {
    return { valid: false, reason: `a complete route has ${n} going and ${n} returning signatures; got ${receipt.hops.length} and ${receipt.returns.length}` };
  }
  const going = verifyRequestHops(receipt.request, receipt.hops);
  return going.valid ? verifyAnswerHops(receipt.request, receipt.hops, receipt.answer, receipt.returns) : going;
}

/** Signs a registry's peer list with the registry's key. */
export function signPeerList(list: UnsignedPeerList, sign: SignBytes): SignedPeerList {
  const { registry, url, peers, issuedAt } = list;
  return { registry, url, peers, issuedAt, signature: toBase64Url(sign(bytesOf('sov-peer-list-v1', { registry, url, peers, issuedAt }))) };
}

/** Whether a peer list is signed by the registry it names. Never throws. */
export function verifyPeerList(list: SignedPeerList): boolean {
  try {
    const { registry, url, peers, issuedAt } = list;
    return signatureValid(registry, bytesOf('sov-peer-list-v1', { registry, url, peers, issuedAt }), list.signature);
  } catch {
    return false;
  }
}
