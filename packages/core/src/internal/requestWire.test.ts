import { SovError } from '../errors/sovError';
import { isValidationError } from '../errors/validationError';
import { parseJsonBody, retryAfterHeader } from './requestWire';

function refusal(run: () => unknown): SovError {
  try {
    run();
  } catch (e) {
    return e as SovError;
  }
  throw new Error('expected a refusal');
}

describe('parseJsonBody', () => {
  it('parses a JSON body within the depth limit', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,{"b":null}]}'), 3)).toEqual({ a: [1, { b: null }] });
  });

  it('refuses text that is not JSON with INVALID_JSON and the parser message', () => {
    const error = refusal(() => parseJsonBody(Buffer.from('{"a":'), 64));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toMatch(/^Request body is not valid JSON: /);
  });

  it('refuses a body nested too deep with INVALID_INPUT at the first place too deep, the root as /', () => {
    const nested = refusal(() => parseJsonBody(Buffer.from('{"a":{"b":{}}}'), 2));
    expect(isValidationError(nested) && nested.problems).toEqual([{ path: '/a/b', message: 'is nested deeper than 2 levels' }]);
    const root = refusal(() => parseJsonBody(Buffer.from('[]'), 0));
    expect(isValidationError(root) && root.problems).toEqual([{ path: '/', message: 'is nested deeper than 0 levels' }]);
  });

  it('cuts a long pointer to 200 characters', () => {
    const key = 'k'.repeat(60);
    const body = `${`{"${key}":`.repeat(5)}{}${'}'.repeat(5)}`;
    const error = refusal(() => parseJsonBody(Buffer.from(body), 4));
    const path = isValidationError(error) ? error.problems[0]!.path : '';
    expect(path).toBe(`${`/${key}`.repeat(4).slice(0, 200)}...`);
  });
});

describe('retryAfterHeader', () => {
  it('is whole seconds, rounded up and at least 1, when the error carries retryAfterMs', () => {
    expect(retryAfterHeader(new SovError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 1500 } }))).toBe('2');
    expect(retryAfterHeader(new SovError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 0 } }))).toBe('1');
  });

  it('is undefined without a number of milliseconds', () => {
    expect(retryAfterHeader(new SovError('INTERNAL', 'boom'))).toBeUndefined();
    expect(retryAfterHeader(new SovError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: '3' } }))).toBeUndefined();
  });
});
