import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from '../../src/db/database.js';
import type { GroupCommitStats } from '../../src/db/group-commit.js';
import { sqliteDatabase } from '../../src/db/sqlite.js';
import { EmailTakenError, IdempotencyKeyReusedError } from '../../src/errors.js';
import { createUsersRepository, type UsersRepository } from '../../src/users/users.repository.js';
import type { User, UserCreate } from '../../src/users/users.schemas.js';
import { uniqueEmail, userInput } from '../helpers/factories.js';
import { migratedFile } from '../helpers/sqlite-file.js';

const settings = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 60_000 } as const;
/** Resolves in the next turn of the event loop (after the group commit's end of the current one). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const input = (overrides: Record<string, unknown> = {}) => userInput(overrides) as UserCreate;

describe('SQLite group commit: the writes of one turn of the event loop share a transaction, each undone alone', () => {
  let directory: string;
  let file: string;
  let database: SqliteDatabase;
  let users: UsersRepository;
  /** The summary the database logs when it closes. */
  let summary: GroupCommitStats | undefined;
  const rows = () => {
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      return reader.prepare('SELECT email FROM users ORDER BY id').pluck().all() as string[];
    } finally {
      reader.close();
    }
  };
  const closeAndSummarise = async () => {
    await database.close();
    assert.ok(summary, 'the database logs how its writes were grouped when it closes');
    return summary;
  };

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-group-commit-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));
  beforeEach(async () => {
    let connection;
    ({ file, connection } = migratedFile(directory, settings));
    summary = undefined;
    const log = {
      info: (details: object, message: string) => {
        if (message === 'sqlite group commit') summary = details as GroupCommitStats;
      },
      warn() {},
      error() {},
    };
    database = sqliteDatabase(connection, { settings, log });
    users = await createUsersRepository(database);
  });
  afterEach(async () => {
    await database.close();
  });

  it('commits at once the first write of a turn and the others of the turn together; a taken email fails only its own write', async () => {
    const taken = await users.insert(input());
    await nextTurn();
    const results = await Promise.allSettled([
      users.insert(input({ email: uniqueEmail('b') })),
      users.insert(input({ email: taken.email.toUpperCase() })),
      users.insert(input({ email: uniqueEmail('d') })),
    ]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof EmailTakenError);
    assert.equal(results[2].status, 'fulfilled');
    const created = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    assert.deepEqual(rows(), [taken.email, ...created.map((user) => user.email)]);
    const stats = await closeAndSummarise();
    // The first write of a turn is committed at once, alone; the two after it together.
    assert.deepEqual({ batches: stats.batches, writes: stats.writes, largest: stats.largest }, { batches: 3, writes: 4, largest: 2 });
    assert.equal(stats.sizes['1'], 2);
    assert.equal(stats.sizes['2-3'], 1);
  });

  it('lets each write of a batch see the ones before it: a second create with the same key is a replay', async () => {
    const request = { key: 'same-key', fingerprint: 'f1' };
    const data = input();
    const [first, second, reused] = await Promise.allSettled([
      users.insertOnce(data, request),
      users.insertOnce(data, request),
      users.insertOnce(input(), { key: 'same-key', fingerprint: 'f2' }),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(second.status, 'fulfilled');
    assert.equal((first as PromiseFulfilledResult<{ replayed: boolean }>).value.replayed, false);
    assert.deepEqual((second as PromiseFulfilledResult<{ user: User; replayed: boolean }>).value, {
      user: (first as PromiseFulfilledResult<{ user: User }>).value.user,
      replayed: true,
    });
    assert.ok(reused.status === 'rejected' && reused.reason instanceof IdempotencyKeyReusedError);
    assert.deepEqual(rows(), [data.email]);
    assert.equal((await closeAndSummarise()).largest, 2);
  });

  it('fails a conditional update whose ETag the write before it in the same batch made stale', async () => {
    const user = await users.insert(input());
    const [first, second] = await Promise.all([
      users.update(user.id, { first_name: 'First' }, [user.updated_at]),
      users.update(user.id, { first_name: 'Second' }, [user.updated_at]),
    ]);
    assert.equal(first?.first_name, 'First');
    assert.equal(second, undefined, 'the second update expected the updated_at the first one changed');
    assert.equal((await users.findById(user.id))?.first_name, 'First');
  });

  it('fails every write of a batch whose transaction a fault ended, and commits none of them', async () => {
    // A statement that ends the transaction stands for the faults that make SQLite roll it back (SQLITE_FULL...).
    // The first write of the turn is committed alone; the other three share the next batch.
    const leader = users.insert(input());
    const results = await Promise.allSettled([users.insert(input()), database.write(() => database.sqlite.exec('ROLLBACK')), users.insert(input())]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual(rows(), [(await leader).email]);
    // The next batch is committed as usual.
    const user = await users.insert(input());
    assert.deepEqual(rows(), [(await leader).email, user.email]);
  });

  it('fails every write of a batch whose work before COMMIT (a beforeCommit hook) throws, and stores none of them', async () => {
    const stored = await users.insert(input());
    let failing = true;
    database.beforeCommit('test', () => {
      if (failing) throw new Error('the hook failed');
    });
    const results = await Promise.allSettled([users.insert(input()), users.insert(input())]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
    assert.deepEqual(rows(), [stored.email]);
    failing = false;
    const next = await users.insert(input());
    assert.deepEqual(rows(), [stored.email, next.email]);
  });

  it("keeps a batch's journals in memory and gives reads back SQLite's default, after a commit, a refused write, a fault or a busy lock", async () => {
    // temp_store: 0 is SQLite's default (temporary files on disk past their cache), 2 is memory.
    const tempStore = () => database.sqlite.pragma('temp_store', { simple: true });
    assert.equal(tempStore(), 0);
    assert.equal(await database.write(tempStore), 2, 'a write runs with its journals in memory');
    assert.equal(tempStore(), 0, 'after a commit');
    const taken = await users.insert(input());
    await nextTurn();
    const refused = await Promise.allSettled([database.write(tempStore), users.insert(input({ email: taken.email }))]);
    assert.deepEqual(refused.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.equal((refused[0] as PromiseFulfilledResult<unknown>).value, 2);
    assert.equal(tempStore(), 0, 'after a batch with a refused write');
    await assert.rejects(database.write(() => database.sqlite.exec('ROLLBACK')));
    assert.equal(tempStore(), 0, 'after a batch a fault rolled back');
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    const waiting = users.insert(input());
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(tempStore(), 0, 'while the batch waits for another connection to release the lock');
    other.exec('COMMIT');
    other.close();
    await waiting;
    assert.equal(tempStore(), 0);
  });

  it('waits for another connection to release the lock, then commits every write that waited in one batch', async () => {
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    let settled = 0;
    const writes = Array.from({ length: 5 }, () => users.insert(input()).finally(() => settled++));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, 0, 'no write is answered while another connection holds the lock');
    other.exec('COMMIT');
    other.close();
    const created = await Promise.all(writes);
    assert.deepEqual(rows(), created.map((user) => user.email));
    assert.equal((await closeAndSummarise()).largest, 5);
  });
});
