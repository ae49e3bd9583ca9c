import { defineErrorCodes } from './defineErrorCodes';
import { CORE_ERROR_CODES, errorCodeOwner, httpStatusOf, isSovErrorCode, registeredErrorCodes, type SovErrorCode } from './errorCodes';
import { RemoteError } from './remoteError';
import { SovError, isSovError } from './sovError';

// The codes this test declares, made known to the types as a package would.
const WIDGET_ERROR_CODES = defineErrorCodes('@sov/widget-test', { WIDGET_JAMMED: 423, WIDGET_GONE: 410 } as const);
type WidgetErrorCodeTable = typeof WIDGET_ERROR_CODES;
declare module './errorCodes' {
  interface SovErrorCodeMap extends WidgetErrorCodeTable {}
}

describe('defineErrorCodes', () => {
  it('registers a package code with its status, so the wire mapping knows it', () => {
    expect(WIDGET_ERROR_CODES).toEqual({ WIDGET_JAMMED: 423, WIDGET_GONE: 410 });
    expect(Object.isFrozen(WIDGET_ERROR_CODES)).toBe(true);
    expect(httpStatusOf('WIDGET_JAMMED')).toBe(423);
    expect(isSovErrorCode('WIDGET_GONE')).toBe(true);
    expect(errorCodeOwner('WIDGET_GONE')).toBe('@sov/widget-test');
    expect(errorCodeOwner('TIMEOUT')).toBe('@sov/core');
    expect(registeredErrorCodes()).toContainEqual({ code: 'WIDGET_JAMMED', owner: '@sov/widget-test', status: 423 });

    const e = new SovError('WIDGET_JAMMED', 'Widget 7 is jammed');
    expect(e.status).toBe(423);
    expect(isSovError(e)).toBe(true);
    expect(e.toWire()).toEqual({ success: false, error: { code: 'WIDGET_JAMMED', message: 'Widget 7 is jammed' } });
    // A peer's answer with the code keeps it.
    expect(new RemoteError({ code: 'WIDGET_GONE', message: 'x', status: 410, method: 'GET', url: 'http://a' }).code).toBe('WIDGET_GONE');
  });

  it('registers every core code under @sov/core', () => {
    for (const [code, status] of Object.entries(CORE_ERROR_CODES)) {
      expect({ code, owner: errorCodeOwner(code), status: httpStatusOf(code) }).toEqual({ code, owner: '@sov/core', status });
    }
  });

  it('answers 500 for a code nobody declares, and does not call it a code', () => {
    expect(httpStatusOf('NOBODY_DECLARES_THIS')).toBe(500);
    expect(isSovErrorCode('NOBODY_DECLARES_THIS')).toBe(false);
    expect(errorCodeOwner('NOBODY_DECLARES_THIS')).toBeUndefined();
    expect(isSovErrorCode(42)).toBe(false);
  });

  it('lets the same owner declare its codes again (its ESM and CJS builds both loaded)', () => {
    expect(defineErrorCodes('@sov/widget-test', { WIDGET_JAMMED: 423, WIDGET_GONE: 410 } as const)).toEqual(WIDGET_ERROR_CODES);
    expect(defineErrorCodes('@sov/core', { TIMEOUT: 504 } as const)).toEqual({ TIMEOUT: 504 });
    expect(errorCodeOwner('WIDGET_JAMMED')).toBe('@sov/widget-test');
  });

  it('refuses a code another package declared, naming both, and registers none of the batch', () => {
    let thrown: unknown;
    try {
      defineErrorCodes('@sov/other-test', { OTHER_FINE: 400, WIDGET_JAMMED: 409 } as const);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SovError);
    expect(thrown).toMatchObject({
      code: 'CONFLICT',
      message: 'Error code WIDGET_JAMMED is declared by @sov/widget-test; @sov/other-test cannot declare it too (codes are unique across packages)',
      details: { code: 'WIDGET_JAMMED', owner: '@sov/widget-test', claimedBy: '@sov/other-test' },
    });
    expect(isSovErrorCode('OTHER_FINE')).toBe(false);
    expect(httpStatusOf('WIDGET_JAMMED')).toBe(423);
    expect(() => defineErrorCodes('@sov/other-test', { TIMEOUT: 504 } as const)).toThrow('Error code TIMEOUT is declared by @sov/core');
  });

  it('refuses a code that is not UPPER_SNAKE_CASE, a status outside 400-599 and a missing owner', () => {
    expect(() => defineErrorCodes('@sov/bad-test', { 'not-a-code': 400 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('"not-a-code" of @sov/bad-test is not UPPER_SNAKE_CASE') }) as Error);
    expect(() => defineErrorCodes('@sov/bad-test', { FINE_CODE: 200 })).toThrow('Error code FINE_CODE of @sov/bad-test has HTTP status 200; it must be an integer from 400 to 599');
    expect(() => defineErrorCodes('@sov/bad-test', { FINE_CODE: 404.5 })).toThrow('HTTP status 404.5');
    expect(() => defineErrorCodes('', { FINE_CODE: 400 })).toThrow('defineErrorCodes needs the name of the package');
    expect(isSovErrorCode('FINE_CODE')).toBe(false);
  });

  it('types: SovError takes a declared code and refuses a typo', () => {
    const code: SovErrorCode = 'WIDGET_GONE';
    expect(new SovError(code, 'x').code).toBe('WIDGET_GONE');
    // @ts-expect-error a code nobody declares does not compile
    expect(new SovError('WIDGET_TYPO', 'x').status).toBe(500);
  });
});
