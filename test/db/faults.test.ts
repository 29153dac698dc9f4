import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SqliteDatabase } from '../../src/db/database.js';
import { openSqlite, sqliteDatabase } from '../../src/db/sqlite.js';
import { userInput } from '../helpers/factories.js';
import { migratedFile } from '../helpers/sqlite-file.js';

const settings = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 100 } as const;

describe('a SQLite database in trouble answers 503, and recovers when the fault clears', () => {
  let directory: string;
  let file: string;
  let database: SqliteDatabase;
  let app: FastifyInstance;
  // The served connection (the database may reopen its file, so always the current one).
  const sqlite = () => database.sqlite;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-faults-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));
  beforeEach(async () => {
    let connection;
    ({ file, connection } = migratedFile(directory, settings));
    database = sqliteDatabase(connection, { settings });
    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), { database, logger: false });
  });
  afterEach(async () => {
    await app.close();
    await database.close();
  });

  const create = () =>
    app.inject({ method: 'POST', url: '/users/', payload: userInput({ first_name: 'x'.repeat(100), last_name: 'y'.repeat(100) }) });
  const assertUnavailable = (response: Awaited<ReturnType<typeof create>>) => {
    assert.equal(response.statusCode, 503);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.headers['retry-after'], '1');
    assert.equal(response.json().code, 'DATABASE_UNAVAILABLE');
    assert.doesNotMatch(response.body, /SQLITE|locked|readonly|disk/i);
  };

  it('when another process holds the write lock beyond the busy timeout', async () => {
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    other.prepare("INSERT INTO users (first_name, last_name, email) VALUES ('L', 'L', 'lock@example.com')").run();
    assertUnavailable(await create());
    const read = await app.inject({ url: '/users/' });
    assert.equal(read.statusCode, 200, 'reads go on in WAL mode while a writer holds the lock');
    other.exec('COMMIT');
    other.close();
    assert.equal((await create()).statusCode, 201);
  });

  it('keeps answering reads and health while a write waits for the lock, then completes the write (the event loop never sleeps)', async () => {
    // A long budget: the lock is released while the write still waits for it.
    await app.close();
    await database.close();
    const connection = openSqlite(file, settings);
    database = sqliteDatabase(connection, { settings: { ...settings, SQLITE_BUSY_TIMEOUT_MS: 60_000 } });
    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), { database, logger: false });
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    let writeAnswered = false;
    const write = create().then((response) => {
      writeAnswered = true;
      return response;
    });
    // With a busy handler sleeping on the thread, nothing else would run before the write gave up.
    for (const url of ['/users/?limit=1', '/healthcheck', '/users/?limit=1&sort=email']) {
      const read = await app.inject({ url });
      assert.equal(read.statusCode, 200, url);
      assert.equal(writeAnswered, false, `${url} answered while the write still waits for the lock`);
    }
    other.exec('COMMIT');
    other.close();
    const response = await write;
    assert.equal(response.statusCode, 201, 'the write went through once the lock was free');
  });

  it('when the database is read-only', async () => {
    sqlite().pragma('query_only = ON');
    assertUnavailable(await create());
    sqlite().pragma('query_only = OFF');
    assert.equal((await create()).statusCode, 201);
  });

  it('when the disk is full', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await create()).statusCode, 201);
    const pages = sqlite().pragma('page_count', { simple: true }) as number;
    sqlite().pragma(`max_page_count = ${pages}`);
    let response = await create();
    const acknowledged = new Set<number>();
    for (let i = 0; i < 5000 && response.statusCode === 201; i++) {
      acknowledged.add(response.json().id);
      response = await create();
    }
    assertUnavailable(response);
    // Every 201 was a committed row (a failed commit must never be acknowledged).
    const stored = sqlite().prepare('SELECT id FROM users').pluck().all() as number[];
    for (const id of acknowledged) assert.ok(stored.includes(id), `acknowledged user ${id} is stored`);
    const total = Number((await app.inject({ url: '/users/' })).headers['x-total-count']);
    sqlite().pragma('max_page_count = 1073741823');
    assert.equal((await create()).statusCode, 201);
    assert.equal(Number((await app.inject({ url: '/users/' })).headers['x-total-count']), total + 1, 'nothing half-written');
  });
});
