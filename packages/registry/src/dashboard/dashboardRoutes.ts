import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SovError, type Clock, type Logger, type RegistryEvent } from '@sov/core';
import { ActivityCounter } from './activityCounter';

/** What the dashboard needs from the registry it is served by. */
export interface DashboardContext {
  clock: Clock;
  logger: Logger;
  /** The registry's in-process event subscription (counts registrations and departures). */
  onEvent(listener: (event: RegistryEvent) => void): () => void;
}

/**
 * The page's policy: scripts, styles and connections from this origin only,
 * no inline script or style, no frames, no forms, no plugins. Agent records
 * are put into the page as text, and this stops anything that slipped
 * through from running.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Statistics are kept in 10 s buckets for the last 10 minutes. */
const BUCKET_MS = 10_000;
const BUCKETS = 60;

interface Asset {
  body: Buffer;
  type: string;
}

/** This module's URL in every way it runs: the CJS build and jest (`__filename`), the ESM build and tsx (`import.meta.url`). */
function moduleUrl(): string {
  return typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
}

/** The folder the front end ships in: `<package>/dashboard`, beside `dist/` (built) or `src/` (sources). */
function assetsDir(): string | undefined {
  const here = fileURLToPath(new URL('.', moduleUrl()));
  return [join(here, '..', 'dashboard'), join(here, '..', '..', 'dashboard')].find((d) => existsSync(join(d, 'index.html')));
}

/** Reads the front end and the chart library once, at start: requests are served from memory and only these names exist. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  // uPlot (MIT, leeoniya/uPlot) comes from the registry's own dependency, never from a CDN.
  const req = createRequire(moduleUrl());
  assets.set('uPlot.esm.js', { body: readFileSync(req.resolve('uplot/dist/uPlot.esm.js')), type: CONTENT_TYPES['.js']! });
  assets.set('uPlot.min.css', { body: readFileSync(req.resolve('uplot/dist/uPlot.min.css')), type: CONTENT_TYPES['.css']! });
  return assets;
}

function sendAsset(reply: FastifyReply, asset: Asset): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache')
    .type(asset.type)
    .send(asset.body);
}

/**
 * Mounts the dashboard on the registry's fastify instance: the page at
 * `/dashboard`, its assets at `/dashboard/assets/<name>`, and the read-only
 * `GET /v1/stats` (registrations, departures and searches per 10 s over the
 * last 10 minutes) its chart reads. The page itself uses the public API only;
 * stake changes need the operator token typed into it.
 */
export function dashboardRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const activity = new ActivityCounter(BUCKET_MS, BUCKETS);
  ctx.onEvent((e) => {
    if (e.type === 'peer_joined') activity.record('registrations', ctx.clock.now());
    else if (e.type === 'peer_left') activity.record('departures', ctx.clock.now());
  });
  app.addHook('onResponse', (req, reply, done) => {
    // The dashboard's own refreshes (marked x-dashboard-poll) are not searches anyone made.
    if (req.method === 'GET' && req.routeOptions.url === '/v1/agents' && reply.statusCode === 200 && req.headers['x-dashboard-poll'] === undefined) {
      activity.record('searches', ctx.clock.now());
    }
    done();
  });
  app.get('/v1/stats', () => ({ success: true, stats: activity.snapshot(ctx.clock.now()) }));

  const dir = assetsDir();
  if (!dir) {
    ctx.logger.warn('dashboard assets not found next to the registry package; /dashboard is not served');
    return;
  }
  const assets = loadAssets(dir);
  const index = assets.get('index.html')!;
  app.get('/dashboard', (_req, reply) => sendAsset(reply, index));
  app.get('/dashboard/', (_req, reply) => sendAsset(reply, index));
  app.get<{ Params: { name: string } }>('/dashboard/assets/:name', (req, reply) => {
    const asset = assets.get(req.params.name);
    if (!asset) throw new SovError('ROUTE_NOT_FOUND', `No dashboard asset ${JSON.stringify(req.params.name)}`);
    return sendAsset(reply, asset);
  });
}
