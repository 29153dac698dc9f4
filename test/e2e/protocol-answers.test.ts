import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';
import { parseResponses, type RawResponse } from '../helpers/raw-http.js';

// What Node's http server and Fastify would answer themselves, against the built server (dist/server.js) as a
// real process, with raw sockets: no Host, an unknown Expect, CONNECT, Upgrade, and requests pipelined behind
// one in flight at SIGTERM. Every answer is problem+json with a stable code and the headers of API answers.
before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A raw TCP client that keeps what it received and notes whether the server closed the connection. */
interface RawClient {
  socket: Socket;
  closed: boolean;
  /** Resolves once the connection is closed. */
  whenClosed: Promise<void>;
  text(): string;
}

async function connectRaw(port: number): Promise<RawClient> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  const client: RawClient = {
    socket,
    closed: false,
    whenClosed: new Promise<void>((resolve) =>
      socket.once('close', () => {
        client.closed = true;
        resolve();
      }),
    ),
    text: () => Buffer.concat(chunks).toString('latin1'),
  };
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  return client;
}

/** Waits until `count` complete responses arrived, or the connection closed, or `timeoutMs` passed. */
async function responsesOn(client: RawClient, count: number, timeoutMs = 5000): Promise<RawResponse[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const responses = parseResponses(client.text());
    if (responses.length >= count || client.closed || Date.now() > deadline) return responses;
    await sleep(5);
  }
}

/** Sends `text` on a fresh connection and waits until the server closes it; returns its one answer. */
async function answerTo(port: number, text: string): Promise<RawResponse> {
  const client = await connectRaw(port);
  client.socket.write(text);
  await client.whenClosed;
  const responses = parseResponses(client.text());
  assert.equal(responses.length, 1, `one complete answer, then the connection is closed: ${JSON.stringify(client.text())}`);
  return responses[0]!;
}

/** The headers every API answer carries (the security headers), from a normal answer of the server. */
async function apiHeadersOf(port: number): Promise<Record<string, string>> {
  const health = await answerTo(port, 'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.equal(health.status, 200);
  const headers = Object.fromEntries(Object.entries(health.headers).filter(([name]) => !PER_ANSWER.has(name)));
  assert.equal(headers['x-content-type-options'], 'nosniff');
  return headers;
}

/** Headers that differ from one answer to the next, or with the body: the others are the same on every API answer. */
const PER_ANSWER = new Set(['date', 'content-type', 'content-length', 'connection', 'keep-alive', 'x-request-id', 'traceparent', 'retry-after', 'allow']);

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/**
 * Asserts a problem+json answer: status, code, body fields, the request id, the headers of every API answer, and
 * (unless the request could not be parsed: `traced` false) a W3C traceparent.
 */
function assertProblem(response: RawResponse, status: number, code: string, apiHeaders: Record<string, string>, traced = true): ProblemBody {
  assert.equal(response.status, status);
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json(;|$)/);
  const problem = JSON.parse(response.body) as ProblemBody;
  assert.equal(problem.status, status);
  assert.equal(problem.code, code);
  assert.equal(typeof problem.title, 'string');
  assert.ok(problem.title.length > 0);
  assert.equal(typeof problem.detail, 'string');
  assert.ok(problem.detail.length > 0);
  assert.match(response.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  for (const [name, value] of Object.entries(apiHeaders)) assert.equal(response.headers[name], value, `${name}, as on every API answer`);
  if (traced) assert.match(response.headers['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'a traceparent');
  return problem;
}

describe('answers that Node and Fastify would give themselves are problem+json', { timeout: 30000 }, () => {
  let directory: string;
  let server: ServerProcess;
  /** The headers every API answer carries. */
  let apiHeaders: Record<string, string>;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-protocol-'));
    server = await startServer({ DATABASE_URL: `file:${join(directory, 'users.db')}` });
    apiHeaders = await apiHeadersOf(server.port);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers an HTTP/1.1 request without Host with a 400 problem and closes the connection', async () => {
    const response = await answerTo(server.port, 'GET /healthcheck HTTP/1.1\r\nX-Request-Id: no-host-1\r\n\r\n');
    assertProblem(response, 400, 'HOST_REQUIRED', apiHeaders);
    assert.equal(response.headers['x-request-id'], 'no-host-1', "the client's request id is echoed");
    assert.equal(response.headers['connection'], 'close');
  });

  it('still serves an HTTP/1.0 request without Host, which HTTP/1.0 allows', async () => {
    const response = await answerTo(server.port, 'GET /healthcheck HTTP/1.0\r\n\r\n');
    assert.equal(response.status, 200);
  });

  it('answers an Expect other than 100-continue with a 417 problem and closes the connection', async () => {
    for (const request of [
      'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 42-bogus\r\nX-Request-Id: expect-1\r\n\r\n',
      // The body is not awaited: the answer comes after the headers, and the connection is closed.
      'POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 42-bogus\r\nX-Request-Id: expect-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
    ]) {
      const response = await answerTo(server.port, request);
      assertProblem(response, 417, 'EXPECTATION_FAILED', apiHeaders);
      assert.equal(response.headers['x-request-id'], 'expect-1');
      assert.equal(response.headers['connection'], 'close');
    }
  });

  it('still honours Expect: 100-continue', async () => {
    const client = await connectRaw(server.port);
    const body = JSON.stringify({ first_name: 'Ex', last_name: 'Pect', email: 'continue@example.com' });
    client.socket.write(
      `POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const [interim] = await responsesOn(client, 1);
    assert.equal(interim?.status, 100, 'the server asks for the body');
    client.socket.write(body);
    const [, created] = await responsesOn(client, 2);
    assert.equal(created?.status, 201);
    client.socket.destroy();
  });

  it('answers CONNECT (this service is not a proxy) with a 501 problem and closes the connection', async () => {
    const response = await answerTo(server.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Request-Id: connect-1\r\n\r\n');
    assertProblem(response, 501, 'METHOD_NOT_IMPLEMENTED', apiHeaders);
    assert.equal(response.headers['x-request-id'], 'connect-1');
    assert.equal(response.headers['connection'], 'close');
    // Without a request id of the client's, one is made up.
    const anonymous = await answerTo(server.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assertProblem(anonymous, 501, 'METHOD_NOT_IMPLEMENTED', apiHeaders);
  });

  it('survives a CONNECT client that resets the connection at once', async () => {
    for (let i = 0; i < 20; i++) {
      const client = await connectRaw(server.port);
      client.socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      client.socket.resetAndDestroy();
    }
    const response = await answerTo(server.port, 'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal(response.status, 200);
  });

  it('serves an Upgrade request as HTTP/1.1 (it never switches protocols), its errors as problems', async () => {
    // Java's HttpClient asks for h2c by default on http:// URLs: it must get the normal answer.
    const h2c = await answerTo(
      server.port,
      'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    assert.equal(h2c.status, 200);
    const websocket = await answerTo(
      server.port,
      'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: upgrade-1\r\n\r\n',
    );
    assertProblem(websocket, 404, 'NOT_FOUND', apiHeaders);
    assert.equal(websocket.headers['x-request-id'], 'upgrade-1');
  });
});

describe('requests pipelined behind one in flight at SIGTERM', { timeout: 30000 }, () => {
  let directory: string;
  let server: ServerProcess | undefined;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-protocol-drain-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('finishes the one in flight, answers the pipelined one with a 503 problem, closes the connection, and exits 0', async () => {
    server = await startServer({ DATABASE_URL: `file:${join(directory, 'users.db')}` });
    const apiHeaders = await apiHeadersOf(server.port);
    const client = await connectRaw(server.port);
    const body = JSON.stringify({ first_name: 'In', last_name: 'Flight', email: 'in.flight@example.com' });
    // Expect: 100-continue makes the server say when it has the headers: from then on the request is in flight.
    client.socket.write(
      `POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const [interim] = await responsesOn(client, 1);
    assert.equal(interim?.status, 100);

    server.child.kill('SIGTERM');
    // The server stops listening (a new connection is refused) once close() has begun, and so its preClose hooks ran.
    for (;;) {
      const probe = createConnection({ port: server.port, host: '127.0.0.1' });
      const refused = await new Promise<boolean>((resolve) => {
        probe.once('connect', () => resolve(false));
        probe.once('error', () => resolve(true));
      });
      probe.destroy();
      if (refused) break;
      await sleep(10);
    }

    // The rest of the body, and a second request pipelined behind it on the same connection.
    client.socket.write(`${body}GET /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: pipelined-1\r\n\r\n`);
    await client.whenClosed;
    const [, created, refused, ...more] = parseResponses(client.text());
    assert.equal(created?.status, 201, 'the request in flight completes normally');
    assert.equal((JSON.parse(created.body) as { email: string }).email, 'in.flight@example.com');
    assert.ok(refused, `the pipelined request is answered: ${JSON.stringify(client.text())}`);
    const problem = assertProblem(refused, 503, 'SHUTTING_DOWN', apiHeaders);
    assert.equal(problem.title, 'Service Unavailable');
    assert.equal(refused.headers['x-request-id'], 'pipelined-1');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['connection'], 'close');
    assert.deepEqual(more, [], 'nothing else is sent');
    assert.ok(client.closed, 'the server closes the connection after the 503');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  it('closes a kept-alive connection once its request in flight at SIGTERM is answered, and exits 0 within the grace period', async () => {
    // A keep-alive far longer than the grace period: a server that waited for the client to close its idle
    // connection would be cut off at SHUTDOWN_TIMEOUT_MS and exit 1.
    server = await startServer({
      DATABASE_URL: `file:${join(directory, 'kept-alive.db')}`,
      KEEP_ALIVE_TIMEOUT_MS: '120000',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    const client = await connectRaw(server.port);
    const body = JSON.stringify({ first_name: 'Kept', last_name: 'Alive', email: 'kept.alive@example.com' });
    client.socket.write(
      `POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    assert.equal((await responsesOn(client, 1))[0]?.status, 100);
    server.child.kill('SIGTERM');
    await sleep(200);
    client.socket.write(body);
    await client.whenClosed;
    const [, created] = parseResponses(client.text());
    assert.equal(created?.status, 201, 'the request in flight completes');
    assert.notEqual(created.headers['connection'], 'close', 'its answer kept the connection alive; the server closed it once idle');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});
