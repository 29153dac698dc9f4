import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { DatabaseFault, SqliteDatabase } from './database.js';
import { MIGRATIONS_TABLE, pendingMigrations, readMigrations, type AppliedMigration } from './migrations.js';

type SqliteSettings = Pick<Config, 'SQLITE_SYNCHRONOUS' | 'SQLITE_BUSY_TIMEOUT_MS'> &
  Partial<Pick<Config, 'SQLITE_MMAP_SIZE_MB'>>;

/** Opens (creating if needed) the SQLite file with the service's settings: WAL, busy timeout, synchronous. */
export function openSqlite(filename: string, settings: SqliteSettings): BetterSqlite3.Database {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new BetterSqlite3(filename, { timeout: settings.SQLITE_BUSY_TIMEOUT_MS });
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a crash of the process; FULL also of the machine.
  sqlite.pragma(`synchronous = ${settings.SQLITE_SYNCHRONOUS}`);
  sqlite.pragma('foreign_keys = ON');
  if (settings.SQLITE_MMAP_SIZE_MB) sqlite.pragma(`mmap_size = ${settings.SQLITE_MMAP_SIZE_MB * 1024 * 1024}`);
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

// Faults of the database or its file, not of the request: the client may retry once they clear.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|CORRUPT|NOTADB)/;

/** The SQLite error code of an error from better-sqlite3. */
export function sqliteErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function sqliteFaultOf(error: unknown): DatabaseFault | undefined {
  const code = sqliteErrorCode(error);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique-violation';
  if (code && UNAVAILABLE.test(code)) return 'unavailable';
  return undefined;
}

/** Opens and migrates the SQLite database. */
export function createSqliteDatabase(filename: string, settings: SqliteSettings): SqliteDatabase {
  const sqlite = openSqlite(filename, settings);
  migrateSqlite(sqlite);
  return sqliteDatabase(sqlite);
}

/** The Database over an open, migrated connection. */
export function sqliteDatabase(sqlite: BetterSqlite3.Database): SqliteDatabase {
  // A real read of the database file, not only of the connection.
  const ping = sqlite.prepare(`SELECT count(*) FROM ${MIGRATIONS_TABLE}`).pluck();
  return {
    dialect: 'sqlite',
    sqlite,
    async ping() {
      try {
        ping.get();
      } catch (error) {
        throw sqliteFaultOf(error) === 'unavailable' ? new DatabaseUnavailableError(error) : error;
      }
    },
    faultOf: sqliteFaultOf,
    async close() {
      if (sqlite.open) sqlite.close();
    },
  };
}
