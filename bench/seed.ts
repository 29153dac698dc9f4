import { copyFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { readMigrations } from '../src/db/migrations.js';
import { migrateSqlite, openSqlite } from '../src/db/sqlite.js';
import { userModel, type FieldDefinition } from '../src/users/users.schemas.js';

// Seed data for the benchmark: written straight into the database in SQL (a million rows in seconds), into a
// schema made by the real migrations so the indexes, triggers and derived tables are the production ones.

const FIRST_NAMES = [
  'Aaliyah', 'Aaron', 'Abigail', 'Adam', 'Adrian', 'Aisha', 'Alejandro', 'Alexander', 'Alice', 'Amara',
  'Amelia', 'Ana', 'Andrei', 'Anna', 'Annika', 'Anthony', 'Aria', 'Arjun', 'Ava', 'Benjamin',
  'Bianca', 'Caleb', 'Camila', 'Carlos', 'Charlotte', 'Chloe', 'Chen', 'Daniel', 'David', 'Diego',
  'Dmitri', 'Elena', 'Eli', 'Elijah', 'Ella', 'Emily', 'Emma', 'Ethan', 'Eva', 'Fatima',
  'Felix', 'Freya', 'Gabriel', 'Grace', 'Hana', 'Hannah', 'Harper', 'Hiroshi', 'Ibrahim', 'Ingrid',
  'Isaac', 'Isabella', 'Jack', 'Jacob', 'James', 'Jana', 'Joanna', 'John', 'José', 'Julia',
  'Kai', 'Karim', 'Kenji', 'Laila', 'Lars', 'Layla', 'Leo', 'Liam', 'Lucas', 'Lucía',
  'Maria', 'Mateo', 'Maya', 'Mei', 'Mia', 'Mohammed', 'Nadia', 'Noah', 'Nora', 'Olga',
  'Oliver', 'Olivia', 'Omar', 'Priya', 'Rafael', 'Ravi', 'Sakura', 'Samuel', 'Santiago', 'Sara',
  'Sofia', 'Sophie', 'Thomas', 'Tomás', 'Valentina', 'Wei', 'William', 'Yara', 'Yusuf', 'Zoe',
];

const LAST_NAMES = [
  'Abe', 'Adams', 'Ahmed', 'Ali', 'Allen', 'Alvarez', 'Andersen', 'Baker', 'Bauer', 'Becker',
  'Bernard', 'Brown', 'Campbell', 'Carter', 'Castro', 'Chen', 'Clark', 'Costa', 'Cruz', 'Davies',
  'Davis', 'Diaz', 'Dubois', 'Edwards', 'Evans', 'Fernández', 'Fischer', 'Fontaine', 'García', 'Gomez',
  'González', 'Green', 'Gupta', 'Hall', 'Hansen', 'Harris', 'Hernández', 'Hill', 'Hoffmann', 'Huang',
  'Ito', 'Jackson', 'Jansen', 'Johansson', 'Johnson', 'Jones', 'Kato', 'Khan', 'Kim', 'King',
  'Koch', 'Kowalski', 'Kumar', 'Lambert', 'Larsen', 'Lee', 'Lewis', 'Li', 'Liu', 'López',
  'Martin', 'Martínez', 'Meyer', 'Miller', 'Moore', 'Morales', 'Müller', 'Nakamura', 'Nguyen', 'Nielsen',
  'Novak', "O'Brien", 'Okafor', 'Olsen', 'Park', 'Patel', 'Pereira', 'Petrov', 'Popescu', 'Ramírez',
  'Rossi', 'Russo', 'Sánchez', 'Santos', 'Schmidt', 'Schneider', 'Silva', 'Singh', 'Smith', 'Sokolov',
  'Suzuki', 'Tanaka', 'Taylor', 'Thompson', 'Torres', 'Walker', 'Wang', 'Weber', 'White', 'Wilson',
  'Wright', 'Yamamoto', 'Yang', 'Young', 'Zhang', 'Zhao', 'Zimmermann',
];

const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.test', 'users.example'];

/** A small deterministic PRNG (mulberry32), so every run seeds the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)]!;
const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z0-9]/g, '');

/** A seeded value, as both drivers take it. */
export type SeedValue = string | number | null;
/** One user, its values in the order of SEED_COLUMNS. */
export type SeedRow = SeedValue[];

/** What a generator knows of the row it fills: its id, the values drawn so far, and the one PRNG of the run. */
interface RowContext {
  /** The row's number, start + 1 to start + count: its id, in a table seeded from empty. */
  id: number;
  /** 1 for the first row of this call, `count` for the last. */
  index: number;
  count: number;
  random: () => number;
  now: number;
  /** The values of the columns before this one, by name. */
  values: Readonly<Record<string, SeedValue>>;
}

const SPAN = 3 * 365 * 24 * 3600 * 1000;

/**
 * One generator per field, by name, called in the order of SEED_COLUMNS: ~100 first names and ~110 last names (so a
 * name filter matches about 1% of the table), 10% without an age, unique emails (some in mixed case), created_at
 * increasing with the id over the last three years and updated_at at or after it. A field added to the declaration
 * needs one only if it is required or cannot be null (it is seeded null otherwise). The generators share one PRNG:
 * a new one that draws from it changes the values of the fields after it.
 */
const GENERATORS: Record<string, (row: RowContext) => SeedValue> = {
  first_name: ({ random }) => pick(FIRST_NAMES, random),
  last_name: ({ random }) => pick(LAST_NAMES, random),
  age: ({ random }) => (random() < 0.1 ? null : 18 + Math.floor(random() * 73)),
  email: ({ id, random, values }) => {
    const local = `${ascii(drawn(values, 'first_name'))}.${ascii(drawn(values, 'last_name'))}.${id}`;
    return `${id % 7 === 0 ? local : local.toLowerCase()}@${pick(DOMAINS, random)}`;
  },
  created_at: ({ index, count, now }) => new Date(now - SPAN + Math.floor((SPAN * index) / (count + 1))).toISOString(),
  updated_at: ({ random, now, values }) =>
    new Date(Math.min(now, Date.parse(drawn(values, 'created_at')) + Math.floor(random() * 30 * 24 * 3600 * 1000))).toISOString(),
};

/**
 * Bounds to time a range filter with, by field, for the values GENERATORS draws (ages 18-90, 10% without): a lower
 * bound about a third of the users pass, an upper bound about a tenth pass, and a band of about a seventh.
 */
export const RANGE_PROBES: Record<string, { min: number; max: number; band: [number, number] }> = {
  age: { min: 65, max: 25, band: [30, 40] },
};

/** A text value drawn before, which another generator derives from. */
function drawn(values: Readonly<Record<string, SeedValue>>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string') throw new Error(`the seed generates ${name} after the fields that read it, or not as text`);
  return value;
}

/**
 * The seeded fields, from the declaration: those a client sets on create, then the timestamps the server sets (the
 * id is assigned by the database). An optional field without a generator is seeded null when it may be null; a
 * required one, or one that cannot be null, needs a generator, and the seed says so.
 */
const SEEDED: { field: FieldDefinition; generate: ((row: RowContext) => SeedValue) | null }[] = [
  ...userModel.created,
  ...userModel.fields.filter((field) => field.kind === 'timestamp' && field.spec.create === undefined),
].map((field) => {
  const generate = GENERATORS[field.name] ?? null;
  if (!generate && (field.spec.create === 'required' || !field.nullable)) {
    const why = field.spec.create === 'required' ? 'a required field' : 'a field that cannot be null';
    throw new Error(`bench/seed.ts has no generator for users.${field.name}, ${why}: add one to GENERATORS`);
  }
  return { field, generate };
});

/** The columns a seeded row fills, in order. */
export const SEED_COLUMNS = SEEDED.map(({ field }) => field.name);

/**
 * Generates `count` users in id order (see GENERATORS): the same ones on every run (timestamps relative to now), from
 * one PRNG that the generators draw from in the order of the columns.
 */
export function* seedRows(count: number, start = 0): Generator<SeedRow> {
  const random = prng(0x5eed + start);
  const now = Date.now();
  for (let id = start + 1; id <= start + count; id++) {
    const values: Record<string, SeedValue> = {};
    const context: RowContext = { id, index: id - start, count, random, now, values };
    for (const { field, generate } of SEEDED) values[field.name] = generate ? generate(context) : null;
    yield SEED_COLUMNS.map((name) => values[name]!);
  }
}

/**
 * The 3-character substring (folded to lower case) that the most users hold in a searched field, over the first
 * `sample` seeded users: the costliest common `q` to count. The seed's names and email domains repeat, so a sample
 * ranks them as the whole table does (ties: the first in code-point order). With this seed: `exa` (example.*).
 */
export function mostCommonTrigram(sample: number): { trigram: string; share: number } {
  const columns = userModel.searched.map((field) => SEED_COLUMNS.indexOf(field.name)).filter((index) => index >= 0);
  const users = new Map<string, number>();
  let rows = 0;
  for (const row of seedRows(sample)) {
    rows += 1;
    const held = new Set<string>();
    for (const column of columns) {
      const text = [...String(row[column] ?? '').toLowerCase()];
      for (let i = 0; i + 3 <= text.length; i++) held.add(text.slice(i, i + 3).join(''));
    }
    for (const trigram of held) users.set(trigram, (users.get(trigram) ?? 0) + 1);
  }
  const [trigram, n] = [...users].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0] ?? ['', 0];
  return { trigram, share: rows > 0 ? n / rows : 0 };
}

export interface SeedResult {
  /** The id range the seeded rows occupy (ids are assigned by the database). */
  minId: number;
  maxId: number;
  count: number;
  ms: number;
}

const SETTINGS = { SQLITE_SYNCHRONOUS: 'NORMAL', SQLITE_BUSY_TIMEOUT_MS: 5000 } as const;

type SchemaObject = { type: string; name: string; sql: string };
const schemaOf = (sqlite: BetterSqlite3.Database) =>
  sqlite.prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name`).all() as SchemaObject[];

/**
 * Creates a SQLite database with the real migrations and seeds `count` users in big transactions, the way a
 * production database that predates the later migrations would be upgraded: the first migration (the users table
 * and its indexes) is applied, the rows are inserted (its plain indexes dropped meanwhile and re-created from their
 * own SQL, for speed), then every later migration runs with its own backfill (row count, per-age counts, search
 * index). The result must have exactly the schema of a freshly migrated database, and the row count must match.
 */
export function seedSqlite(filename: string, count: number): SeedResult {
  const started = performance.now();
  const sqlite = openSqlite(filename, SETTINGS);
  sqlite.pragma('cache_size = -262144');
  sqlite.pragma('synchronous = OFF'); // the seeding connection only; the servers open the file with their own settings
  migrateSqlite(sqlite, readMigrations('sqlite').slice(0, 1));
  const indexes = sqlite
    .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL`)
    .all() as { name: string; sql: string }[];
  // The rows go into the columns of the first migration; a column a later migration adds is filled after it (when
  // the seed has a generator for it; otherwise it keeps what the migration gives the existing rows, as in production).
  const initial = new Set((sqlite.prepare(`SELECT name FROM pragma_table_info('users')`).all() as { name: string }[]).map(({ name }) => name));
  const early = SEED_COLUMNS.flatMap((name, index) => (initial.has(name) ? [index] : []));
  const late = SEEDED.flatMap(({ field, generate }, index) => (!initial.has(field.name) && generate ? [index] : []));
  const pickColumns = (row: SeedRow, columns: number[]) => (columns.length === row.length ? row : columns.map((index) => row[index]!));
  const insert = sqlite.prepare(
    `INSERT INTO users (${early.map((index) => SEED_COLUMNS[index]).join(', ')}) VALUES (${early.map(() => '?').join(', ')})`,
  );
  const insertBatch = sqlite.transaction((rows: SeedRow[]) => {
    for (const row of rows) insert.run(pickColumns(row, early));
  });
  sqlite.transaction(() => {
    for (const index of indexes) sqlite.exec(`DROP INDEX "${index.name}"`);
  })();
  let batch: SeedRow[] = [];
  for (const row of seedRows(count)) {
    batch.push(row);
    if (batch.length === 50000) {
      insertBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) insertBatch(batch);
  sqlite.transaction(() => {
    for (const index of indexes) sqlite.exec(index.sql);
  })();
  migrateSqlite(sqlite);
  if (late.length > 0) {
    // The same rows again (the generator is deterministic), for the columns that did not exist at first.
    const update = sqlite.prepare(`UPDATE users SET ${late.map((index) => `${SEED_COLUMNS[index]} = ?`).join(', ')} WHERE id = ?`);
    const firstId = (sqlite.prepare('SELECT min(id) AS id FROM users').get() as { id: number }).id;
    sqlite.transaction(() => {
      let id = firstId;
      for (const row of seedRows(count)) update.run(...late.map((index) => row[index]), id++);
    })();
  }

  const reference = openSqlite(':memory:', SETTINGS);
  migrateSqlite(reference);
  const expected = JSON.stringify(schemaOf(reference));
  reference.close();
  if (JSON.stringify(schemaOf(sqlite)) !== expected) throw new Error('the seeded database does not have the migrated schema');
  const range = sqlite.prepare('SELECT min(id) AS minId, max(id) AS maxId, count(*) AS n FROM users').get() as {
    minId: number;
    maxId: number;
    n: number;
  };
  const counted = (sqlite.prepare('SELECT n FROM users_count WHERE id = 1').get() as { n: number }).n;
  if (counted !== range.n) throw new Error(`users_count is ${counted}, the table has ${range.n} rows`);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  return { minId: range.minId, maxId: range.maxId, count: range.n, ms: performance.now() - started };
}

/** Copies a seeded, checkpointed SQLite file (the baseline gets an identical database of its own). */
export function copySqlite(from: string, to: string): void {
  copyFileSync(from, to);
}

/**
 * Copies the users of a seeded SQLite file into the users table of another (the naive server's, which created it),
 * ids included, so both serve the same users. The two tables must have the same stored columns (a field added to
 * the service and not to bench/naive.ts stops the run here, rather than skew it silently).
 */
export function copyUsers(from: string, to: string): { count: number; ms: number } {
  const started = performance.now();
  const sqlite = openSqlite(to, SETTINGS);
  try {
    sqlite.prepare('ATTACH DATABASE ? AS seeded').run(from);
    // table_info leaves out generated columns (the service's age_key): they are not stored.
    const columnsOf = (schema: string) =>
      (sqlite.prepare(`SELECT name FROM pragma_table_info('users', '${schema}') ORDER BY name`).all() as { name: string }[]).map(({ name }) => name);
    const mine = columnsOf('main');
    const theirs = columnsOf('seeded');
    if (mine.join() !== theirs.join()) {
      throw new Error(`${to}: users has columns ${mine.join(', ')}, the service's users ${theirs.join(', ')}: bring bench/naive.ts in line`);
    }
    const columns = mine.join(', ');
    sqlite.transaction(() => {
      sqlite.exec(`DELETE FROM main.users; INSERT INTO main.users (${columns}) SELECT ${columns} FROM seeded.users ORDER BY id`);
    })();
    sqlite.exec('DETACH DATABASE seeded');
    const count = (sqlite.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return { count, ms: performance.now() - started };
  } finally {
    sqlite.close();
  }
}

/** Reads a few rows of a seeded SQLite database, to build filter values that match real data. */
export function sampleSqlite(filename: string, ids: number[]): Record<string, unknown>[] {
  const sqlite = new BetterSqlite3(filename, { readonly: true });
  try {
    const get = sqlite.prepare('SELECT * FROM users WHERE id = ?');
    return ids.map((id) => get.get(id) as Record<string, unknown>);
  } finally {
    sqlite.close();
  }
}

/**
 * Seeds a PostgreSQL database whose schema the service's own migrations created (the harness starts the service
 * once first). Rows go in with INSERT … SELECT FROM unnest(…) in batches, cast to the column types the migrations
 * chose; then ANALYZE, as autovacuum would do on a production database after a bulk load.
 */
export async function seedPostgres(connectionString: string, count: number): Promise<SeedResult> {
  const started = performance.now();
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const columns = await client.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users'`,
    );
    const typeOf = new Map(columns.rows.map((c) => [c.column_name, c.data_type]));
    const names = SEED_COLUMNS;
    for (const name of names) if (!typeOf.has(name)) throw new Error(`users.${name} is missing from the PostgreSQL schema`);
    const select = names.map((n, i) => `c${i}::${typeOf.get(n)}`).join(', ');
    // Integers travel as bigint[], everything else as text[]; the SELECT casts each to its column's type.
    const arrays = SEEDED.map(({ field }, i) => `$${i + 1}::${field.kind === 'integer' ? 'bigint' : 'text'}[]`).join(', ');
    const text = `INSERT INTO users (${names.join(', ')}) SELECT ${select} FROM unnest(${arrays}) AS t(${names.map((_, i) => `c${i}`).join(', ')})`;
    let batch: SeedRow[] = [];
    const flush = async () => {
      const cols = names.map((_, i) => batch.map((row) => row[i]));
      await client.query(text, cols);
      batch = [];
    };
    await client.query('BEGIN');
    for (const row of seedRows(count)) {
      batch.push(row);
      if (batch.length === 20000) await flush();
    }
    if (batch.length > 0) await flush();
    await client.query('COMMIT');
    await client.query('ANALYZE');
    const range = await client.query<{ minid: string; maxid: string; n: string }>(
      'SELECT min(id) AS minid, max(id) AS maxid, count(*) AS n FROM users',
    );
    const r = range.rows[0]!;
    return { minId: Number(r.minid), maxId: Number(r.maxid), count: Number(r.n), ms: performance.now() - started };
  } finally {
    await client.end();
  }
}

/** Reads a few rows of a seeded PostgreSQL database (filter values for the list shapes). */
export async function samplePostgres(connectionString: string, ids: number[]): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const rows: Record<string, unknown>[] = [];
    for (const id of ids) rows.push((await client.query('SELECT * FROM users WHERE id = $1', [id])).rows[0] as Record<string, unknown>);
    return rows;
  } finally {
    await client.end();
  }
}
