import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import { createPostgresDatabase } from '../../src/db/postgres.js';
import { createSqliteDatabase } from '../../src/db/sqlite.js';
import type { Database } from '../../src/db/database.js';
import { createUsersRepository, type UsersRepository } from '../../src/users/users.repository.js';

export type TestDialect = 'sqlite' | 'postgres';

/** The PostgreSQL server of the tests; each test gets its own database on it, created from this one. */
export const TEST_POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const REQUIRE_POSTGRES = process.env['CI'] === 'true';

// One connection to the `test` database, for CREATE DATABASE and DROP DATABASE; it lets the process exit when idle.
const admin = new pg.Pool({
  connectionString: TEST_POSTGRES_URL,
  max: 1,
  connectionTimeoutMillis: 2000,
  idleTimeoutMillis: 1000,
  allowExitOnIdle: true,
});
admin.on('error', () => {});

/** Why PostgreSQL cannot be used, or null when it answers. Probed once per test process. */
async function probePostgres(): Promise<string | null> {
  try {
    await admin.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || String(error) : String(error);
  }
}

/** Why the PostgreSQL tests do not run here, or null when they do. */
export const POSTGRES_UNAVAILABLE = await probePostgres();

if (POSTGRES_UNAVAILABLE !== null) {
  const message = `PostgreSQL at ${TEST_POSTGRES_URL} is unreachable (${POSTGRES_UNAVAILABLE})`;
  // Under CI a missing PostgreSQL must not pass as a green run: every test file importing this one fails.
  if (REQUIRE_POSTGRES) throw new Error(`${message}; CI=true requires it. Set TEST_POSTGRES_URL or start PostgreSQL.`);
  console.warn(
    `\n${'!'.repeat(100)}\n!!! ${message}:\n!!! the PostgreSQL tests are SKIPPED and the suite runs on SQLite only.\n` +
      `!!! Start PostgreSQL or set TEST_POSTGRES_URL to run them.\n${'!'.repeat(100)}\n`,
  );
}

/** The dialects the suite runs on. PostgreSQL joins when it is reachable; under CI=true it must be. */
export const TEST_DIALECTS: TestDialect[] = POSTGRES_UNAVAILABLE === null ? ['sqlite', 'postgres'] : ['sqlite'];

// Test databases are named users_test_<creation time, base 36>_<random>: unique, and a run killed before
// dropping its databases leaves names that tell their age, so a later run can sweep them.
const PREFIX = 'users_test_';
const STALE_AFTER_MS = 60 * 60 * 1000;
const databaseName = () => `${PREFIX}${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;

function urlOf(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const dropDatabase = async (name: string) => void (await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

/** Drops test databases more than an hour old: left behind by a run that was killed. */
async function sweepStaleDatabases(): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}%' AND NOT datistemplate`,
  );
  for (const { datname } of rows) {
    const created = parseInt(datname.slice(PREFIX.length).split('_')[0] ?? '', 36);
    if (Number.isFinite(created) && Date.now() - created > STALE_AFTER_MS) await dropDatabase(datname).catch(() => {});
  }
}

let template: Promise<string> | undefined;

/**
 * A database migrated once per test process with the real migrations, copied for each test: CREATE DATABASE
 * ... TEMPLATE costs about what an empty CREATE DATABASE costs, and the migrations do not run per test.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    await sweepStaleDatabases();
    const name = databaseName();
    await admin.query(`CREATE DATABASE ${name}`);
    process.once('beforeExit', () => void dropDatabase(name).catch(() => {}));
    // The service's own start-up path; its connections are closed before the database is copied.
    const database = await createPostgresDatabase(urlOf(name), { DATABASE_POOL_SIZE: 1 });
    await database.close();
    return name;
  })();
  return template;
}

/**
 * A fresh PostgreSQL database with a unique name, its URL, and how to drop it: migrated by the real
 * migrations, or empty (for tests of the migrations themselves). Tests never share one, so parallel test files
 * and repeated runs never collide.
 */
export async function createPostgresTestDatabase(
  options: { migrated?: boolean } = {},
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  if (POSTGRES_UNAVAILABLE !== null) throw new Error(`PostgreSQL is unavailable: ${POSTGRES_UNAVAILABLE}`);
  const name = databaseName();
  const source = options.migrated ? await migratedTemplate() : 'template1';
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${source}`);
  // FORCE: connections a failed test left open do not keep the database alive.
  return { url: urlOf(name), name, drop: () => dropDatabase(name) };
}

/** A fresh, migrated database for one test, its users repository, and how to drop it afterwards. */
export async function createTestDatabase(
  dialect: TestDialect,
  config: Config,
): Promise<{ database: Database; users: UsersRepository; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const database = createSqliteDatabase(':memory:', config);
    return { database, users: await createUsersRepository(database), drop: async () => {} };
  }
  const { url, drop } = await createPostgresTestDatabase({ migrated: true });
  try {
    // As the service starts: the migrations find nothing left to apply, and the pool is the service's.
    const database = await createPostgresDatabase(url, config);
    return {
      database,
      users: await createUsersRepository(database),
      drop: async () => {
        await database.close();
        await drop();
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}
