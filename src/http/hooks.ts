import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppError } from '../errors.js';
import { sendProblem } from './problems.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the client's X-Request-Id when it is a safe token, otherwise a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

// Computed once: the API answers JSON only, so nothing may be framed, sniffed or loaded from elsewhere.
export const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
/** The headers of every API answer, with X-Instance-Id when INSTANCE_ID is set. */
export const apiHeadersOf = (instanceId: string): Record<string, string> =>
  instanceId ? { ...API_HEADERS, 'x-instance-id': instanceId } : API_HEADERS;

// Swagger UI loads its own scripts and styles (and uses inline style attributes) from this origin.
const DOCS_HEADERS = {
  ...API_HEADERS,
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** The access log: one info line per completed request, instead of Fastify's two (incoming + completed). */
export class AccessLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 1000) / 1000 },
      'request',
    );
  }
}

/**
 * Per-request headers: one hook sets a precomputed header object and echoes the request id, then asks `refuse`
 * (installProtocolAnswers: shutting down, no Host) whether to answer at once, with those headers.
 */
export function installRequestHooks(app: FastifyInstance, instanceId: string, refuse?: (request: FastifyRequest) => AppError | undefined): void {
  const apiHeaders = apiHeadersOf(instanceId);
  const docsHeaders = { ...apiHeaders, ...DOCS_HEADERS };
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/docs') ? docsHeaders : apiHeaders);
    reply.header('x-request-id', request.id);
    const refusal = refuse?.(request);
    if (refusal) {
      sendProblem(reply, refusal);
      return;
    }
    done();
  });
}
