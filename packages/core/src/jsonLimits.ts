/**
 * Bounds on JSON values that cross a trust boundary (request bodies, stored
 * state, registry records). `JSON.parse` is iterative and takes any depth,
 * but `JSON.stringify`, ajv and every recursive walk overflow the stack a few
 * thousand levels down: a value must be measured before anything recursive
 * touches it. The walk here is iterative, so it never overflows itself.
 */

/** Deepest nesting accepted by default (objects and arrays count one level each). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** Where a value broke a bound, and how. */
export interface JsonLimitProblem {
  /** JSON pointer of the first part that is too deep ('' for the root). */
  path: string;
  /** Human-readable reason, e.g. `is nested deeper than 64 levels`. */
  reason: string;
}

const escapeToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Finds the first place where `value` nests deeper than `maxDepth` levels
 * (a scalar is depth 0, `[]` and `{}` depth 1), walking iteratively; undefined
 * when the value is within the bound. Cycles are not followed twice along a
 * path: a cyclic value is reported as too deep.
 *
 * @example
 * jsonDepthProblem(JSON.parse(body), 64); // { path: '/metadata/a/a/...', reason: 'is nested deeper than 64 levels' }
 */
export function jsonDepthProblem(value: unknown, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonLimitProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // Each frame: the container, its depth and the path to it (built only when reporting).
  const stack: Array<{ v: object; depth: number; parent: number; key: string }> = [{ v: value, depth: 1, parent: -1, key: '' }];
  const frames: Array<{ parent: number; key: string }> = [];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const index = frames.push({ parent: frame.parent, key: frame.key }) - 1;
    if (frame.depth > maxDepth) return { path: pathOf(frames, index), reason: `is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(frame.v)) {
      for (let i = 0; i < frame.v.length; i++) {
        const item: unknown = frame.v[i];
        if (typeof item === 'object' && item !== null) stack.push({ v: item, depth: frame.depth + 1, parent: index, key: String(i) });
      }
    } else {
      for (const key of Object.keys(frame.v)) {
        const item = (frame.v as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) stack.push({ v: item, depth: frame.depth + 1, parent: index, key });
      }
    }
  }
  return undefined;
}

function pathOf(frames: ReadonlyArray<{ parent: number; key: string }>, index: number): string {
  const tokens: string[] = [];
  for (let i = index; i > 0; i = frames[i]!.parent) tokens.push(escapeToken(frames[i]!.key));
  return tokens.length === 0 ? '' : `/${tokens.reverse().join('/')}`;
}
