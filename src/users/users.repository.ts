import type { SortField, User, UserCreate, UserUpdate } from './users.schemas.js';

/** The value a page is sorted by, then the id: where a keyset cursor resumes. */
export interface SortKey {
  value: string | number;
  id: number;
}

export interface UserFilters {
  email?: string;
  first_name?: string;
  last_name?: string;
  min_age?: number;
  max_age?: number;
  q?: string;
}

export interface UserListCriteria {
  filters: UserFilters;
  sort: SortField;
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
  json: string;
  /** The number of users in the page. */
  size: number;
  /** Whether at least one more row follows this page. */
  hasMore: boolean;
  /** The sort key of the last row of the page, for the next cursor. */
  lastKey: SortKey | null;
  /** Rows matching the filters, or null when not requested. */
  total: number | null;
}

/**
 * All user persistence, one implementation per dialect. Methods throw EmailTakenError on a duplicate email
 * and DatabaseUnavailableError when the database cannot answer; nothing above this layer knows the dialect.
 */
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

export interface IdempotentRequest {
  key: string;
  /** A digest of the request body: a key reused with another body is refused. */
  fingerprint: string;
}

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
}

/** A connected database: its repositories, a health probe and shutdown. */
export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  readonly users: UsersRepository;
  /** One real round trip; throws DatabaseUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The SQL expression each sort field orders by; the same on both dialects. */
export const SORT_EXPRESSIONS: Record<SortField, string> = {
  id: 'id',
  first_name: 'first_name',
  last_name: 'last_name',
  age: 'coalesce(age, -1)',
  email: 'lower(email)',
  created_at: 'created_at',
  updated_at: 'updated_at',
};
