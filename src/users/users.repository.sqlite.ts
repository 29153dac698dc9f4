import type BetterSqlite3 from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { NOW, users } from '../db/schema.sqlite.js';
import { mapSqliteError } from '../db/sqlite-errors.js';
import {
  SORT_EXPRESSIONS,
  type SortKey,
  type UserListCriteria,
  type UserPage,
  type UsersRepository,
} from './users.repository.js';
import type { User, UserCreate, UserUpdate } from './users.schemas.js';

const USER_FIELDS = ['first_name', 'last_name', 'age', 'email'] as const;

const JSON_USER = `json_object('id', id, 'first_name', first_name, 'last_name', last_name, 'age', age,
  'email', email, 'created_at', created_at, 'updated_at', updated_at)`;

interface PageRow {
  json: string;
  fetched: number;
  last_value: string | number | null;
  last_id: number | null;
}

/** Escapes LIKE wildcards so `q` is matched literally. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/** The SQLite implementation of UsersRepository: Drizzle prepared statements, and one hand-written list query. */
export class SqliteUsersRepository implements UsersRepository {
  private readonly insertStatement;
  private readonly findByIdStatement;
  private readonly deleteStatement;
  private readonly updateStatements = new Map<string, ReturnType<SqliteUsersRepository['prepareUpdate']>>();
  private readonly listStatements = new Map<string, BetterSqlite3.Statement>();
  private readonly countStatements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSQLite3Database,
    private readonly sqlite: BetterSqlite3.Database,
  ) {
    this.insertStatement = db
      .insert(users)
      .values({
        first_name: sql.placeholder('first_name'),
        last_name: sql.placeholder('last_name'),
        age: sql.placeholder('age'),
        email: sql.placeholder('email'),
      })
      .returning()
      .prepare();
    this.findByIdStatement = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare();
    this.deleteStatement = db
      .delete(users)
      .where(eq(users.id, sql.placeholder('id')))
      .returning({ id: users.id })
      .prepare();
  }

  async insert(user: UserCreate): Promise<User> {
    try {
      return this.insertStatement.get({ ...user, age: user.age ?? null }) as User;
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  async findById(id: number): Promise<User | undefined> {
    try {
      return this.findByIdStatement.get({ id });
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  async update(id: number, changes: UserUpdate): Promise<User | undefined> {
    const fields = USER_FIELDS.filter((field) => changes[field] !== undefined);
    const key = fields.join(',');
    let statement = this.updateStatements.get(key);
    if (!statement) {
      statement = this.prepareUpdate(fields);
      this.updateStatements.set(key, statement);
    }
    try {
      return statement.get({ ...changes, id }) as User | undefined;
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private prepareUpdate(fields: readonly (typeof USER_FIELDS)[number][]) {
    const set: Record<string, unknown> = { updated_at: NOW };
    for (const field of fields) set[field] = sql.placeholder(field);
    return this.db.update(users).set(set).where(eq(users.id, sql.placeholder('id'))).returning().prepare();
  }

  async delete(id: number): Promise<boolean> {
    try {
      return this.deleteStatement.get({ id }) !== undefined;
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  async list(criteria: UserListCriteria): Promise<UserPage> {
    const { where, params } = this.buildWhere(criteria);
    try {
      const row = this.listStatement(criteria, where).get({
        ...params,
        limit: criteria.limit,
        fetch: criteria.limit + 1,
        offset: criteria.after ? 0 : criteria.offset,
      }) as PageRow;
      const size = Math.min(row.fetched, criteria.limit);
      const hasMore = row.fetched > criteria.limit;
      const lastKey: SortKey | null =
        hasMore && row.last_id !== null && row.last_value !== null ? { value: row.last_value, id: row.last_id } : null;
      let total: number | null = null;
      if (criteria.count) {
        // Keyset params are not part of the count: the total is of all rows matching the filters.
        const { where: countWhere, params: countParams } = this.buildWhere({ ...criteria, after: undefined });
        total = (this.countStatement(countWhere).get(countParams) as { n: number }).n;
      }
      return { json: row.json, size, hasMore, lastKey, total };
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  /** The WHERE clause for the filters and keyset position, as fixed SQL text plus named parameters. */
  private buildWhere(criteria: UserListCriteria): { where: string; params: Record<string, unknown> } {
    const { filters, after } = criteria;
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    if (filters.email !== undefined) {
      clauses.push('lower(email) = lower(:email)');
      params['email'] = filters.email;
    }
    if (filters.first_name !== undefined) {
      clauses.push('first_name = :first_name');
      params['first_name'] = filters.first_name;
    }
    if (filters.last_name !== undefined) {
      clauses.push('last_name = :last_name');
      params['last_name'] = filters.last_name;
    }
    if (filters.min_age !== undefined || filters.max_age !== undefined) {
      // coalesce(age, -1) matches the age index; -1 (no age) never satisfies a bound of 0 or more.
      clauses.push('coalesce(age, -1) BETWEEN :min_age AND :max_age');
      params['min_age'] = filters.min_age ?? 0;
      params['max_age'] = filters.max_age ?? 150;
    }
    if (filters.q !== undefined) {
      clauses.push(
        "(first_name LIKE :q ESCAPE '\\' OR last_name LIKE :q ESCAPE '\\' OR email LIKE :q ESCAPE '\\')",
      );
      params['q'] = likePattern(filters.q);
    }
    if (after) {
      const expression = SORT_EXPRESSIONS[criteria.sort];
      clauses.push(`(${expression}, id) ${criteria.descending ? '<' : '>'} (:after_value, :after_id)`);
      params['after_value'] = after.value;
      params['after_id'] = after.id;
    }
    return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  /** One prepared statement per query shape (filters present, sort, direction), built once and reused. */
  private listStatement(criteria: UserListCriteria, where: string): BetterSqlite3.Statement {
    const direction = criteria.descending ? 'DESC' : 'ASC';
    const expression = SORT_EXPRESSIONS[criteria.sort];
    const key = `${expression} ${direction} ${where}`;
    let statement = this.listStatements.get(key);
    if (!statement) {
      const order = `sort_key ${direction}, id ${direction}`;
      // The page is rendered to JSON by SQLite (no JS objects per row). One extra row is fetched to know
      // whether a next page exists; the last row of the page gives the keyset cursor.
      statement = this.sqlite.prepare(`
        SELECT coalesce(json_group_array(${JSON_USER} ORDER BY rn) FILTER (WHERE rn <= :limit), '[]') AS json,
               count(*) AS fetched,
               max(CASE WHEN rn = :limit THEN sort_key END) AS last_value,
               max(CASE WHEN rn = :limit THEN id END) AS last_id
        FROM (
          SELECT *, row_number() OVER (ORDER BY ${order}) AS rn FROM (
            SELECT id, first_name, last_name, age, email, created_at, updated_at, ${expression} AS sort_key
            FROM users ${where}
            ORDER BY ${expression} ${direction}, id ${direction}
            LIMIT :fetch OFFSET :offset
          )
        )`);
      this.listStatements.set(key, statement);
    }
    return statement;
  }

  private countStatement(where: string): BetterSqlite3.Statement {
    let statement = this.countStatements.get(where);
    if (!statement) {
      statement = this.sqlite.prepare(
        where === '' ? 'SELECT n FROM users_count WHERE id = 1' : `SELECT count(*) AS n FROM users ${where}`,
      );
      this.countStatements.set(where, statement);
    }
    return statement;
  }
}
