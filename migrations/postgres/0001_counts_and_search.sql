-- Totals without counting rows: the unfiltered list (users_count) and age-range filters (users_age_count),
-- kept by triggers in the same transaction as every insert, update of age, and delete.
--
-- Why slots: SQLite keeps one counter row; it may, since SQLite has one writer at a time anyway. On PostgreSQL
-- one counter row is a write hot spot: every inserting or deleting transaction would lock that row until it
-- commits, so all writers of all instances would queue behind each other's commit (WAL flush). A plain count(*)
-- has no such cost but reads the whole table (an index-only scan) on every list, growing with the table: far
-- over the 5 ms a list may take at a million users. So each count is split over 16 slots; a statement adds its
-- delta to the slot of its backend (pg_backend_pid() % 16), and a total is a sum over the slots. Concurrent
-- writers on different connections mostly touch different rows, and a transaction touches one slot per count
-- (rows of one slot are taken in age order): no deadlock between writers.
-- Statement-level triggers with transition tables: a bulk insert or delete updates its slots once, not once
-- per row, and a statement that changes no row (a create refused as a duplicate, a delete of a missing id)
-- writes nothing.
CREATE FUNCTION "users_count_slot"() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (pg_backend_pid() % 16)::smallint
$$;
--> statement-breakpoint
INSERT INTO "users_count" ("slot", "n") SELECT slot, 0 FROM generate_series(0, 15) AS slot;
--> statement-breakpoint
UPDATE "users_count" SET "n" = (SELECT count(*) FROM "users") WHERE "slot" = 0;
--> statement-breakpoint
-- Users per age (-1: no age) and slot: the total of an age-range filter is a sum over at most 152 × 16 rows.
CREATE TABLE "users_age_count" (
  "age" smallint NOT NULL,
  "slot" smallint NOT NULL,
  "n" bigint NOT NULL,
  PRIMARY KEY ("age", "slot")
);
--> statement-breakpoint
INSERT INTO "users_age_count" ("age", "slot", "n")
SELECT coalesce("age", -1), 0, count(*) FROM "users" GROUP BY coalesce("age", -1);
--> statement-breakpoint
CREATE FUNCTION "users_count_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta bigint := (SELECT count(*) FROM inserted);
BEGIN
  IF delta > 0 THEN
    UPDATE "users_count" SET "n" = "n" + delta WHERE "slot" = "users_count_slot"();
    INSERT INTO "users_age_count" ("age", "slot", "n")
    SELECT coalesce("age", -1), "users_count_slot"(), count(*) FROM inserted GROUP BY 1 ORDER BY 1
    ON CONFLICT ("age", "slot") DO UPDATE SET "n" = "users_age_count"."n" + excluded."n";
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "users_count_after_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta bigint := (SELECT count(*) FROM deleted);
BEGIN
  IF delta > 0 THEN
    UPDATE "users_count" SET "n" = "n" - delta WHERE "slot" = "users_count_slot"();
    -- A slot may go below zero (the user was counted in another slot); only the sum over the slots matters.
    INSERT INTO "users_age_count" ("age", "slot", "n")
    SELECT coalesce("age", -1), "users_count_slot"(), -count(*) FROM deleted GROUP BY 1 ORDER BY 1
    ON CONFLICT ("age", "slot") DO UPDATE SET "n" = "users_age_count"."n" + excluded."n";
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Row-level, and only when the age really changes: the API updates one user at a time, and most updates do
-- not touch the age. (Transition tables cannot be combined with UPDATE OF or WHEN.)
CREATE FUNCTION "users_count_after_age_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "users_age_count" ("age", "slot", "n")
  VALUES (least(coalesce(OLD."age", -1), coalesce(NEW."age", -1)), "users_count_slot"(),
          CASE WHEN coalesce(OLD."age", -1) < coalesce(NEW."age", -1) THEN -1 ELSE 1 END),
         (greatest(coalesce(OLD."age", -1), coalesce(NEW."age", -1)), "users_count_slot"(),
          CASE WHEN coalesce(OLD."age", -1) < coalesce(NEW."age", -1) THEN 1 ELSE -1 END)
  ON CONFLICT ("age", "slot") DO UPDATE SET "n" = "users_age_count"."n" + excluded."n";
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "users_count_after_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "users_count" SET "n" = 0;
  DELETE FROM "users_age_count";
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "users_count_after_insert" AFTER INSERT ON "users" REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION "users_count_after_insert"();
--> statement-breakpoint
CREATE TRIGGER "users_count_after_delete" AFTER DELETE ON "users" REFERENCING OLD TABLE AS deleted
  FOR EACH STATEMENT EXECUTE FUNCTION "users_count_after_delete"();
--> statement-breakpoint
CREATE TRIGGER "users_count_after_age_update" AFTER UPDATE OF "age" ON "users"
  FOR EACH ROW WHEN (OLD."age" IS DISTINCT FROM NEW."age") EXECUTE FUNCTION "users_count_after_age_update"();
--> statement-breakpoint
CREATE TRIGGER "users_count_after_truncate" AFTER TRUNCATE ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION "users_count_after_truncate"();
--> statement-breakpoint
-- q, a case-insensitive substring of first name, last name or email, as SQLite answers it: from 3 characters on,
-- SQLite's FTS5 trigram index folds the case of every script; PostgreSQL folds with lower() under the ICU root
-- collation ("und-x-icu": the same on every server, whatever the database's locale) and matches with LIKE.
-- This fails the migration early, with a clear message, on a server built without ICU (rare: the Debian/Ubuntu
-- packages and the Docker images have it).
DO $$
BEGIN
  PERFORM lower('ICU' COLLATE "und-x-icu");
END $$;
--> statement-breakpoint
-- Only a trigram index serves LIKE '%...%'. pg_trgm ships with PostgreSQL (the contrib modules: in the
-- Debian/Ubuntu packages and the Docker images) and is a trusted extension: the owner of the database may create
-- it. Fallback, where it is missing or may not be created: the migration still succeeds with a warning and q
-- filters by a sequential scan (the same results, slower on a large table); once pg_trgm is installed, run these
-- two statements by hand. The index is on the folded text, so its own case folding (by the database's locale)
-- cannot disagree with the query's.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX "users_search_trgm_idx" ON "users" USING gin (
    (lower("first_name" COLLATE "und-x-icu")) gin_trgm_ops,
    (lower("last_name" COLLATE "und-x-icu")) gin_trgm_ops,
    (lower("email" COLLATE "und-x-icu")) gin_trgm_ops
  );
EXCEPTION
  WHEN undefined_file OR insufficient_privilege OR feature_not_supported THEN
    RAISE WARNING 'pg_trgm is not available (%): the q filter of GET /users/ will scan the whole table', SQLERRM;
END $$;
