import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isPgConnectionLost, pgFaultOf } from '../../src/db/pg-errors.js';
import { DatabaseUnavailableError, EmailTakenError, IdempotencyKeyReusedError } from '../../src/errors.js';
import { createPostgresTestDatabase, POSTGRES_UNAVAILABLE, TEST_POSTGRES_URL } from '../helpers/database.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { userInput } from '../helpers/factories.js';
import { ROOT, fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';

// Every wait on PostgreSQL is bounded (src/db/postgres.ts): a locked table, a frozen server, an exhausted pool and
// a shutdown during a wait all end in a 503 DATABASE_UNAVAILABLE, and no statement of the service runs on after
// its process is gone. The built server (dist/server.js) runs as a real process with small timeouts; each test has
// its own database. No test measures time: they assert statuses, codes, the order of events and the final rows.
// Under CI=true an unreachable PostgreSQL fails the import of ../helpers/database.js, so nothing is skipped there.

const skip = POSTGRES_UNAVAILABLE === null ? false : `PostgreSQL is unreachable (${POSTGRES_UNAVAILABLE}): SKIPPED`;
if (skip) console.warn(`!!! test/postgres/bounded-waits: ${skip}`);

before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

const json = { 'content-type': 'application/json' };

interface User {
  id: number;
  first_name: string;
  email: string;
  updated_at: string;
}

/** Asserts the answer of a request that met a database that cannot serve it. */
async function assertUnavailable(response: Response, what: string): Promise<void> {
  assert.equal(response.status, 503, what);
  assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8', what);
  assert.equal(response.headers.get('retry-after'), '1', what);
  const problem = (await response.json()) as { code: string; detail: string };
  assert.equal(problem.code, 'DATABASE_UNAVAILABLE', what);
  assert.doesNotMatch(problem.detail, /lock|timeout|statement|canceling|users/i, `${what}: no driver detail`);
}

/** Polls until the check passes or 15 s have passed; returns the last value (the caller asserts it). */
async function eventually<T>(attempt: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15000;
  let value = await attempt();
  while (!done(value) && Date.now() < deadline) {
    await sleep(50);
    value = await attempt();
  }
  return value;
}

/** A session of the test on its own database: holds the users table locked, and watches the service's sessions. */
class Observer {
  private constructor(
    private readonly holder: pg.Client,
    private readonly watcher: pg.Client,
    private readonly database: string,
  ) {}

  static async open(url: string): Promise<Observer> {
    const holder = new pg.Client({ connectionString: url });
    const watcher = new pg.Client({ connectionString: url });
    await Promise.all([holder.connect(), watcher.connect()]);
    return new Observer(holder, watcher, new URL(url).pathname.slice(1));
  }

  /** BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE: every statement on users waits until release(). */
  async lockUsers(): Promise<void> {
    await this.holder.query('BEGIN');
    await this.holder.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  }

  /** Whether the lock taken by lockUsers is still held (granted to the holder's session). */
  async lockHeld(): Promise<boolean> {
    const { rows } = await this.watcher.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_locks WHERE relation = 'users'::regclass AND mode = 'AccessExclusiveLock'
         AND granted AND pid = $1) AS held`,
      [await this.holderPid()],
    );
    return rows[0]!.held;
  }

  private async holderPid(): Promise<number> {
    return (await this.holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  }

  /** Ends the lock holder's transaction: COMMIT or ROLLBACK. */
  async release(end: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    await this.holder.query(end);
  }

  /** The service's sessions on this database (its pool's connections), or only those waiting for a lock. */
  async serviceSessions(only: 'all' | 'waiting on a lock' = 'all'): Promise<number> {
    const { rows } = await this.watcher.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'users-api' AND ($2 = 'all' OR wait_event_type = 'Lock')`,
      [this.database, only],
    );
    return rows[0]!.n;
  }

  /** A user's row as stored, read past the service. */
  async row(id: number): Promise<Record<string, unknown> | undefined> {
    return (await this.watcher.query('SELECT * FROM users WHERE id = $1', [id])).rows[0];
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.holder.end(), this.watcher.end()]);
  }
}

describe('PostgreSQL: every wait of a request is bounded', { skip }, () => {
  const servers: ServerProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  /** A fresh migrated database, an observer on it, and a server on it (or on `url`) with these settings. */
  async function setUp(env: Record<string, string>, url?: (databaseUrl: string) => string) {
    const database = await createPostgresTestDatabase({ migrated: true });
    cleanups.push(database.drop);
    const observer = await Observer.open(database.url);
    cleanups.push(() => observer.close());
    const server = await startServer({ DATABASE_URL: url ? url(database.url) : database.url, ...env });
    servers.push(server);
    const created = await fetchChecked(`${server.url}/users/`, { method: 'POST', headers: json, body: JSON.stringify(userInput()) });
    assert.equal(created.status, 201);
    return { server, observer, user: (await created.json()) as User };
  }

  const patch = (server: ServerProcess, id: number, body: unknown) =>
    fetchChecked(`${server.url}/users/${id}`, { method: 'PATCH', headers: json, body: JSON.stringify(body) });
  const postOnce = (server: ServerProcess, key: string, body: unknown) =>
    fetchChecked(`${server.url}/users/`, { method: 'POST', headers: { ...json, 'idempotency-key': key }, body: JSON.stringify(body) });

  it('answers GET, PATCH, an idempotent POST and /healthcheck with 503 while the users table is locked, before the lock is released', async () => {
    // One connection: a request waiting on the lock exhausts the pool, as many would with the default pool.
    const { server, observer, user } = await setUp({
      DATABASE_POOL_SIZE: '1',
      PG_LOCK_TIMEOUT_MS: '1500',
      PG_STATEMENT_TIMEOUT_MS: '2000',
      PG_QUERY_TIMEOUT_MS: '3000',
      PG_CONNECT_TIMEOUT_MS: '1000',
      PG_PING_TIMEOUT_MS: '200',
      // The access log too: no line of a run with faults may hold a user's email.
      LOG_LEVEL: 'info',
    });
    const stored = await observer.row(user.id);
    const body = userInput();
    await observer.lockUsers();
    try {
      await assertUnavailable(await fetchChecked(`${server.url}/users/${user.id}`), 'GET while locked');
      await assertUnavailable(await patch(server, user.id, { first_name: 'Locked' }), 'PATCH while locked');
      await assertUnavailable(await postOnce(server, 'locked-key', body), 'POST with Idempotency-Key while locked');

      // The only connection waits on the lock: the health check cannot have one, and says so within its bound.
      const waiting = patch(server, user.id, { first_name: 'Waiting' });
      assert.equal(await eventually(() => observer.serviceSessions('waiting on a lock'), (n) => n === 1), 1);
      await assertUnavailable(await fetchChecked(`${server.url}/healthcheck`), '/healthcheck while the pool waits on the lock');
      await assertUnavailable(await waiting, 'a second PATCH while locked');

      assert.equal(await observer.lockHeld(), true, 'every answer arrived while the lock was still held');
    } finally {
      await observer.release('ROLLBACK');
    }

    const health = await fetchChecked(`${server.url}/healthcheck`);
    assert.equal(health.status, 200);
    const read = await fetchChecked(`${server.url}/users/${user.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), user, 'the refused PATCHes changed nothing');
    assert.deepEqual(await observer.row(user.id), stored);
    const retried = await postOnce(server, 'locked-key', body);
    assert.equal(retried.status, 201, 'the refused POST did not consume its Idempotency-Key');
    assert.equal(retried.headers.get('idempotent-replayed'), null);
    assert.equal((await patch(server, user.id, { first_name: 'Unlocked' })).status, 200);
    const log = server.output();
    assert.match(log, /"msg":"database unavailable"/, 'the outage is logged');
    for (const email of [user.email, String(body['email'])]) assert.ok(!log.includes(email), `no log line holds ${email}`);
  });

  it('answers 503 while PostgreSQL is frozen, then 200 again by itself once it answers', async () => {
    const target = new URL(TEST_POSTGRES_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    cleanups.push(() => proxy.cut());
    const { server, user } = await setUp(
      {
        DATABASE_POOL_SIZE: '2',
        PG_LOCK_TIMEOUT_MS: '300',
        PG_STATEMENT_TIMEOUT_MS: '1000',
        PG_QUERY_TIMEOUT_MS: '1500',
        PG_CONNECT_TIMEOUT_MS: '1000',
        PG_PING_TIMEOUT_MS: '500',
      },
      (url) => {
        const viaProxy = new URL(url);
        viaProxy.host = `127.0.0.1:${proxy.port}`;
        return viaProxy.toString();
      },
    );
    const body = userInput();

    proxy.freeze();
    try {
      // Each on an open connection of the pool, whose statement gets no answer: a transaction (its BEGIN), a
      // read; then the health check, which finds no free connection and cannot open one.
      await assertUnavailable(await postOnce(server, 'frozen-key', body), 'POST with Idempotency-Key while frozen');
      await assertUnavailable(await fetchChecked(`${server.url}/users/${user.id}`), 'GET while frozen');
      await assertUnavailable(await fetchChecked(`${server.url}/healthcheck`), '/healthcheck while frozen');
      await assertUnavailable(await fetchChecked(`${server.url}/users/${user.id}`), 'GET on a new connection while frozen');
    } finally {
      proxy.thaw();
    }

    const health = await eventually(() => fetch(`${server.url}/healthcheck`), (response) => response.status === 200);
    assert.equal(health.status, 200, 'healthy again without a restart');
    const read = await fetchChecked(`${server.url}/users/${user.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), user);
    const created = await postOnce(server, 'frozen-key', body);
    assert.equal(created.status, 201, 'the POST that met the frozen server did not consume its Idempotency-Key');
    assert.equal(server.child.exitCode, null, 'the same process serves');
    assert.equal(server.child.signalCode, null);
  });

  it('answers a PATCH waiting on a lock at SIGTERM with 503 before exiting 0; the abandoned UPDATE never commits', async () => {
    const { server, observer, user } = await setUp({
      DATABASE_POOL_SIZE: '2',
      PG_LOCK_TIMEOUT_MS: '2000',
      PG_STATEMENT_TIMEOUT_MS: '3000',
      PG_QUERY_TIMEOUT_MS: '4000',
      PG_CONNECT_TIMEOUT_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const stored = await observer.row(user.id);
    await observer.lockUsers();
    let answered = false;
    const waiting = patch(server, user.id, { first_name: 'Abandoned' }).finally(() => (answered = true));
    try {
      assert.equal(await eventually(() => observer.serviceSessions('waiting on a lock'), (n) => n === 1), 1);
      assert.equal(answered, false, 'the PATCH is still waiting when SIGTERM comes');
      const exited = server.stop('SIGTERM');
      // Answered at all: a process that exited first would have closed the connection unanswered (a fetch error).
      await assertUnavailable(await waiting, 'PATCH waiting on the lock at SIGTERM');
      assert.deepEqual(await exited, { code: 0, signal: null });
      assert.equal(await observer.lockHeld(), true, 'the process was gone while the lock was still held');
    } finally {
      await observer.release('COMMIT');
    }
    // Once every session of the service is gone, nothing of it can commit any more.
    assert.equal(await eventually(() => observer.serviceSessions(), (n) => n === 0), 0);
    assert.deepEqual(await observer.row(user.id), stored, 'the row is as it was');
  });

  it('has the server cancel a statement whose process was killed while it waited, so that it never commits', async () => {
    // Waits far longer than the test: only the server noticing the closed connection can end this one.
    const { server, observer, user } = await setUp({
      DATABASE_POOL_SIZE: '1',
      PG_LOCK_TIMEOUT_MS: '120000',
      PG_STATEMENT_TIMEOUT_MS: '120000',
      PG_QUERY_TIMEOUT_MS: '121000',
      SHUTDOWN_TIMEOUT_MS: '600000',
    });
    const stored = await observer.row(user.id);
    await observer.lockUsers();
    try {
      const waiting = fetch(`${server.url}/users/${user.id}`, {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify({ first_name: 'Killed' }),
      }).then(
        (response) => `answered ${response.status}`,
        () => 'no answer',
      );
      assert.equal(await eventually(() => observer.serviceSessions('waiting on a lock'), (n) => n === 1), 1);
      // As when the shutdown grace period runs out (process.exit), or the process crashes.
      assert.deepEqual(await server.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
      assert.equal(await waiting, 'no answer', 'the killed process answered nothing');
      assert.equal(
        await eventually(() => observer.serviceSessions(), (n) => n === 0),
        0,
        "the server ended the killed process's session while its UPDATE still waited on the lock",
      );
      assert.equal(await observer.lockHeld(), true);
    } finally {
      await observer.release('COMMIT');
    }
    assert.deepEqual(await observer.row(user.id), stored, 'the row is as it was');
  });
});

describe('PostgreSQL: what a bounded wait that ran out means', () => {
  const serverError = (code: string) => Object.assign(new pg.DatabaseError('message', 0, 'error'), { code });
  const queryTimeout = () => new Error('Query read timeout');

  it('answers 503 for each of the timeouts: lock, statement, idle transaction, client side, connection', () => {
    for (const error of [
      serverError('55P03'), // lock_timeout
      serverError('57014'), // statement_timeout
      serverError('25P03'), // idle_in_transaction_session_timeout
      queryTimeout(),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
    ]) {
      assert.equal(pgFaultOf(error), 'unavailable', error.message);
    }
  });

  it('closes a connection whose statement got no answer, or whose socket failed, also behind a 503', () => {
    assert.equal(isPgConnectionLost(queryTimeout()), true);
    assert.equal(isPgConnectionLost(new DatabaseUnavailableError(queryTimeout())), true);
    assert.equal(isPgConnectionLost(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
    assert.equal(isPgConnectionLost(new Error('Connection terminated unexpectedly')), true);
  });

  it("rolls back and reuses a connection after the server's answer or an error of the service's own", () => {
    assert.equal(isPgConnectionLost(serverError('55P03')), false);
    assert.equal(isPgConnectionLost(new DatabaseUnavailableError(serverError('57014'))), false);
    assert.equal(isPgConnectionLost(new EmailTakenError()), false);
    assert.equal(isPgConnectionLost(new IdempotencyKeyReusedError()), false);
  });
});
