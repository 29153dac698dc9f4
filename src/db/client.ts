import type { Config } from '../config.js';
import type { Database, DatabaseLog } from './database.js';
import { createSqliteDatabase } from './sqlite.js';

/** Connects to the configured database (SQLite by default, PostgreSQL for a postgres:// URL) and applies pending migrations. */
export async function createDatabase(config: Config, log?: DatabaseLog): Promise<Database> {
  const target = config.database;
  if (target.dialect === 'sqlite') return createSqliteDatabase(target.filename, config, log);
  // Loaded only when used: pg is not part of a start-up on SQLite.
  const { createPostgresDatabase } = await import('./postgres.js');
  return createPostgresDatabase(target.connectionString, config);
}

/** Applies pending migrations and disconnects: for a process that serves nothing (the cluster primary, db:migrate). */
export async function migrateDatabase(config: Config): Promise<Config['database']['dialect']> {
  // One connection is all migrating needs; the pool of a serving process is opened in full.
  const database = await createDatabase({ ...config, DATABASE_POOL_SIZE: 1 });
  await database.close();
  return database.dialect;
}
