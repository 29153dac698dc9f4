import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseUnavailableError } from '../../src/errors.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS, createPostgresTestDatabase } from '../helpers/database.js';
import { uniqueEmail } from '../helpers/factories.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

// The probes: /livez answers while the process can, without the database; /readyz answers 200 only when the
// database answers with every migration of this release and the server is not shutting down, and turns 503 the
// moment SIGTERM arrives, while requests in flight still finish and (for SHUTDOWN_DELAY_MS) new ones are served.

const problemOf = (body: string) => JSON.parse(body) as { code: string; status: number };

for (const dialect of TEST_DIALECTS) describe(`the probes (${dialect})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(dialect);
  });
  after(() => t.close());

  it('answers /livez and /readyz with 200 on a migrated database that answers', async () => {
    for (const url of ['/livez', '/readyz', '/healthcheck']) {
      const response = await t.request({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.json().status, 'ok');
    }
  });

  it('answers /readyz with 503 MIGRATIONS_PENDING when the database lacks a migration of this release; /livez stays 200', async () => {
    const run = async (sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> =>
      t.database.dialect === 'sqlite'
        ? (() => {
            const statement = t.database.sqlite.prepare(sql.replace(/\$\d+/g, '?'));
            return statement.reader ? (statement.all(...values) as Record<string, unknown>[]) : (statement.run(...values), []);
          })()
        : (await t.database.pool.query(sql, values)).rows;
    const [row] = await run('DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations) RETURNING *');
    assert.ok(row);
    try {
      const response = await t.request({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(problemOf(response.body).code, 'MIGRATIONS_PENDING');
      assert.equal(response.headers['retry-after'], '1');
      assert.equal((await t.request({ method: 'GET', url: '/livez' })).statusCode, 200);
    } finally {
      const columns = Object.keys(row);
      await run(
        `INSERT INTO schema_migrations (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((column) => row[column]),
      );
    }
    assert.equal((await t.request({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again once the migration is recorded');
  });

  it('answers /readyz with the database fault when the database does not answer; /livez does not ask it', async () => {
    const original = t.database.ping;
    t.database.ping = async () => {
      throw new DatabaseUnavailableError(new Error('connection refused'));
    };
    try {
      const response = await t.request({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(problemOf(response.body).code, 'DATABASE_UNAVAILABLE');
      assert.doesNotMatch(response.body, /connection refused/);
      assert.equal((await t.request({ method: 'GET', url: '/livez' })).statusCode, 200);
    } finally {
      t.database.ping = original;
    }
  });

  it('answers /readyz with 503 SHUTTING_DOWN once the server is stopping, while /livez and the API still answer', async () => {
    t.app.readiness.stopping = true;
    try {
      const response = await t.request({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(problemOf(response.body).code, 'SHUTTING_DOWN');
      assert.equal((await t.request({ method: 'GET', url: '/livez' })).statusCode, 200);
      assert.equal((await t.request({ method: 'GET', url: '/users/' })).statusCode, 200);
    } finally {
      t.app.readiness.stopping = false;
    }
  });
});

/** GET on the server, on a new connection; status and body. */
async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return { status: response.status, body: await response.text() };
}

for (const dialect of TEST_DIALECTS) describe(`SIGTERM with SHUTDOWN_DELAY_MS on a real server (${dialect})`, { timeout: 60000 }, () => {
  let directory: string;
  let server: ServerProcess | undefined;
  let drop = async () => {};
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-probes-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await drop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('turns /readyz 503 at SIGTERM, serves on for the delay, finishes the request in flight, then exits 0', async () => {
    let url = `file:${join(directory, 'users.db')}`;
    if (dialect === 'postgres') ({ url, drop } = await createPostgresTestDatabase({ migrated: true }));
    server = await startServer({ DATABASE_URL: url, SHUTDOWN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' });
    const { port } = server;
    assert.equal((await get(port, '/readyz')).status, 200);

    // A POST in flight: its headers are in (the server said 100 Continue), its body not yet.
    const body = JSON.stringify({ first_name: 'In', last_name: 'Flight', email: uniqueEmail('in.flight') });
    const inFlight = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/users/',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const answered = once(inFlight, 'response') as Promise<[IncomingMessage]>;
    inFlight.flushHeaders();
    await once(inFlight, 'continue');

    const exited = server.exited;
    server.child.kill('SIGTERM');
    // Not ready at once: polled until the signal has been handled (a few ms).
    let readiness = await get(port, '/readyz');
    for (let tries = 0; readiness.status === 200 && tries < 200; tries++) readiness = await get(port, '/readyz');
    assert.equal(readiness.status, 503);
    assert.equal(problemOf(readiness.body).code, 'SHUTTING_DOWN');
    // During the delay everything else is served as before.
    assert.equal((await get(port, '/livez')).status, 200);
    assert.equal((await get(port, '/users/?limit=1')).status, 200);

    inFlight.end(body);
    const [response] = await answered;
    let text = '';
    for await (const chunk of response) text += String(chunk);
    assert.equal(response.statusCode, 201, 'the request in flight completes normally');
    assert.equal((JSON.parse(text) as { last_name: string }).last_name, 'Flight');

    assert.deepEqual(await exited, { code: 0, signal: null });
    server = undefined;
  });
});
