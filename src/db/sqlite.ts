import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { Config } from '../config.js';
import { SqliteUsersRepository } from '../users/users.repository.sqlite.js';
import type { Database } from '../users/users.repository.js';
import { mapSqliteError } from './sqlite-errors.js';

export const SQLITE_MIGRATIONS = fileURLToPath(new URL('../../migrations/sqlite', import.meta.url));

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

/** Applies the versioned migrations in migrations/sqlite that are not applied yet. */
export function migrateSqlite(sqlite: BetterSqlite3.Database): void {
  migrate(drizzle({ client: sqlite }), { migrationsFolder: SQLITE_MIGRATIONS });
}

/** Opens and migrates the SQLite database and returns its repositories. */
export function createSqliteDatabase(filename: string, settings: SqliteSettings): Database {
  const sqlite = openSqlite(filename, settings);
  migrateSqlite(sqlite);
  return sqliteDatabase(sqlite);
}

/** The repositories over an open, migrated connection. */
export function sqliteDatabase(sqlite: BetterSqlite3.Database): Database {
  // A real read of the database file, not only of the connection.
  const ping = sqlite.prepare('SELECT n FROM users_count WHERE id = 1');
  return {
    dialect: 'sqlite',
    users: new SqliteUsersRepository(sqlite),
    async ping() {
      try {
        ping.get();
      } catch (error) {
        throw mapSqliteError(error);
      }
    },
    async close() {
      if (sqlite.open) sqlite.close();
    },
  };
}
