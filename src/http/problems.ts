import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, DatabaseUnavailableError, ValidationError } from '../errors.js';
import { loggableBug, type OutageLog } from './outage-log.js';
import { toValidationIssues, type PatternMessages } from './validation.js';

export const PROBLEM_TYPE = 'application/problem+json';

// Fastify's own 4xx errors, answered with our wording: their messages can echo request input.
export const FASTIFY_ERRORS: Record<string, AppError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be sent as application/json.'),
  FST_ERR_CTP_BODY_TOO_LARGE: new AppError(413, 'BODY_TOO_LARGE', 'The body is larger than the limit.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: new AppError(400, 'INVALID_JSON', 'The body is empty; send a JSON object.'),
  FST_ERR_CTP_INVALID_JSON_BODY: new AppError(400, 'INVALID_JSON', 'The body is not valid JSON.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: new AppError(400, 'BAD_REQUEST', 'The Content-Length header does not match the body.'),
};
/** A URL that cannot be decoded, such as `/users/%FF`: answered before routing (Fastify's frameworkErrors). */
export const MALFORMED_URL = new AppError(400, 'BAD_REQUEST', 'The URL is malformed.');
export const INTERNAL_ERROR = new AppError(500, 'INTERNAL_ERROR', 'An unexpected error occurred; it has been logged.');
export const ROUTE_NOT_FOUND = new AppError(404, 'NOT_FOUND', 'There is nothing at this address.');

/**
 * Errors of the connection itself, before there is a request (a header deadline missed, malformed or
 * oversized headers): answered as problem+json too, with the headers of every answer and a new request id,
 * then the socket is closed.
 */
export const answerClientErrors =
  (headers: Readonly<Record<string, string>>) =>
  (error: Error & { code?: string }, socket: Duplex): void => {
    if (!socket.writable) return;
    const [status, code] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'HEADERS_TOO_LARGE']
          : [400, 'BAD_REQUEST'];
    const detail =
      status === 408 ? 'The request was not received in time.' : status === 431 ? 'The request headers are too large.' : 'The request is malformed.';
    const body = JSON.stringify(new AppError(status, code, detail).toProblem());
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    socket.end(
      `${head}x-request-id: ${randomUUID()}\r\nContent-Type: ${PROBLEM_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

/** Sends an AppError as RFC 9457 problem+json: the one place errors become HTTP. */
export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type(PROBLEM_TYPE).send(error.toProblem());
}

/** Maps any error to a problem response; unexpected ones are logged and answered without internals. */
export function toAppError(error: FastifyError, request: FastifyRequest, patternMessages: PatternMessages = {}): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) return new ValidationError(toValidationIssues(error.validation as never, error.validationContext, patternMessages));
  const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (known) return known;
  // JSON.parse failures, __proto__ / constructor.prototype keys and other body parse errors.
  if (error instanceof SyntaxError || /prototype property/.test(error.message)) {
    return new AppError(400, 'INVALID_JSON', 'The body is not valid JSON, or uses a forbidden key such as __proto__.');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(status, 'BAD_REQUEST', 'The request cannot be processed.');
  request.log.error({ err: loggableBug(error) }, 'unexpected error');
  return INTERNAL_ERROR;
}

/**
 * Error, 404 and 405 handling. Wrong methods on a known path get 405 with Allow (Fastify answers 404),
 * from a table of the registered routes that is only consulted on the not-found path.
 */
export function installProblemHandlers(app: FastifyInstance, patternMessages: PatternMessages = {}, outages?: OutageLog): void {
  const routes: { source: string; pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    // Catch-all routes (the CORS preflight) would make every unknown path look like a known one.
    if (route.url === '*' || route.url === '/*') return;
    const source = `^${route.url
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[A-Za-z0-9_]+/g, '[^/]+')
      .replace(/\*/g, '.*')
      .replace(/\/$/, '')}/?$`;
    let entry = routes.find((candidate) => candidate.source === source);
    if (!entry) {
      entry = { source, pattern: new RegExp(source), methods: new Set() };
      routes.push(entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let appError: AppError;
    try {
      appError = toAppError(error, request, patternMessages);
    } catch (mappingError) {
      // The handler itself must never fail into Fastify's default answer, which shows the message.
      request.log.error({ err: loggableBug(mappingError), cause: loggableBug(error) }, 'error while mapping an error');
      appError = INTERNAL_ERROR;
    }
    // Not a bug of the service, but the operator needs to know why the database did not answer (once per outage).
    if (appError instanceof DatabaseUnavailableError) outages?.failed(appError.cause ?? appError, request.log);
    if (appError.status === 500) {
      const problem = { ...appError.toProblem(), request_id: String(request.id) };
      return reply.code(500).type(PROBLEM_TYPE).send(problem);
    }
    return sendProblem(reply, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    const route = routes.find((candidate) => candidate.pattern.test(path));
    if (route && !route.methods.has(request.method)) {
      const allow = [...route.methods].sort().join(', ');
      return sendProblem(
        reply,
        new AppError(405, 'METHOD_NOT_ALLOWED', `This method is not allowed here; use ${allow}.`, undefined, { allow }),
      );
    }
    return sendProblem(reply, ROUTE_NOT_FOUND);
  });
}
