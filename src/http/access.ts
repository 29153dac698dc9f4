import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export const UNAUTHORIZED = new AppError(401, 'UNAUTHORIZED', 'A valid API key is required: Authorization: Bearer <key>.', undefined, {
  'www-authenticate': 'Bearer realm="users-api"',
});

/** The 429 of a client over RATE_LIMIT requests a minute. */
export const rateLimited = (perMinute: number) =>
  new AppError(429, 'RATE_LIMITED', `Too many requests: at most ${perMinute} a minute; retry later.`);

/**
 * Bearer-key access control for the routes of this scope: 401 + WWW-Authenticate without a valid key.
 * Keys are compared as SHA-256 digests with timingSafeEqual, against every key, so the time taken says
 * nothing about how much of a key matched or which key it was.
 */
export function requireApiKey(scope: FastifyInstance, keys: readonly string[], onAccepted?: (keyIndex: number) => void): void {
  const expected = keys.map(digest);
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header) : null;
    let accepted = -1;
    if (match) {
      const given = digest(match[1]!);
      expected.forEach((key, index) => {
        if (timingSafeEqual(given, key)) accepted = index;
      });
    }
    if (accepted < 0) {
      throw UNAUTHORIZED;
    }
    // Which key: while API_KEY is rotated, the old key's count stops growing once no client sends it.
    onAccepted?.(accepted);
  });
}

/**
 * Per-client request limit for the routes of this scope (in memory, per process): 429 + Retry-After. The plugin is
 * loaded only when a limit is set: loading it (with ip-address) cost every start ~15-30 ms (docs/PERFORMANCE.md,
 * "Eighth pass"); the same for CORS below.
 */
export async function limitRate(scope: FastifyInstance, perMinute: number): Promise<void> {
  const { default: rateLimit } = await import('@fastify/rate-limit');
  await scope.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => rateLimited(context.max),
  });
}

/** CORS for the configured origins only; with none configured, no CORS headers are sent at all. */
export async function allowOrigins(app: FastifyInstance, config: Config): Promise<void> {
  if (config.corsOrigins.length === 0) return;
  const { default: cors } = await import('@fastify/cors');
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? '*' : [...config.corsOrigins],
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'If-Match', 'If-None-Match', 'Idempotency-Key', 'X-Request-Id', 'traceparent'],
    exposedHeaders: ['Location', 'Link', 'X-Total-Count', 'ETag', 'X-Request-Id', 'Retry-After', 'traceparent'],
    maxAge: 600,
  });
}
