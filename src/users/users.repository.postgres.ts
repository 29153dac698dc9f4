import { createHash } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgColumn } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { mapPgError } from '../db/pg-errors.js';
import { users } from '../db/schema.pg.js';
import { AppError, EmailTakenError, IdempotencyKeyReusedError, ValidationError } from '../errors.js';
import {
  IDEMPOTENCY_KEY_TTL_HOURS,
  SORT_EXPRESSIONS,
  type IdempotentRequest,
  type SortKey,
  type UserListCriteria,
  type UserPage,
  type UsersRepository,
} from './users.repository.js';
import type { SortField, User, UserCreate, UserUpdate } from './users.schemas.js';

const USER_FIELDS = ['first_name', 'last_name', 'age', 'email'] as const;

// PostgreSQL text cannot hold U+0000 (SQLite's can). No stored value contains one, so a filter value with one
// matches nothing: the filter becomes `false` rather than a driver error.
const hasNul = (value: string) => value.includes('\0');

/**
 * Refuses a write of text PostgreSQL cannot store (U+0000) with a 422 naming the fields, rather than a driver
 * error (a 500). The request schema admits it today; SQLite stores it.
 */
function assertStorable(user: UserUpdate): void {
  const fields = USER_FIELDS.filter((field) => {
    const value = user[field];
    return typeof value === 'string' && hasNul(value);
  });
  if (fields.length > 0) {
    throw new ValidationError(fields.map((field) => ({ location: ['body', field], message: 'must not contain U+0000' })));
  }
}

// Timestamps leave the database as the wire renders them and as SQLite stores them: 2026-11-26T10:13:25.123Z,
// always UTC with three fractional digits, whatever the session's TimeZone and DateStyle.
const WIRE_TIMESTAMP = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const wireTimestamp = (expression: string) => `to_char(${expression} AT TIME ZONE 'UTC', ${WIRE_TIMESTAMP})`;
const wireTimestampOf = (column: PgColumn) => sql<string>`to_char(${column} AT TIME ZONE 'UTC', ${sql.raw(WIRE_TIMESTAMP)})`;

/** The columns of a User, in wire order, for Drizzle queries. */
const USER_SELECTION = {
  id: users.id,
  first_name: users.first_name,
  last_name: users.last_name,
  age: users.age,
  email: users.email,
  created_at: wireTimestampOf(users.created_at),
  updated_at: wireTimestampOf(users.updated_at),
};

const USER_RETURNING = `id, first_name, last_name, age, email,
  ${wireTimestamp('created_at')} AS created_at, ${wireTimestamp('updated_at')} AS updated_at`;

// NOT EXISTS refuses a known duplicate before the identity is drawn, so a refused create leaves no gap in the ids
// (as on SQLite); ON CONFLICT covers a concurrent create of the same email that commits first. Either way no row
// comes back, and the email is taken.
const INSERT_USER = `INSERT INTO users (first_name, last_name, age, email)
  SELECT $1::text, $2::text, $3::integer, $4::text
  WHERE NOT EXISTS (SELECT FROM users WHERE lower(email) = lower($4::text COLLATE "C"))
  ON CONFLICT DO NOTHING`;
const insertValues = (user: UserCreate) => [user.first_name, user.last_name, user.age ?? null, user.email];

/** The first key of the advisory locks on Idempotency-Keys (the second is a hash of the key): 'idem' in ASCII. */
const IDEMPOTENCY_LOCK_CLASS = 0x6964656d;

/** The searched columns with their case folded, as the trigram index of migrations/postgres/0001 has them. */
const SEARCH_FOLDED = ['first_name', 'last_name', 'email'].map((column) => `lower(${column} COLLATE "und-x-icu")`);

/**
 * The next updated_at of a changed row: now, but always at least 1 ms past the previous value, as on SQLite
 * (ETags are updated_at). Compared at the column's millisecond precision, as it will be stored.
 */
const NEXT_UPDATED_AT = sql`(CASE WHEN now()::timestamptz(3) > ${users.updated_at} THEN now()::timestamptz(3)
  ELSE ${users.updated_at} + interval '1 millisecond' END)`;

/** The row with this id, and with If-Match, only while its updated_at (as the wire shows it) is one of the expected. */
function rowMatches(conditional: boolean): SQL | undefined {
  const byId = eq(users.id, sql.placeholder('id'));
  if (!conditional) return byId;
  return and(byId, sql`${wireTimestampOf(users.updated_at)} = ANY(${sql.placeholder('expected')}::text[])`);
}

/** Expected updated_at values as a text[] parameter; one with U+0000 matches no row and cannot be sent. */
const expectedVersions = (expected: readonly string[] | undefined) => (expected ?? []).filter((value) => !hasNul(value));

const TIMESTAMP_SORTS: ReadonlySet<SortField> = new Set(['created_at', 'updated_at']);
const WIRE_TIMESTAMP_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// bigint (ids, counts) as JS numbers for the hand-written queries, as Drizzle does for bigint({ mode: 'number' }):
// ids stay far below 2^53.
const INT8_AS_NUMBER = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

// The largest bigint: with it, a keyset (value, id) bound admits every id of that value (see keysetBound).
const MAX_ID = '9223372036854775807';

interface PageRow {
  json: string;
  fetched: number;
  last_value: string | number | null;
  last_id: number | null;
}

/** Escapes LIKE wildcards so `q` is matched literally (backslash is PostgreSQL's default LIKE escape). */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/** A statement name derived from its text: pg prepares a name once per connection, so one name means one text. */
const statementName = (prefix: string, text: string) =>
  `${prefix}_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;

/** Positional parameters ($1, $2, ...) collected while the SQL text is built. */
class Parameters {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The PostgreSQL implementation of UsersRepository: the same behaviour as the SQLite one, statement for
 * statement. Every statement is named, so each connection of the pool parses and plans it once.
 */
export class PostgresUsersRepository implements UsersRepository {
  private readonly findByIdStatement;
  private readonly deleteStatement;
  private readonly conditionalDeleteStatement;
  private readonly updateStatements = new Map<string, ReturnType<PostgresUsersRepository['prepareUpdate']>>();

  constructor(
    private readonly db: NodePgDatabase,
    private readonly pool: pg.Pool,
  ) {
    this.findByIdStatement = db
      .select(USER_SELECTION)
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare('users_find_by_id');
    this.deleteStatement = db.delete(users).where(rowMatches(false)).returning({ id: users.id }).prepare('users_delete');
    this.conditionalDeleteStatement = db
      .delete(users)
      .where(rowMatches(true))
      .returning({ id: users.id })
      .prepare('users_delete_if_match');
  }

  async insert(user: UserCreate): Promise<User> {
    assertStorable(user);
    const [created] = await this.query<User>(this.pool, 'users_insert', {
      text: `${INSERT_USER} RETURNING ${USER_RETURNING}`,
      values: insertValues(user),
    });
    if (!created) throw new EmailTakenError();
    return created;
  }

  async insertOnce(user: UserCreate, request: IdempotentRequest): Promise<{ user: User; replayed: boolean }> {
    assertStorable(user);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapPgError(error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await this.createOnce(client, user, request);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is closed rather than returned to the pool.
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error instanceof AppError ? error : mapPgError(error);
    } finally {
      client.release(broken);
    }
  }

  /** The steps of insertOnce, in its transaction. */
  private async createOnce(
    client: pg.PoolClient,
    user: UserCreate,
    request: IdempotentRequest,
  ): Promise<{ user: User; replayed: boolean }> {
    // Requests with the same key take turns until commit (SQLite takes its write lock for the same reason):
    // the second one then finds the key the first one stored.
    await this.query(client, 'idempotency_lock', {
      text: `SELECT pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext($1))`,
      values: [request.key],
    });
    // Expired keys go, a few at a time and never waiting for another transaction; an expired key is unknown.
    const [known] = await this.query<{ fingerprint: string; response: string }>(client, 'idempotency_find', {
      text: `WITH expired AS (
          DELETE FROM idempotency_keys WHERE key IN (
            SELECT key FROM idempotency_keys WHERE expires_at < now() ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED
          )
        )
        SELECT fingerprint, response FROM idempotency_keys WHERE key = $1 AND expires_at >= now()`,
      values: [request.key],
    });
    if (known) {
      if (known.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedError();
      return { user: JSON.parse(known.response) as User, replayed: true };
    }
    // The user and its key in one statement; the stored response is the user exactly as returned.
    const [created] = await this.query<User>(client, 'users_insert_once', {
      text: `WITH created AS (${INSERT_USER} RETURNING ${USER_RETURNING}),
        remembered AS (
          INSERT INTO idempotency_keys (key, fingerprint, user_id, response, expires_at)
          SELECT $5, $6, id, row_to_json(created)::text, now() + interval '1 hour' * $7 FROM created
          ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, user_id = excluded.user_id,
            response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
        )
        SELECT * FROM created`,
      values: [...insertValues(user), request.key, request.fingerprint, IDEMPOTENCY_KEY_TTL_HOURS],
    });
    if (!created) throw new EmailTakenError();
    return { user: created, replayed: false };
  }

  async findById(id: number): Promise<User | undefined> {
    try {
      return (await this.findByIdStatement.execute({ id }))[0];
    } catch (error) {
      throw mapPgError(error);
    }
  }

  async update(id: number, changes: UserUpdate, expected?: readonly string[]): Promise<User | undefined> {
    assertStorable(changes);
    const fields = USER_FIELDS.filter((field) => changes[field] !== undefined);
    const key = `${fields.join(',')}${expected ? '?' : ''}`;
    let statement = this.updateStatements.get(key);
    if (!statement) {
      statement = this.prepareUpdate(fields, expected !== undefined);
      this.updateStatements.set(key, statement);
    }
    try {
      return (await statement.execute({ ...changes, id, expected: expectedVersions(expected) }))[0];
    } catch (error) {
      throw mapPgError(error);
    }
  }

  private prepareUpdate(fields: readonly (typeof USER_FIELDS)[number][], conditional: boolean) {
    const set: Record<string, SQL | ReturnType<typeof sql.placeholder>> = { updated_at: NEXT_UPDATED_AT };
    for (const field of fields) set[field] = sql.placeholder(field);
    return this.db
      .update(users)
      .set(set)
      .where(rowMatches(conditional))
      .returning(USER_SELECTION)
      .prepare(`users_update_${fields.join('_')}${conditional ? '_if_match' : ''}`);
  }

  async delete(id: number, expected?: readonly string[]): Promise<boolean> {
    try {
      const statement = expected ? this.conditionalDeleteStatement : this.deleteStatement;
      return (await statement.execute({ id, expected: expectedVersions(expected) })).length > 0;
    } catch (error) {
      throw mapPgError(error);
    }
  }

  async list(criteria: UserListCriteria): Promise<UserPage> {
    const direction = criteria.descending ? 'DESC' : 'ASC';
    const expression = SORT_EXPRESSIONS[criteria.sort];
    // The cursor carries a timestamp as the wire shows it (and as SQLite stores it).
    const lastValue = TIMESTAMP_SORTS.has(criteria.sort) ? wireTimestamp('page.sort_key') : 'page.sort_key';
    const parameters = new Parameters();
    const where = this.buildWhere(criteria, parameters);
    const limit = parameters.add(criteria.limit);
    const fetch = parameters.add(criteria.limit + 1);
    const offset = parameters.add(criteria.after ? 0 : criteria.offset);
    // The page is rendered to JSON by PostgreSQL (no JS objects per row), compact as SQLite renders it. One extra
    // row is fetched to know whether a next page exists; the last row of the page gives the keyset cursor.
    // The rows are rendered only after LIMIT, so a sort without an index does not render every match.
    const page = {
      text: `
        SELECT coalesce('[' || string_agg(row_to_json(rendered)::text, ',' ORDER BY page.rn)
                 FILTER (WHERE page.rn <= ${limit}) || ']', '[]') AS json,
               count(*)::integer AS fetched,
               min(${lastValue}) FILTER (WHERE page.rn = ${limit}) AS last_value,
               min(page.id) FILTER (WHERE page.rn = ${limit}) AS last_id
        FROM (
          SELECT *, row_number() OVER (ORDER BY sort_key ${direction}, id ${direction}) AS rn FROM (
            SELECT id, first_name, last_name, age, email, created_at, updated_at,
                   ${expression} AS sort_key
            FROM users ${where}
            ORDER BY ${expression} ${direction}, id ${direction}
            LIMIT ${fetch} OFFSET ${offset}
          ) AS fetched
        ) AS page
        CROSS JOIN LATERAL (
          SELECT page.id, page.first_name, page.last_name, page.age, page.email,
                 ${wireTimestamp('page.created_at')} AS created_at, ${wireTimestamp('page.updated_at')} AS updated_at
        ) AS rendered`,
      values: parameters.values,
    };
    const planned = criteria.filters.q === undefined ? 'once' : 'each time';
    const [row] = await this.query<PageRow>(this.pool, 'users_list', page, planned);
    const { json, fetched, last_value, last_id } = row!;
    const size = Math.min(fetched, criteria.limit);
    const hasMore = fetched > criteria.limit;
    const lastKey: SortKey | null =
      hasMore && last_id !== null && last_value !== null ? { value: last_value, id: last_id } : null;
    let total: number | null = null;
    if (criteria.count) {
      const [counted] = await this.query<{ n: number }>(this.pool, 'users_count', this.countStatement(criteria), planned);
      total = counted!.n;
    }
    return { json, size, hasMore, lastKey, total };
  }

  /**
   * The total of the rows matching the filters; from trigger-kept counters when the filters allow it (see
   * migrations/postgres/0001): the sum of a few rows instead of a count of the matching users.
   */
  private countStatement(criteria: UserListCriteria): { text: string; values: unknown[] } {
    const { min_age, max_age, ...others } = criteria.filters;
    const parameters = new Parameters();
    // Keyset params are not part of the count: the total is of all rows matching the filters.
    const where = this.buildWhere({ ...criteria, after: undefined }, parameters);
    if (where === '') return { text: 'SELECT coalesce(sum(n), 0)::bigint AS n FROM users_count', values: [] };
    if (Object.values(others).every((value) => value === undefined)) {
      return {
        text: 'SELECT coalesce(sum(n), 0)::bigint AS n FROM users_age_count WHERE age BETWEEN $1 AND $2',
        values: [min_age ?? 0, max_age ?? 150],
      };
    }
    return { text: `SELECT count(*) AS n FROM users ${where}`, values: parameters.values };
  }

  /** The WHERE clause for the filters and keyset position, as fixed SQL text plus positional parameters. */
  private buildWhere(criteria: UserListCriteria, parameters: Parameters): string {
    const { filters, after } = criteria;
    const clauses: string[] = [];
    const textFilter = (value: string, clause: (parameter: string) => string) =>
      clauses.push(hasNul(value) ? 'false' : clause(parameters.add(value)));
    if (filters.email !== undefined) {
      // COLLATE "C": lower() folds ASCII only, as SQLite's lower() does, whatever the database's locale.
      textFilter(filters.email, (email) => `lower(email) = lower(${email}::text COLLATE "C")`);
    }
    if (filters.first_name !== undefined) textFilter(filters.first_name, (name) => `first_name = ${name}`);
    if (filters.last_name !== undefined) textFilter(filters.last_name, (name) => `last_name = ${name}`);
    if (filters.min_age !== undefined || filters.max_age !== undefined) {
      // coalesce(age, -1) matches the age index; -1 (no age) never satisfies a bound of 0 or more.
      const min = parameters.add(filters.min_age ?? 0);
      const max = parameters.add(filters.max_age ?? 150);
      clauses.push(`coalesce(age, -1) BETWEEN ${min} AND ${max}`);
    }
    if (filters.q !== undefined && [...filters.q].length >= 3) {
      // As SQLite's trigram index: the case of every script folds. The expressions are those of the trigram index.
      textFilter(likePattern(filters.q), (q) => {
        const pattern = `lower(${q}::text COLLATE "und-x-icu")`;
        return `(${SEARCH_FOLDED.map((folded) => `${folded} LIKE ${pattern}`).join(' OR ')})`;
      });
    } else if (filters.q !== undefined) {
      // 1-2 characters, as SQLite's LIKE: ILIKE on the "C" collation of the columns folds ASCII letters only.
      // Too short for trigrams: a scan, bounded by the page's LIMIT (the count scans all).
      textFilter(likePattern(filters.q), (q) => `(first_name ILIKE ${q} OR last_name ILIKE ${q} OR email ILIKE ${q})`);
    }
    if (after) {
      const operator = criteria.descending ? '<' : '>';
      if (criteria.sort === 'id') {
        // In id order the id is the whole position.
        clauses.push(`id ${operator} ${parameters.add(after.id)}`);
      } else {
        const { expression, value, id } = keysetBound(criteria.sort, after);
        // ::bigint: a cursor's age is any safe integer (SQLite compares it as it is), beyond the integer range.
        const valueParameter = criteria.sort === 'age' ? `${parameters.add(value)}::bigint` : parameters.add(value);
        clauses.push(`(${expression}, id) ${operator} (${valueParameter}, ${parameters.add(id)})`);
      }
    }
    return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  }

  /**
   * Runs a hand-written statement under a name derived from its text; maps driver errors to domain errors.
   * `planned: 'each time'` sends it unnamed instead, so PostgreSQL plans it for its actual values: a named
   * statement may switch to a generic plan after five runs, and for `q` the generic plan walks the whole primary
   * key when nothing matches (285 ms at 100 000 users) where the plan for the actual pattern reads the trigram
   * indexes (0.05 ms). Planning costs ~0.3 ms.
   */
  private async query<Row extends object>(
    executor: pg.Pool | pg.PoolClient,
    prefix: string,
    statement: { text: string; values: unknown[] },
    planned: 'once' | 'each time' = 'once',
  ): Promise<Row[]> {
    try {
      const result = await executor.query<Row>({
        name: planned === 'once' ? statementName(prefix, statement.text) : undefined,
        text: statement.text,
        values: statement.values,
        types: INT8_AS_NUMBER,
      });
      return result.rows;
    } catch (error) {
      throw mapPgError(error);
    }
  }
}

/**
 * The keyset bound `(expression, id) >/< (value, id)` for a cursor, compared exactly as SQLite compares it.
 * A cursor comes from a Link header, but a client can alter it; the values PostgreSQL cannot take as they are
 * get an equivalent bound instead of a driver error:
 * - a timestamp sort compares the column, so the index serves it; a value that is not a wire timestamp is
 *   compared as text with the rendered column, as SQLite (which stores the text) does;
 * - a text value with U+0000: no stored text contains one, so a row sorts after the value exactly when it sorts
 *   after the part before U+0000; that part with the largest id is the same bound in both directions.
 */
function keysetBound(sort: SortField, after: SortKey): { expression: string; value: string | number; id: number | string } {
  let expression = SORT_EXPRESSIONS[sort];
  let { value }: { value: string | number } = after;
  let id: number | string = after.id;
  if (TIMESTAMP_SORTS.has(sort) && !isWireTimestamp(value)) expression = `${wireTimestamp(expression)} COLLATE "C"`;
  if (typeof value === 'string' && hasNul(value)) {
    value = value.slice(0, value.indexOf('\0'));
    id = MAX_ID;
  }
  return { expression, value, id };
}

/** Whether the value is a timestamp exactly as the wire renders it (and so as PostgreSQL reads it back). */
function isWireTimestamp(value: string | number): boolean {
  // Year 0000 is valid in JavaScript (1 BC) but not in PostgreSQL.
  if (typeof value !== 'string' || !WIRE_TIMESTAMP_PATTERN.test(value) || value.startsWith('0000')) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}
