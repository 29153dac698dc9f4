-- q: one trigram index per searched column, in place of 0001's one index over all three.
--
-- The planner costs a scan of a multi-column GIN index as a read of the whole index, once for each of the
-- three ORed conditions of `q` (at 100 000 users: 3 x 1732, more than a parallel sequential scan), so it never
-- used that index: a `q` that matches nobody read the whole table (76 ms at 100 000 users; 285 ms under a
-- generic plan walking the primary key). Three single-column indexes are costed at what they read, and the same
-- query is a BitmapOr of three index scans (0.05 ms). The expressions are those of the query (see
-- users.repository.postgres.ts) and of 0001.
--
-- gin_pending_list_limit = 256 kB (default 4 MB): new entries wait in a pending list, which every search reads
-- in full, until the list is full or (auto)vacuum merges it. At 4 MB the list alone made the planner prefer a
-- sequential scan after 20 000 inserts (26 ms, against 0.25 ms through the indexes at 256 kB), for ~7 % more
-- insert time.
--
-- CREATE INDEX takes a lock that blocks writes to users while it builds (seconds for a million users); on a
-- large live table, build the three indexes by hand first with CREATE INDEX CONCURRENTLY under these names.
-- As in 0001, a server without pg_trgm keeps working, with `q` scanning; once pg_trgm is installed, run the
-- statements of this block by hand.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX IF NOT EXISTS "users_first_name_trgm_idx" ON "users" USING gin ((lower("first_name" COLLATE "und-x-icu")) gin_trgm_ops) WITH (gin_pending_list_limit = 256);
  CREATE INDEX IF NOT EXISTS "users_last_name_trgm_idx" ON "users" USING gin ((lower("last_name" COLLATE "und-x-icu")) gin_trgm_ops) WITH (gin_pending_list_limit = 256);
  CREATE INDEX IF NOT EXISTS "users_email_trgm_idx" ON "users" USING gin ((lower("email" COLLATE "und-x-icu")) gin_trgm_ops) WITH (gin_pending_list_limit = 256);
  DROP INDEX IF EXISTS "users_search_trgm_idx";
EXCEPTION
  WHEN undefined_file OR insufficient_privilege OR feature_not_supported THEN
    RAISE WARNING 'pg_trgm is not available (%): the q filter of GET /users/ will scan the whole table', SQLERRM;
END $$;

-- Statistics for the new index expressions now, rather than at the next autovacuum: without them the planner
-- guesses how many rows a pattern matches and may still walk the primary key (samples at most 30 000 rows).
ANALYZE "users";
