import { sql } from 'drizzle-orm';
import { bigint, check, customType, index, integer, pgTable, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * text COLLATE "C": compares and sorts by code point, as SQLite's BINARY collation does, whatever the
 * database's locale; lower() and ILIKE then fold ASCII only, as SQLite's lower() and LIKE do.
 */
const binaryText = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

// timestamptz with millisecond precision: the wire format (2026-11-26T10:13:25.123Z) carries milliseconds.
const timestampMs = (name: string) =>
  timestamp(name, { withTimezone: true, precision: 3, mode: 'string' }).notNull().defaultNow();

/** The users table. Column names are the wire names (snake_case): no mapping layer. */
export const users = pgTable(
  'users',
  {
    // An identity never hands out the same value twice, even after the highest id is deleted.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    first_name: binaryText('first_name').notNull(),
    last_name: binaryText('last_name').notNull(),
    age: integer('age'),
    email: binaryText('email').notNull(),
    created_at: timestampMs('created_at'),
    updated_at: timestampMs('updated_at'),
  },
  (t) => [
    // Case-insensitive uniqueness enforced by the database, not by a check-then-insert race.
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    // One index per sort order, ending in id so ties break by id and keyset cursors stay index-only.
    index('users_first_name_id_idx').on(t.first_name, t.id),
    index('users_last_name_id_idx').on(t.last_name, t.id),
    // Users without an age sort first ascending and last descending, as on SQLite.
    index('users_age_id_idx').on(sql`coalesce(${t.age}, -1)`, t.id),
    index('users_created_at_id_idx').on(t.created_at, t.id),
    index('users_updated_at_id_idx').on(t.updated_at, t.id),
    // The pg_trgm index for `q` is in a hand-written migration: the extension may be missing (see there).
    check('users_age_range', sql`${t.age} IS NULL OR ${t.age} BETWEEN 0 AND 150`),
  ],
);

/**
 * The row count, split over a few slots kept by statement triggers (see the migration for why it is split):
 * the total of the unfiltered list is the sum of the slots, O(1).
 */
export const usersCount = pgTable('users_count', {
  slot: smallint('slot').primaryKey(),
  n: bigint('n', { mode: 'number' }).notNull(),
});

/**
 * Idempotency-Key of POST /users/: the fingerprint of the request and the response it got, kept until
 * expires_at so that a retry (from any instance, after a restart) gets the same answer instead of a second row.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    key: text('key').primaryKey(),
    fingerprint: text('fingerprint').notNull(),
    user_id: bigint('user_id', { mode: 'number' }).notNull(),
    // The response as sent the first time (the user as JSON), replayed as it was.
    response: text('response').notNull(),
    created_at: timestampMs('created_at'),
    expires_at: timestamp('expires_at', { withTimezone: true, precision: 3, mode: 'string' }).notNull(),
  },
  (t) => [index('idempotency_keys_expires_at_idx').on(t.expires_at)],
);
