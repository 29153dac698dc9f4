import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { User } from '../../src/users/users.schemas.js';
import { ROOT, fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';
import { userInput } from '../helpers/factories.js';
import { WriteLoad } from '../helpers/write-load.js';

// `npm run db:backup` as an operator runs it: the built dist/db/backup.js as a real process, next to a real server
// under a write load; then the restore of docs/OPERATIONS.md ("Backups and restore") into a fresh server.

const BACKUP_ENTRY = join(ROOT, 'dist/db/backup.js');

before(() => {
  if (!existsSync(BACKUP_ENTRY)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/db/backup.js ...args` with only DATABASE_URL set (as loadConfig reads it). */
function runBackup(databaseUrl: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BACKUP_ENTRY, ...args],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The summary line: `backup ok: <path> (<bytes> bytes, <users> users, schema version <n>, <s> s: ...)`. */
function parseSummary(stdout: string): { path: string; bytes: number; users: number } {
  const match = /^backup ok: (.+) \((\d+) bytes, (\d+) users, schema version \d+, [\d.]+ s: copy [\d.]+ s, checks [\d.]+ s\)\n$/.exec(stdout);
  assert.ok(match, `one summary line, got ${JSON.stringify(stdout)}`);
  return { path: match[1]!, bytes: Number(match[2]), users: Number(match[3]) };
}

/** integrity_check of a file, and its count of users, read by a connection of the test's own. */
function inspect(file: string): { integrity: string; users: number; journalMode: string } {
  const database = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return {
      integrity: (database.pragma('integrity_check', { simple: true }) as string),
      users: database.prepare('SELECT count(*) FROM users').pluck().get() as number,
      journalMode: database.pragma('journal_mode', { simple: true }) as string,
    };
  } finally {
    database.close();
  }
}

const json = { 'content-type': 'application/json' };

describe('npm run db:backup (SQLite)', () => {
  let directory: string;
  const servers: ServerProcess[] = [];
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-backup-'));
  });
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('takes a consistent copy during a write load; restored into a fresh server it holds every user acknowledged before the backup started', async () => {
    const live = join(directory, 'live', 'users.db');
    const server = await startServer({ DATABASE_URL: `file:${live}` });
    servers.push(server);
    const load = new WriteLoad(server.url, 'backup');
    load.start();
    await load.waitFor(300);

    const before = load.freeze();
    const backupsDir = join(directory, 'backups');
    mkdirSync(backupsDir);
    const target = join(backupsDir, 'users-backup.db');
    const acknowledgedAtStart = load.acknowledged;
    const backup = await runBackup(`file:${live}`, [target]);
    const acknowledgedDuring = load.acknowledged - acknowledgedAtStart;
    await load.waitFor(20); // the server still takes writes after the backup
    await load.stop();
    assert.deepEqual(load.failures, [], 'every write of the load was acknowledged, during the backup too');
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.stderr, '');
    assert.ok(acknowledgedDuring > 0, 'writes were acknowledged while the backup ran');

    const summary = parseSummary(backup.stdout);
    assert.equal(summary.path, realpathSync(target));
    assert.equal(summary.bytes, statSync(target).size);
    // One self-contained file: nothing beside it, no temporary file left.
    assert.deepEqual(readdirSync(backupsDir), ['users-backup.db']);
    const copy = inspect(target);
    assert.equal(copy.integrity, 'ok');
    assert.equal(copy.journalMode, 'delete');
    assert.equal(copy.users, summary.users);
    assert.ok(copy.users >= before.users.size, `${copy.users} users in the copy, ${before.users.size} acknowledged before`);

    // The restore of docs/OPERATIONS.md, into a fresh data directory: the backup becomes the DATABASE_URL file
    // (copied under a temporary name, then renamed), with no -wal or -shm beside it, then the server starts.
    const restored = join(directory, 'restored', 'users.db');
    mkdirSync(join(directory, 'restored'));
    copyFileSync(target, `${restored}.restoring`);
    renameSync(`${restored}.restoring`, restored);
    for (const stale of [`${restored}-wal`, `${restored}-shm`]) rmSync(stale, { force: true });
    const fresh = await startServer({ DATABASE_URL: `file:${restored}` });
    servers.push(fresh);

    for (const [id, user] of before.users) {
      const response = await fetchChecked(`${fresh.url}/users/${id}`);
      assert.equal(response.status, 200, `user ${id}, acknowledged before the backup, is in it`);
      assert.deepEqual(await response.json(), user, `user ${id} has the fields acknowledged before the backup`);
    }
    for (const id of before.deleted) {
      const response = await fetchChecked(`${fresh.url}/users/${id}`);
      assert.equal(response.status, 404, `user ${id}, deleted before the backup, is not in it`);
      await response.arrayBuffer();
    }
    const list = await fetchChecked(`${fresh.url}/users/?limit=1`);
    assert.equal(Number(list.headers.get('x-total-count')), summary.users, 'the restored server counts the users of the backup');
    await list.arrayBuffer();

    // It takes writes, and never reuses an id of the original database (AUTOINCREMENT's sequence is in the copy).
    const created = await fetchChecked(`${fresh.url}/users/`, { method: 'POST', headers: json, body: JSON.stringify(userInput()) });
    assert.equal(created.status, 201);
    const user = (await created.json()) as User;
    assert.ok(user.id > Math.max(...before.users.keys(), ...before.deleted), `new id ${user.id}`);
    const patched = await fetchChecked(`${fresh.url}/users/${user.id}`, { method: 'PATCH', headers: json, body: JSON.stringify({ age: 33 }) });
    assert.equal(patched.status, 200);
    await patched.arrayBuffer();
    assert.deepEqual(await fresh.stop(), { code: 0, signal: null });
    assert.equal(inspect(restored).integrity, 'ok', 'the restored file passes integrity_check after serving');
    await server.stop();
  });

  it('backs up the database of a stopped server too', async () => {
    const file = join(directory, 'stopped', 'users.db');
    const server = await startServer({ DATABASE_URL: `file:${file}` });
    servers.push(server);
    for (let i = 0; i < 3; i++) {
      const response = await fetchChecked(`${server.url}/users/`, { method: 'POST', headers: json, body: JSON.stringify(userInput()) });
      assert.equal(response.status, 201);
      await response.arrayBuffer();
    }
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    const target = join(directory, 'stopped-backup.db');
    const backup = await runBackup(`file:${file}`, [target]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(parseSummary(backup.stdout).users, 3);
    // The backup only reads: it leaves no -wal or -shm of its own beside the database it copied.
    assert.deepEqual(readdirSync(join(directory, 'stopped')).sort(), ['users.db']);
  });

  it('keeps no copy, and says why, when the copy fails integrity_check or lacks a migration of this release', async () => {
    const file = join(directory, 'damaged', 'users.db');
    const server = await startServer({ DATABASE_URL: `file:${file}` });
    servers.push(server);
    for (let i = 0; i < 50; i++) {
      const response = await fetchChecked(`${server.url}/users/`, { method: 'POST', headers: json, body: JSON.stringify(userInput()) });
      assert.equal(response.status, 201);
      await response.arrayBuffer();
    }
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    const target = join(directory, 'damaged-backup.db');

    const database = new BetterSqlite3(file);
    const latest = database.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number;
    database.prepare('UPDATE schema_migrations SET version = -1 WHERE version = ?').run(latest);
    const older = await runBackup(`file:${file}`, [target]);
    assert.equal(older.code, 1);
    assert.match(older.stderr, /^db:backup: the copy lacks 1 migration\(s\) of this release \(\d{4}_\w+\.sql\): back it up with the release that serves it/);
    database.prepare('UPDATE schema_migrations SET version = ? WHERE version = -1').run(latest);

    // Garbage over the first page of the email index: the file opens, but its index is damaged.
    const root = database.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'users_email_lower_uq'").pluck().get() as number;
    const pageSize = database.pragma('page_size', { simple: true }) as number;
    database.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, (root - 1) * pageSize, root * pageSize);
    writeFileSync(file, bytes);
    const damaged = await runBackup(`file:${file}`, [target]);
    assert.equal(damaged.code, 1);
    assert.equal(damaged.stdout, '');
    assert.match(damaged.stderr, /^db:backup: the copy fails (PRAGMA integrity_check|its checks)/);
    assert.doesNotMatch(damaged.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readdirSync(directory).filter((name) => name.includes('damaged-backup')), [], 'no copy, no temporary file');
  });

  it('refuses to overwrite an existing file unless --force is given', async () => {
    const file = join(directory, 'force', 'users.db');
    const server = await startServer({ DATABASE_URL: `file:${file}` });
    servers.push(server);
    const target = join(directory, 'force', 'existing.db');
    writeFileSync(target, 'an older backup');
    const refused = await runBackup(`file:${file}`, [target]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, `db:backup: ${target} exists: not overwritten (add --force to replace it)\n`);
    assert.equal(readFileSync(target, 'utf8'), 'an older backup');

    const forced = await runBackup(`file:${file}`, ['--force', target]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(parseSummary(forced.stdout).path, realpathSync(target));
    assert.equal(inspect(target).integrity, 'ok');

    // Never the live database itself, --force or not.
    const self = await runBackup(`file:${file}`, ['--force', file]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /is the database being backed up \(or its -wal\/-shm\): choose another path/);
    await server.stop();
  });

  it('fails with a clear message for a target directory that does not exist, a directory as the target, or no database', async () => {
    const file = join(directory, 'target', 'users.db');
    const server = await startServer({ DATABASE_URL: `file:${file}` });
    servers.push(server);
    const missing = join(directory, 'no-such-dir', 'backup.db');
    const result = await runBackup(`file:${file}`, [missing]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `db:backup: the directory ${join(directory, 'no-such-dir')} does not exist: create it first, or choose another path\n`);
    assert.equal(existsSync(join(directory, 'no-such-dir')), false);

    const folder = await runBackup(`file:${file}`, [directory]);
    assert.equal(folder.code, 1);
    assert.equal(folder.stderr, `db:backup: ${directory} is a directory: give a file name, e.g. ${join(directory, 'users-backup.db')}\n`);

    const nothing = await runBackup(`file:${join(directory, 'nothing.db')}`, [join(directory, 'nothing-backup.db')]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /there is no database at .*nothing\.db \(DATABASE_URL\): nothing to back up/);
    assert.equal(existsSync(join(directory, 'nothing.db')), false, 'the backup does not create the database it was to copy');

    const usage = await runBackup(`file:${file}`, []);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /name one file to write the backup to\n\nusage: npm run db:backup -- <file> \[--force\]/);
    await server.stop();
  });

  it('on a PostgreSQL DATABASE_URL, says to use pg_dump and exits non-zero', async () => {
    // No connection is made: the URL alone decides.
    const result = await runBackup('postgres://users@127.0.0.1:1/users', ['users.dump']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'db:backup: DATABASE_URL is a PostgreSQL database: db:backup copies SQLite files only. Back it up with pg_dump, e.g.\n' +
        '  pg_dump --format=custom --file=users.dump "$DATABASE_URL"\n' +
        'and restore with pg_restore (docs/OPERATIONS.md, "Backups and restore").\n',
    );
  });
});
