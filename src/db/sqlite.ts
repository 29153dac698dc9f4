import { linkSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig, type Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import { SILENT_LOG, type DatabaseLog, type SqliteDatabase } from './database.js';
import { sqliteErrorCode, sqliteFaultOf } from './sqlite-errors.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { GroupRead } from './group-read.js';
import { Checkpointer, SERVER_AUTOCHECKPOINT_PAGES, type CheckpointerReport } from './checkpointer.js';
import { MIGRATIONS_TABLE, pendingMigrations, readMigrations, type AppliedMigration } from './migrations.js';

type SqliteSettings = Pick<Config, 'SQLITE_SYNCHRONOUS' | 'SQLITE_BUSY_TIMEOUT_MS'> &
  Partial<Pick<Config, 'SQLITE_MMAP_SIZE_MB' | 'SQLITE_CACHE_SIZE_MB' | 'SQLITE_CHECKPOINT_THREAD'>>;

/**
 * mkdir -p, one level at a time. Node 20's `mkdirSync(path, { recursive: true })` never returns for a path under
 * a directory where mkdir fails with ENOENT although the parent exists (`/proc/x`): a misconfigured DATABASE_URL
 * would spin the start-up at 100% CPU instead of failing.
 */
function createDirectory(directory: string): void {
  if (statSync(directory, { throwIfNoEntry: false })) return;
  const parent = dirname(directory);
  if (parent !== directory) createDirectory(parent);
  try {
    mkdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Opens (creating if needed, unless `fileMustExist`) the SQLite file with the service's settings: WAL, busy
 * timeout, synchronous. The busy timeout here blocks the thread: right for start-up (migrations) and scripts; a
 * serving process switches it off (sqliteDatabase) and waits for the lock asynchronously instead.
 */
export function openSqlite(filename: string, settings: SqliteSettings, fileMustExist = false): BetterSqlite3.Database {
  if (filename !== ':memory:' && !fileMustExist) createDirectory(dirname(filename));
  const sqlite = new BetterSqlite3(filename, { timeout: settings.SQLITE_BUSY_TIMEOUT_MS, fileMustExist });
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a crash of the process; FULL also of the machine.
  sqlite.pragma(`synchronous = ${settings.SQLITE_SYNCHRONOUS}`);
  sqlite.pragma('foreign_keys = ON');
  if (settings.SQLITE_MMAP_SIZE_MB) sqlite.pragma(`mmap_size = ${settings.SQLITE_MMAP_SIZE_MB * 1024 * 1024}`);
  // Negative: in KiB (a positive number would count pages).
  if (settings.SQLITE_CACHE_SIZE_MB) sqlite.pragma(`cache_size = -${settings.SQLITE_CACHE_SIZE_MB * 1024}`);
  return sqlite;
}

/**
 * Applies the migrations of migrations/sqlite that are not applied yet, each in its own IMMEDIATE transaction
 * (the write lock first: processes starting together apply each migration once).
 */
export function migrateSqlite(sqlite: BetterSqlite3.Database, migrations = readMigrations('sqlite')): void {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    version integer PRIMARY KEY NOT NULL,
    name text NOT NULL,
    checksum text,
    applied_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
  )`);
  const isApplied = sqlite.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = ?`).pluck();
  const record = sqlite.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES (?, ?, ?)`);
  sqlite.transaction(() => adoptDrizzleJournal(sqlite, migrations, record)).immediate();
  const applied = sqlite.prepare(`SELECT version, checksum FROM ${MIGRATIONS_TABLE}`).all() as AppliedMigration[];
  for (const migration of pendingMigrations(migrations, applied)) {
    sqlite
      .transaction(() => {
        // Another process may have applied it since the list was read.
        if (isApplied.get(migration.version) !== undefined) return;
        sqlite.exec(migration.sql);
        record.run(migration.version, migration.name, migration.checksum);
      })
      .immediate();
  }
}

/** A database migrated by drizzle-kit's migrator (releases before the runner): its N applied files are 0..N-1. */
function adoptDrizzleJournal(
  sqlite: BetterSqlite3.Database,
  migrations: { version: number; name: string }[],
  record: BetterSqlite3.Statement,
): void {
  const recorded = (sqlite.prepare(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get() as { n: number }).n;
  const journal = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (recorded > 0 || !journal) return;
  const applied = (sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
  for (const migration of migrations.slice(0, applied)) record.run(migration.version, migration.name, null);
}

/** Opens and migrates the SQLite database, then serves it (see sqliteDatabase). */
export function createSqliteDatabase(filename: string, settings: SqliteSettings, log?: DatabaseLog): SqliteDatabase {
  const sqlite = openSqlite(filename, settings);
  migrateSqlite(sqlite);
  return sqliteDatabase(sqlite, { settings, log });
}

export interface ServeOptions {
  /** Settings to reopen the file with, and SQLITE_BUSY_TIMEOUT_MS: how long a write waits for the lock in all. */
  settings?: SqliteSettings;
  /** Where faults of the file are reported (at error) and their end (at warn). */
  log?: DatabaseLog;
}

/** The Database over an open, migrated connection (the connection is closed with it). */
export function sqliteDatabase(sqlite: BetterSqlite3.Database, options: ServeOptions = {}): SqliteDatabase {
  return new ServedSqlite(sqlite, options);
}

/** How many WAL pages a connection lets pile up before it checkpoints itself when no thread does it: SQLite's default. */
export const OWN_AUTOCHECKPOINT_PAGES = 1000;

/**
 * A serving connection's settings: no busy handler (the lock is waited for on a timer, never by sleeping the
 * thread), and, with the checkpointer's thread, its own checkpoints only past SERVER_AUTOCHECKPOINT_PAGES.
 */
function serveConnection(sqlite: BetterSqlite3.Database, checkpointThread: boolean): void {
  sqlite.pragma('busy_timeout = 0');
  sqlite.pragma(`wal_autocheckpoint = ${checkpointThread ? SERVER_AUTOCHECKPOINT_PAGES : OWN_AUTOCHECKPOINT_PAGES}`);
}

/** How often the file is checked for a delete, a replace or the end of a read-only state (ms). */
const FILE_CHECK_INTERVAL_MS = 1000;

/** A write that changes nothing: fails on a file that cannot take writes; a lock held by another writer is fine. */
function runWriteProbe(probe: BetterSqlite3.Statement): void {
  try {
    probe.run();
  } catch (error) {
    if (!sqliteErrorCode(error)?.startsWith('SQLITE_BUSY')) throw error;
  }
}

/** What is wrong with the database file: reported by the health check, with a code that says why. */
type FileFault = 'read-only' | 'file-missing' | 'file-replaced';

/** A file's identity: the same path can name another file after a delete or a replace. */
interface FileIdentity {
  dev: number;
  ino: number;
}

const sameFile = (a: FileIdentity | undefined, b: FileIdentity | undefined) =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

/** The identity of the file at a path; undefined when there is none (or a file stands where a directory was). */
const identityOf = (filename: string): FileIdentity | undefined => {
  try {
    const stats = statSync(filename, { throwIfNoEntry: false });
    return stats && { dev: stats.dev, ino: stats.ino };
  } catch {
    return undefined;
  }
};

/**
 * A served SQLite database. Five things a plain connection does not do:
 * - Writes are committed in groups (GroupCommit): those of one turn of the event loop share one transaction.
 * - Reads are grouped too (GroupRead): those of one turn after its first run together at its end, in one read
 *   transaction, so that their answers leave back to back.
 * - Writes never block the event loop on another connection's lock: the connection's own busy handler (which
 *   sleeps on the thread) is off, and a write that finds the lock taken is retried after a timer, for up to
 *   SQLITE_BUSY_TIMEOUT_MS in all, then fails as unavailable (503). Reads go on meanwhile (WAL).
 * - A file that cannot take writes (opened read-only: file mode, read-only mount) is reported, and the file is
 *   reopened once it can take them again.
 * - A file deleted or replaced under the running process is noticed (checked every second and by the health
 *   check). A deleted file (or directory) is written back from the open connection, which still holds every
 *   acknowledged write, and served from there: a restart never finds an empty new database in its place.
 *   Unless its WAL is still there: the WAL is shared with the deleted file (by every process that has it open),
 *   and a file opened beside it would read the deleted file's pages from it. Then the copy is written beside it
 *   and the operator is told how to put it in place; writes wait for that (503). The same for a file replaced
 *   by another (a restore while running): writes are refused until a restart; once the old WAL is gone (the
 *   directory was removed, and another worker wrote the file back), the new file is simply reopened.
 */
class ServedSqlite implements SqliteDatabase {
  readonly dialect = 'sqlite';
  private connection: BetterSqlite3.Database;
  private readonly filename: string;
  private readonly settings: SqliteSettings;
  private readonly log: DatabaseLog;
  private identity: FileIdentity | undefined;
  /** The open file's WAL (shared by every connection to the file, of every process). */
  private wal: FileIdentity | undefined;
  private fault: FileFault | undefined;
  private restoring: Promise<void> | undefined;
  private restoreFailed = false;
  private copiedBeside = false;
  private readonly monitor: NodeJS.Timeout | undefined;
  private pingStatement: BetterSqlite3.Statement;
  private writeProbe: BetterSqlite3.Statement;
  private readonly commits: GroupCommit;
  private readonly reads: GroupRead;
  /** SQLITE_CHECKPOINT_THREAD=true, on a file (:memory: has no WAL). */
  private readonly checkpointThread: boolean;
  /** Started at the first commit on a file (never for :memory:), stopped when the file is reopened or closed. */
  private checkpointer: Checkpointer | undefined;
  private checkpointerFault: string | undefined;
  private closing = false;
  /** The features' work at the end of each transaction (beforeCommit), by name. */
  private readonly commitHooks = new Map<string, () => void>();

  constructor(sqlite: BetterSqlite3.Database, options: ServeOptions) {
    this.connection = sqlite;
    this.filename = sqlite.name;
    // Without settings (tests, scripts): the defaults of src/config.ts.
    this.settings = options.settings ?? loadConfig({});
    this.log = options.log ?? SILENT_LOG;
    // Settings given by a test or a script may leave it out: no thread, as by default.
    this.checkpointThread = !sqlite.memory && this.settings.SQLITE_CHECKPOINT_THREAD === true;
    serveConnection(sqlite, this.checkpointThread);
    [this.pingStatement, this.writeProbe] = this.probesOf(sqlite);
    this.reads = new GroupRead({ connection: () => this.connection, busyTimeoutMs: this.settings.SQLITE_BUSY_TIMEOUT_MS });
    this.commits = new GroupCommit({
      connection: () => this.connection,
      busyTimeoutMs: this.settings.SQLITE_BUSY_TIMEOUT_MS,
      refusal: () => (this.fault === 'file-missing' || this.fault === 'file-replaced' ? new DatabaseUnavailableError() : undefined),
      onError: (error) => {
        if (sqliteErrorCode(error)?.startsWith('SQLITE_READONLY')) this.report('read-only', error);
      },
      onCommit: this.checkpointThread ? () => this.committed() : undefined,
      beforeCommit: () => {
        for (const hook of this.commitHooks.values()) hook();
      },
    });
    if (!sqlite.memory) {
      this.identity = identityOf(this.filename);
      this.wal = identityOf(`${this.filename}-wal`);
      this.monitor = setInterval(() => this.checkFile(), FILE_CHECK_INTERVAL_MS);
      this.monitor.unref();
    }
  }

  /** The current connection: a new one after the file was reopened (prepared statements belong to one). */
  get sqlite(): BetterSqlite3.Database {
    return this.connection;
  }

  beforeCommit(name: string, hook: () => void): void {
    this.commitHooks.set(name, hook);
  }

  write<T>(run: () => T): Promise<T> {
    return this.commits.write(run);
  }

  get groupCommits(): GroupCommitStats {
    return this.commits.stats;
  }

  read<T>(run: () => T): Promise<T> {
    return this.reads.read(run);
  }

  async ping(): Promise<number> {
    this.checkFile();
    if (this.fault === 'file-missing') throw new DatabaseUnavailableError(undefined, 'DATABASE_FILE_MISSING');
    if (this.fault === 'file-replaced') throw new DatabaseUnavailableError(undefined, 'DATABASE_FILE_REPLACED');
    try {
      // A real read of the file, then a write that changes nothing: a read-only file fails it.
      const applied = this.pingStatement.get() as number;
      if (!this.connection.memory) runWriteProbe(this.writeProbe);
      return applied;
    } catch (error) {
      const code = sqliteErrorCode(error);
      if (code?.startsWith('SQLITE_READONLY')) {
        this.report('read-only', error);
        throw new DatabaseUnavailableError(error, 'DATABASE_READ_ONLY');
      }
      throw sqliteFaultOf(error) === 'unavailable' ? new DatabaseUnavailableError(error) : error;
    }
  }

  readonly faultOf = sqliteFaultOf;

  async close(): Promise<void> {
    clearInterval(this.monitor);
    // The thread's connection first: the server's, closed last, copies what is left and removes the WAL.
    this.closing = true;
    // Reads that wait for the end of this turn run on the connection before it closes.
    this.reads.flush();
    await this.stopCheckpointer();
    const { stats } = this.commits;
    if (stats.writes > 0) this.log.info({ ...stats }, 'sqlite group commit');
    await this.restoring?.catch(() => {});
    if (this.connection.open) this.connection.close();
  }

  /** A transaction was committed: the checkpointer (started at the first one, but not once closing) copies it. */
  private committed(): void {
    if (this.closing) return;
    (this.checkpointer ??= this.startCheckpointer()).committed();
  }

  private startCheckpointer(): Checkpointer {
    // The file this connection has open, not whatever the path names now: a file put in its place is never opened.
    const identity = this.identity ?? { dev: -1, ino: -1 };
    return new Checkpointer({ filename: this.filename, synchronous: this.settings.SQLITE_SYNCHRONOUS, identity }, (report) =>
      this.onCheckpointerReport(report),
    );
  }

  private async stopCheckpointer(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = undefined;
    await checkpointer?.close();
  }

  /** Said once per fault: the server's connection checkpoints past SERVER_AUTOCHECKPOINT_PAGES meanwhile. */
  private onCheckpointerReport({ kind, code }: CheckpointerReport): void {
    if (kind === 'recovered') {
      this.log.warn({ file: this.filename, code }, 'WAL checkpoints work again');
      this.checkpointerFault = undefined;
    } else if (this.checkpointerFault !== code) {
      this.checkpointerFault = code;
      const what = kind === 'stopped' ? 'the WAL checkpointer stopped' : 'a WAL checkpoint failed';
      this.log.warn({ file: this.filename, code }, `${what}; the server's connection checkpoints the WAL itself past ${SERVER_AUTOCHECKPOINT_PAGES} pages`);
    }
  }

  private probesOf(sqlite: BetterSqlite3.Database): [BetterSqlite3.Statement, BetterSqlite3.Statement] {
    return [
      sqlite.prepare(`SELECT count(*) FROM ${MIGRATIONS_TABLE}`).pluck(),
      sqlite.prepare(`UPDATE ${MIGRATIONS_TABLE} SET version = version WHERE 0`),
    ];
  }

  /** Notes a fault of the file: logged once at error, until it is over. */
  private report(fault: FileFault, cause?: unknown): void {
    if (this.fault === fault) return;
    this.fault = fault;
    const reasons: Record<FileFault, string> = {
      'read-only': 'the database file cannot be written (file mode, owner or a read-only mount): every write answers 503 until it can',
      'file-missing': 'the database file was deleted while the server runs; every write answers 503 until it is written back from the open connection',
      'file-replaced':
        'the database file was replaced while the server runs, beside the WAL of the old one: every write answers 503; restart the server to serve the new file',
    };
    this.log.error({ file: this.filename, fault, code: sqliteErrorCode(cause) }, reasons[fault]);
  }

  /** Compares the file at the configured path with the open one; retries a read-only file. Never waits for a restore. */
  private checkFile(): void {
    if (!this.identity || !this.connection.open || this.restoring || this.fault === 'file-replaced') return;
    const current = identityOf(this.filename);
    if (sameFile(current, this.identity)) {
      if (this.fault === 'read-only') this.reopen(true);
      return;
    }
    // The path no longer names the open file. While the open file's WAL is at its place, no other file may be
    // opened there.
    const walInPlace = sameFile(identityOf(`${this.filename}-wal`), this.wal);
    if (!current) {
      this.report('file-missing');
      const restore = walInPlace ? this.copyBeside() : this.restore();
      this.restoring = restore.finally(() => (this.restoring = undefined));
    } else if (walInPlace) {
      this.report('file-replaced');
    } else {
      this.log.error({ file: this.filename }, 'the database file was replaced while the server runs; serving the new file');
      this.reopen();
    }
  }

  /** A copy of the open database beside its deleted file, for the operator to put in place (said in the log). */
  private async copyBeside(): Promise<void> {
    if (this.copiedBeside) return;
    this.copiedBeside = true;
    const copy = `${this.filename}.recovered-${process.pid}`;
    try {
      await this.connection.backup(copy);
      this.log.error(
        { file: this.filename, copy },
        'the database file was deleted but its WAL is still in use: a copy of the open database is written beside it; ' +
          'stop the server, move the copy to the file, delete the -wal and -shm files, start the server',
      );
    } catch (error) {
      this.log.error({ file: this.filename, code: (error as NodeJS.ErrnoException).code }, 'could not copy the open database');
    }
  }

  /**
   * Writes the open database back to its path (a deleted file or directory) and serves it from there. The copy
   * is made beside the path, then linked to it: another process restoring the same file at the same time
   * cannot be overwritten, nor seen half-written.
   */
  private async restore(): Promise<void> {
    const copy = `${this.filename}.restoring-${process.pid}`;
    try {
      createDirectory(dirname(this.filename));
      await this.connection.backup(copy);
      try {
        linkSync(copy, this.filename);
      } catch (error) {
        // Another worker has written it back first: its copy holds the same writes (none are taken meanwhile).
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      this.reopen();
      this.log.error({ file: this.filename }, 'the database file was written back from the open connection; serving it again');
    } catch (error) {
      // Tried again at every check; said once.
      if (!this.restoreFailed) this.log.error({ file: this.filename, code: (error as NodeJS.ErrnoException).code }, 'could not write the database file back; retrying');
      this.restoreFailed = true;
    } finally {
      for (const leftover of [copy, `${copy}-wal`, `${copy}-shm`]) {
        try {
          unlinkSync(leftover);
        } catch {
          // Not there.
        }
      }
    }
  }

  /**
   * Opens the file at the configured path again and serves it from then on; with `onlyIfWritable`, keeps the
   * current connection unless the new one takes writes. Never creates a file.
   */
  private reopen(onlyIfWritable = false): void {
    let sqlite: BetterSqlite3.Database | undefined;
    try {
      sqlite = openSqlite(this.filename, this.settings, true);
      migrateSqlite(sqlite);
      serveConnection(sqlite, this.checkpointThread);
      const probes = this.probesOf(sqlite);
      if (onlyIfWritable) runWriteProbe(probes[1]);
      const previous = this.connection;
      this.connection = sqlite;
      [this.pingStatement, this.writeProbe] = probes;
      this.identity = identityOf(this.filename);
      this.wal = identityOf(`${this.filename}-wal`);
      if (this.fault) this.log.warn({ file: this.filename, fault: this.fault }, 'the database file takes writes again');
      this.fault = undefined;
      this.restoreFailed = false;
      // The thread's connection is to the file before: the next commit starts one on this file.
      void this.stopCheckpointer();
      previous.close();
    } catch (error) {
      sqlite?.close();
      if (!onlyIfWritable) this.log.error({ file: this.filename, code: sqliteErrorCode(error) }, 'could not reopen the database file');
    }
  }
}
