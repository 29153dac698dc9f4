import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

/** What a driver error means for the request: a duplicate of a unique value, or a database that cannot answer. */
export type DatabaseFault = 'unique-violation' | 'unavailable';

interface Connection {
  /** One real round trip; throws DatabaseUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  /** The fault a driver error stands for; undefined for anything else (a bug: a generic 500). */
  faultOf(error: unknown): DatabaseFault | undefined;
  close(): Promise<void>;
}

export interface SqliteDatabase extends Connection {
  readonly dialect: 'sqlite';
  readonly sqlite: BetterSqlite3.Database;
}

export interface PostgresDatabase extends Connection {
  readonly dialect: 'postgres';
  readonly pool: pg.Pool;
}

/** A connected, migrated database. Features build their repositories from it; this layer knows no feature. */
export type Database = SqliteDatabase | PostgresDatabase;
export type Dialect = Database['dialect'];
