import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from '../../src/db/database.js';
import { GroupRead } from '../../src/db/group-read.js';
import { sqliteDatabase } from '../../src/db/sqlite.js';
import { migratedFile } from '../helpers/sqlite-file.js';

const settings = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 60_000 } as const;
/** Resolves in the next turn of the event loop (after the group read's end of the current one). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** What a read saw: whether it ran inside a transaction, and how many users there were. */
interface Seen {
  inTransaction: boolean;
  users: number;
}
const busyError = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('SQLite group reads: the reads of one turn after its first run together at its end, in one read transaction', () => {
  let directory: string;
  let file: string;
  let database: SqliteDatabase;
  /** Another process's connection to the same file. */
  let other: BetterSqlite3.Database;
  const count = () => database.sqlite.prepare('SELECT count(*) FROM users').pluck().get() as number;
  const seen = (): Seen => ({ inTransaction: database.sqlite.inTransaction, users: count() });
  const insertElsewhere = (email: string) =>
    other.prepare("INSERT INTO users (first_name, last_name, email) VALUES ('Ada', 'Lovelace', ?)").run(email);

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-group-read-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));
  beforeEach(() => {
    let connection;
    ({ file, connection } = migratedFile(directory, settings));
    database = sqliteDatabase(connection, { settings });
    other = new BetterSqlite3(file);
  });
  afterEach(async () => {
    other.close();
    await database.close();
  });

  it('runs a lone read at once, outside any transaction', async () => {
    let ran = false;
    const result = database.read(() => {
      ran = true;
      return seen();
    });
    assert.equal(ran, true, 'the read ran before read() returned');
    assert.deepEqual(await result, { inTransaction: false, users: 0 });
  });

  it('runs the reads after the first of a turn at its end, in arrival order, in one transaction closed after them (none for a batch of one)', async () => {
    await nextTurn();
    const order: number[] = [];
    const reads = [1, 2, 3, 4].map((index) =>
      database.read(() => {
        order.push(index);
        return { index, ...seen() };
      }),
    );
    assert.deepEqual(order, [1], 'only the first read ran at once');
    const results = await Promise.all(reads);
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.deepEqual(
      results.map(({ index, inTransaction }) => [index, inTransaction]),
      [
        [1, false],
        [2, true],
        [3, true],
        [4, true],
      ],
    );
    assert.equal(database.sqlite.inTransaction, false, 'the batch ended its transaction');
    await nextTurn();
    assert.deepEqual(
      (await Promise.all([database.read(seen), database.read(seen)])).map((result) => result.inTransaction),
      [false, false],
      'a batch of one read needs no transaction',
    );
  });

  it('sees in a batch every write committed before the batch ran, also by another connection', async () => {
    await nextTurn();
    const reads = [database.read(seen), database.read(seen), database.read(seen)];
    // Committed by another connection after the requests arrived, before the end of the turn.
    insertElsewhere('before-the-batch@example.com');
    assert.deepEqual(await Promise.all(reads), [
      { inTransaction: false, users: 0 },
      { inTransaction: true, users: 1 },
      { inTransaction: true, users: 1 },
    ]);
  });

  it('fails a read that throws alone: the others of its batch are answered, and later reads work', async () => {
    await nextTurn();
    const results = await Promise.allSettled([
      database.read(seen),
      database.read(seen),
      database.read(() => database.sqlite.prepare('SELECT * FROM no_such_table').all()),
      database.read(seen),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[2] as PromiseRejectedResult).reason), /no such table/);
    assert.equal(database.sqlite.inTransaction, false);
    await nextTurn();
    insertElsewhere('after-the-failure@example.com');
    assert.deepEqual(await Promise.all([database.read(seen), database.read(seen), database.read(seen)]), [
      { inTransaction: false, users: 1 },
      { inTransaction: true, users: 1 },
      { inTransaction: true, users: 1 },
    ]);
  });

  it('runs at most 128 reads together; the rest at the end of the next turn', async () => {
    await nextTurn();
    let ran = 0;
    const reads = Array.from({ length: 201 }, () =>
      database.read(() => {
        ran++;
        return seen();
      }),
    );
    assert.equal(ran, 1);
    await nextTurn();
    assert.equal(ran, 1 + 128, 'the first batch');
    await nextTurn();
    assert.equal(ran, 201, 'the rest, a turn later');
    assert.ok((await Promise.all(reads)).slice(1).every((result) => result.inTransaction));
  });

  it('runs the reads that wait when the database closes, before its connection closes', async () => {
    await nextTurn();
    const reads = [database.read(seen), database.read(seen), database.read(seen)];
    await database.close();
    assert.deepEqual(
      (await Promise.all(reads)).map((result) => result.users),
      [0, 0, 0],
    );
    // afterEach closes it again: a second close is harmless.
  });
});

describe('GroupRead on its own: a read that WAL makes wait, a batch whose BEGIN or COMMIT fails', () => {
  let connection: BetterSqlite3.Database;
  beforeEach(() => {
    connection = new BetterSqlite3(':memory:');
  });
  afterEach(() => connection.close());

  it('is tried again on a timer until it succeeds, without failing the others of its batch', async () => {
    const reads = new GroupRead({ connection: () => connection, busyTimeoutMs: 60_000 });
    let attempts = 0;
    const flaky = () => {
      attempts++;
      if (attempts < 3) throw busyError();
      return 'read at last';
    };
    const results = await Promise.all([reads.read(() => 'first'), reads.read(flaky), reads.read(() => 'third')]);
    assert.deepEqual(results, ['first', 'read at last', 'third']);
    assert.equal(attempts, 3);
  });

  it('fails with the busy error once it has waited busyTimeoutMs in all; another error at once', async () => {
    const reads = new GroupRead({ connection: () => connection, busyTimeoutMs: 20 });
    let busyAttempts = 0;
    await assert.rejects(
      reads.read(() => {
        busyAttempts++;
        throw busyError();
      }),
      { code: 'SQLITE_BUSY' },
    );
    assert.ok(busyAttempts > 1, `tried ${busyAttempts} times`);
    let otherAttempts = 0;
    await assert.rejects(
      reads.read(() => {
        otherAttempts++;
        throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      }),
      { code: 'SQLITE_IOERR' },
    );
    assert.equal(otherAttempts, 1);
  });

  it('still answers the reads of a batch when its BEGIN fails, and ends the transaction when its COMMIT fails', async () => {
    /** A connection whose BEGIN or COMMIT fails as a disk fault would; ROLLBACK works. */
    const faulty = (failing: 'BEGIN' | 'COMMIT') => {
      const fake = {
        open: true,
        inTransaction: false,
        rolledBack: 0,
        prepare: (sql: string) => ({
          run: () => {
            if (sql === failing) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
            fake.inTransaction = sql === 'BEGIN';
          },
        }),
        exec: (sql: string) => {
          assert.equal(sql, 'ROLLBACK');
          fake.rolledBack++;
          fake.inTransaction = false;
        },
      };
      return fake;
    };
    for (const failing of ['BEGIN', 'COMMIT'] as const) {
      const fake = faulty(failing);
      const reads = new GroupRead({ connection: () => fake as unknown as BetterSqlite3.Database, busyTimeoutMs: 1000 });
      const results = await Promise.all([1, 2, 3].map((n) => reads.read(() => ({ n, inTransaction: fake.inTransaction }))));
      assert.deepEqual(
        results.map(({ n }) => n),
        [1, 2, 3],
        `${failing} failed: every read is answered`,
      );
      assert.equal(fake.inTransaction, false, `${failing} failed: no transaction is left open`);
      assert.equal(fake.rolledBack, failing === 'COMMIT' ? 1 : 0);
      assert.deepEqual(
        results.map(({ inTransaction }) => inTransaction),
        failing === 'BEGIN' ? [false, false, false] : [false, true, true],
      );
    }
  });
});
