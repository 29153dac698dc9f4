import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createConnection, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { DatabaseUnavailableError } from '../../src/errors.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { parseResponses, type RawResponse } from '../helpers/raw-http.js';

// Every operation and status code of the document, provoked on a real app: the answer must have the documented
// status and content type, a body valid against the documented schema, and a `code` that the status lists and
// that has an example. A status the document adds without a way to provoke it here fails the walk, so the
// document can only promise what the server is seen to do. The app runs with API_KEY and RATE_LIMIT set, so that
// 401 and 429 are documented (and walked) too.

type Json = Record<string, unknown>;
interface Media {
  schema: Json;
  examples?: Record<string, { value: Json }>;
}
interface Operation {
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: Json;
}

const KEY = 'walk-'.repeat(8);
const AUTH = { authorization: `Bearer ${KEY}` };
const RATE_LIMIT = 5;

/** Sends raw HTTP/1.1 text (one request or several, pipelined) and reads every answer until the server closes. */
async function exchange(port: number, text: string, opened?: (socket: Socket) => void, head = false): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponses(received, head)));
    socket.write(text);
    opened?.(socket);
  });
}

for (const dialect of TEST_DIALECTS) describe(`every documented operation and status, provoked on a real app (${dialect})`, () => {
  let t: TestApp;
  let document: OpenApiDocument;
  let port: number;
  let userId: number;
  let etag: string;
  let otherEmail: string;
  let clients = 0;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  /** A request of its own client address, so that RATE_LIMIT counts only the 429 case's requests. */
  const send = (method: string, url: string, options: { headers?: Record<string, string>; payload?: unknown; auth?: boolean } = {}) =>
    t.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: `10.0.${Math.floor(++clients / 250)}.${clients % 250}`,
      headers: { ...(options.auth === false ? {} : AUTH), ...options.headers },
      ...(options.payload !== undefined && { payload: options.payload as string }),
    });
  const created = async (email: string) => {
    const response = await send('POST', '/users/', { payload: { first_name: 'Walk', last_name: 'Er', email } });
    assert.equal(response.statusCode, 201);
    return response.json<{ id: number; email: string }>();
  };
  /** Runs `provoke` while the repository's `method` fails with `error`. */
  const failing = async <T>(
    method: 'findById' | 'list' | 'insert' | 'insertOnce' | 'update' | 'delete' | 'exportPage' | 'insertMany',
    error: Error,
    provoke: () => Promise<T>,
  ) => {
    const original = t.users[method];
    t.users[method] = (async () => {
      throw error;
    }) as never;
    try {
      return await provoke();
    } finally {
      t.users[method] = original as never;
    }
  };
  const pinging = async <T>(error: Error, provoke: () => Promise<T>) => {
    const original = t.database.ping;
    t.database.ping = async () => {
      throw error;
    };
    try {
      return await provoke();
    } finally {
      t.database.ping = original;
    }
  };
  /** The answer to a request sent while the server shuts down: pipelined behind one that is in flight at close. */
  async function whileShuttingDown(method: string, url: string): Promise<RawResponse> {
    const closing = await buildTestApp(dialect);
    // When the first request reaches the repository the server starts closing, and the second request is sent on
    // the same connection; the first completes after it.
    let shutdown: Promise<unknown> | undefined;
    let sendSecond = () => {};
    const findById = closing.users.findById.bind(closing.users);
    closing.users.findById = async (id) => {
      shutdown = closing.app.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      sendSecond();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return findById(id);
    };
    await closing.app.listen({ port: 0, host: '127.0.0.1' });
    const { port: closingPort } = closing.app.server.address() as AddressInfo;
    // Both HEAD or neither: the answers are read by one rule (a HEAD answer has no body).
    const head = method === 'HEAD';
    const first = `${head ? 'HEAD' : 'GET'} /users/1 HTTP/1.1\r\nHost: x\r\n\r\n`;
    const answers = await exchange(
      closingPort,
      first,
      (socket) => (sendSecond = () => socket.write(`${method} ${url} HTTP/1.1\r\nHost: x\r\n\r\n`)),
      head,
    );
    await shutdown;
    await closing.close(); // the app is closed already: this closes and drops its database
    assert.equal(answers.length, 2, 'the request in flight and the one behind it are both answered');
    return answers[1]!;
  }
  /** A request without Host, over a real connection (an HTTP/1.1 request must have one). */
  const withoutHost = async (method: string, url: string) =>
    (await exchange(port, `${method} ${url} HTTP/1.1\r\nAuthorization: ${AUTH.authorization}\r\nConnection: close\r\n\r\n`, undefined, method === 'HEAD'))[0]!;

  type Answer = { statusCode: number; headers: Record<string, unknown>; body: string } | RawResponse;
  type Provoke = (method: string) => Promise<Answer>;
  const item = () => `/users/${userId}`;
  const unavailable = new DatabaseUnavailableError();
  const bug = new Error('an unexpected failure');
  const tooLarge = JSON.stringify({ first_name: 'x'.repeat(1_100_000), last_name: 'L', email: 'big@example.com' });
  const NDJSON = { 'content-type': 'application/x-ndjson' };
  const importRow = (email: string) => `${JSON.stringify({ first_name: 'Im', last_name: 'Port', email })}\n`;

  /** How to provoke each documented status, by path and status (HEAD uses its GET's way, with HEAD). */
  const cases: Record<string, Record<string, Provoke>> = {
    '/': {
      200: (method) => send(method, '/'),
      503: (method) => whileShuttingDown(method, '/'),
    },
    '/healthcheck': {
      200: (method) => send(method, '/healthcheck'),
      500: (method) => pinging(bug, () => send(method, '/healthcheck')),
      503: (method) => pinging(unavailable, () => send(method, '/healthcheck')),
    },
    '/livez': {
      200: (method) => send(method, '/livez'),
      503: (method) => whileShuttingDown(method, '/livez'),
    },
    '/readyz': {
      200: (method) => send(method, '/readyz'),
      500: (method) => pinging(bug, () => send(method, '/readyz')),
      503: (method) => pinging(unavailable, () => send(method, '/readyz')),
    },
    '/users/': {
      200: (method) => send(method, '/users/'),
      201: (method) => send(method, '/users/', { payload: { first_name: 'A', last_name: 'B', email: `new.${clients}@example.com` } }),
      409: (method) => send(method, '/users/', { payload: { first_name: 'A', last_name: 'B', email: otherEmail } }),
      413: (method) => send(method, '/users/', { payload: tooLarge, headers: { 'content-type': 'application/json' } }),
      415: (method) => send(method, '/users/', { payload: 'first_name=A', headers: { 'content-type': 'text/plain' } }),
      422: (method) => send(method, method === 'POST' ? '/users/' : '/users/?limit=101', { payload: method === 'POST' ? { email: 'x' } : undefined }),
      500: (method) => failing(method === 'POST' ? 'insert' : 'list', bug, () => send(method, '/users/', { payload: method === 'POST' ? { first_name: 'A', last_name: 'B', email: 'bug@example.com' } : undefined })),
      503: (method) => failing(method === 'POST' ? 'insert' : 'list', unavailable, () => send(method, '/users/', { payload: method === 'POST' ? { first_name: 'A', last_name: 'B', email: 'down@example.com' } : undefined })),
    },
    '/users/export': {
      200: (method) => send(method, '/users/export'),
      406: (method) => send(method, '/users/export', { headers: { accept: 'application/json' } }),
      422: (method) => send(method, '/users/export?format=xml'),
      500: (method) => failing('exportPage', bug, () => send(method, '/users/export')),
      503: (method) => failing('exportPage', unavailable, () => send(method, '/users/export')),
    },
    '/users/import': {
      200: (method) => send(method, '/users/import', { headers: NDJSON, payload: importRow(`import.${clients}@example.com`) }),
      413: (method) => send(method, '/users/import', { headers: NDJSON, payload: tooLarge }),
      415: (method) => send(method, '/users/import', { headers: { 'content-type': 'text/plain' }, payload: 'first_name=A' }),
      422: (method) => send(method, '/users/import?atomic=true', { headers: NDJSON, payload: '{"email":"x"}\n' }),
      500: (method) => failing('insertMany', bug, () => send(method, '/users/import', { headers: NDJSON, payload: importRow('import.bug@example.com') })),
      503: (method) => failing('insertMany', unavailable, () => send(method, '/users/import', { headers: NDJSON, payload: importRow('import.down@example.com') })),
    },
    '/users/{user_id}': {
      200: async (method) => {
        if (method !== 'DELETE') return send(method, item(), { payload: method === 'PATCH' ? { age: 40 } : undefined });
        const doomed = await created(`doomed.${clients}@example.com`);
        return send(method, `/users/${doomed.id}`);
      },
      304: async (method) => send(method, item(), { headers: { 'if-none-match': (await send('GET', item())).headers.etag as string } }),
      404: (method) => send(method, '/users/999999', { payload: method === 'PATCH' ? { age: 1 } : undefined }),
      409: (method) => send(method, item(), { payload: { email: otherEmail } }),
      412: (method) => send(method, item(), { headers: { 'if-match': etag }, payload: method === 'PATCH' ? { age: 2 } : undefined }),
      413: (method) => send(method, item(), { payload: tooLarge, headers: { 'content-type': 'application/json' } }),
      415: (method) => send(method, item(), { payload: 'age=3', headers: { 'content-type': 'text/plain' } }),
      422: (method) => send(method, method === 'PATCH' ? item() : '/users/0', { payload: method === 'PATCH' ? { age: 151 } : undefined }),
      500: (method) => failing(method === 'PATCH' ? 'update' : method === 'DELETE' ? 'delete' : 'findById', bug, () => send(method, item(), { payload: method === 'PATCH' ? { age: 5 } : undefined })),
      503: (method) => failing(method === 'PATCH' ? 'update' : method === 'DELETE' ? 'delete' : 'findById', unavailable, () => send(method, item(), { payload: method === 'PATCH' ? { age: 6 } : undefined })),
    },
  };
  /** Statuses every path answers the same way. */
  const anywhere: Record<string, (method: string, url: string) => Promise<Answer>> = {
    400: (method, url) => withoutHost(method, url),
    401: (method, url) => send(method, url, { auth: false, payload: method === 'POST' || method === 'PATCH' ? { age: 1 } : undefined }),
    429: async (method, url) => {
      const remoteAddress = '192.0.2.1';
      const payload = method === 'POST' || method === 'PATCH' ? { age: 'not a number' } : undefined;
      let last;
      for (let i = 0; i <= RATE_LIMIT; i++) {
        last = await t.app.inject({ method: method as 'GET', url, remoteAddress, headers: AUTH, ...(payload && { payload }) });
      }
      // The window is per client: the next case's client starts afresh.
      return last!;
    },
  };

  before(async () => {
    // IMPORT_BODY_LIMIT as BODY_LIMIT: the same oversized body provokes both 413s.
    t = await buildTestApp(dialect, { API_KEY: KEY, RATE_LIMIT: String(RATE_LIMIT), IMPORT_BODY_LIMIT: String(1024 * 1024) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
    document = (await send('GET', '/openapi.json')).json<OpenApiDocument>();
    const user = await created('walker@example.com');
    userId = user.id;
    etag = '"2000-01-01T00:00:00.000Z"'; // a version the user never had: If-Match fails
    otherEmail = (await created('other.walker@example.com')).email;
  });

  after(async () => {
    await t?.close();
  });

  it('walks every operation and status of the document, and the server answers each as documented', async () => {
    const walked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [lower, operation] of Object.entries(operations)) {
        const method = lower.toUpperCase();
        for (const status of Object.keys(operation.responses)) {
          const label = `${method} ${path} ${status}`;
          const provoke = cases[path]?.[status] ?? anywhere[status]?.bind(null, method, path.replace('{user_id}', String(userId)));
          assert.ok(provoke, `${label}: documented, but the walk has no way to provoke it: add one`);
          const answer = await provoke(method);
          assert.ok(answer, `${label}: answered`);
          const code = 'statusCode' in answer ? answer.statusCode : answer.status;
          const headers = answer.headers as Record<string, string | undefined>;
          assert.equal(code, Number(status), `${label}: ${answer.body.slice(0, 300)}`);
          assert.ok(headers['x-request-id'], `${label}: X-Request-Id`);
          assert.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
          // HEAD describes no body; its GET says what the headers describe.
          const content = (lower === 'head' ? operations['get']! : operation).responses[status]?.content;
          if (lower === 'head' || !content) assert.equal(answer.body, '', `${label}: no body`);
          if (!content) {
            assert.equal(headers['content-type'], undefined, `${label}: no content type without a body`);
            walked.push(label);
            continue;
          }
          const type = String(headers['content-type']).split(';', 1)[0]!;
          const media = content[type];
          assert.ok(media, `${label}: ${type} is documented (${Object.keys(content).join(', ')})`);
          if (lower !== 'head') {
            const validate = ajv.compile({ ...media.schema, components: document.components });
            // A text body (an export's CSV or NDJSON) is checked as the string its schema describes.
            const body = (/[/+]json$/.test(type) ? JSON.parse(answer.body) : answer.body) as Json;
            assert.ok(validate(body), `${label}: ${ajv.errorsText(validate.errors)} in ${answer.body.slice(0, 300)}`);
            if (Number(status) >= 400) {
              const example = media.examples?.[String(body['code'])]?.value;
              assert.ok(example, `${label}: the document has an example of ${String(body['code'])}`);
              assert.deepEqual([example['status'], example['code']], [body['status'], body['code']], label);
            }
          }
          walked.push(label);
        }
      }
    }
    // 77 answers before the export (8 statuses, GET and HEAD) and the import (9): a walk that silently skipped would be far below.
    assert.ok(walked.length >= 95, `walked ${walked.length} answers`);
  });

  it('sends nosniff and X-Request-Id also on answers given before routing and on bare connection errors', async () => {
    const answers: [string, Answer][] = [
      ['GET /users/%FF', await send('GET', '/users/%FF')],
      ['GET /users/%', await send('GET', '/users/%')],
      ['GET /users/ + 300-character id', await send('GET', `/users/${'1'.repeat(300)}`)],
      ['GET /nowhere', await send('GET', '/nowhere')],
      ['PUT /users/', await send('PUT', '/users/')],
      ['headers over the limit', (await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))[0]!],
      ['a malformed request line', (await exchange(port, 'GET / HTTP/9.9 nonsense\r\n\r\n'))[0]!],
    ];
    for (const [label, answer] of answers) {
      const headers = answer.headers as Record<string, string | undefined>;
      assert.ok(answer, label);
      assert.equal(headers['x-content-type-options'], 'nosniff', label);
      assert.match(headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]+$/, label);
      assert.match(headers['content-type'] ?? '', /^application\/problem\+json/, label);
    }
  });
});
