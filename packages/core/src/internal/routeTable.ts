import { SovError } from '../errors/sovError';

/** A route found for a request: its entry and the decoded values of its `:name` segments. */
export interface RouteMatch<T> {
  entry: T;
  params: Record<string, string>;
}

interface ParamRoute<T> {
  method: string;
  segments: readonly string[];
  entry: T;
}

const NO_PARAMS: Record<string, string> = Object.freeze({});

/**
 * The endpoint's router: static paths in one map (`METHOD path`), paths
 * with `:name` segments in a short list matched segment by segment. Paths
 * are matched decoded, as they were sent otherwise; a HEAD request finds the
 * GET route. A bad percent-encoding is MALFORMED_REQUEST and a parameter
 * longer than `maxParamLength` URI_TOO_LONG, both before any route runs.
 */
export class RouteTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly withParams: Array<ParamRoute<T>> = [];

  constructor(private readonly maxParamLength = 100) {}

  /** Adds a route; CONFLICT when the method and path are taken. */
  add(method: string, url: string, entry: T): void {
    if (!url.startsWith('/')) throw new SovError('INVALID_INPUT', `Route path must start with "/": ${url}`);
    if (!url.includes('/:')) {
      const key = `${method} ${url}`;
      if (this.exact.has(key)) throw new SovError('CONFLICT', `Route ${key} is already served`);
      this.exact.set(key, entry);
      return;
    }
    const segments = url.split('/');
    if (this.withParams.some((r) => r.method === method && r.segments.join('/') === url)) {
      throw new SovError('CONFLICT', `Route ${method} ${url} is already served`);
    }
    this.withParams.push({ method, segments, entry });
  }

  /** The route for `method` and the raw request path (no query), or undefined. */
  find(method: string, rawPath: string): RouteMatch<T> | undefined {
    const lookup = method === 'HEAD' ? 'GET' : method;
    let path = rawPath;
    if (path.includes('%')) {
      try {
        path = decodeURI(path);
      } catch {
        throw new SovError('MALFORMED_REQUEST', `Bad URL: the path ${JSON.stringify(rawPath.slice(0, 120))} is not valid percent-encoding`);
      }
    }
    const entry = this.exact.get(`${lookup} ${path}`);
    if (entry !== undefined) return { entry, params: NO_PARAMS };
    if (this.withParams.length === 0) return undefined;
    const parts = rawPath.split('/');
    for (const route of this.withParams) {
      if (route.method !== lookup || route.segments.length !== parts.length) continue;
      const params = this.match(route.segments, parts);
      if (params) return { entry: route.entry, params };
    }
    return undefined;
  }

  private match(segments: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
    let params: Record<string, string> | undefined;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const part = parts[i]!;
      if (segment.startsWith(':')) {
        if (part.length === 0) return undefined;
        if (part.length > this.maxParamLength) throw new SovError('URI_TOO_LONG', `A path parameter is longer than ${this.maxParamLength} characters`);
        let value: string;
        try {
          value = decodeURIComponent(part);
        } catch {
          throw new SovError('MALFORMED_REQUEST', `Bad URL: the path parameter ${JSON.stringify(part.slice(0, 120))} is not valid percent-encoding`);
        }
        (params ??= {})[segment.slice(1)] = value;
      } else if (segment !== part) {
        return undefined;
      }
    }
    return params ?? NO_PARAMS;
  }
}
