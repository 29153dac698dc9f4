import type { Config } from '../../src/config.js';
import { createSqliteDatabase } from '../../src/db/sqlite.js';
import type { Database } from '../../src/users/users.repository.js';

export type TestDialect = 'sqlite' | 'postgres';

/** The dialects the suite runs on. PostgreSQL joins when it is reachable; under CI=true it must be. */
export const TEST_DIALECTS: TestDialect[] = ['sqlite'];

/** A fresh, migrated database for one test, and how to drop it afterwards. */
export async function createTestDatabase(
  dialect: TestDialect,
  config: Config,
): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    return { database: createSqliteDatabase(':memory:', config), drop: async () => {} };
  }
  throw new Error(`dialect ${dialect} is not supported yet`);
}
