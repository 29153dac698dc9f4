import pg from 'pg';
import type { Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { PostgresDatabase } from './database.js';
import { MIGRATIONS_TABLE, pendingMigrations, readMigrations, type AppliedMigration, type Migration } from './migrations.js';
import { pgFaultOf } from './pg-errors.js';

/** Any fixed number, the same in every instance: the session lock that serializes migrations ('users' in ASCII). */
const MIGRATION_LOCK_ID = 0x7573657273;

/**
 * How long a request waits for a connection (a new one, or a free one of a busy pool) before it fails with
 * DatabaseUnavailableError: a health check or a request never hangs on an unreachable server.
 */
const CONNECTION_TIMEOUT_MS = 5000;

type PostgresSettings = Pick<Config, 'DATABASE_POOL_SIZE'>;

/**
 * A fixed pool of DATABASE_POOL_SIZE connections (see warmPostgresPool): idle connections are kept, not closed
 * after 10 s as pg-pool does by default. It reconnects by itself when the server comes back.
 */
function openPostgresPool(connectionString: string, settings: PostgresSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: settings.DATABASE_POOL_SIZE,
    min: settings.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    // TCP keepalive finds idle connections whose server or route went away without a word.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    application_name: 'users-api',
  });
  // An idle connection that fails (server restart, network cut) is dropped by the pool, which emits 'error':
  // without a listener that would crash the process. The next checkout opens a new connection; if the server
  // is still away, that request fails with DatabaseUnavailableError.
  pool.on('error', () => {});
  return pool;
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
 * Opens every connection of the pool now, while the database is known to answer, rather than during the first
 * burst of requests: a burst then finds its connections ready (no connect, TLS, auth or DNS round trips, and
 * DNS can stall for seconds). A connection that cannot be opened now is opened on demand later.
 */
async function warmPostgresPool(pool: pg.Pool, size: number): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: size }, () => pool.connect()));
  for (const client of clients) if (client.status === 'fulfilled') client.value.release();
}

/** Connects to PostgreSQL, applies pending migrations and opens the pool's connections. */
export async function createPostgresDatabase(connectionString: string, settings: PostgresSettings): Promise<PostgresDatabase> {
  const pool = openPostgresPool(connectionString, settings);
  try {
    await migratePostgres(pool);
    await warmPostgresPool(pool, settings.DATABASE_POOL_SIZE);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let closed = false;
  return {
    dialect: 'postgres',
    pool,
    async ping() {
      try {
        await pool.query('SELECT 1');
      } catch (error) {
        // Whatever the reason (unreachable, shutting down, refusing this login), the database does not answer.
        throw new DatabaseUnavailableError(error);
      }
    },
    faultOf: pgFaultOf,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
