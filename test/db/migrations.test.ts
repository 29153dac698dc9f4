import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { readMigrations, type Migration } from '../../src/db/migrations.js';
import { createPostgresDatabase, migratePostgres } from '../../src/db/postgres.js';
import { migrateSqlite, openSqlite, sqliteDatabase } from '../../src/db/sqlite.js';
import { createUsersRepository, type UsersRepository } from '../../src/users/users.repository.js';
import { userModel, type UserCreate, type UserUpdate } from '../../src/users/users.schemas.js';
import { sqliteSortKey } from '../../src/users/users.sql.sqlite.js';
import { createPostgresTestDatabase, TEST_DIALECTS, type TestDialect } from '../helpers/database.js';

// The migrations build what the code relies on, on an empty database of each dialect: a migration that drops a
// trigger, a search table or a sort index (as a generated table rebuild would) fails here. What is checked is
// derived from the declaration of the fields, and checked by behaviour: counts, search and index-ordered sorts.

const SETTINGS = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 1000, DATABASE_POOL_SIZE: 2 } as const;

interface Migrated {
  database: Database;
  users: UsersRepository;
  /** Runs SQL on the database directly and returns its rows. */
  sql(text: string): Promise<Record<string, unknown>[]>;
  /** Whether the plan of this query sorts rows itself instead of reading an index in order. */
  sortsWithoutIndex(orderBy: string): Promise<boolean>;
  close(): Promise<void>;
}

async function migrated(dialect: TestDialect): Promise<Migrated> {
  if (dialect === 'sqlite') {
    const sqlite = openSqlite(':memory:', SETTINGS);
    migrateSqlite(sqlite);
    const database = sqliteDatabase(sqlite);
    return {
      database,
      users: await createUsersRepository(database),
      sql: async (text) => sqlite.prepare(text).all() as Record<string, unknown>[],
      sortsWithoutIndex: async (orderBy) => {
        const plan = sqlite.prepare(`EXPLAIN QUERY PLAN SELECT id FROM users ORDER BY ${orderBy} LIMIT 1`).all() as { detail: string }[];
        return plan.some((step) => /TEMP B-TREE/.test(step.detail));
      },
      close: () => database.close(),
    };
  }
  const { url, drop } = await createPostgresTestDatabase();
  const database = await createPostgresDatabase(url, SETTINGS);
  return {
    database,
    users: await createUsersRepository(database),
    sql: async (text) => (await database.pool.query(text)).rows as Record<string, unknown>[],
    sortsWithoutIndex: async (orderBy) => {
      const client = await database.pool.connect();
      try {
        // With sequential scans priced out, a plan still sorts only when no index gives the order.
        await client.query('SET enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM users ORDER BY ${orderBy} LIMIT 1`);
        await client.query('RESET enable_seqscan');
        return rows.some((row) => /\bSort\b/.test(row['QUERY PLAN']));
      } finally {
        client.release();
      }
    },
    close: async () => {
      await database.close();
      await drop();
    },
  };
}

const person = (n: number, age: number | null): UserCreate => ({
  first_name: `Quentin${n}`,
  last_name: `Zebulon${n}`,
  age,
  email: `migrated.${n}@example.com`,
});

for (const dialect of TEST_DIALECTS) {
  describe(`migrations on an empty ${dialect} database`, () => {
    let db: Migrated;
    beforeEach(async () => {
      db = await migrated(dialect);
    });
    afterEach(() => db.close());

    it('keep every count in step with the table through inserts, updates and deletes (the triggers exist)', async () => {
      const created = [];
      for (let n = 1; n <= 6; n++) created.push(await db.users.insert(person(n, n % 3 === 0 ? null : 20 + n)));
      await db.users.update(created[0]!.id, { age: 90 });
      await db.users.update(created[2]!.id, { age: 21 });
      await db.users.delete(created[1]!.id);
      const page = await db.users.list({ filters: {}, sort: 'id', descending: false, limit: 100, offset: 0, count: true });
      assert.equal(page.total, 5);
      for (const filter of userModel.filters) {
        if (filter.kind !== 'range' || !filter.counted) continue;
        const [lowest, highest] = filter.bounds;
        for (const [min, max] of [[lowest, highest], [21, 21], [22, 90], [91, highest]] as const) {
          const counted = await db.users.list({
            filters: { [filter.min]: min, [filter.max]: max },
            sort: 'id',
            descending: false,
            limit: 1,
            offset: 0,
            count: true,
          });
          const [row] = await db.sql(
            `SELECT count(*) AS n FROM users WHERE ${filter.field.name} BETWEEN ${min} AND ${max}`,
          );
          assert.equal(counted.total, Number(row!['n']), `${filter.min}=${min}&${filter.max}=${max}`);
        }
      }
    });

    it('keep the search index and its totals in step with every searched field (its triggers and columns exist)', async () => {
      const user = await db.users.insert(person(7, 40));
      // The page, and its total: a 3-character q is counted from the index's per-trigram row counts, a longer one
      // from its matches (SQLite); both must follow every change.
      const search = async (q: string) => {
        const page = await db.users.list({ filters: { q }, sort: 'id', descending: false, limit: 10, offset: 0, count: true });
        const found = (JSON.parse(String(page.json)) as { id: number }[]).map(({ id }) => id);
        assert.equal(page.total, found.length, `the total of q=${q}`);
        return found;
      };
      for (const field of userModel.searched) {
        const value = String((user as Record<string, unknown>)[field.name]);
        for (const part of [value.slice(1, 8), value.slice(1, 4)]) {
          assert.deepEqual(await search(part), [user.id], `q=${part} finds ${field.name}`);
        }
        const changed = field.name === 'email' ? 'renamed.xyzzy@example.com' : 'Xyzzyplugh';
        await db.users.update(user.id, { [field.name]: changed } as UserUpdate);
        assert.deepEqual(await search(value.slice(1, 8)), [], `the old ${field.name} is gone from the index`);
        assert.deepEqual(await search(value.slice(1, 4)), [], `the old ${field.name}'s trigrams are gone from the index`);
        assert.deepEqual(await search(changed.slice(1, 8)), [user.id], `the new ${field.name} is found`);
        assert.deepEqual(await search(changed.slice(1, 4)), [user.id], `the new ${field.name}'s trigrams are found`);
        await db.users.update(user.id, { [field.name]: value } as UserUpdate);
      }
      await db.users.delete(user.id);
      assert.deepEqual(await search(user.last_name.slice(1, 8)), [], 'a deleted user is gone from the index');
      assert.deepEqual(await search(user.last_name.slice(1, 4)), [], "a deleted user's trigrams are gone from the index");
    });

    it('create an index for every sort order the list offers', async () => {
      for (const [name, sort] of userModel.sorts) {
        const key = dialect === 'sqlite' ? sqliteSortKey(userModel, name) : sort.expression;
        // Ties break by id; a unique key has none, and its index alone gives the order.
        const orderBy = name === 'id' || sort.field.spec.unique ? key : `${key}, id`;
        assert.equal(await db.sortsWithoutIndex(orderBy), false, `ORDER BY ${orderBy} reads an index`);
      }
    });

    if (dialect === 'sqlite') {
      // 0006: FTS5 keeps its options in the index's own config table; its default automerge (4) costs writes at scale.
      it('set the trigram index to merge its segments 16 at a time, in steps until 32 (0007)', async () => {
        assert.deepEqual(await db.sql("SELECT v FROM users_fts_config WHERE k = 'automerge'"), [{ v: 16 }]);
        assert.deepEqual(await db.sql("SELECT v FROM users_fts_config WHERE k = 'crisismerge'"), [{ v: 32 }]);
      });
    }
  });
}

describe('the migration runner (SQLite)', () => {
  const fresh = () => openSqlite(':memory:', SETTINGS);
  const schemaOf = (sqlite: BetterSqlite3.Database) =>
    sqlite
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name <> 'schema_migrations' ORDER BY type, name")
      .all();

  it('applies each migration once and records it', () => {
    const sqlite = fresh();
    migrateSqlite(sqlite);
    migrateSqlite(sqlite);
    const applied = sqlite.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(applied, readMigrations('sqlite').map(({ version, name }) => ({ version, name })));
  });

  it('refuses to start when an applied migration was changed afterwards', () => {
    const sqlite = fresh();
    migrateSqlite(sqlite);
    const changed: Migration[] = readMigrations('sqlite').map((migration, index) =>
      index === 1 ? { ...migration, checksum: 'edited' } : migration,
    );
    assert.throws(() => migrateSqlite(sqlite, changed), /0001_\w+\.sql was changed after it was applied/);
  });

  it('refuses a database migrated by a newer release', () => {
    const sqlite = fresh();
    migrateSqlite(sqlite);
    assert.throws(() => migrateSqlite(sqlite, readMigrations('sqlite').slice(0, 2)), /migrated by a newer release/);
  });

  it('rolls a failing migration back entirely and records nothing for it', () => {
    const sqlite = fresh();
    const broken: Migration = { version: readMigrations('sqlite').length, name: 'broken.sql', sql: 'CREATE TABLE half (x);\nSELECT * FROM missing;', checksum: 'x' };
    assert.throws(() => migrateSqlite(sqlite, [...readMigrations('sqlite'), broken]), /missing/);
    assert.deepEqual(sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all(), []);
    assert.equal((sqlite.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n, readMigrations('sqlite').length);
  });

  it('adopts a database migrated by drizzle-kit (earlier releases) and applies only the rest', () => {
    const migrations = readMigrations('sqlite');
    const sqlite = fresh();
    // As drizzle-kit's migrator left it: the first three files applied and journaled.
    for (const migration of migrations.slice(0, 3)) sqlite.exec(migration.sql);
    sqlite.exec('CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)');
    for (let n = 0; n < 3; n++) sqlite.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(`h${n}`, n);
    sqlite.prepare("INSERT INTO users (first_name, last_name, email) VALUES ('Kept', 'Row', 'kept@example.com')").run();
    migrateSqlite(sqlite);
    const reference = fresh();
    migrateSqlite(reference);
    assert.deepEqual(
      schemaOf(sqlite).filter((object) => (object as { name: string }).name !== '__drizzle_migrations'),
      schemaOf(reference),
    );
    assert.deepEqual(sqlite.prepare('SELECT first_name FROM users').all(), [{ first_name: 'Kept' }]);
    const recorded = sqlite.prepare('SELECT version, checksum IS NULL AS adopted FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(recorded, migrations.map(({ version }) => ({ version, adopted: version < 3 ? 1 : 0 })));
  });
});

describe('the migration runner (PostgreSQL)', { skip: !TEST_DIALECTS.includes('postgres') && 'PostgreSQL is unreachable' }, () => {
  it('adopts a database migrated by drizzle-kit and applies only the rest, once, under its lock', async () => {
    const { url, drop } = await createPostgresTestDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    // pool.end() resolves before its connections have closed: one still closing when the database is dropped
    // reports the server's termination, which is not this test's concern.
    pool.on('error', () => {});
    try {
      const migrations = readMigrations('postgres');
      for (const migration of migrations.slice(0, 2)) await pool.query(migration.sql);
      await pool.query('CREATE SCHEMA drizzle');
      await pool.query('CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)');
      await pool.query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('a', 1), ('b', 2)");
      // Two instances starting together: the advisory lock makes them take turns.
      await Promise.all([migratePostgres(pool), migratePostgres(pool)]);
      const { rows } = await pool.query<{ version: number; adopted: boolean }>(
        'SELECT version, checksum IS NULL AS adopted FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(rows, migrations.map(({ version }) => ({ version, adopted: version < 2 })));
      const trigrams = await pool.query("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'users\\_%\\_trgm\\_idx' ORDER BY 1");
      assert.deepEqual(
        trigrams.rows.map((row) => row.indexname),
        userModel.searched.map((field) => `users_${field.name}_trgm_idx`).sort(),
      );
    } finally {
      await pool.end();
      await drop();
    }
  });
});
