import { MAX_PROBLEMS, ajvProblems, capProblems, createAjv, pointerSegment } from './ajvSetup';

describe('createAjv', () => {
  it('lists every bad field, not only the first', () => {
    const validate = createAjv().compile({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer' } },
      required: ['a', 'b'],
    });
    expect(validate({ a: 1, b: 'x' })).toBe(false);
    expect(ajvProblems(validate.errors)).toEqual([
      { path: '/a', message: 'must be string' },
      { path: '/b', message: 'must be integer' },
    ]);
  });

  it('refuses a schema with a misspelt keyword when it is compiled', () => {
    expect(() => createAjv().compile({ type: 'object', requried: ['a'] })).toThrow(/unknown keyword: "requried"/);
  });

  it('accepts a schema that strict type checks would reject (an enum without a type)', () => {
    const validate = createAjv().compile({ type: 'object', properties: { level: { enum: ['a', 'b'] } } });
    expect(validate({ level: 'a' })).toBe(true);
  });
});

describe('ajvProblems', () => {
  const schema = {
    type: 'object',
    properties: {
      user: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name'],
        additionalProperties: false,
      },
      list: { type: 'array', items: { type: 'number' } },
    },
    required: ['user'],
    additionalProperties: false,
  };
  const validate = createAjv().compile(schema);

  it('names a missing property and an unknown one in the pointer, nested ones with their parents', () => {
    expect(validate({ user: { extra: 1 }, more: true })).toBe(false);
    expect(ajvProblems(validate.errors)).toEqual([
      { path: '/more', message: 'is not allowed' },
      { path: '/user/name', message: 'is required' },
      { path: '/user/extra', message: 'is not allowed' },
    ]);
  });

  it('points into arrays by index, and at / for the whole value', () => {
    expect(validate({ user: { name: 'n' }, list: [1, 'two'] })).toBe(false);
    expect(ajvProblems(validate.errors)).toEqual([{ path: '/list/1', message: 'must be number' }]);
    expect(validate([])).toBe(false);
    expect(ajvProblems(validate.errors)).toEqual([{ path: '/', message: 'must be object' }]);
  });

  it('escapes ~ and / in property names (RFC 6901), as Ajv does in its own pointers', () => {
    const strict = createAjv().compile({
      type: 'object',
      properties: { 'a/b': { type: 'string' } },
      required: ['x~y'],
      additionalProperties: false,
    });
    expect(strict({ 'a/b': 1, 'c/d~': 0 })).toBe(false);
    expect(ajvProblems(strict.errors)).toEqual([
      { path: '/x~0y', message: 'is required' },
      { path: '/c~1d~0', message: 'is not allowed' },
      { path: '/a~1b', message: 'must be string' },
    ]);
    expect(pointerSegment('~/')).toBe('~0~1');
    expect(pointerSegment(3)).toBe('3');
  });

  it(`lists at most ${MAX_PROBLEMS} problems and counts the rest in one last entry`, () => {
    const numbers = createAjv().compile({ type: 'array', items: { type: 'number' } });
    expect(numbers(Array.from({ length: 70 }, () => 'x'))).toBe(false);
    const problems = ajvProblems(numbers.errors);
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems[0]).toEqual({ path: '/0', message: 'must be number' });
    expect(problems[MAX_PROBLEMS - 1]).toEqual({ path: `/${MAX_PROBLEMS - 1}`, message: 'must be number' });
    expect(problems[MAX_PROBLEMS]).toEqual({ path: '/', message: 'and 20 more problems' });
  });

  it('keeps exactly MAX_PROBLEMS without a count, and reads no errors as none', () => {
    const numbers = createAjv().compile({ type: 'array', items: { type: 'number' } });
    expect(numbers(Array.from({ length: MAX_PROBLEMS }, () => 'x'))).toBe(false);
    expect(ajvProblems(numbers.errors)).toHaveLength(MAX_PROBLEMS);
    expect(ajvProblems(null)).toEqual([]);
    expect(ajvProblems(undefined)).toEqual([]);
  });

  it('falls back to the keyword when Ajv gives no message', () => {
    expect(ajvProblems([{ keyword: 'custom', instancePath: '/x', schemaPath: '#/x', params: {} }])).toEqual([
      { path: '/x', message: 'fails custom' },
    ]);
  });
});

describe('capProblems', () => {
  it('returns a short list as it is and cuts a long one, counting what it cut', () => {
    const short = [{ path: '/a', message: 'm' }];
    expect(capProblems(short)).toBe(short);
    const long = Array.from({ length: MAX_PROBLEMS + 5 }, (_, i) => ({ path: `/${i}`, message: 'm' }));
    const capped = capProblems(long);
    expect(capped).toHaveLength(MAX_PROBLEMS + 1);
    expect(capped.at(-1)).toEqual({ path: '/', message: 'and 5 more problems' });
    expect(long).toHaveLength(MAX_PROBLEMS + 5);
  });

  it('counts from the total given when only the first ones were built', () => {
    const built = Array.from({ length: MAX_PROBLEMS }, (_, i) => ({ path: `/${i}`, message: 'm' }));
    expect(capProblems(built, 1000).at(-1)).toEqual({ path: '/', message: 'and 950 more problems' });
  });
});
