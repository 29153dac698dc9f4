import type { Database } from '../db/database.js';
import { AppError, DatabaseUnavailableError, EmailTakenError } from '../errors.js';
import type { JsonText } from '../http/json-text.js';
import { userModel, type FieldDefinition, type User, type UserCreate, type UserFilters, type UserModel, type UserUpdate } from './users.schemas.js';

// The users repository: its interface, and everything both dialects share (filter normalisation, the count
// strategy, LIKE escaping, statement caching, parameters, error mapping). users.sql.sqlite.ts and
// users.sql.postgres.ts keep only the SQL that truly differs.

/** The value a page is sorted by, then the id: where a keyset cursor resumes. */
export interface SortKey {
  value: string | number;
  id: number;
}

export interface UserListCriteria {
  filters: UserFilters;
  sort: string;
  descending: boolean;
  limit: number;
  /** Rows to skip; ignored when `after` is set. */
  offset: number;
  /** Keyset position: return the rows strictly after this key in the sort order. */
  after?: SortKey;
  /** Whether to compute the total of matching rows. */
  count: boolean;
}

export interface UserPage {
  /** The page as a JSON array of User, rendered by the database. */
  json: JsonText<User[]>;
  /** The number of users in the page. */
  size: number;
  /** Whether at least one more row follows this page. */
  hasMore: boolean;
  /** The sort key of the last row of the page, for the next cursor. */
  lastKey: SortKey | null;
  /** Rows matching the filters, or null when not requested. */
  total: number | null;
}

/** Where an export reads its next rows: the list's filters and order, from a keyset position. */
export interface UserExportCriteria {
  filters: UserFilters;
  sort: string;
  descending: boolean;
  /** The rows strictly after this key in the sort order; the first rows when absent. */
  after?: SortKey;
  limit: number;
  /** The text the database renders the rows as: CSV records (no header) or NDJSON lines. */
  as: 'csv' | 'ndjson';
}

declare const exportTextBrand: unique symbol;
/**
 * Users rendered by the database as an export's text: CSV records as src/http/csv.ts writes them (formulas
 * neutralised), or NDJSON lines, each a User as GET /users/{id} sends it; every record or line ends its line. Sent
 * as is, never parsed.
 */
export type UserExportText = string & { readonly [exportTextBrand]: true };
/** Marks text as an export's text. The caller vouches for it. */
export const asUserExportText = (text: string) => text as UserExportText;

export interface UserExportPage {
  text: UserExportText;
  size: number;
  /** Where the next page starts; null when this page is the last (fewer rows than the limit). */
  lastKey: SortKey | null;
}

/** The SQL a CSV cell needs, as a dialect spells it. */
export interface CsvSqlDialect {
  /** The character of a code point. */
  char(code: number): string;
  /** Whether the text contains the other. */
  contains(text: string, part: string): string;
  /** A field's value as text, as the wire writes it (null stays null). */
  text(field: FieldDefinition): string;
}

/**
 * The SQL of one CSV record of a user, ending in CRLF: the rules of src/http/csv.ts (csvField and
 * neutraliseFormulaText) in SQL, so that the database renders a page of an export as one text. A text cell that
 * starts like a formula gets a leading quote; a cell holding a quote, comma, CR or LF is quoted, its quotes doubled.
 * The tests compare both on both dialects.
 */
export function csvRecordSql(model: UserModel, dialect: CsvSqlDialect): string {
  const { char, contains } = dialect;
  const formulaStart = `('=', '+', '-', '@', ${char(9)}, ${char(13)})`;
  const cells = model.fields.map((field) => {
    const value = dialect.text(field);
    if (field.kind === 'integer') return `coalesce(${value}, '')`;
    const first = `substr(${value}, 1, 1)`;
    const second = `substr(${value}, 2, 1)`;
    const neutralised = `CASE WHEN ${first} IN ${formulaStart} OR (${first} = '''' AND (${second} IN ${formulaStart} OR ${second} = ''''))
      THEN '''' || ${value} ELSE ${value} END`;
    const quoted = [`'"'`, `','`, char(13), char(10)].map((part) => contains(value, part)).join(' OR ');
    return `CASE WHEN ${value} IS NULL THEN ''
      WHEN ${quoted} THEN '"' || replace(${neutralised}, '"', '""') || '"'
      ELSE ${neutralised} END`;
  });
  return `${cells.join(" || ',' || ")} || ${char(13)} || ${char(10)}`;
}

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

export interface IdempotentRequest {
  key: string;
  /** A digest of the request body: a key reused with another body is refused. */
  fingerprint: string;
}

/**
 * All user persistence, one implementation per dialect. Methods throw EmailTakenError on a duplicate email
 * and DatabaseUnavailableError when the database cannot answer; nothing above this layer knows the dialect.
 */
export interface UsersRepository {
  insert(user: UserCreate): Promise<User>;
  /**
   * insert, once per Idempotency-Key: in one transaction, either replays the user created the first time
   * (replayed: true, not re-read: the original response) or inserts the user and remembers the key.
   * Throws IdempotencyKeyReusedError when the key is known with another fingerprint.
   */
  insertOnce(user: UserCreate, request: IdempotentRequest): Promise<{ user: User; replayed: boolean }>;
  findById(id: number): Promise<User | undefined>;
  list(criteria: UserListCriteria): Promise<UserPage>;
  /**
   * Applies the given fields and moves updated_at forward (strictly: at least 1 ms past its last value).
   * With `expected`, only when the row's updated_at is one of these values, in the same statement.
   * undefined when no row matched (absent, or its updated_at is not expected).
   */
  update(id: number, changes: UserUpdate, expected?: readonly string[]): Promise<User | undefined>;
  /** false when no row matched (absent, or with `expected`, its updated_at is not one of them). */
  delete(id: number, expected?: readonly string[]): Promise<boolean>;
  /** A page of an export: up to `limit` rows after a keyset position, read in one statement. */
  exportPage(criteria: UserExportCriteria): Promise<UserExportPage>;
  /**
   * Inserts the users in one transaction, each unless its email is taken (by an existing user or an earlier user of
   * the list): for each user, whether it was created.
   */
  insertMany(users: readonly UserCreate[]): Promise<boolean[]>;
  /**
   * Inserts every user or none, in one transaction: the indexes of the users whose email is taken (by an existing
   * user or an earlier user of the list); when there is any, nothing was created.
   */
  insertAllOrNone(users: readonly UserCreate[]): Promise<number[]>;
}

/** The users repository of a connected database. */
export async function createUsersRepository(database: Database, model: UserModel = userModel): Promise<UsersRepository> {
  if (database.dialect === 'sqlite') {
    const { SqliteUsersRepository } = await import('./users.sql.sqlite.js');
    const repository = new SqliteUsersRepository(database, model);
    await repository.applyNotesLeft();
    return repository;
  }
  const { PostgresUsersRepository } = await import('./users.sql.postgres.js');
  return new PostgresUsersRepository(database, model);
}

// ---- What both dialects share ----

/** A list filter with its value(s), as both dialects build it into SQL. */
export type ActiveFilter =
  | { kind: 'exact' | 'caseless'; column: string; value: string }
  | { kind: 'range'; column: string; expression: string; min: number; max: number; counted: boolean }
  | { kind: 'search'; columns: string[]; text: string };

/** The filters of a list request, normalised from its query parameters (absent ones left out). */
export function activeFilters(model: UserModel, filters: UserFilters): ActiveFilter[] {
  const values = filters as Record<string, string | number | undefined>;
  const active: ActiveFilter[] = [];
  for (const filter of model.filters) {
    if (filter.kind === 'range') {
      const min = values[filter.min] as number | undefined;
      const max = values[filter.max] as number | undefined;
      if (min === undefined && max === undefined) continue;
      const [lowest, highest] = filter.bounds;
      active.push({
        kind: 'range',
        column: filter.field.name,
        expression: filter.field.spec.sort!,
        min: min ?? lowest,
        max: max ?? highest,
        counted: filter.counted,
      });
    } else if (values[filter.param] !== undefined) {
      active.push({ kind: filter.kind, column: filter.field.name, value: String(values[filter.param]) });
    }
  }
  if (filters.q !== undefined) active.push({ kind: 'search', columns: model.searched.map((field) => field.name), text: filters.q });
  return active;
}

/**
 * Where the total of a list comes from. Only a filter kind that declares a trigger-kept counter can be counted
 * without reading its rows; any other filter counts the matching rows, so a new filter can never silently
 * return the total of every user.
 */
export type CountStrategy =
  | { kind: 'all' }
  /** A trigger-kept table of row counts per value of the column (`users_<column>_count`). */
  | { kind: 'histogram'; table: string; column: string; min: number; max: number }
  /** q alone, of 3 or more characters: the trigram index can count its matches without reading the rows. */
  | { kind: 'search'; text: string }
  | { kind: 'rows' };

export function countStrategy(active: ActiveFilter[]): CountStrategy {
  if (active.length === 0) return { kind: 'all' };
  const [only] = active;
  if (active.length === 1 && only!.kind === 'range' && only!.counted) {
    return { kind: 'histogram', table: `users_${only!.column}_count`, column: only!.column, min: only!.min, max: only!.max };
  }
  if (active.length === 1 && only!.kind === 'search' && [...only!.text].length >= 3) return { kind: 'search', text: only!.text };
  return { kind: 'rows' };
}

/** SQL for each filter kind: every dialect builds every kind (the compiler checks it). */
export type FilterBuilders<Context> = {
  [Kind in ActiveFilter['kind']]: (filter: Extract<ActiveFilter, { kind: Kind }>, parameters: SqlParameters, context: Context) => string;
};

/** The WHERE conditions of the filters, in a fixed order: one SQL text per query shape. */
export function filterConditions<Context>(
  active: ActiveFilter[],
  builders: FilterBuilders<Context>,
  parameters: SqlParameters,
  context: Context,
): string[] {
  return active.map((filter) => (builders[filter.kind] as (f: ActiveFilter, p: SqlParameters, c: Context) => string)(filter, parameters, context));
}

export const whereOf = (conditions: string[]) => (conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '');

/** A LIKE pattern matching the text literally anywhere (backslash escapes the wildcards). */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

/** Parameters collected while SQL text is built: positional ($1) or named (:p1), as the driver wants them. */
export class SqlParameters {
  readonly values: unknown[] = [];

  constructor(private readonly style: 'positional' | 'named') {}

  add(value: unknown): string {
    this.values.push(value);
    return this.style === 'positional' ? `$${this.values.length}` : `:p${this.values.length}`;
  }

  /** The values as better-sqlite3 binds named parameters. */
  named(): Record<string, unknown> {
    return Object.fromEntries(this.values.map((value, index) => [`p${index + 1}`, value]));
  }
}

/** Statements prepared once per key (an SQL text, or a short key for a statement family). */
export class StatementCache<Statement> {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly prepare?: (key: string) => Statement) {}

  /** The statement of this key, prepared by `prepare` (or the cache's own) the first time. */
  get(key: string, prepare = this.prepare): Statement {
    let statement = this.statements.get(key);
    if (!statement) {
      if (!prepare) throw new Error(`no statement is prepared for ${key}`);
      statement = prepare(key);
      this.statements.set(key, statement);
    }
    return statement;
  }
}

/** The fields of a partial update that are present, in declaration order, and the statement key of that set. */
export function changedFields(model: UserModel, changes: UserUpdate, conditional: boolean): { fields: string[]; key: string } {
  const values = changes as Record<string, unknown>;
  const fields = model.patched.map((field) => field.name).filter((name) => values[name] !== undefined);
  return { fields, key: `${fields.join(',')}${conditional ? '?' : ''}` };
}

/** A create's values in declaration order (an absent optional field is null). */
export const createValues = (model: UserModel, user: UserCreate) =>
  model.created.map((field) => (user as Record<string, unknown>)[field.name] ?? null);

/**
 * A response stored for an Idempotency-Key, as sent then but with every field of today's User: a field added by
 * a later migration is null (its value for every row created before it), so a replay matches the schema.
 */
export function completeStoredUser(model: UserModel, stored: string): User {
  const user = JSON.parse(stored) as Record<string, unknown>;
  return Object.fromEntries(model.fields.map((field) => [field.name, user[field.name] ?? null])) as User;
}

/** The create field that is unique case-insensitively (the email), if the model has one. */
export const uniqueCreateField = (model: UserModel) => model.created.find((field) => field.spec.unique === 'caseless');

/** Folds a unique value as the databases' lower() does: ASCII letters only. */
export const foldAscii = (text: string) => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/**
 * Which users of an insert were created, from the unique keys (folded) the insert returned: the first user of each
 * returned key, in order (a later user with the same key was refused by the unique index). Every user when the model
 * has no unique field.
 */
export function createdByKey(model: UserModel, users: readonly UserCreate[], returnedKeys: Iterable<string>): boolean[] {
  const unique = uniqueCreateField(model);
  if (!unique) return users.map(() => true);
  const unclaimed = new Set(returnedKeys);
  return users.map((user) => unclaimed.delete(foldAscii(String((user as Record<string, unknown>)[unique.name]))));
}

/** Thrown inside a transaction to undo it: some users of an all-or-none insert were refused. */
export class RefusedUsers extends Error {
  constructor(readonly indexes: number[]) {
    super('some users were refused: the transaction is undone');
  }
}

/** The indexes of the users not created. */
export const refusedIndexes = (created: readonly boolean[]) => created.flatMap((ok, index) => (ok ? [] : [index]));

/** The domain error for a driver error: a duplicate email, an unavailable database, or the error itself (a 500). */
export function domainErrorOf(database: Database, error: unknown): unknown {
  if (error instanceof AppError) return error;
  const fault = database.faultOf(error);
  if (fault === 'unique-violation') return new EmailTakenError();
  if (fault === 'unavailable') return new DatabaseUnavailableError(error);
  return error;
}
