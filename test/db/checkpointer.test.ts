import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Checkpointer, SERVER_AUTOCHECKPOINT_PAGES, type CheckpointerReport } from '../../src/db/checkpointer.js';
import type { SqliteDatabase } from '../../src/db/database.js';
import { OWN_AUTOCHECKPOINT_PAGES, sqliteDatabase } from '../../src/db/sqlite.js';
import { createUsersRepository, type UsersRepository } from '../../src/users/users.repository.js';
import type { UserCreate } from '../../src/users/users.schemas.js';
import { userInput } from '../helpers/factories.js';
import { fileHoldsUsers, migratedFile, usersInFileAlone } from '../helpers/sqlite-file.js';

const settings = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 60_000 } as const;
const withThread = { ...settings, SQLITE_CHECKPOINT_THREAD: true };

describe('SQLite WAL checkpoints on a thread of their own (SQLITE_CHECKPOINT_THREAD=true)', () => {
  let directory: string;
  let file: string;
  let database: SqliteDatabase;
  let users: UsersRepository;
  let warnings: { details: object; message: string }[];

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-checkpointer-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));
  beforeEach(async () => {
    let connection;
    ({ file, connection } = migratedFile(directory, settings));
    // The migrations' pages are copied into the file now: what follows is the server's writes only.
    connection.pragma('wal_checkpoint(TRUNCATE)');
    warnings = [];
    const log = { info() {}, error() {}, warn: (details: object, message: string) => warnings.push({ details, message }) };
    database = sqliteDatabase(connection, { settings: withThread, log });
    users = await createUsersRepository(database);
  });
  afterEach(async () => {
    await database.close();
  });

  it('copies committed writes into the database file soon after their commit, far below the server connection’s own threshold', async () => {
    assert.equal(database.sqlite.pragma('wal_autocheckpoint', { simple: true }), SERVER_AUTOCHECKPOINT_PAGES);
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => users.insert(userInput() as UserCreate)));
    }
    // 50 users in ~5 commits: a few dozen WAL pages, far from the 4,000 at which the server's connection would copy
    // them itself. Only the thread can have put them in the file.
    assert.ok(statSync(`${file}-wal`).size < SERVER_AUTOCHECKPOINT_PAGES * 4096, 'the WAL is below the server connection’s threshold');
    assert.equal(await fileHoldsUsers(file, 50), 50, 'the database file itself holds every committed user');
    await users.insert(userInput() as UserCreate);
    assert.equal(await fileHoldsUsers(file, 51), 51, 'and the next commit too: the thread sleeps until a commit, then copies it');
    assert.deepEqual(warnings, []);
  });

  it('stops with the database: the last connection closed removes the WAL, every user kept', async () => {
    await Promise.all(Array.from({ length: 20 }, () => users.insert(userInput() as UserCreate)));
    await database.close();
    assert.equal(existsSync(`${file}-wal`), false, 'no connection is left open: the thread’s is closed too');
    assert.equal(usersInFileAlone(file), 20);
    // afterEach closes it again: a no-op.
  });

  it('stops when closed in the middle of a checkpoint, and at any other moment (a wake-up is never lost)', async () => {
    // Closes at moments of the thread's cycle around a checkpoint: gathering, copying, going back to sleep.
    for (let attempt = 0; attempt < 12; attempt++) {
      const { file: other, connection } = migratedFile(directory, settings, `close-${attempt}.db`);
      connection.pragma('wal_checkpoint(TRUNCATE)');
      const served = sqliteDatabase(connection, { settings: withThread });
      const repository = await createUsersRepository(served);
      // The thread is started by a first commit and is asleep again once it has copied it.
      await repository.insert(userInput() as UserCreate);
      await fileHoldsUsers(other, 1);
      // Then one commit of 3,000 users: it wakes, gathers for 20 ms, then copies several MB (milliseconds).
      await repository.insertMany(Array.from({ length: 3000 }, () => userInput() as UserCreate));
      await sleep(18 + (attempt % 12));
      const closed = await Promise.race([served.close().then(() => true), sleep(5_000).then(() => false)]);
      assert.equal(closed, true, `closed within 5 s (attempt ${attempt})`);
    }
  });

  it('writes nothing when nothing is committed: an idle server’s thread sleeps', async () => {
    await users.insert(userInput() as UserCreate);
    await fileHoldsUsers(file, 1);
    const copied = statSync(file).mtimeMs;
    await sleep(200);
    assert.equal(statSync(file).mtimeMs, copied, 'the database file is not touched without a commit');
  });

  it('checkpoints the file the server has open: one put at its path beside the old WAL is never opened, and that is said', async () => {
    const replacement = join(directory, 'replacement.db');
    copyFileSync(file, replacement);
    const before = readFileSync(replacement);
    renameSync(replacement, file);
    // The first commit starts the thread, on the (replaced) open file: its path now names another.
    await users.insert(userInput() as UserCreate);
    for (let waited = 0; warnings.length === 0 && waited < 10_000; waited += 20) await sleep(20);
    assert.deepEqual(
      warnings.map(({ details }) => (details as { code: string }).code),
      ['FILE_CHANGED'],
    );
    assert.match(warnings[0]!.message, /the WAL checkpointer stopped/);
    assert.ok(readFileSync(file).equals(before), 'the file put in place is untouched');
  });

  it('opens nothing when the file at its path is not the one it was given (dev/ino), and reports FILE_CHANGED', async () => {
    const reports: CheckpointerReport[] = [];
    const { ino, dev } = statSync(file);
    const checkpointer = new Checkpointer({ filename: file, synchronous: 'NORMAL', identity: { dev, ino: ino + 1 } }, (report) => reports.push(report));
    for (let waited = 0; reports.length === 0 && waited < 10_000; waited += 20) await sleep(20);
    await checkpointer.close();
    assert.deepEqual(reports, [{ kind: 'stopped', code: 'FILE_CHANGED' }]);
  });
});

describe('SQLite WAL checkpoints without the thread (SQLITE_CHECKPOINT_THREAD=false, the default)', () => {
  // The setting left out, as the default configuration has it.
  const withoutThread = settings;
  let directory: string;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-no-checkpointer-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('leaves commits in the WAL until it passes SQLite’s 1,000 pages, then the serving connection copies them in that commit', async () => {
    const { file, connection } = migratedFile(directory, withoutThread);
    connection.pragma('wal_checkpoint(TRUNCATE)');
    const database = sqliteDatabase(connection, { settings: withoutThread });
    try {
      const users = await createUsersRepository(database);
      assert.equal(database.sqlite.pragma('wal_autocheckpoint', { simple: true }), OWN_AUTOCHECKPOINT_PAGES);
      for (let batch = 0; batch < 5; batch++) {
        await Promise.all(Array.from({ length: 10 }, () => users.insert(userInput() as UserCreate)));
      }
      // Long enough for the thread, had one been started, to have copied them (it does within ~20 ms).
      await sleep(300);
      assert.equal(usersInFileAlone(file), 0, 'no thread copied the first commits into the file');
      // One commit of ~5 MB (3,000 users take ~350 pages): past 1,000 WAL pages, so the commit itself checkpoints,
      // before it returns.
      await users.insertMany(Array.from({ length: 12_000 }, () => userInput() as UserCreate));
      assert.ok(statSync(`${file}-wal`).size > OWN_AUTOCHECKPOINT_PAGES * 4096, 'the commit took the WAL past the threshold');
      assert.equal(usersInFileAlone(file), 12_050, 'the file holds every user as soon as that commit returned');
    } finally {
      await database.close();
    }
    assert.equal(existsSync(`${file}-wal`), false, 'closed: the WAL is copied and removed');
    assert.equal(usersInFileAlone(file), 12_050);
  });
});
