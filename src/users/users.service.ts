import { createHash } from 'node:crypto';
import { PreconditionFailedError, UserNotFoundError, ValidationError } from '../errors.js';
import { exportPages, importUsers, type ExportQuery, type ImportOptions, type ImportReport, type ImportRow } from './users.bulk.js';
import { createValues, type SortKey, type UserExportPage, type UserPage, type UsersRepository } from './users.repository.js';
import { userModel, type User, type UserCreate, type UserFilters, type UserListQuery, type UserModel, type UserUpdate } from './users.schemas.js';

export interface UserListResult extends UserPage {
  /** Opaque cursor for the page after this one, or null on the last page. */
  nextCursor: string | null;
}

/** Encodes the position after a page as an opaque, URL-safe cursor bound to its sort order. */
export function encodeCursor(sort: string, key: SortKey): string {
  return Buffer.from(JSON.stringify([sort, key.value, key.id])).toString('base64url');
}

/**
 * A digest of a create body: equivalent bodies (an absent optional field or null) are the same request. Values in
 * declaration order with trailing nulls dropped, so adding an optional field keeps the keys stored before valid.
 */
export function fingerprintOf(model: UserModel, data: UserCreate): string {
  const values = createValues(model, data);
  while (values.length > 0 && values.at(-1) === null) values.pop();
  return createHash('sha256').update(JSON.stringify(values)).digest('base64url');
}

/** The rules of the users resource; knows nothing about HTTP or SQL. */
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly model: UserModel = userModel,
  ) {}

  /**
   * Creates a user. With an idempotency key, a retry of the same request returns the user created the
   * first time (replayed: true) instead of creating a second one; the same key with another body is refused.
   */
  async createUser(data: UserCreate, idempotencyKey?: string): Promise<{ user: User; replayed: boolean }> {
    if (idempotencyKey === undefined) return { user: await this.users.insert(data), replayed: false };
    return this.users.insertOnce(data, { key: idempotencyKey, fingerprint: fingerprintOf(this.model, data) });
  }

  async getUser(id: number): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new UserNotFoundError();
    return user;
  }

  /**
   * A partial update: only the fields present change; an empty update changes nothing (updated_at included).
   * With `expected` (If-Match), the write happens only if the user's updated_at is still one of them.
   */
  async updateUser(id: number, changes: UserUpdate, expected?: readonly string[]): Promise<User> {
    if (Object.keys(changes).length === 0) {
      const user = await this.getUser(id);
      if (expected && !expected.includes(user.updated_at)) throw new PreconditionFailedError();
      return user;
    }
    const user = await this.users.update(id, changes, expected);
    if (!user) throw await this.missOf(id, expected);
    return user;
  }

  async deleteUser(id: number, expected?: readonly string[]): Promise<void> {
    if (!(await this.users.delete(id, expected))) throw await this.missOf(id, expected);
  }

  /** Why a conditional write matched no row: the user is gone, or it changed since the client read it. */
  private async missOf(id: number, expected?: readonly string[]) {
    if (expected && (await this.users.findById(id))) return new PreconditionFailedError();
    return new UserNotFoundError();
  }

  async listUsers(query: UserListQuery): Promise<UserListResult> {
    const descending = query.sort.startsWith('-');
    const sort = descending ? query.sort.slice(1) : query.sort;
    if (query.cursor !== undefined && query.offset > 0) {
      throw new ValidationError([{ location: ['query', 'offset'], message: 'cannot be combined with cursor' }]);
    }
    const after = query.cursor === undefined ? undefined : this.decodeCursor(query.cursor, query.sort, sort);
    const filters: Record<string, unknown> = {};
    for (const param of this.model.filterParams) {
      const value = (query as Record<string, unknown>)[param];
      if (value !== undefined) filters[param] = value;
    }
    const page = await this.users.list({
      filters: filters as UserFilters,
      sort,
      descending,
      limit: query.limit,
      offset: query.offset,
      after,
      count: query.count ?? true,
    });
    return { ...page, nextCursor: page.lastKey ? encodeCursor(query.sort, page.lastKey) : null };
  }

  /** Every user matching the filters, in pages (see users.bulk.ts): stops reading when the consumer stops. */
  exportUsers(query: ExportQuery): AsyncGenerator<UserExportPage> {
    return exportPages(this.users, query);
  }

  /** Creates users from rows as they arrive, into `report` (see users.bulk.ts: batches, all-or-none, resume). */
  importUsers(rows: AsyncIterable<ImportRow>, options: ImportOptions, report: ImportReport): Promise<void> {
    return importUsers(this.users, this.model, rows, options, report);
  }

  private decodeCursor(cursor: string, sort: string, field: string): SortKey {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const [cursorSort, value, id] = Array.isArray(decoded) && decoded.length === 3 ? decoded : [];
    const numeric = this.model.sorts.get(field)?.field.kind === 'integer';
    const valid =
      cursorSort === sort &&
      Number.isSafeInteger(id) &&
      (numeric ? Number.isSafeInteger(value) : typeof value === 'string' && value.length <= 512);
    if (!valid) {
      throw new ValidationError(
        [{ location: ['query', 'cursor'], message: 'is not a cursor of this list and sort order' }],
        'The cursor is invalid: use the URL of a Link rel="next" header unchanged.',
      );
    }
    return { value: value as string | number, id: id as number };
  }
}
