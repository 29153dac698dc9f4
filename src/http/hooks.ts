import { randomFillSync, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppError } from '../errors.js';
import { sendProblem } from './problems.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the client's X-Request-Id when it is a safe token, otherwise a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

// W3C Trace Context (https://www.w3.org/TR/trace-context/): version-traceid-parentid-flags, lowercase hex. A later
// version may append fields after these four; version ff is invalid, as are all-zero ids.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** A request's place in a trace: the trace it belongs to, and this server's span in it. */
interface TraceContext {
  traceId: string;
  /** This server's span: the parent id of whatever it calls, and the one it answers with. */
  spanId: string;
  /** The caller's trace flags (01: sampled), passed on unchanged; 00 when this server starts the trace. */
  flags: string;
}

// Random ids in hex from a pool refilled 256 ids at a time: a UUID with its dashes removed cost ~0.4 µs a request
// (profile of GET by id), mostly the replace.
const ID_POOL = Buffer.alloc(16 * 256);
let idOffset = ID_POOL.length;
function newId(): string {
  if (idOffset === ID_POOL.length) {
    randomFillSync(ID_POOL);
    idOffset = 0;
  }
  idOffset += 16;
  return ID_POOL.toString('hex', idOffset - 16, idOffset);
}

/** The trace of a request: the caller's (a valid `traceparent`), or a new one that starts here. */
function traceOf(request: IncomingMessage): TraceContext {
  const given = request.headers.traceparent;
  const match = typeof given === 'string' ? TRACEPARENT.exec(given) : null;
  // A version-00 header is exactly 55 characters; a later version may be longer; version ff is invalid.
  if (match && match[1] !== 'ff' && match[2] !== ZERO_TRACE && match[3] !== ZERO_SPAN && (match[1] !== '00' || given!.length === 55)) {
    return { traceId: match[2]!, spanId: newId().slice(0, 16), flags: match[4]! };
  }
  const id = newId();
  return { traceId: id, spanId: id.slice(0, 16), flags: '00' };
}

/** The traceparent this server answers with: the trace, and its own span as the parent of what follows. */
const traceparentOf = (trace: TraceContext) => `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;

const TRACE = Symbol('trace');
type TracedMessage = IncomingMessage & { [TRACE]?: TraceContext };

/** The trace of a request, read from its headers once (the logger and the headers hook both need it). */
export function requestTraceOf(request: IncomingMessage): TraceContext {
  const traced = request as TracedMessage;
  return (traced[TRACE] ??= traceOf(request));
}

/**
 * The headers that name one request, on every answer to it: its id and its trace. Set by the request hook, and by the
 * answers given before any hook runs (frameworkErrors, protocol.ts).
 */
export const requestHeadersOf = (request: IncomingMessage, requestId: string) => ({
  'x-request-id': requestId,
  traceparent: traceparentOf(requestTraceOf(request)),
});

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

/**
 * Per-request headers: one hook sets a precomputed header object and echoes the request id, then asks `refuse`
 * (installProtocolAnswers: shutting down, no Host) whether to answer at once, with those headers.
 */
export function installRequestHooks(app: FastifyInstance, instanceId: string, refuse?: (request: FastifyRequest) => AppError | undefined): void {
  const apiHeaders = apiHeadersOf(instanceId);
  const docsHeaders = { ...apiHeaders, ...DOCS_HEADERS };
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/docs') ? docsHeaders : apiHeaders);
    reply.headers(requestHeadersOf(request.raw, request.id));
    const refusal = refuse?.(request);
    if (refusal) {
      sendProblem(reply, refusal);
      return;
    }
    done();
  });
}
