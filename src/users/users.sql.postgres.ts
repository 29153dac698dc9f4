import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PostgresDatabase } from '../db/database.js';
import { isPgConnectionLost } from '../db/pg-errors.js';
import { EmailTakenError, IdempotencyKeyReusedError, ValidationError } from '../errors.js';
import { asJsonText } from '../http/json-text.js';
import {
  IDEMPOTENCY_KEY_TTL_HOURS,
  SqlParameters,
  StatementCache,
  activeFilters,
  changedFields,
  completeStoredUser,
  countStrategy,
  createValues,
  createdByKey,
  domainErrorOf,
  asUserExportText,
  csvRecordSql,
  refusedIndexes,
  uniqueCreateField,
  filterConditions,
  likePattern,
  whereOf,
  type ActiveFilter,
  type FilterBuilders,
  type IdempotentRequest,
  type SortKey,
  type UserExportCriteria,
  type UserExportPage,
  type UserListCriteria,
  type UserPage,
  type UsersRepository,
} from './users.repository.js';
import type { FieldDefinition, User, UserCreate, UserModel, UserUpdate, ValueKind } from './users.schemas.js';

// What PostgreSQL does differently: pg_trgm search on ICU-folded text, pages rendered by row_to_json, timestamps
// rendered as the wire (and SQLite) has them, U+0000 (which text cannot hold), and named statements.

// PostgreSQL text cannot hold U+0000 (SQLite's can). No stored value contains one, so a filter value with one
// matches nothing: the condition becomes `false` rather than a driver error.
const hasNul = (value: string) => value.includes('\0');

// Timestamps leave the database as the wire renders them and as SQLite stores them: 2026-11-26T10:13:25.123Z,
// always UTC with three fractional digits, whatever the session's TimeZone and DateStyle.
const wireTimestamp = (expression: string) => `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const WIRE_TIMESTAMP_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const CASTS: Record<ValueKind, string> = { text: 'text', integer: 'integer', timestamp: 'timestamptz' };

/**
 * The next updated_at of a changed row: now, but always at least 1 ms past the previous value, as on SQLite
 * (ETags are updated_at). Compared at the column's millisecond precision, as it will be stored.
 */
const NEXT_UPDATED_AT = `(CASE WHEN now()::timestamptz(3) > updated_at THEN now()::timestamptz(3)
  ELSE updated_at + interval '1 millisecond' END)`;

/** The first key of the advisory locks on Idempotency-Keys (the second is a hash of the key): 'idem' in ASCII. */
const IDEMPOTENCY_LOCK_CLASS = 0x6964656d;

// bigint (ids, counts) as JS numbers: ids stay far below 2^53.
const INT8_AS_NUMBER = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

// The largest bigint: with it, a keyset (value, id) bound admits every id of that value (see keysetBound).
const MAX_ID = '9223372036854775807';

/** A text condition, or `false` for a value PostgreSQL cannot hold (it matches nothing). */
const textCondition = (value: string, parameters: SqlParameters, condition: (parameter: string) => string) =>
  hasNul(value) ? 'false' : condition(parameters.add(value));

// As SQLite's trigram index: the case of every script folds (ICU root collation, the same on every server). The
// expressions are those of the trigram indexes of migrations/postgres.
const folded = (expression: string) => `lower(${expression} COLLATE "und-x-icu")`;

const FILTERS: FilterBuilders<undefined> = {
  exact: ({ column, value }, parameters) => textCondition(value, parameters, (p) => `${column} = ${p}`),
  // COLLATE "C": lower() folds ASCII only, as SQLite's lower() does, whatever the database's locale.
  caseless: ({ column, value }, parameters) =>
    textCondition(value, parameters, (p) => `lower(${column}) = lower(${p}::text COLLATE "C")`),
  // The expression of the sort index; a missing value (-1) never satisfies a bound of 0 or more.
  range: ({ expression, min, max }, parameters) => `${expression} BETWEEN ${parameters.add(min)} AND ${parameters.add(max)}`,
  search: ({ columns, text }, parameters) =>
    textCondition(likePattern(text), parameters, (q) =>
      [...text].length >= 3
        ? `(${columns.map((column) => `${folded(column)} LIKE ${folded(`${q}::text`)}`).join(' OR ')})`
        : // 1-2 characters, as SQLite's LIKE: ILIKE on the "C" collation of the columns folds ASCII letters only.
          // Too short for trigrams: a scan, bounded by the page's LIMIT (the count scans all).
          `(${columns.map((column) => `${column} ILIKE ${q}`).join(' OR ')})`,
    ),
};

interface PageRow {
  json: string;
  fetched: number;
  last_value: string | number | null;
  last_id: number | null;
  /** The total of the matching rows, when asked for (count=true). */
  total: number | null;
}

interface Statement {
  text: string;
  values: unknown[];
}

/** A statement name derived from its text: pg prepares a name once per connection, so one name means one text. */
const statementName = (text: string) => `users_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;

/** UsersRepository on PostgreSQL: every statement is named, so each connection parses and plans it once. */
export class PostgresUsersRepository implements UsersRepository {
  private readonly pool: pg.Pool;
  /** The select list of a User, timestamps rendered as on the wire, over `prefix` columns. */
  private readonly selectList: (prefix?: string) => string;
  private readonly insertText: string;
  private readonly findByIdText: string;
  private readonly deleteText: string;
  private readonly conditionalDeleteText: string;
  private readonly updateTexts: StatementCache<string>;
  /** Text fields a client writes: checked for U+0000 before a write. */
  private readonly writtenText: FieldDefinition[];
  private readonly timestampSorts: Set<string>;
  private readonly statementNames = new StatementCache<string>(statementName);
  /** Many users from one array parameter per field; returns the folded unique key of each user created. */
  private readonly insertManyText: string;
  /** A user of an export's page as a CSV record (src/http/csv.ts rules). */
  private readonly csvRecord: string;

  constructor(
    private readonly database: PostgresDatabase,
    private readonly model: UserModel,
  ) {
    this.pool = database.pool;
    this.selectList = (prefix = '') =>
      model.fields
        .map(({ name, kind }) => (kind === 'timestamp' ? `${wireTimestamp(prefix + name)} AS ${name}` : prefix + name))
        .join(', ');
    // NOT EXISTS refuses a known duplicate before the identity is drawn, so a refused create leaves no gap in the
    // ids (as on SQLite); ON CONFLICT covers a concurrent create that commits first. Either way no row comes back.
    const values = model.created.map((field, index) => `$${index + 1}::${CASTS[field.kind]}`);
    const duplicates = model.created
      .map((field, index) => ({ field, value: values[index]! }))
      .filter(({ field }) => field.spec.unique === 'caseless')
      .map(({ field, value }) => `lower(${field.name}) = lower(${value} COLLATE "C")`);
    this.insertText = `INSERT INTO users (${model.created.map((field) => field.name).join(', ')})
      SELECT ${values.join(', ')}
      ${duplicates.length > 0 ? `WHERE NOT EXISTS (SELECT FROM users WHERE ${duplicates.join(' OR ')})` : ''}
      ON CONFLICT DO NOTHING RETURNING ${this.selectList()}`;
    this.findByIdText = `SELECT ${this.selectList()} FROM users WHERE id = $1`;
    this.deleteText = 'DELETE FROM users WHERE id = $1 RETURNING id';
    this.conditionalDeleteText = `DELETE FROM users WHERE id = $1 AND ${this.ifMatch(2)} RETURNING id`;
    this.updateTexts = new StatementCache<string>();
    this.writtenText = model.fields.filter((field) => field.kind === 'text' && (field.spec.create || field.spec.patch));
    this.timestampSorts = new Set([...model.sorts].filter(([, sort]) => sort.field.kind === 'timestamp').map(([name]) => name));
    this.csvRecord = csvRecordSql(model, {
      char: (code) => `chr(${code})`,
      contains: (text, part) => `strpos(${text}, ${part}) > 0`,
      text: (field) => (field.kind === 'integer' ? `page.${field.name}::text` : field.kind === 'timestamp' ? wireTimestamp(`page.${field.name}`) : `page.${field.name}`),
    });
    // One statement per batch, the rows in order (WITH ORDINALITY). NOT EXISTS spares an identity value for a user
    // of a known email; DO NOTHING skips a duplicate within the batch (or one committed meanwhile).
    const unique = uniqueCreateField(model);
    const names = model.created.map((field) => field.name);
    this.insertManyText = `INSERT INTO users (${names.join(', ')})
      SELECT ${names.map((name) => `input.${name}`).join(', ')}
      FROM unnest(${model.created.map((field, index) => `$${index + 1}::${CASTS[field.kind]}[]`).join(', ')})
        WITH ORDINALITY AS input(${names.join(', ')}, n)
      ${unique ? `WHERE NOT EXISTS (SELECT FROM users WHERE lower(users.${unique.name}) = lower(input.${unique.name} COLLATE "C"))` : ''}
      ORDER BY input.n
      ON CONFLICT DO NOTHING RETURNING ${unique ? `lower(${unique.name})` : 'id'} AS key`;
  }

  /**
   * Refuses a write of text PostgreSQL cannot store (U+0000) with a 422 naming the fields, rather than a driver
   * error. The request schemas refuse control characters already; this keeps the repository safe on its own.
   */
  private assertStorable(user: UserUpdate): void {
    const values = user as Record<string, unknown>;
    const fields = this.writtenText.filter(({ name }) => typeof values[name] === 'string' && hasNul(values[name]));
    if (fields.length > 0) {
      throw new ValidationError(fields.map(({ name }) => ({ location: ['body', name], message: 'must not contain U+0000' })));
    }
  }

  async insert(user: UserCreate): Promise<User> {
    this.assertStorable(user);
    const [created] = await this.query<User>(this.pool, { text: this.insertText, values: createValues(this.model, user) });
    if (!created) throw new EmailTakenError();
    return created;
  }

  async insertOnce(user: UserCreate, request: IdempotentRequest): Promise<{ user: User; replayed: boolean }> {
    this.assertStorable(user);
    return this.inTransaction(async (client) => ({ result: await this.createOnce(client, user, request), commit: true }));
  }

  /**
   * Runs `work` in a transaction on a connection of its own, committed when it says so (rolled back otherwise).
   * A connection in an unknown state (the client stopped waiting for a statement that may still run, or the
   * connection is lost) is closed at once: a ROLLBACK would queue behind that statement. Otherwise the server
   * answered: roll back, and close the connection if even that fails. Closing it ends the transaction (or, when the
   * server cannot see the close, idle_in_transaction_session_timeout does).
   */
  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<{ result: T; commit: boolean }>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw domainErrorOf(this.database, error);
    }
    // Why the connection must be closed rather than returned to the pool; false while it can be reused.
    let broken: Error | boolean = false;
    try {
      await client.query('BEGIN');
      const { result, commit } = await work(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return result;
    } catch (error) {
      if (isPgConnectionLost(error)) {
        broken = error instanceof Error ? error : true;
      } else {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : true;
        });
      }
      throw domainErrorOf(this.database, error);
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
    await this.query(client, { text: `SELECT pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext($1))`, values: [request.key] });
    // Expired keys go, a few at a time and never waiting for another transaction; an expired key is unknown.
    const [known] = await this.query<{ fingerprint: string; response: string }>(client, {
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
      return { user: completeStoredUser(this.model, known.response), replayed: true };
    }
    // The user and its key in one statement; the stored response is the user exactly as returned.
    const next = this.model.created.length + 1;
    const [created] = await this.query<User>(client, {
      text: `WITH created AS (${this.insertText}),
        remembered AS (
          INSERT INTO idempotency_keys (key, fingerprint, user_id, response, expires_at)
          SELECT $${next}, $${next + 1}, id, row_to_json(created)::text, now() + interval '1 hour' * $${next + 2} FROM created
          ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, user_id = excluded.user_id,
            response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
        )
        SELECT * FROM created`,
      values: [...createValues(this.model, user), request.key, request.fingerprint, IDEMPOTENCY_KEY_TTL_HOURS],
    });
    if (!created) throw new EmailTakenError();
    return { user: created, replayed: false };
  }

  async findById(id: number): Promise<User | undefined> {
    return (await this.query<User>(this.pool, { text: this.findByIdText, values: [id] }))[0];
  }

  async update(id: number, changes: UserUpdate, expected?: readonly string[]): Promise<User | undefined> {
    this.assertStorable(changes);
    const { fields, key } = changedFields(this.model, changes, expected !== undefined);
    const text = this.updateTexts.get(key, () => {
      const assignments = [...fields.map((field, index) => `${field} = $${index + 2}`), `updated_at = ${NEXT_UPDATED_AT}`];
      const condition = expected ? ` AND ${this.ifMatch(fields.length + 2)}` : '';
      return `UPDATE users SET ${assignments.join(', ')} WHERE id = $1${condition} RETURNING ${this.selectList()}`;
    });
    const values: unknown[] = [id, ...fields.map((field) => (changes as Record<string, unknown>)[field])];
    if (expected) values.push(expectedVersions(expected));
    return (await this.query<User>(this.pool, { text, values }))[0];
  }

  async delete(id: number, expected?: readonly string[]): Promise<boolean> {
    const text = expected ? this.conditionalDeleteText : this.deleteText;
    const values = expected ? [id, expectedVersions(expected)] : [id];
    return (await this.query(this.pool, { text, values })).length > 0;
  }

  async exportPage(criteria: UserExportCriteria): Promise<UserExportPage> {
    const active = activeFilters(this.model, criteria.filters);
    const direction = criteria.descending ? 'DESC' : 'ASC';
    const expression = this.model.sorts.get(criteria.sort)!.expression;
    const parameters = new SqlParameters('positional');
    const listCriteria = { ...criteria, offset: 0, count: false };
    const where = whereOf([...filterConditions(active, FILTERS, parameters, undefined), ...this.keysetConditions(listCriteria, parameters)]);
    const limit = parameters.add(criteria.limit);
    // The cursor carries a timestamp as the wire shows it (and as SQLite stores it).
    const lastValue = this.timestampSorts.has(criteria.sort) ? wireTimestamp('page.sort_key') : 'page.sort_key';
    const line = criteria.as === 'csv' ? this.csvRecord : `row_to_json(rendered)::text || E'\\n'`;
    // One text per page, rendered by PostgreSQL as the list renders a page: no JS value per row or field.
    const text = `
      SELECT coalesce(string_agg(${line}, '' ORDER BY page.rn), '') AS text,
             count(*)::integer AS size,
             min(${lastValue}) FILTER (WHERE page.rn = ${limit}) AS last_value,
             min(page.id) FILTER (WHERE page.rn = ${limit}) AS last_id
      FROM (
        SELECT *, row_number() OVER (ORDER BY sort_key ${direction}, id ${direction}) AS rn FROM (
          SELECT ${this.model.fields.map((field) => field.name).join(', ')}, ${expression} AS sort_key
          FROM users ${where} ORDER BY ${expression} ${direction}, id ${direction} LIMIT ${limit}
        ) AS fetched
      ) AS page
      CROSS JOIN LATERAL (SELECT ${this.selectList('page.')}) AS rendered`;
    // q is planned for its pattern each time (see list).
    const [page] = await this.query<{ text: string; size: number; last_value: string | number | null; last_id: number | null }>(
      this.pool,
      { text, values: parameters.values },
      criteria.filters.q === undefined ? 'once' : 'each time',
    );
    const { last_value, last_id } = page!;
    const lastKey: SortKey | null = last_value !== null && last_id !== null ? { value: last_value, id: last_id } : null;
    return { text: asUserExportText(page!.text), size: page!.size, lastKey };
  }

  async insertMany(users: readonly UserCreate[]): Promise<boolean[]> {
    return this.insertRows(this.pool, users);
  }

  async insertAllOrNone(users: readonly UserCreate[]): Promise<number[]> {
    return this.inTransaction(async (client) => {
      const refused = refusedIndexes(await this.insertRows(client, users));
      return { result: refused, commit: refused.length === 0 };
    });
  }

  private async insertRows(executor: pg.Pool | pg.PoolClient, users: readonly UserCreate[]): Promise<boolean[]> {
    users.forEach((user) => this.assertStorable(user));
    const columns = this.model.created.map((field) => users.map((user) => (user as Record<string, unknown>)[field.name] ?? null));
    const returned = await this.query<{ key: string | number }>(executor, { text: this.insertManyText, values: columns });
    return createdByKey(this.model, users, returned.map((row) => String(row.key)));
  }

  /** With If-Match: only while the row's updated_at, as the wire shows it, is one of the expected values. */
  private ifMatch(parameter: number): string {
    return `${wireTimestamp('updated_at')} = ANY($${parameter}::text[])`;
  }

  async list(criteria: UserListCriteria): Promise<UserPage> {
    const active = activeFilters(this.model, criteria.filters);
    const direction = criteria.descending ? 'DESC' : 'ASC';
    const expression = this.model.sorts.get(criteria.sort)!.expression;
    // The cursor carries a timestamp as the wire shows it (and as SQLite stores it).
    const lastValue = this.timestampSorts.has(criteria.sort) ? wireTimestamp('page.sort_key') : 'page.sort_key';
    const parameters = new SqlParameters('positional');
    const where = whereOf([...filterConditions(active, FILTERS, parameters, undefined), ...this.keysetConditions(criteria, parameters)]);
    const limit = parameters.add(criteria.limit);
    const fetch = parameters.add(criteria.limit + 1);
    const offset = parameters.add(criteria.after ? 0 : criteria.offset);
    // The total in the same statement: one round trip, and the page and its total from one snapshot.
    const totalColumn = criteria.count ? `(${this.countQuery(active, parameters)})` : 'NULL::bigint';
    // The page is rendered to JSON by PostgreSQL (no JS objects per row), compact as SQLite renders it. One extra
    // row is fetched to know whether a next page exists; the last row of the page gives the keyset cursor.
    // The rows are rendered only after LIMIT, so a sort without an index does not render every match.
    const page = {
      text: `
        SELECT coalesce('[' || string_agg(row_to_json(rendered)::text, ',' ORDER BY page.rn)
                 FILTER (WHERE page.rn <= ${limit}) || ']', '[]') AS json,
               count(*)::integer AS fetched,
               min(${lastValue}) FILTER (WHERE page.rn = ${limit}) AS last_value,
               min(page.id) FILTER (WHERE page.rn = ${limit}) AS last_id,
               ${totalColumn} AS total
        FROM (
          SELECT *, row_number() OVER (ORDER BY sort_key ${direction}, id ${direction}) AS rn FROM (
            SELECT ${this.model.fields.map((field) => field.name).join(', ')}, ${expression} AS sort_key
            FROM users ${where}
            ORDER BY ${expression} ${direction}, id ${direction}
            LIMIT ${fetch} OFFSET ${offset}
          ) AS fetched
        ) AS page
        CROSS JOIN LATERAL (SELECT ${this.selectList('page.')}) AS rendered`,
      values: parameters.values,
    };
    // A named statement may switch to a generic plan after five runs; for q that plan walks the whole primary key
    // when nothing matches, where the plan for the actual pattern reads the trigram indexes. So q is planned each time.
    const planned = criteria.filters.q === undefined ? 'once' : 'each time';
    const [row] = await this.query<PageRow>(this.pool, page, planned);
    const { json, fetched, last_value, last_id, total } = row!;
    const size = Math.min(fetched, criteria.limit);
    const hasMore = fetched > criteria.limit;
    const lastKey: SortKey | null =
      hasMore && last_id !== null && last_value !== null ? { value: last_value, id: last_id } : null;
    return { json: asJsonText<User[]>(json), size, hasMore, lastKey, total };
  }

  /**
   * The total of the rows matching the filters; from trigger-kept counters when the filters allow it (see
   * migrations/postgres/0001): the sum of a few rows instead of a count of the matching users.
   */
  private countQuery(active: ActiveFilter[], parameters: SqlParameters): string {
    const counting = countStrategy(active);
    if (counting.kind === 'all') return 'SELECT coalesce(sum(n), 0)::bigint FROM users_count';
    if (counting.kind === 'histogram') {
      const [min, max] = [parameters.add(counting.min), parameters.add(counting.max)];
      return `SELECT coalesce(sum(n), 0)::bigint FROM ${counting.table} WHERE ${counting.column} BETWEEN ${min} AND ${max}`;
    }
    // q alone ('search') too: pg_trgm rechecks every candidate row (no count from the index alone).
    return `SELECT count(*) FROM users ${whereOf(filterConditions(active, FILTERS, parameters, undefined))}`;
  }

  /** The keyset position as a condition: the rows strictly after the cursor's (value, id) in the sort order. */
  private keysetConditions(criteria: UserListCriteria, parameters: SqlParameters): string[] {
    const { after } = criteria;
    if (!after) return [];
    const operator = criteria.descending ? '<' : '>';
    // In id order the id is the whole position.
    if (criteria.sort === 'id') return [`id ${operator} ${parameters.add(after.id)}`];
    const { expression, value, id } = this.keysetBound(criteria.sort, after, criteria.descending);
    // ::bigint: a cursor's integer is any safe integer (SQLite compares it as it is), beyond the integer range.
    const integer = this.model.sorts.get(criteria.sort)!.field.kind === 'integer';
    const valueParameter = integer ? `${parameters.add(value)}::bigint` : parameters.add(value);
    return [`(${expression}, id) ${operator} (${valueParameter}, ${parameters.add(id)})`];
  }

  /**
   * The keyset bound `(expression, id) >/< (value, id)` for a cursor, compared exactly as SQLite compares it.
   * A cursor comes from a Link header, but a client can alter it; the values PostgreSQL cannot take as they are
   * get an equivalent bound instead of a driver error:
   * - a timestamp sort compares the column, so the index serves it; a value that is not a wire timestamp is
   *   compared as text with the rendered column, as SQLite (which stores the text) does;
   * - a text value with U+0000: no stored text contains one, so a row sorts after the value exactly when it
   *   sorts after the part before U+0000; that part with the largest id is the same bound in both directions;
   * - a unique sort has no ties, so the position is the value alone (as on SQLite), whatever id the cursor holds.
   */
  private keysetBound(
    sort: string,
    after: SortKey,
    descending: boolean,
  ): { expression: string; value: string | number; id: number | string } {
    const { field } = this.model.sorts.get(sort)!;
    let expression = this.model.sorts.get(sort)!.expression;
    let { value }: { value: string | number } = after;
    // With no ties, every row of the value is on the side already read: past it ascending, before it descending.
    let id: number | string = field.spec.unique ? (descending ? 0 : MAX_ID) : after.id;
    if (this.timestampSorts.has(sort) && !isWireTimestamp(value)) expression = `${wireTimestamp(expression)} COLLATE "C"`;
    if (typeof value === 'string' && hasNul(value)) {
      value = value.slice(0, value.indexOf('\0'));
      id = MAX_ID;
    }
    return { expression, value, id };
  }

  /**
   * Runs a statement under a name derived from its text, so each connection plans it once; maps driver errors
   * to domain errors. `planned: 'each time'` sends it unnamed instead, so PostgreSQL plans it for its values.
   */
  private async query<Row extends object>(
    executor: pg.Pool | pg.PoolClient,
    statement: Statement,
    planned: 'once' | 'each time' = 'once',
  ): Promise<Row[]> {
    try {
      const result = await executor.query<Row>({
        name: planned === 'once' ? this.statementNames.get(statement.text) : undefined,
        text: statement.text,
        values: statement.values,
        types: INT8_AS_NUMBER,
      });
      return result.rows;
    } catch (error) {
      throw domainErrorOf(this.database, error);
    }
  }
}

/** Expected updated_at values as a text[] parameter; one with U+0000 matches no row and cannot be sent. */
const expectedVersions = (expected: readonly string[]) => expected.filter((value) => !hasNul(value));

/** Whether the value is a timestamp exactly as the wire renders it (and so as PostgreSQL reads it back). */
function isWireTimestamp(value: string | number): boolean {
  // Year 0000 is valid in JavaScript (1 BC) but not in PostgreSQL.
  if (typeof value !== 'string' || !WIRE_TIMESTAMP_PATTERN.test(value) || value.startsWith('0000')) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}
