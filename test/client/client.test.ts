import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer as startProcess } from '../../scripts/harness/server-process.js';
import { servedDocument } from '../../clients/typescript/scripts/generate.js';
import {
  ApiError,
  createUsersClient,
  unwrap,
  type ErrorCode,
  type User,
  type UserCreate,
  type UsersClient,
  type UsersProblem,
} from '../../clients/typescript/src/index.js';
import { createPostgresTestDatabase, TEST_DIALECTS, type TestDialect } from '../helpers/database.js';
import { OpenApiResponseChecker } from '../helpers/openapi.js';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';

// The client against the built server as a real process: every request goes through the client (its helpers, or
// its openapi-fetch methods with a custom serializer for bodies the helpers never send), and every error is read
// through the typed union of problem codes.

before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

/**
 * Typed as never when the generated types give each status its codes (an enum per status): then a code the switch
 * below does not handle is a compile error. If `code` were a plain string it would take any problem.
 */
function unhandled(problem: string extends ErrorCode ? UsersProblem : never): never {
  throw new Error(`no status is expected for ${JSON.stringify(problem)}`);
}

/**
 * The status each code must come with, read through the union a client's switch narrows. `satisfies` also checks
 * each expectation against the generated types: inside a case, `problem.status` is the status(es) the document
 * gives that code.
 */
function expectedStatus(problem: UsersProblem): number {
  switch (problem.code) {
    case 'INVALID_JSON':
    case 'BAD_REQUEST':
    case 'HOST_REQUIRED':
    case 'UPLOAD_INCOMPLETE':
      return 400 satisfies typeof problem.status;
    case 'UNAUTHORIZED':
      return 401 satisfies typeof problem.status;
    case 'USER_NOT_FOUND':
      return 404 satisfies typeof problem.status;
    case 'EMAIL_TAKEN':
      return 409 satisfies typeof problem.status;
    case 'PRECONDITION_FAILED':
      return 412 satisfies typeof problem.status;
    case 'NOT_ACCEPTABLE':
      return 406 satisfies typeof problem.status;
    case 'BODY_TOO_LARGE':
    case 'TOO_MANY_ROWS':
      return 413 satisfies typeof problem.status;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415 satisfies typeof problem.status;
    case 'VALIDATION_FAILED':
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422 satisfies typeof problem.status;
    case 'RATE_LIMITED':
      return 429 satisfies typeof problem.status;
    case 'INTERNAL_ERROR':
      return 500 satisfies typeof problem.status;
    case 'DATABASE_UNAVAILABLE':
    case 'SHUTTING_DOWN':
      return 503 satisfies typeof problem.status;
    case 'UNEXPECTED_RESPONSE':
      return problem.status;
    default:
      return unhandled(problem);
  }
}

/** The servers' BODY_LIMIT in this file. */
const BODY_LIMIT = 16 * 1024;

/** The codes this file has seen the server answer, for the coverage check at the end. */
const seen = new Set<string>();

/** Awaits a call that must fail with `code`, checks its status through the union, and returns the error. */
async function expectError(call: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  const error = await call.then(
    (value) => assert.fail(`expected ${code}, got ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof ApiError, `an ApiError, not ${String(error)}`);
  assert.equal(error.problem.code, code, error.message);
  assert.equal(error.problem.status, expectedStatus(error.problem), `${code} comes with its status`);
  assert.equal(error.response.status, error.problem.status);
  assert.match(error.response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  seen.add(error.code);
  return error;
}

// One checker per server process, not per origin: a later server may get an earlier one's port, with another document.
const checkers = new WeakMap<ServerProcess, Promise<OpenApiResponseChecker>>();
function checkerOf(server: ServerProcess): Promise<OpenApiResponseChecker> {
  let checker = checkers.get(server);
  if (!checker) {
    checker = fetch(`${server.url}/openapi.json`).then(async (response) => new OpenApiResponseChecker((await response.json()) as never));
    checkers.set(server, checker);
  }
  return checker;
}

/** A client whose fetch also checks every response against the server's own OpenAPI document. */
function clientOf(server: ServerProcess, options: { apiKey?: string } = {}): UsersClient {
  return createUsersClient({
    baseUrl: server.url,
    ...options,
    fetch: async (request) => {
      const { method } = request;
      const { pathname, search } = new URL(request.url);
      const response = await fetch(request);
      const body = await response.clone().text();
      const problems = (await checkerOf(server)).check(method, pathname + search, response.status, response.headers.get('content-type') ?? undefined, body);
      assert.deepEqual(problems, [], `${method} ${pathname} ${response.status} matches the OpenAPI document`);
      return response;
    },
  });
}

let sequence = 0;
const person = (overrides: Partial<UserCreate> = {}): UserCreate => ({
  first_name: 'Ada',
  last_name: 'Lovelace',
  age: 36,
  email: `client.${++sequence}.${randomUUID().slice(0, 8)}@example.com`,
  ...overrides,
});

let directory: string;
before(() => {
  directory = mkdtempSync(join(tmpdir(), 'users-api-client-'));
  chmodSync(directory, 0o777); // the read-only test's server runs as nobody when the tests run as root
});
after(() => rmSync(directory, { recursive: true, force: true }));

/** A server on a database of its own: a SQLite file in the test directory, or a fresh PostgreSQL database. */
async function serverOn(dialect: TestDialect, env: Record<string, string> = {}): Promise<{ server: ServerProcess; stop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const server = await startServer({ DATABASE_URL: `file:${join(directory, `${randomUUID()}.db`)}`, ...env });
    return { server, stop: async () => void (await server.stop()) };
  }
  const database = await createPostgresTestDatabase({ migrated: true });
  try {
    const server = await startServer({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '2', ...env });
    return {
      server,
      stop: async () => {
        await server.stop();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

for (const dialect of TEST_DIALECTS) {
  describe(`the TypeScript client against a real server (${dialect})`, () => {
    let running: Awaited<ReturnType<typeof serverOn>>;
    let api: UsersClient;
    before(async () => {
      // A small body limit: a body just over it reaches the server whole before the 413 (see BODY_TOO_LARGE below).
      running = await serverOn(dialect, { BODY_LIMIT: String(BODY_LIMIT) });
      api = clientOf(running.server);
    });
    after(() => running?.stop());

    it('creates, reads, updates with the ETag and deletes a user', async () => {
      const body = person();
      const created = await api.createUser(body);
      assert.equal(created.replayed, false);
      assert.equal(created.location, `/users/${created.user.id}`);
      assert.ok(created.etag);
      assert.deepEqual({ ...created.user }, { ...created.user, ...body });

      const read = await api.getUser(created.user.id);
      assert.deepEqual(read.user, created.user);
      assert.equal(read.etag, created.etag);

      // If-Match with the current ETag changes the user; the old tag is stale from then on.
      const updated = await api.updateUser(created.user.id, { age: 37 }, { ifMatch: read.etag });
      assert.equal(updated.user.age, 37);
      assert.notEqual(updated.etag, read.etag);
      const stale = await expectError(api.updateUser(created.user.id, { age: 99 }, { ifMatch: read.etag }), 'PRECONDITION_FAILED');
      assert.match(stale.problem.detail, /ETag/);
      assert.equal((await api.getUser(created.user.id)).user.age, 37, 'a refused update changes nothing');
      await expectError(api.deleteUser(created.user.id, { ifMatch: read.etag }), 'PRECONDITION_FAILED');

      await api.deleteUser(created.user.id, { ifMatch: updated.etag });
      const missing = await expectError(api.getUser(created.user.id), 'USER_NOT_FOUND');
      assert.equal(missing.problem.detail, 'User not found');
      await expectError(api.updateUser(created.user.id, { age: 1 }), 'USER_NOT_FOUND');
      await expectError(api.deleteUser(created.user.id), 'USER_NOT_FOUND');
    });

    it('modifyUser re-reads and retries on 412: two concurrent increments both count', async () => {
      const { user } = await api.createUser(person({ age: 10 }));
      const increment = (current: User) => ({ age: (current.age ?? 0) + 1 });
      await Promise.all([api.modifyUser(user.id, increment, { attempts: 10 }), api.modifyUser(user.id, increment, { attempts: 10 })]);
      assert.equal((await api.getUser(user.id)).user.age, 12);
    });

    it('lists every page by following Link rel="next", with X-Total-Count', async () => {
      const last_name = `Paged${randomUUID().slice(0, 8)}`;
      const created: User[] = [];
      for (let i = 0; i < 7; i++) created.push((await api.createUser(person({ last_name, age: 20 + i }))).user);

      const pages = [];
      for await (const page of api.listPages({ last_name, limit: 3 })) pages.push(page);
      assert.deepEqual(pages.map((page) => page.users.length), [3, 3, 1]);
      assert.deepEqual(pages.map((page) => page.total), [7, 7, 7]);
      assert.equal(pages.at(-1)?.next, undefined, 'the last page has no next link');
      assert.ok(pages[0]?.next?.cursor, 'next pages are keyset cursors');

      const all: User[] = [];
      for await (const user of api.listAll({ last_name, limit: 3 })) all.push(user);
      assert.deepEqual(all, created);
      const descending: User[] = [];
      for await (const user of api.listAll({ last_name, limit: 3, sort: '-id' })) descending.push(user);
      assert.deepEqual(descending, [...created].reverse(), 'the sort is carried to every page');

      const uncounted = await api.listUsers({ last_name, limit: 3, count: false });
      assert.equal(uncounted.total, undefined, 'count=false: no X-Total-Count');
      assert.equal(uncounted.users.length, 3);
    });

    it('filters by q, email and age bounds', async () => {
      const marker = `zq${randomUUID().slice(0, 6)}`;
      const young = (await api.createUser(person({ first_name: `${marker}Young`, age: 18 }))).user;
      const old = (await api.createUser(person({ first_name: `${marker}Old`, age: 70 }))).user;
      const ageless = (await api.createUser(person({ first_name: `${marker}Ageless`, age: null }))).user;

      const search = await api.listUsers({ q: marker.toUpperCase() });
      assert.deepEqual(search.users.map((user) => user.id), [young.id, old.id, ageless.id], 'q is a case-insensitive substring');
      assert.equal((await api.listUsers({ q: marker, count: true })).total, 3);

      const byEmail = await api.listUsers({ email: old.email.toUpperCase() });
      assert.deepEqual(byEmail.users, [old]);
      assert.equal(byEmail.total, 1);

      const bounded = await api.listUsers({ q: marker, min_age: 18, max_age: 69 });
      assert.deepEqual(bounded.users, [young], 'bounds are inclusive; no age never matches');
      assert.deepEqual((await api.listUsers({ q: marker, min_age: 70 })).users, [old]);
      await expectError(api.listUsers({ limit: 101 }), 'VALIDATION_FAILED');
    });

    it('replays a create retried with its Idempotency-Key, and refuses the key with another body', async () => {
      const key = randomUUID();
      const body = person();
      const first = await api.createUser(body, { idempotencyKey: key });
      const retry = await api.createUser(body, { idempotencyKey: key });
      assert.equal(first.replayed, false);
      assert.equal(retry.replayed, true);
      assert.deepEqual(retry.user, first.user, 'the same user, not a second one');
      assert.equal((await api.listUsers({ email: body.email })).total, 1);
      await expectError(api.createUser({ ...body, age: 1 }, { idempotencyKey: key }), 'IDEMPOTENCY_KEY_REUSED');
    });

    it('answers EMAIL_TAKEN and VALIDATION_FAILED', async () => {
      const taken = (await api.createUser(person())).user;
      await expectError(api.createUser(person({ email: taken.email.toUpperCase() })), 'EMAIL_TAKEN');
      const other = (await api.createUser(person())).user;
      await expectError(api.updateUser(other.id, { email: taken.email }), 'EMAIL_TAKEN');

      const invalid = await expectError(api.createUser(person({ age: 151, first_name: ' ' })), 'VALIDATION_FAILED');
      if (invalid.problem.code === 'VALIDATION_FAILED') {
        const locations = (invalid.problem.errors ?? []).map((issue) => issue.location.join('.'));
        assert.deepEqual(locations.sort(), ['body.age', 'body.first_name'], 'every problem, at once');
      }
      // A body the types refuse, sent anyway (a JavaScript caller could): the server refuses it too.
      await expectError(api.createUser({ ...person(), id: 5 } as UserCreate), 'VALIDATION_FAILED');
      await expectError(api.getUser(0), 'VALIDATION_FAILED');
    });

    it('exports and imports users, and answers NOT_ACCEPTABLE and TOO_MANY_ROWS', async () => {
      const marker = `bulk${randomUUID().slice(0, 8)}`;
      const rows = [person({ first_name: marker }), person({ first_name: marker, age: null })];
      const imported = await api
        .POST('/users/import', {
          body: rows.map((row) => JSON.stringify(row)).join('\n'),
          headers: { 'content-type': 'application/x-ndjson' },
          bodySerializer: (body) => body,
        })
        .then(unwrap);
      assert.deepEqual(imported, { created: 2, refused: 0, last_line: 2, errors: [] });
      const exported = await api
        .GET('/users/export', { params: { query: { first_name: marker, format: 'ndjson' } }, parseAs: 'text' })
        .then(unwrap);
      const users = String(exported).trimEnd().split('\n').map((line) => JSON.parse(line) as User);
      assert.deepEqual(users.map((user) => user.email), rows.map((row) => row.email));
      await expectError(api.GET('/users/export', { headers: { accept: 'application/json' }, parseAs: 'text' }).then(unwrap), 'NOT_ACCEPTABLE');
      const tooMany = Array.from({ length: 10_001 }, () => '{}').join('\n');
      await expectError(
        api
          .POST('/users/import', { params: { query: { atomic: true } }, body: tooMany, headers: { 'content-type': 'application/x-ndjson' }, bodySerializer: (body) => body })
          .then(unwrap),
        'TOO_MANY_ROWS',
      );
    });

    it('answers INVALID_JSON, UNSUPPORTED_MEDIA_TYPE, BODY_TOO_LARGE and BAD_REQUEST to requests the helpers never send', async () => {
      // openapi-fetch's per-request serializers send what the types would not allow.
      await expectError(api.POST('/users/', { body: person(), bodySerializer: () => '{"first_name": "Ada",' }).then(unwrap), 'INVALID_JSON');
      await expectError(
        api.PATCH('/users/{user_id}', { params: { path: { user_id: 1 } }, body: {}, bodySerializer: () => '' }).then(unwrap),
        'INVALID_JSON',
      );
      await expectError(
        api.POST('/users/', { body: person(), headers: { 'content-type': 'text/plain' }, bodySerializer: (body) => JSON.stringify(body) }).then(unwrap),
        'UNSUPPORTED_MEDIA_TYPE',
      );
      // Over BODY_LIMIT: refused from its Content-Length, before it is read. Not over the 1 MiB default: the server
      // closes the connection without reading the body, and a client still writing a megabyte then gets EPIPE instead
      // of the 413 now and then (7 % of tries, measured); a body of 16 KiB is sent whole before the answer.
      await expectError(api.createUser(person({ first_name: 'x'.repeat(BODY_LIMIT + 1) })), 'BODY_TOO_LARGE');
      // A path that cannot be percent-decoded.
      await expectError(
        api.GET('/users/{user_id}', { params: { path: { user_id: 1 } }, pathSerializer: (url) => url.replace('{user_id}', '%') }).then(unwrap),
        'BAD_REQUEST',
      );
    });
  });
}

describe('the TypeScript client and opt-in features (SQLite)', () => {
  it('sends the API key: UNAUTHORIZED without it or with a wrong one', async () => {
    const key = `client-test-key-${randomUUID()}`;
    const { server, stop } = await serverOn('sqlite', { API_KEY: key });
    try {
      const anonymous = await expectError(clientOf(server).listUsers(), 'UNAUTHORIZED');
      assert.match(anonymous.response.headers.get('www-authenticate') ?? '', /^Bearer/);
      await expectError(clientOf(server, { apiKey: `${key}-wrong` }).createUser(person()), 'UNAUTHORIZED');
      const api = clientOf(server, { apiKey: key });
      const { user } = await api.createUser(person());
      assert.deepEqual((await api.getUser(user.id)).user, user);
    } finally {
      await stop();
    }
  });

  it('answers RATE_LIMITED beyond RATE_LIMIT requests a minute', async () => {
    const { server, stop } = await serverOn('sqlite', { RATE_LIMIT: '3' });
    try {
      const api = clientOf(server);
      for (let i = 0; i < 3; i++) await api.listUsers();
      const limited = await expectError(api.listUsers(), 'RATE_LIMITED');
      assert.match(limited.response.headers.get('retry-after') ?? '', /^\d+$/);
    } finally {
      await stop();
    }
  });

  it('answers DATABASE_UNAVAILABLE to a write when the database file is read-only', async () => {
    // As in test/e2e/database-file.test.ts: a read-only file means nothing to root, so the server runs as nobody.
    const asRoot = process.getuid?.() === 0;
    const nobody = { uid: 65534, gid: 65534 };
    const folder = join(directory, 'read-only');
    const file = join(folder, 'users.db');
    mkdirSync(folder);
    if (asRoot) chownSync(folder, nobody.uid, nobody.gid);
    const start = () =>
      startProcess({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'fatal' }, readyStatuses: [200, 503], ...(asRoot && { user: nobody }) });
    let server = await start();
    try {
      const { user } = await clientOf(server).createUser(person());
      await server.stop();
      chmodSync(file, 0o444);
      server = await start();
      const api = clientOf(server);
      assert.deepEqual((await api.getUser(user.id)).user, user, 'reads are served');
      const refused = await expectError(api.createUser(person()), 'DATABASE_UNAVAILABLE');
      assert.equal(refused.response.headers.get('retry-after'), '1');
    } finally {
      await server.stop();
    }
  });
});

/**
 * The error codes the document names for the /users operations: from each problem schema's `code` enum, else from
 * the "(code X)" of the response descriptions.
 */
async function documentedCodes(): Promise<Set<string>> {
  const document = (await servedDocument()) as unknown as { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
  const codes = new Set<string>();
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(collect);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'code' && typeof inner === 'object' && inner !== null && Array.isArray((inner as { enum?: unknown }).enum)) {
        for (const code of (inner as { enum: unknown[] }).enum) codes.add(String(code));
      } else if (key === 'description' && typeof inner === 'string') {
        for (const match of inner.matchAll(/\bcode ([A-Z][A-Z_]+)/g)) codes.add(match[1]!);
      } else collect(inner);
    }
  };
  for (const [path, item] of Object.entries(document.paths)) {
    if (path.startsWith('/users')) for (const operation of Object.values(item)) collect(operation.responses);
  }
  return codes;
}

/**
 * Codes no request made through a fetch-based client can produce, each tested elsewhere:
 * - INTERNAL_ERROR is a bug of the server by definition (test/app: a repository made to throw);
 * - HOST_REQUIRED needs an HTTP/1.1 request without Host, which fetch always sends (a forbidden header);
 * - SHUTTING_DOWN needs a request pipelined behind one in flight at SIGTERM, and fetch does not pipeline
 *   (test/e2e/protocol-answers.test.ts does it on a raw socket);
 * - UPLOAD_INCOMPLETE answers an import whose client stopped sending mid-body, which a fetch never does
 *   (test/users/import.test.ts cuts an upload on a raw socket).
 */
const NOT_PRODUCIBLE_FROM_OUTSIDE = new Set(['INTERNAL_ERROR', 'HOST_REQUIRED', 'SHUTTING_DOWN', 'UPLOAD_INCOMPLETE']);

// Last in this file (node:test runs a file's tests in order): each code the document lists was answered above.
it('has exercised every error code the document lists for /users, through the client', async () => {
  const documented = await documentedCodes();
  assert.ok(documented.has('USER_NOT_FOUND'), `the document's codes are readable: ${[...documented].join(', ')}`);
  const missing = [...documented].filter((code) => !seen.has(code) && !NOT_PRODUCIBLE_FROM_OUTSIDE.has(code));
  assert.deepEqual(missing, [], 'every documented error code of /users is exercised through the client');
});
