import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// RFC 3339 UTC with milliseconds, the wire format, computed by SQLite in the same statement as the write.
export const NOW = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

/** The users table. Column names are the wire names (snake_case): no mapping layer. */
export const users = sqliteTable(
  'users',
  {
    // AUTOINCREMENT: ids are never reused, even after the highest one is deleted.
    id: integer('id').primaryKey({ autoIncrement: true }),
    first_name: text('first_name').notNull(),
    last_name: text('last_name').notNull(),
    age: integer('age'),
    email: text('email').notNull(),
    created_at: text('created_at').notNull().default(NOW),
    updated_at: text('updated_at').notNull().default(NOW),
    // The age sort and filter key: users without an age sort first ascending and last descending. A column
    // (virtual: computed, not stored) rather than an expression index, because SQLite seeks a keyset
    // position (age_key, id) > (?, ?) only on columns; on an expression it scans.
    age_key: integer('age_key').generatedAlwaysAs(sql`coalesce(age, -1)`, { mode: 'virtual' }),
  },
  (t) => [
    // Case-insensitive uniqueness enforced by the database, not by a check-then-insert race.
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    // One index per sort order, ending in id so ties break by id and keyset cursors stay index-only.
    index('users_first_name_id_idx').on(t.first_name, t.id),
    index('users_last_name_id_idx').on(t.last_name, t.id),
    index('users_age_key_id_idx').on(t.age_key, t.id),
    index('users_created_at_id_idx').on(t.created_at, t.id),
    index('users_updated_at_id_idx').on(t.updated_at, t.id),
    check('users_age_range', sql`${t.age} IS NULL OR ${t.age} BETWEEN 0 AND 150`),
  ],
);

/** A row count kept by triggers in the same transaction as each insert/delete: an O(1) X-Total-Count. */
export const usersCount = sqliteTable('users_count', {
  id: integer('id').primaryKey(),
  n: integer('n').notNull(),
});

/**
 * Idempotency-Key of POST /users/: the fingerprint of the request and the response it got, kept until
 * expires_at so that a retry (from any worker, after a restart) gets the same answer instead of a second row.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    key: text('key').primaryKey(),
    fingerprint: text('fingerprint').notNull(),
    user_id: integer('user_id').notNull(),
    response: text('response').notNull(),
    created_at: text('created_at').notNull().default(NOW),
    expires_at: text('expires_at').notNull(),
  },
  (t) => [index('idempotency_keys_expires_at_idx').on(t.expires_at)],
);
