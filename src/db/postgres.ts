import pg from 'pg';
import { loadConfig, type Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { PostgresDatabase } from './database.js';
import { MIGRATIONS_TABLE, pendingMigrations, readMigrations, type AppliedMigration, type Migration } from './migrations.js';
import { pgFaultOf } from './pg-errors.js';

/** Any fixed number, the same in every instance: the session lock that serializes migrations ('users' in ASCII). */
const MIGRATION_LOCK_ID = 0x7573657273;

/**
 * How often the server checks, while it runs a statement, that the client is still connected (PostgreSQL 14+):
 * the statement of a process that died, was killed or exited at the end of its shutdown grace period is
 * cancelled (and its transaction rolled back) within this time, instead of running on and committing later.
 */
const CLIENT_CONNECTION_CHECK_MS = 1000;

/** The settings of the waits; PostgresSettings may leave them out (tests), then they take their defaults. */
type WaitSettings = Pick<
  Config,
  | 'PG_CONNECT_TIMEOUT_MS'
  | 'PG_STATEMENT_TIMEOUT_MS'
  | 'PG_LOCK_TIMEOUT_MS'
  | 'PG_QUERY_TIMEOUT_MS'
  | 'PG_IDLE_IN_TRANSACTION_TIMEOUT_MS'
  | 'PG_PING_TIMEOUT_MS'
  | 'PG_MIGRATION_STATEMENT_TIMEOUT_MS'
>;

type PostgresSettings = Pick<Config, 'DATABASE_POOL_SIZE'> & Partial<WaitSettings>;

/** The settings given, and the defaults of src/config.ts for those left out (said once, there). */
function waitSettingsOf(settings: PostgresSettings): WaitSettings {
  const defaults = loadConfig({});
  return {
    PG_CONNECT_TIMEOUT_MS: settings.PG_CONNECT_TIMEOUT_MS ?? defaults.PG_CONNECT_TIMEOUT_MS,
    PG_STATEMENT_TIMEOUT_MS: settings.PG_STATEMENT_TIMEOUT_MS ?? defaults.PG_STATEMENT_TIMEOUT_MS,
    PG_LOCK_TIMEOUT_MS: settings.PG_LOCK_TIMEOUT_MS ?? defaults.PG_LOCK_TIMEOUT_MS,
    PG_QUERY_TIMEOUT_MS: settings.PG_QUERY_TIMEOUT_MS ?? defaults.PG_QUERY_TIMEOUT_MS,
    PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: settings.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? defaults.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    PG_PING_TIMEOUT_MS: settings.PG_PING_TIMEOUT_MS ?? defaults.PG_PING_TIMEOUT_MS,
    PG_MIGRATION_STATEMENT_TIMEOUT_MS: settings.PG_MIGRATION_STATEMENT_TIMEOUT_MS ?? defaults.PG_MIGRATION_STATEMENT_TIMEOUT_MS,
  };
}

/**
 * Asks the server to check the client's connection while it runs a statement (CLIENT_CONNECTION_CHECK_MS). Run on
 * each new connection before it is handed out. A server older than 14 does not know the setting: it keeps running
 * an abandoned statement until statement_timeout, as before.
 */
async function checkClientConnection(client: pg.ClientBase): Promise<void> {
  try {
    await client.query(`SET client_connection_check_interval = ${CLIENT_CONNECTION_CHECK_MS}`);
  } catch (error) {
    // 42704 undefined_object: "unrecognized configuration parameter" (PostgreSQL 13 and older).
    if ((error as { code?: unknown }).code !== '42704') throw error;
  }
}

/** What every connection of the service has, the pool's and the migrations' alike. */
function connectionOptions(connectionString: string, settings: WaitSettings): pg.PoolConfig {
  return {
    connectionString,
    // Waiting for a connection (a free one of a busy pool, or a new one): a request or a start-up never hangs on
    // an unreachable server or an exhausted pool.
    connectionTimeoutMillis: settings.PG_CONNECT_TIMEOUT_MS,
    // An abandoned transaction (its client frozen, or cut off between two statements) never holds its locks longer.
    idle_in_transaction_session_timeout: settings.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    onConnect: checkClientConnection,
    // TCP keepalive finds idle connections whose server or route went away without a word.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
  };
}

/**
 * A fixed pool of DATABASE_POOL_SIZE connections (see warmPostgresPool): idle connections are kept, not closed
 * after 10 s as pg-pool does by default. It reconnects by itself when the server comes back.
 *
 * Every wait is bounded below the request budget, and so below SHUTDOWN_TIMEOUT_MS (loadConfig refuses other
 * combinations): a lock at PG_LOCK_TIMEOUT_MS (lock_timeout), a statement at PG_STATEMENT_TIMEOUT_MS
 * (statement_timeout: the server cancels it and says so), and a server that does not answer at all (frozen, or
 * the network drops packets) at PG_QUERY_TIMEOUT_MS, on the client. Each fails the request with a 503
 * DATABASE_UNAVAILABLE (pg-errors.ts). A connection whose statement timed out on the client is closed, never
 * reused: pg-pool's query() releases it with the error, and the repository's transactions do the same.
 */
function openPostgresPool(connectionString: string, size: number, settings: WaitSettings): pg.Pool {
  const pool = new pg.Pool({
    ...connectionOptions(connectionString, settings),
    max: size,
    min: size,
    // Sent in the start-up message: no round trip. (A DATABASE_URL parameter of the same name takes precedence.)
    statement_timeout: settings.PG_STATEMENT_TIMEOUT_MS,
    lock_timeout: settings.PG_LOCK_TIMEOUT_MS,
    // Above statement_timeout, so that the server's own cancellation (which leaves the connection usable) comes
    // first; this one is for a server that cannot send it. pg then stops waiting but leaves the statement on the
    // connection, so the connection must be closed: pg-pool does so for any error of pool.query().
    query_timeout: settings.PG_QUERY_TIMEOUT_MS,
    application_name: 'users-api',
  });
  // An idle connection that fails (server restart, network cut) is dropped by the pool, which emits 'error':
  // without a listener that would crash the process. The next checkout opens a new connection; if the server
  // is still away, that request fails with DatabaseUnavailableError.
  pool.on('error', () => {});
  return pool;
}

/**
 * Applies the pending migrations on a connection of its own, with the migrations' statement timeout (an index
 * build on a big table may take minutes; 0 leaves the server's setting, normally none), and no lock timeout or
 * client-side timeout: instances starting together wait for each other's migrations on the advisory lock.
 * Instances already serving (a rolling deploy) answer 503 after PG_LOCK_TIMEOUT_MS meanwhile, rather than queue
 * behind a lock the migration holds.
 */
async function migrateOnOwnConnection(connectionString: string, settings: WaitSettings): Promise<void> {
  const pool = new pg.Pool({
    ...connectionOptions(connectionString, settings),
    max: 1,
    statement_timeout: settings.PG_MIGRATION_STATEMENT_TIMEOUT_MS,
    // Told apart from the serving connections in pg_stat_activity.
    application_name: 'users-api migrations',
  });
  pool.on('error', () => {});
  try {
    await migratePostgres(pool);
  } finally {
    await pool.end();
  }
}

/** Resolves or rejects as `promise` does if it settles within `ms`, else rejects with a timeout error. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A query with its own client-side timeout: pg reads query_timeout per query too (@types/pg does not say so). */
interface TimedQuery extends pg.QueryConfig {
  query_timeout: number;
}

/**
 * Applies the migrations of migrations/postgres that are not applied yet, each in its own transaction.
 * Instances starting together take turns on an advisory lock, so each migration runs once.
 */
export async function migratePostgres(pool: pg.Pool, migrations: Migration[] = readMigrations('postgres')): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    // A session lock, held on this connection only: released below, or by the server if the process dies.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      await adoptDrizzleJournal(client, migrations);
      const { rows } = await client.query<AppliedMigration>(`SELECT version, checksum FROM ${MIGRATIONS_TABLE}`);
      for (const migration of pendingMigrations(migrations, rows)) {
        await client.query('BEGIN');
        try {
          // No parameters: the simple query protocol runs every statement of the file.
          await client.query(migration.sql);
          await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A connection that failed is closed rather than returned to the pool (and closing it frees the lock).
    client.release(failure);
  }
}

/** A database migrated by drizzle-kit's migrator (releases before the runner): its N applied files are 0..N-1. */
async function adoptDrizzleJournal(client: pg.PoolClient, migrations: Migration[]): Promise<void> {
  const { rows } = await client.query<{ recorded: number; journal: string | null }>(
    `SELECT (SELECT count(*) FROM ${MIGRATIONS_TABLE})::integer AS recorded,
            to_regclass('drizzle.__drizzle_migrations')::text AS journal`,
  );
  if (rows[0]!.recorded > 0 || rows[0]!.journal === null) return;
  const applied = await client.query<{ n: number }>('SELECT count(*)::integer AS n FROM drizzle.__drizzle_migrations');
  for (const migration of migrations.slice(0, applied.rows[0]!.n)) {
    await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
  }
}

/**
 * Opens every connection of the pool at start-up, rather than during the first burst of requests: a burst then finds its connections ready (no connect, TLS, auth or DNS round trips, and
 * DNS can stall for seconds). A connection that cannot be opened now is opened on demand later.
 */
async function warmPostgresPool(pool: pg.Pool, size: number): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: size }, () => pool.connect()));
  for (const client of clients) if (client.status === 'fulfilled') client.value.release();
}

/** Connects to PostgreSQL, applies pending migrations and opens the pool's connections. */
export async function createPostgresDatabase(connectionString: string, settings: PostgresSettings): Promise<PostgresDatabase> {
  const waits = waitSettingsOf(settings);
  const pool = openPostgresPool(connectionString, settings.DATABASE_POOL_SIZE, waits);
  // The pool's connections open while the migrations run (opening one touches no table); none serves before both are done.
  const [migrated] = await Promise.allSettled([
    migrateOnOwnConnection(connectionString, waits),
    warmPostgresPool(pool, settings.DATABASE_POOL_SIZE),
  ]);
  if (migrated.status === 'rejected') {
    await pool.end();
    throw migrated.reason;
  }
  const probe: TimedQuery = { text: `SELECT count(*)::int AS applied FROM ${MIGRATIONS_TABLE}`, query_timeout: waits.PG_PING_TIMEOUT_MS };
  let closed = false;
  return {
    dialect: 'postgres',
    pool,
    /**
     * Answers, or throws DatabaseUnavailableError, within PG_PING_TIMEOUT_MS whatever the database does: the
     * wait for a connection (an exhausted pool) and the round trip (a frozen server) are bounded together. A
     * probe given up while it waits for a connection runs (harmlessly) if one frees, and leaves the pool's queue
     * at PG_CONNECT_TIMEOUT_MS at the latest; one given up on its answer has its connection closed.
     */
    async ping() {
      try {
        const { rows } = await within(pool.query<{ applied: number }>(probe), waits.PG_PING_TIMEOUT_MS, 'PostgreSQL');
        return rows[0]!.applied;
      } catch (error) {
        // Whatever the reason (unreachable, frozen, no free connection, refusing this login), the database does not answer.
        throw new DatabaseUnavailableError(error);
      }
    },
    faultOf: pgFaultOf,
    async close() {
      if (closed) return;
      closed = true;
      // Waits for the connections in use: each statement ends within PG_QUERY_TIMEOUT_MS. Fastify closes the
      // database once the in-flight requests are answered, so none is left here; a process that exits without
      // closing (its shutdown grace period over, a crash) has its statements cancelled by the server
      // (CLIENT_CONNECTION_CHECK_MS), never committed after it is gone.
      await pool.end();
    },
  };
}
