import { accessSync, closeSync, constants, fsyncSync, linkSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config.js';
import { MIGRATIONS_TABLE, pendingMigrations, readMigrations, type AppliedMigration } from './migrations.js';

// `npm run db:backup -- <file> [--force]`: an online copy of the SQLite database the server uses (DATABASE_URL),
// taken while it serves, checked, and put in place only once it passed. Restore: docs/OPERATIONS.md.
//
// The copy is SQLite's backup API in a single step: every page copied inside one read transaction of the source,
// which is a consistent snapshot, and WAL lets the server's writer commit meanwhile. Not in small steps (the
// default of better-sqlite3's backup()): a step that finds the source written by another connection since the last
// one starts over, so under a steady write load a stepped backup never finishes. Not VACUUM INTO: as consistent,
// but it rebuilds every table and index, several times slower. Measured in docs/OPERATIONS.md.

const USAGE = `usage: npm run db:backup -- <file> [--force]
  Copies the SQLite database of DATABASE_URL to <file> while the server runs, checks the copy
  (integrity_check, users, migrations) and prints one line: path, bytes, users, seconds.
  --force   replace <file> if it exists (by default an existing file is never overwritten)
  --help    print this help`;

/** The table whose rows the summary counts: what an operator checks a restore against. */
const USERS_TABLE = 'users';

/** A failure with a message for the operator (no stack trace): exit code 1, or 2 for a bad command line. */
class BackupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface BackupResult {
  path: string;
  bytes: number;
  users: number;
  schemaVersion: number;
  copySeconds: number;
  seconds: number;
}

const sameFile = (a: string, b: string) => {
  const [x, y] = [statSync(a, { throwIfNoEntry: false }), statSync(b, { throwIfNoEntry: false })];
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
};

/** Flushes a file (or a directory's entries) to the disk: a backup that a crash can undo is no backup. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Refuses targets that cannot or must not be written, with the reason; returns the absolute target. */
function checkTarget(source: string, target: string, force: boolean): string {
  const path = resolve(target);
  const directory = dirname(path);
  const folder = statSync(directory, { throwIfNoEntry: false });
  if (!folder) throw new BackupError(`the directory ${directory} does not exist: create it first, or choose another path`);
  if (!folder.isDirectory()) throw new BackupError(`${directory} is not a directory`);
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw new BackupError(`cannot write to the directory ${directory}: run as a user who may, or choose another path`);
  }
  // The live database, or its WAL, as the target would destroy what is being backed up, --force or not.
  for (const live of [source, `${source}-wal`, `${source}-shm`]) {
    if (sameFile(live, path) || resolve(live) === path) throw new BackupError(`${path} is the database being backed up (or its -wal/-shm): choose another path`);
  }
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new BackupError(`${path} is a directory: give a file name, e.g. ${join(path, 'users-backup.db')}`);
  if (existing && !force) throw new BackupError(`${path} exists: not overwritten (add --force to replace it)`);
  return path;
}

/** Copies `source` into `partial` in one step of the backup API, i.e. in one read transaction of the source. */
async function copySnapshot(source: string, partial: string, busyTimeoutMs: number): Promise<void> {
  // The backup writes nothing to the served database (no migration, no journal-mode change). Not read-only all the
  // same: on the file of a stopped server a read-only connection would leave the -wal and -shm it opens behind,
  // owned by whoever ran the backup (root in a container), where the server may not open them again.
  const database = new BetterSqlite3(source, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    // The first step (better-sqlite3's) copies no page; the second copies every page at once.
    await database.backup(partial, { progress: () => 0x7fffffff });
  } finally {
    database.close();
  }
}

/**
 * Checks the copy as a server would find it: it opens, `PRAGMA integrity_check` says ok, its applied migrations
 * are exactly this release's; counts its users. Leaves it a single self-contained file (rollback journal, no
 * -wal beside it); a server turns WAL on again when it opens it.
 */
function checkCopy(partial: string): { users: number; schemaVersion: number } {
  const copy = new BetterSqlite3(partial, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    // integrity_check reads every page and index entry: a 64 MiB cache makes it about a quarter faster at 1M users
    // than the default 2 MiB, and bounds the process's memory.
    copy.pragma('cache_size = -65536');
    const problems = copy.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    if (problems.length !== 1 || problems[0]?.integrity_check !== 'ok') {
      const shown = problems.slice(0, 10).map((row) => row.integrity_check);
      throw new BackupError(`the copy fails PRAGMA integrity_check:\n  ${shown.join('\n  ')}`);
    }
    const hasMigrations = copy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(MIGRATIONS_TABLE);
    if (!hasMigrations) throw new BackupError(`the database has no ${MIGRATIONS_TABLE} table: it is not a users-api database`);
    const applied = copy.prepare(`SELECT version, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`).all() as AppliedMigration[];
    const migrations = readMigrations('sqlite');
    let pending;
    try {
      pending = pendingMigrations(migrations, applied);
    } catch (error) {
      throw new BackupError(`the copy's migrations do not match this release: ${(error as Error).message}`);
    }
    if (pending.length > 0) {
      throw new BackupError(
        `the copy lacks ${pending.length} migration(s) of this release (${pending.map((migration) => migration.name).join(', ')}): ` +
          'back it up with the release that serves it, or start this release on it once to migrate it',
      );
    }
    const users = copy.prepare(`SELECT count(*) FROM ${USERS_TABLE}`).pluck().get() as number;
    return { users, schemaVersion: migrations.length - 1 };
  } finally {
    copy.close();
  }
}

/**
 * Moves the checked copy to its path, flushed first, and flushes the directory after. Without `force` a file that
 * appeared at the path since it was checked is still not overwritten: a hard link fails on an existing name.
 */
function putInPlace(partial: string, path: string, recheckTarget: () => void, force: boolean): void {
  fsyncPath(partial);
  if (force) {
    renameSync(partial, path);
  } else {
    try {
      linkSync(partial, path);
      rmSync(partial);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new BackupError(`${path} exists: not overwritten (add --force to replace it)`);
      // A file system without hard links: only a race between this check and the rename could overwrite a file.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      recheckTarget();
      renameSync(partial, path);
    }
  }
  fsyncPath(dirname(path));
}

/** Backs up the SQLite file `source` to `target`: written under a temporary name, checked, then renamed. */
async function backupSqlite(source: string, target: string, options: { force: boolean; busyTimeoutMs: number }): Promise<BackupResult> {
  const started = performance.now();
  if (!statSync(source, { throwIfNoEntry: false })?.isFile()) {
    throw new BackupError(`there is no database at ${source} (DATABASE_URL): nothing to back up`);
  }
  const path = checkTarget(source, target, options.force);
  // Beside the target (the rename is then atomic), named so that a left-over of a killed run says what it is.
  const partial = join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  try {
    try {
      await copySnapshot(source, partial, options.busyTimeoutMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const detail = error instanceof TypeError ? error.message : `${code ?? ''} ${(error as Error).message}`.trim();
      throw new BackupError(`could not copy ${source} to ${dirname(path)}: ${detail}`);
    }
    const copied = performance.now();
    let checked;
    try {
      checked = checkCopy(partial);
    } catch (error) {
      if (error instanceof BackupError) throw error;
      // SQLITE_CORRUPT and its kin: the pages were copied as they are, so the database itself is damaged.
      throw new BackupError(`the copy fails its checks (${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}): the database itself may be damaged`);
    }
    const { users, schemaVersion } = checked;
    try {
      putInPlace(partial, path, () => checkTarget(source, target, options.force), options.force);
    } catch (error) {
      if (error instanceof BackupError) throw error;
      throw new BackupError(`could not write ${path}: ${(error as Error).message}`);
    }
    return {
      path: realpathSync(path),
      bytes: statSync(path).size,
      users,
      schemaVersion,
      copySeconds: (copied - started) / 1000,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const file of [partial, `${partial}-journal`, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true });
  }
}

async function main(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { force: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } }, allowPositionals: true });
  } catch (error) {
    throw new BackupError(`${(error as Error).message}\n\n${USAGE}`, 2);
  }
  if (parsed.values.help) return USAGE;
  if (parsed.positionals.length !== 1) throw new BackupError(`name one file to write the backup to\n\n${USAGE}`, 2);
  const [target] = parsed.positionals as [string];

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new BackupError(error.message);
    throw error;
  }
  const database = config.database;
  if (database.dialect === 'postgres') {
    throw new BackupError(
      'DATABASE_URL is a PostgreSQL database: db:backup copies SQLite files only. Back it up with pg_dump, e.g.\n' +
        `  pg_dump --format=custom --file=${target} "$DATABASE_URL"\n` +
        'and restore with pg_restore (docs/OPERATIONS.md, "Backups and restore").',
    );
  }
  if (database.filename === ':memory:') throw new BackupError('DATABASE_URL is :memory:: an in-memory database has nothing to back up');
  const result = await backupSqlite(resolve(database.filename), target, {
    force: parsed.values.force,
    busyTimeoutMs: config.SQLITE_BUSY_TIMEOUT_MS,
  });
  return (
    `backup ok: ${result.path} (${result.bytes} bytes, ${result.users} users, schema version ${result.schemaVersion}, ` +
    `${result.seconds.toFixed(1)} s: copy ${result.copySeconds.toFixed(1)} s, checks ${(result.seconds - result.copySeconds).toFixed(1)} s)`
  );
}

try {
  console.log(await main(process.argv.slice(2)));
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  console.error(`db:backup: ${error.message}`);
  process.exitCode = error.exitCode;
}
