import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { GroupCommitStats } from './group-commit.js';

/** What a driver error means for the request: a duplicate of a unique value, or a database that cannot answer. */
export type DatabaseFault = 'unique-violation' | 'unavailable';

interface Connection {
  /**
   * One real round trip; resolves to the number of migrations applied to the database (readiness compares it with
   * the migrations this release has), throws DatabaseUnavailableError when the database does not answer.
   */
  ping(): Promise<number>;
  /** The fault a driver error stands for; undefined for anything else (a bug: a generic 500). */
  faultOf(error: unknown): DatabaseFault | undefined;
  close(): Promise<void>;
}

export interface SqliteDatabase extends Connection {
  readonly dialect: 'sqlite';
  /** The current connection; the file may be reopened, so statements are prepared per connection. */
  readonly sqlite: BetterSqlite3.Database;
  /**
   * Runs a write (synchronous statements on the connection) in the next group commit: with the writes of the
   * same turn of the event loop, each in its own savepoint, in one transaction; resolves after the commit. While
   * another connection holds the write lock, tried again after a timer, up to SQLITE_BUSY_TIMEOUT_MS in all: the
   * event loop never sleeps on a lock.
   */
  write<T>(run: () => T): Promise<T>;
  /**
   * Runs `hook` in every group-commit transaction, after its writes and just before COMMIT: a feature's work that is
   * cheaper once per transaction than once per write (the users' search index). One hook per name: a later one
   * replaces it. A hook that throws fails every write of the transaction, which is rolled back.
   */
  beforeCommit(name: string, hook: () => void): void;
  /** Runs a read, retried like a write in the rare cases WAL makes a reader wait. */
  read<T>(run: () => T): Promise<T>;
  /** What the group commit has done so far: transactions (batches) and the writes in them. */
  readonly groupCommits: GroupCommitStats;
}

export interface PostgresDatabase extends Connection {
  readonly dialect: 'postgres';
  readonly pool: pg.Pool;
}

/** A connected, migrated database. Features build their repositories from it; this layer knows no feature. */
export type Database = SqliteDatabase | PostgresDatabase;
export type Dialect = Database['dialect'];

/** Where the database layer reports faults it finds by itself (pino's signature; the app passes its logger). */
export interface DatabaseLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export const SILENT_LOG: DatabaseLog = { info() {}, error() {}, warn() {} };
