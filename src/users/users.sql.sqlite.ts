import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from '../db/database.js';
import { IdempotencyKeyReusedError } from '../errors.js';
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
  RefusedUsers,
  asUserExportText,
  csvRecordSql,
  refusedIndexes,
  uniqueCreateField,
  filterConditions,
  likePattern,
  whereOf,
  type ActiveFilter,
  type CountStrategy,
  type FilterBuilders,
  type IdempotentRequest,
  type SortKey,
  type UserExportCriteria,
  type UserExportPage,
  type UserListCriteria,
  type UserPage,
  type UsersRepository,
} from './users.repository.js';
import type { User, UserCreate, UserModel, UserUpdate } from './users.schemas.js';

// What SQLite does differently: FTS5 trigram search, pages rendered by json_group_array, generated sort columns,
// and plan hints (an index chosen from the trigger-kept histogram, keyset seeks split at ties).

const NOW_TEXT = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// now, but always at least 1 ms past the previous value: a user's updated_at is its ETag.
const NEXT_UPDATED_AT = `CASE WHEN ${NOW_TEXT} > updated_at THEN ${NOW_TEXT}
  ELSE strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0.001 seconds') END`;
// With If-Match: only while the row's updated_at is one of the expected values (a JSON array).
const IF_MATCH = 'AND updated_at IN (SELECT value FROM json_each(:expected))';
const COUNT_ALL = 'SELECT n FROM users_count WHERE id = 1';
// q alone (see countSearch): the rows holding one trigram, or the matches of a phrase, from the index alone.
const COUNT_TRIGRAM = 'SELECT coalesce((SELECT doc FROM users_fts_terms WHERE term = ?), 0) AS n';
const COUNT_SEARCH = 'SELECT count(*) AS n FROM users_fts WHERE users_fts MATCH ?';
const ONE_ASCII_TRIGRAM = /^[\x20-\x7e]{3}$/;

/**
 * Sort keys stored as generated columns: SQLite seeks a keyset position (key, id) > (?, ?) only on columns; on
 * an expression index it scans. Migrations keep the column equal to the field's sort expression.
 */
const GENERATED_SORT_COLUMNS: Record<string, string> = { age: 'age_key' };

/** What SQLite orders by for a sort field: its generated column, or the declared expression. */
export const sqliteSortKey = (model: UserModel, sort: string) => GENERATED_SORT_COLUMNS[sort] ?? model.sorts.get(sort)!.expression;

interface SqliteFilterContext {
  /** Let SQLite use the range filter's index (otherwise a unary + keeps it walking the sort order). */
  useRangeIndex: boolean;
}

const FILTERS: FilterBuilders<SqliteFilterContext> = {
  exact: ({ column, value }, parameters) => `${column} = ${parameters.add(value)}`,
  caseless: ({ column, value }, parameters) => `lower(${column}) = lower(${parameters.add(value)})`,
  // A missing value sorts as -1 and so never satisfies a bound of 0 or more.
  range: ({ column, expression, min, max }, parameters, { useRangeIndex }) =>
    `${useRangeIndex ? '' : '+'}${GENERATED_SORT_COLUMNS[column] ?? expression} BETWEEN ${parameters.add(min)} AND ${parameters.add(max)}`,
  search: ({ columns, text }, parameters) => {
    // The trigram index answers substrings of 3+ characters; a quoted FTS5 string matches literally.
    if ([...text].length >= 3) return `id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ${parameters.add(ftsPhrase(text))})`;
    // 1-2 characters are too short for trigrams: a scan, bounded by the page's LIMIT (a count scans all).
    const pattern = parameters.add(likePattern(text));
    return `(${columns.map((column) => `${column} LIKE ${pattern} ESCAPE '\\'`).join(' OR ')})`;
  },
};

const ftsPhrase = (text: string) => `"${text.replace(/"/g, '""')}"`;

interface ListQuery {
  /** FROM and WHERE of the filters alone (no keyset position): for the count. */
  source: string;
  where: string;
  /** Named parameters of the filters (:p1...) and of the keyset position. */
  params: Record<string, unknown>;
  /** The expression the page is sorted by (its value ends up in the cursor). */
  expression: string;
  /** The SELECT of the page's rows, in order, from the keyset position or offset, with these columns. */
  rows(columns: string, limit: string, offset: string): string;
}

// Writes with RETURNING run with .all(), never .get(): get() stops after the first row and resets the
// statement, which commits without reporting a failed commit (SQLITE_FULL, SQLITE_IOERR): the client would
// get a 2xx for a write that was rolled back. all() steps to the end, so a failed commit throws.

/** The statements of one connection, each prepared once and reused (the database may reopen its file). */
class ConnectionStatements {
  readonly insert: BetterSqlite3.Statement;
  readonly findById: BetterSqlite3.Statement;
  readonly delete: BetterSqlite3.Statement;
  readonly conditionalDelete: BetterSqlite3.Statement;
  /** Many users from one JSON array of value arrays; returns the folded unique key of each user created. */
  readonly insertMany: BetterSqlite3.Statement;
  /**
   * The search index, brought up to the table before each COMMIT (syncSearchIndex, migration 0007): the highest id
   * it holds (the users past it are new) and whether the triggers noted changes.
   */
  readonly searchState: BetterSqlite3.Statement;
  readonly indexNewUsers: BetterSqlite3.Statement;
  readonly applySearchNotes: BetterSqlite3.Statement;
  readonly clearSearchNotes: BetterSqlite3.Statement;
  /** At start: whether another program's writes are not in the index yet. */
  readonly searchIndexBehind: BetterSqlite3.Statement;
  readonly cache: StatementCache<BetterSqlite3.Statement>;
  /** Set by the repository: transactions are functions of one connection too. */
  insertOnce!: BetterSqlite3.Transaction<(user: UserCreate, request: IdempotentRequest) => { user: User; replayed: boolean }>;
  list!: BetterSqlite3.Transaction<(criteria: UserListCriteria) => UserPage>;

  constructor(
    readonly sqlite: BetterSqlite3.Database,
    model: UserModel,
    columns: string,
  ) {
    this.cache = new StatementCache((text) => sqlite.prepare(text));
    const created = model.created.map((field) => field.name);
    this.insert = sqlite.prepare(
      `INSERT INTO users (${created.join(', ')}) VALUES (${created.map(() => '?').join(', ')})
       RETURNING ${columns}`,
    );
    this.findById = sqlite.prepare(`SELECT ${columns} FROM users WHERE id = ?`);
    this.delete = sqlite.prepare('DELETE FROM users WHERE id = :id RETURNING id');
    this.conditionalDelete = sqlite.prepare(`DELETE FROM users WHERE id = :id ${IF_MATCH} RETURNING id`);
    // One statement for a whole batch: the per-statement cost is paid once, not per user (see docs/PERFORMANCE.md,
    // "Export and import"). DO NOTHING (not OR IGNORE) skips a duplicate of a unique index only; WHERE true keeps
    // the parser from reading ON CONFLICT as a join. The rows are inserted in array order.
    const unique = uniqueCreateField(model);
    this.insertMany = sqlite
      .prepare(
        `INSERT INTO users (${created.join(', ')})
         SELECT ${created.map((_name, index) => `value->>${index}`).join(', ')} FROM json_each(?) WHERE true ORDER BY key
         ON CONFLICT DO NOTHING RETURNING ${unique ? `lower(${unique.name})` : 'id'}`,
      )
      .pluck();
    this.searchState = sqlite.prepare(
      'SELECT coalesce(max(id), 0) AS indexedUpTo, EXISTS (SELECT 1 FROM users_fts_pending) AS noted FROM users_fts_docsize',
    );
    // The searched fields, as the FTS5 table and the notes table (migrations) have them.
    const searched = model.searched.map((field) => field.name);
    const indexed = `users_fts (users_fts, rowid, ${searched.join(', ')})`;
    const newUsers = `SELECT NULL, id, ${searched.join(', ')} FROM users WHERE id > ?`;
    this.indexNewUsers = sqlite.prepare(`INSERT INTO ${indexed} ${newUsers}`);
    // One statement, so one FTS5 segment: the noted users' indexed values removed, then their values now (if they
    // still exist), then the users past the highest id the index held when the transaction began. UNION ALL yields
    // its parts in order.
    this.applySearchNotes = sqlite.prepare(
      `INSERT INTO ${indexed}
       SELECT 'delete', id, ${searched.join(', ')} FROM users_fts_pending WHERE indexed = 1
       UNION ALL
       SELECT NULL, users.id, ${searched.map((name) => `users.${name}`).join(', ')} FROM users_fts_pending JOIN users USING (id)
       UNION ALL
       ${newUsers}`,
    );
    this.clearSearchNotes = sqlite.prepare('DELETE FROM users_fts_pending');
    this.searchIndexBehind = sqlite
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM users_fts_pending)
         OR (SELECT coalesce(max(id), 0) FROM users) > (SELECT coalesce(max(id), 0) FROM users_fts_docsize)`,
      )
      .pluck();
  }
}

/** UsersRepository on SQLite: better-sqlite3 statements, prepared once per connection. */
export class SqliteUsersRepository implements UsersRepository {
  private readonly columns: string;
  /** A page of users as one JSON array (the text JSON.stringify gives the rows); an empty page is `[]`. */
  private readonly jsonPage: string;
  /** A user as a JSON object, as GET /users/{id} sends it. */
  private readonly jsonObject: string;
  private current: ConnectionStatements;
  /** A user as a CSV record (src/http/csv.ts rules), for exports. */
  private readonly csvRecord: string;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly model: UserModel,
  ) {
    const names = model.fields.map((field) => field.name);
    this.columns = names.join(', ');
    // json_object writes each row into one growing buffer (fewer allocations than concatenating with ||).
    this.jsonObject = `json_object(${names.map((name) => `'${name}', ${name}`).join(', ')})`;
    this.jsonPage = `json_group_array(${this.jsonObject})`;
    this.current = this.prepare(database.sqlite);
    database.beforeCommit('users-search-index', () => this.syncSearchIndex());
    this.csvRecord = csvRecordSql(model, {
      char: (code) => `char(${code})`,
      contains: (text, part) => `instr(${text}, ${part}) > 0`,
      text: (field) => (field.kind === 'integer' ? `CAST(${field.name} AS TEXT)` : field.name),
    });
  }

  /** The statements of the database's current connection (set for the synchronous run of one call). */
  private get statements(): ConnectionStatements {
    const sqlite = this.database.sqlite;
    if (this.current.sqlite !== sqlite) this.current = this.prepare(sqlite);
    return this.current;
  }

  private prepare(sqlite: BetterSqlite3.Database): ConnectionStatements {
    const statements = new ConnectionStatements(sqlite, this.model, this.columns);
    statements.insertOnce = sqlite.transaction((user: UserCreate, request: IdempotentRequest) => this.createOnce(statements, user, request));
    statements.list = sqlite.transaction((criteria: UserListCriteria) => this.readPage(criteria));
    return statements;
  }

  /**
   * Brings the trigram index up to the users table, inside the transaction, just before COMMIT (migration 0007):
   * the new users and the changed ones the triggers noted are indexed by one statement, so FTS5 writes one segment
   * per transaction instead of one per user.
   */
  private syncSearchIndex(): void {
    const statements = this.statements;
    // Read before the index changes: the users past it are the transaction's new ones.
    const { indexedUpTo, noted } = statements.searchState.get() as { indexedUpTo: number; noted: number };
    if (noted === 0) {
      // Creates only (the common batch): no notes to apply or clear.
      statements.indexNewUsers.run(indexedUpTo);
      return;
    }
    statements.applySearchNotes.run(indexedUpTo);
    statements.clearSearchNotes.run();
  }

  /**
   * At start: changes another program made to the users (the sqlite3 shell, a script) are in the table but not yet
   * in the search index; an empty transaction applies them. On a file that takes no writes now, the next write does.
   */
  async applyNotesLeft(): Promise<void> {
    if (this.statements.searchIndexBehind.get() === 0) return;
    await this.database.write(() => undefined).catch(() => undefined);
  }

  /** Runs a write through the database (which waits for the lock without blocking), mapping driver faults. */
  private async write<T>(run: (statements: ConnectionStatements) => T): Promise<T> {
    try {
      return await this.database.write(() => run(this.statements));
    } catch (error) {
      throw domainErrorOf(this.database, error);
    }
  }

  private async read<T>(run: (statements: ConnectionStatements) => T): Promise<T> {
    try {
      return await this.database.read(() => run(this.statements));
    } catch (error) {
      throw domainErrorOf(this.database, error);
    }
  }

  insert(user: UserCreate): Promise<User> {
    return this.write((statements) => statements.insert.all(createValues(this.model, user))[0] as User);
  }

  insertOnce(user: UserCreate, request: IdempotentRequest): Promise<{ user: User; replayed: boolean }> {
    // Inside the group commit's IMMEDIATE transaction (the write lock is held: two workers with the same key
    // cannot both miss it), in a savepoint of its own.
    return this.write((statements) => statements.insertOnce(user, request));
  }

  private createOnce(statements: ConnectionStatements, user: UserCreate, request: IdempotentRequest): { user: User; replayed: boolean } {
    statements.cache.get(`DELETE FROM idempotency_keys WHERE expires_at < ${NOW_TEXT}`).run();
    const known = statements.cache.get('SELECT fingerprint, response FROM idempotency_keys WHERE key = ?').get(request.key) as
      | { fingerprint: string; response: string }
      | undefined;
    if (known) {
      if (known.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedError();
      return { user: completeStoredUser(this.model, known.response), replayed: true };
    }
    const created = statements.insert.all(createValues(this.model, user))[0] as User;
    statements.cache
      .get(
        `INSERT INTO idempotency_keys (key, fingerprint, user_id, response, expires_at)
         VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+${IDEMPOTENCY_KEY_TTL_HOURS} hours'))`,
      )
      .run(request.key, request.fingerprint, created.id, JSON.stringify(created));
    return { user: created, replayed: false };
  }

  findById(id: number): Promise<User | undefined> {
    return this.read((statements) => statements.findById.get(id) as User | undefined);
  }

  update(id: number, changes: UserUpdate, expected?: readonly string[]): Promise<User | undefined> {
    const { fields, key } = changedFields(this.model, changes, expected !== undefined);
    const params: Record<string, unknown> = { id };
    for (const field of fields) params[field] = (changes as Record<string, unknown>)[field];
    if (expected) params['expected'] = JSON.stringify(expected);
    return this.write((statements) => {
      const statement = statements.cache.get(key, () => {
        const assignments = [...fields.map((field) => `${field} = :${field}`), `updated_at = ${NEXT_UPDATED_AT}`];
        return statements.sqlite.prepare(
          `UPDATE users SET ${assignments.join(', ')} WHERE id = :id ${expected ? IF_MATCH : ''} RETURNING ${this.columns}`,
        );
      });
      return statement.all(params)[0] as User | undefined;
    });
  }

  delete(id: number, expected?: readonly string[]): Promise<boolean> {
    return this.write((statements) =>
      expected
        ? statements.conditionalDelete.all({ id, expected: JSON.stringify(expected) }).length > 0
        : statements.delete.all({ id }).length > 0,
    );
  }

  list(criteria: UserListCriteria): Promise<UserPage> {
    return this.read((statements) => statements.list(criteria));
  }

  exportPage(criteria: UserExportCriteria): Promise<UserExportPage> {
    return this.read((statements) => {
      const active = activeFilters(this.model, criteria.filters);
      const counting = countStrategy(active);
      const useRangeIndex = counting.kind === 'histogram' && this.rangeIndexIsCheaper(this.countHistogram(counting), criteria.limit);
      const query = this.buildQuery({ ...criteria, offset: 0, count: false }, active, useRangeIndex);
      const rows = query.rows(`${this.columns}, ${query.expression} AS sort_key`, ':limit', '0');
      const line = criteria.as === 'csv' ? this.csvRecord : `${this.jsonObject} || char(10)`;
      // One text per page, rendered by SQLite as the list renders a page: no JS value per row or field. The
      // aggregates take the rows in the order the LIMITed subquery yields them (see pageStatement); the last key is
      // the last element of the page's keys.
      const text = `SELECT group_concat(${line}, '') AS text, count(*) AS size,
          json_group_array(sort_key) ->> '$[#-1]' AS last_value, json_group_array(id) ->> '$[#-1]' AS last_id
        FROM (${rows})`;
      const page = statements.cache.get(text).get({ ...query.params, limit: criteria.limit }) as {
        text: string | null;
        size: number;
        last_value: string | number;
        last_id: number;
      };
      const lastKey = page.size === criteria.limit ? { value: page.last_value, id: page.last_id } : null;
      return { text: asUserExportText(page.text ?? ''), size: page.size, lastKey };
    });
  }

  insertMany(users: readonly UserCreate[]): Promise<boolean[]> {
    return this.write((statements) => this.insertRows(statements, users));
  }

  async insertAllOrNone(users: readonly UserCreate[]): Promise<number[]> {
    try {
      await this.write((statements) => {
        const refused = refusedIndexes(this.insertRows(statements, users));
        // Thrown in the write's savepoint: it is rolled back, the other writes of the group commit are not.
        if (refused.length > 0) throw new RefusedUsers(refused);
      });
      return [];
    } catch (error) {
      if (error instanceof RefusedUsers) return error.indexes;
      throw error;
    }
  }

  private insertRows(statements: ConnectionStatements, users: readonly UserCreate[]): boolean[] {
    const values = JSON.stringify(users.map((user) => createValues(this.model, user)));
    return createdByKey(this.model, users, statements.insertMany.all(values) as string[]);
  }

  /** The page, its cursor and its total, read in one transaction: one snapshot even with other writers. */
  private readPage(criteria: UserListCriteria): UserPage {
    const active = activeFilters(this.model, criteria.filters);
    const counting = countStrategy(active);
    // A histogram-counted filter alone: its matches are known in O(1), so they can choose the plan.
    const matches = counting.kind === 'histogram' ? this.countHistogram(counting) : 0;
    const useRangeIndex = counting.kind === 'histogram' && this.rangeIndexIsCheaper(matches, criteria.limit);
    const query = this.buildQuery(criteria, active, useRangeIndex);
    const offset = criteria.after ? 0 : criteria.offset;
    const params = query.params;
    const { json, size } = this.pageStatement(query).get({ ...params, limit: criteria.limit, offset }) as {
      json: Buffer;
      size: number;
    };
    // The last row of the page and the one after it: the cursor, and whether a next page exists.
    const [last, next] = this.probeStatement(query).all({ ...params, probe_offset: offset + criteria.limit - 1 }) as {
      sort_key: string | number;
      id: number;
    }[];
    const hasMore = next !== undefined;
    const lastKey: SortKey | null = hasMore && last ? { value: last.sort_key, id: last.id } : null;
    let total: number | null = null;
    if (criteria.count) {
      if (counting.kind === 'all') total = this.countAll();
      else if (counting.kind === 'histogram') total = matches;
      else if (counting.kind === 'search') total = this.countSearch(counting.text);
      else {
        // The total is of every row matching the filters, wherever the page starts.
        const count = this.current.cache.get(`SELECT count(*) AS n FROM ${query.source} ${query.where}`);
        total = (count.get(params) as { n: number }).n;
      }
    }
    return { json: asJsonText<User[]>(json), size, hasMore, lastKey, total };
  }

  private countAll(): number {
    return (this.current.cache.get(COUNT_ALL).get() as { n: number }).n;
  }

  /**
   * The matches of q alone, from the trigram index without reading users (a join costs a row lookup per match).
   * A 3-character q of printable ASCII is one trigram, folded as FTS5 folds ASCII (A-Z to a-z): the index keeps
   * how many rows hold it (migrations/sqlite/0005). Any other q counts the index's matches.
   */
  private countSearch(text: string): number {
    if (ONE_ASCII_TRIGRAM.test(text)) return (this.current.cache.get(COUNT_TRIGRAM).get(text.toLowerCase()) as { n: number }).n;
    return (this.current.cache.get(COUNT_SEARCH).get(ftsPhrase(text)) as { n: number }).n;
  }

  private countHistogram({ table, column, min, max }: Extract<CountStrategy, { kind: 'histogram' }>): number {
    const statement = this.current.cache.get(`SELECT coalesce(sum(n), 0) AS n FROM ${table} WHERE ${column} BETWEEN ? AND ?`);
    return (statement.get(min, max) as { n: number }).n;
  }

  /**
   * Whether to read a range-filtered page through the range's index (then sort the matches) rather than walk
   * the sort order and skip non-matching rows: the first costs about `matches` rows, the second about
   * `(limit + 1) * total / matches`. SQLite cannot know the matches without ANALYZE; the histogram can.
   */
  private rangeIndexIsCheaper(matches: number, limit: number): boolean {
    return matches * matches < (limit + 1) * this.countAll();
  }

  /** The FROM and WHERE of a list query, as fixed SQL text (one per query shape) plus parameters. */
  private buildQuery(criteria: UserListCriteria, active: ActiveFilter[], useRangeIndex: boolean): ListQuery {
    const { after, sort } = criteria;
    const parameters = new SqlParameters('named');
    let source = 'users';
    let idColumn = 'id';
    let filters = active;
    const search = active.find((filter) => filter.kind === 'search');
    if (sort === 'id' && search && [...search.text].length >= 3) {
      // Driven by the trigram index, which yields matches in id order: a page stops after limit + 1 matches.
      source = `users JOIN (SELECT rowid AS fts_id FROM users_fts WHERE users_fts MATCH ${parameters.add(ftsPhrase(search.text))}) ON id = fts_id`;
      idColumn = 'fts_id';
      filters = active.filter((filter) => filter !== search);
    }
    const conditions = filterConditions(filters, FILTERS, parameters, { useRangeIndex });
    const direction = criteria.descending ? 'DESC' : 'ASC';
    const expression = sort === 'id' ? idColumn : sqliteSortKey(this.model, sort);
    const orderBy = sort === 'id' ? `${idColumn} ${direction}` : `${expression} ${direction}, id ${direction}`;
    const comparison = criteria.descending ? '<' : '>';
    /** The matching rows in order from a position (extra WHERE conditions), limited as asked. */
    const rowsFrom = (position: string[], columns: string, limit: string, offset: string) =>
      `SELECT ${columns} FROM ${source} ${whereOf([...conditions, ...position])} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`;
    let position: string[] = [];
    // Parameters for the keyset position are named apart from the filters' (:p1...), after them in the text.
    const keyset: Record<string, unknown> = {};
    if (after && sort === 'id') {
      keyset['after_id'] = after.id;
      position = [`${idColumn} ${comparison} :after_id`];
    } else if (after && this.isUniqueSort(sort)) {
      // A unique sort key has no ties, so the position is a plain range on its unique index.
      keyset['after_value'] = after.value;
      position = [`${expression} ${comparison} :after_value`];
    }
    let rows: ListQuery['rows'] = (columns, limit, offset) => rowsFrom(position, columns, limit, offset);
    if (after && sort !== 'id' && !this.isUniqueSort(sort)) {
      // SQLite seeks a row value (key, id) > (?, ?) on the key alone and then walks every tie of the key
      // (all the users of one age, say). So: the rest of the ties, by id, then the next keys; both arms are
      // exact index seeks, and UNION ALL yields them in this order.
      keyset['after_value'] = after.value;
      keyset['after_id'] = after.id;
      keyset['fetch_arm'] = criteria.limit + 1;
      const restOfTies = [`${expression} = :after_value`, `id ${comparison} :after_id`];
      const nextKeys = [`${expression} ${comparison} :after_value`];
      rows = (columns, limit, offset) => `
        SELECT * FROM (
          SELECT * FROM (${rowsFrom(restOfTies, columns, ':fetch_arm', '0')})
          UNION ALL
          SELECT * FROM (${rowsFrom(nextKeys, columns, ':fetch_arm', '0')})
        ) LIMIT ${limit} OFFSET ${offset}`;
    }
    return { where: whereOf(conditions), source, params: { ...parameters.named(), ...keyset }, expression, rows };
  }

  private isUniqueSort(sort: string): boolean {
    return this.model.sorts.get(sort)?.field.spec.unique !== undefined;
  }

  /**
   * The page as one JSON string rendered by SQLite: no JS object per row. json_group_array takes the rows in
   * the order the LIMITed subquery yields them (SQLite runs it as a co-routine, in ORDER BY order); an
   * ORDER BY inside the aggregate would sort the page a second time. As a BLOB: the UTF-8 bytes go to the socket
   * as they are, never decoded into a JS string.
   */
  private pageStatement(query: ListQuery): BetterSqlite3.Statement {
    return this.current.cache.get(`
      SELECT CAST(${this.jsonPage} AS BLOB) AS json, count(*) AS size FROM (
        ${query.rows(this.columns, ':limit', ':offset')}
      )`);
  }

  /** The sort keys of the page's last row and of the row after it (index entries only). */
  private probeStatement(query: ListQuery): BetterSqlite3.Statement {
    return this.current.cache.get(query.rows(`${query.expression} AS sort_key, id`, '2', ':probe_offset'));
  }
}
