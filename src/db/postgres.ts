import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import { PostgresUsersRepository } from '../users/users.repository.postgres.js';
import type { Database } from '../users/users.repository.js';

export const POSTGRES_MIGRATIONS = fileURLToPath(new URL('../../migrations/postgres', import.meta.url));

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
    // TCP keepalive finds idle connections whose server or route went away without a word (after ~1 min).
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
 * Applies the versioned migrations in migrations/postgres that are not applied yet. Instances starting
 * together take turns on an advisory lock, so each migration runs once; the others then find nothing to do.
 */
async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    // A session lock, held on this connection only: released below, or by the server if the process dies.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: POSTGRES_MIGRATIONS });
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

/**
 * Opens every connection of the pool now, while the database is known to answer, rather than during the first
 * burst of requests. A burst then finds its connections ready (no connect, TLS or auth round trips, no DNS
 * lookup of the host, which can stall for seconds: seen with podman's DNS right after a compose `up`), and
 * since the pool keeps them, a quiet period does not close them again. A connection that cannot be opened now
 * is opened on demand later; that is not a start-up failure.
 */
async function warmPostgresPool(pool: pg.Pool, size: number): Promise<void> {
  const clients = await Promise.allSettled(Array.from({ length: size }, () => pool.connect()));
  for (const client of clients) if (client.status === 'fulfilled') client.value.release();
}

/** Connects to PostgreSQL, applies pending migrations, opens the pool's connections and returns its repositories. */
export async function createPostgresDatabase(connectionString: string, settings: PostgresSettings): Promise<Database> {
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
    users: new PostgresUsersRepository(drizzle({ client: pool }), pool),
    async ping() {
      try {
        await pool.query('SELECT 1');
      } catch (error) {
        // Whatever the reason (unreachable, shutting down, refusing this login), the database does not answer.
        throw new DatabaseUnavailableError(error);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
