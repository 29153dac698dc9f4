import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from '../../src/db/database.js';
import { sqliteDatabase } from '../../src/db/sqlite.js';
import { EmailTakenError } from '../../src/errors.js';
import { createUsersRepository, type UsersRepository } from '../../src/users/users.repository.js';
import type { UserCreate } from '../../src/users/users.schemas.js';
import { uniqueEmail, userInput } from '../helpers/factories.js';
import { migratedFile } from '../helpers/sqlite-file.js';

const settings = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 5_000 } as const;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const input = (overrides: Record<string, unknown> = {}) => userInput(overrides) as UserCreate;

/**
 * Migration 0007: the trigram index takes each transaction's changes in one statement before COMMIT. What must hold
 * after every transaction: the index equals the users table (FTS5's own integrity check compares the two), no change
 * is left noted, and a search finds the values now, never the values before.
 */
describe('SQLite search index: brought up to the table once per transaction', () => {
  let directory: string;
  let file: string;
  let database: SqliteDatabase;
  let users: UsersRepository;

  const indexMatchesTable = () => {
    // rank 1: also compares the index with the content table (the users), row by row.
    database.sqlite.prepare("INSERT INTO users_fts (users_fts, rank) VALUES ('integrity-check', 1)").run();
    assert.equal(database.sqlite.prepare('SELECT count(*) FROM users_fts_pending').pluck().get(), 0, 'no change is left noted');
  };
  const found = (text: string) =>
    database.sqlite
      .prepare('SELECT rowid FROM users_fts WHERE users_fts MATCH ? ORDER BY rowid')
      .pluck()
      .all(`"${text}"`) as number[];

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-search-index-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));
  beforeEach(async () => {
    let connection;
    ({ file, connection } = migratedFile(directory, settings));
    database = sqliteDatabase(connection, { settings });
    users = await createUsersRepository(database);
  });
  afterEach(async () => {
    await database.close();
  });

  it('indexes creates, changes and deletes of one batch, and none of its refused writes', async () => {
    const [kept, renamed, renamedTwice, deleted] = await Promise.all(
      ['Keptname', 'Oldname', 'Firstname', 'Gonename'].map((first_name) => users.insert(input({ first_name }))),
    );
    indexMatchesTable();
    await nextTurn();
    // One turn: a batch that renames, renames twice, deletes and creates, and refuses a create and a rename to a
    // taken email; then one that renames what the turn's first write created.
    const created = users.insert(input({ first_name: 'Newcomer' }));
    const batchborn = users.insert(input({ first_name: 'Batchborn' }));
    const results = await Promise.allSettled([
      batchborn,
      users.update(renamed!.id, { first_name: 'Newname' }),
      users.update(renamedTwice!.id, { first_name: 'Secondname' }),
      users.update(renamedTwice!.id, { first_name: 'Thirdname', email: uniqueEmail('third') }),
      users.delete(deleted!.id),
      created.then((user) => users.update(user.id, { last_name: 'Renamedcomer' })),
      users.insert(input({ first_name: 'Refusedname', email: kept!.email })),
      users.update(kept!.id, { first_name: 'Refusedrename', email: renamed!.email }),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
    assert.ok((results[6] as PromiseRejectedResult).reason instanceof EmailTakenError);
    indexMatchesTable();
    const newcomer = await created;
    assert.deepEqual(found('newname'), [renamed!.id]);
    assert.deepEqual(found('oldname'), []);
    assert.deepEqual(found('thirdname'), [renamedTwice!.id]);
    assert.deepEqual([...found('firstname'), ...found('secondname')], []);
    assert.deepEqual(found('gonename'), []);
    assert.deepEqual(found('renamedcomer'), [newcomer.id]);
    assert.deepEqual(found('batchborn'), [(await batchborn).id]);
    assert.deepEqual(found('refused'), []);
    assert.deepEqual(found('keptname'), [kept!.id]);
  });

  it('leaves the index as it was when a fault rolls the batch back', async () => {
    const user = await users.insert(input({ first_name: 'Steady' }));
    await nextTurn();
    // The first write of a turn is committed at once, alone; the three after it share the next batch.
    const leader = users.insert(input({ first_name: 'Leader' }));
    const results = await Promise.allSettled([
      users.update(user.id, { first_name: 'Unsteady' }),
      users.insert(input({ first_name: 'Neverborn' })),
      // Stands for the faults that end a transaction (SQLITE_FULL...): every write of the batch fails.
      database.write(() => database.sqlite.exec('ROLLBACK')),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected', 'rejected']);
    indexMatchesTable();
    assert.deepEqual(found('leader'), [(await leader).id]);
    assert.deepEqual(found('steady'), [user.id]);
    assert.deepEqual([...found('unsteady'), ...found('neverborn')], []);
  });

  it('indexes at the next start what another program wrote to the users (created, renamed, deleted, created with a freed id)', async () => {
    const [renamed, deleted, vacated] = await Promise.all(
      ['Before', 'Doomed', 'Vacated'].map((first_name) => users.insert(input({ first_name }))),
    );
    await users.insert(input({ first_name: 'Highest' }));
    assert.equal(await users.delete(vacated!.id), true);
    await database.close();
    const shell = new BetterSqlite3(file);
    shell.prepare('UPDATE users SET first_name = ? WHERE id = ?').run('Afterwards', renamed!.id);
    shell.prepare('DELETE FROM users WHERE id = ?').run(deleted!.id);
    const outsider = shell
      .prepare('INSERT INTO users (first_name, last_name, age, email) VALUES (?, ?, ?, ?) RETURNING id')
      .pluck()
      .get('Outsider', 'Shell', 40, uniqueEmail('shell')) as number;
    // An id below the highest the index holds, free since the service deleted its user: noted, not taken as new.
    shell
      .prepare('INSERT INTO users (id, first_name, last_name, age, email) VALUES (?, ?, ?, ?, ?)')
      .run(vacated!.id, 'Returning', 'Shell', 41, uniqueEmail('returning'));
    shell.close();
    database = sqliteDatabase(new BetterSqlite3(file), { settings });
    users = await createUsersRepository(database);
    indexMatchesTable();
    assert.deepEqual(found('afterwards'), [renamed!.id]);
    assert.deepEqual([...found('before'), ...found('doomed')], []);
    assert.deepEqual(found('outsider'), [outsider]);
    assert.deepEqual(found('returning'), [vacated!.id]);
    assert.deepEqual(found('vacated'), []);
  });
});
