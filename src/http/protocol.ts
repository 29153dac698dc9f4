import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { apiHeadersOf, requestHeadersOf, requestIdOf } from './hooks.js';
import { PROBLEM_TYPE } from './problems.js';

// Node's http server answers a few requests itself, before any route or hook, with an empty body or by closing
// the socket: an unknown Expect (empty 417), CONNECT (socket destroyed), and, unless requireHostHeader is off
// (src/app.ts), an HTTP/1.1 request without Host (empty 400). Fastify answers requests that arrive while it
// closes with its own JSON. Here each of them becomes a problem+json answer with the headers of every API answer.
//
// A request with `Connection: Upgrade` is left to Node: with no 'upgrade' listener it is served as HTTP/1.1,
// as RFC 9110 §7.8 allows (clients such as Java's HttpClient send `Upgrade: h2c` by default on http:// URLs,
// and must get the normal answer), so its errors are already problem+json.


const CLOSE = { connection: 'close' };
export const SHUTTING_DOWN = new AppError(503, 'SHUTTING_DOWN', 'The service is shutting down; retry on a new connection.', undefined, {
  'retry-after': '1',
  ...CLOSE,
});
export const HOST_REQUIRED = new AppError(400, 'HOST_REQUIRED', 'An HTTP/1.1 request must have a Host header.', undefined, CLOSE);
const EXPECTATION_FAILED = new AppError(417, 'EXPECTATION_FAILED', 'The only expectation supported is Expect: 100-continue.');
// 501, not 405: RFC 9110 §9.1 asks for 501 when a method is not implemented for any resource.
const CONNECT_NOT_IMPLEMENTED = new AppError(501, 'METHOD_NOT_IMPLEMENTED', 'This service is not a proxy: CONNECT is not implemented.');

/**
 * Installs the answers to what Node's http server would answer itself (unknown Expect, CONNECT, no Host) and
 * to requests that arrive during a graceful shutdown (a 503 that closes the connection). Returns the check
 * of each request that installRequestHooks runs in its hook (no hook of its own: one boolean on the fast path).
 */
export function installProtocolAnswers(app: FastifyInstance, instanceId: string): (request: FastifyRequest) => AppError | undefined {
  const headers: OutgoingHttpHeaders = apiHeadersOf(instanceId);

  // The request is not read any further: its body (if any) is not awaited, the connection is closed.
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const { head, body } = render(EXPECTATION_FAILED, request, headers);
    response.writeHead(EXPECTATION_FAILED.status, head).end(body);
  });
  // Node has detached its parser: the socket is ours, and what follows the request is tunnel data, never read.
  app.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    if (!socket.writable) return void socket.destroy();
    const { head, body } = render(CONNECT_NOT_IMPLEMENTED, request, headers);
    let text = `HTTP/1.1 ${CONNECT_NOT_IMPLEMENTED.status} ${STATUS_CODES[CONNECT_NOT_IMPLEMENTED.status]}\r\n`;
    for (const [name, value] of Object.entries(head)) text += `${name}: ${String(value)}\r\n`;
    socket.once('finish', () => socket.destroy());
    socket.end(`${text}\r\n${body}`);
  });

  // Fastify's own answer during close (return503OnClosing) is `{"error":"Service Unavailable"}` as JSON:
  // requests pipelined or sent on a kept-alive connection after close() began get this 503 instead.
  let closing = false;
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closing = true;
    // A connection whose request was in flight at close() becomes idle once answered: close it then, rather than
    // wait for the client to, up to KEEP_ALIVE_TIMEOUT_MS (Node closes only the connections idle at close()).
    sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
    sweeper.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(sweeper);
    done();
  });
  return (request) => {
    if (closing) return SHUTTING_DOWN;
    // An HTTP/1.0 request may omit Host.
    if (request.raw.headers.host === undefined && request.raw.httpVersion === '1.1') return HOST_REQUIRED;
    return undefined;
  };
}

/** The headers and body of a problem answer written outside Fastify; the connection is closed after it. */
function render(error: AppError, request: IncomingMessage, headers: OutgoingHttpHeaders): { head: OutgoingHttpHeaders; body: string } {
  const body = JSON.stringify(error.toProblem());
  const head: OutgoingHttpHeaders = {
    ...headers,
    ...requestHeadersOf(request, requestIdOf(request)),
    ...error.headers,
    'content-type': PROBLEM_TYPE,
    'content-length': Buffer.byteLength(body),
    ...CLOSE,
  };
  return { head, body };
}
