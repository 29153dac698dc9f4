-- The trigram index takes a transaction's changes once, at its end, instead of one user at a time. Inside a
-- transaction every write runs in a savepoint (the group commit's, and the statement's own), and FTS5 writes its
-- pending entries to disk as a new segment at each savepoint: one segment, and its share of merges, per user.
-- Measured, batches of 28 inserts: 35 -> 24 µs per user at 1,000 users, 94 -> 41 at a million (docs/PERFORMANCE.md).
--
-- The repository brings the index up to the table just before each COMMIT (src/users/users.sql.sqlite.ts,
-- syncSearchIndex), in one statement:
-- - users past the highest id the index holds (users_fts_docsize, FTS5's row per indexed user) are new: indexed
--   with their values at the end of the transaction. Ids only grow (AUTOINCREMENT), so a create notes nothing;
-- - a user the index already holds and that is changed or deleted is noted here at its first change in the
--   transaction, with the values the index holds: those are removed, and the user's values now (if it still
--   exists) indexed. A create with an explicit id below the highest is noted too (indexed 0: nothing to remove).
-- A refused write's notes are undone with its savepoint; the table is emptied after each sync.
DROP TRIGGER `users_fts_after_insert`;--> statement-breakpoint
DROP TRIGGER `users_fts_after_delete`;--> statement-breakpoint
DROP TRIGGER `users_fts_after_update`;--> statement-breakpoint
CREATE TABLE `users_fts_pending` (
  `id` integer PRIMARY KEY NOT NULL,
  -- 1: the index holds the user with the values below (remove them); 0: the index does not hold the user.
  `indexed` integer NOT NULL,
  `first_name` text,
  `last_name` text,
  `email` text
);--> statement-breakpoint
CREATE TRIGGER `users_fts_after_insert` AFTER INSERT ON `users`
WHEN new.`id` <= (SELECT coalesce(max(`id`), 0) FROM `users_fts_docsize`) BEGIN
  INSERT INTO `users_fts_pending` (`id`, `indexed`) VALUES (new.`id`, 0) ON CONFLICT (`id`) DO NOTHING;
END;--> statement-breakpoint
CREATE TRIGGER `users_fts_after_delete` AFTER DELETE ON `users`
WHEN old.`id` <= (SELECT coalesce(max(`id`), 0) FROM `users_fts_docsize`) BEGIN
  INSERT INTO `users_fts_pending` (`id`, `indexed`, `first_name`, `last_name`, `email`)
  VALUES (old.`id`, 1, old.`first_name`, old.`last_name`, old.`email`) ON CONFLICT (`id`) DO NOTHING;
END;--> statement-breakpoint
CREATE TRIGGER `users_fts_after_update` AFTER UPDATE OF `first_name`, `last_name`, `email` ON `users`
WHEN old.`id` <= (SELECT coalesce(max(`id`), 0) FROM `users_fts_docsize`) BEGIN
  INSERT INTO `users_fts_pending` (`id`, `indexed`, `first_name`, `last_name`, `email`)
  VALUES (old.`id`, 1, old.`first_name`, old.`last_name`, old.`email`) ON CONFLICT (`id`) DO NOTHING;
END;--> statement-breakpoint
-- A level of the index is merged in steps as writes come once it holds automerge (16, migration 0006) segments, and
-- all at once, inside one commit, once it holds crisismerge: FTS5's default is 16 too, so every merge ran all at
-- once. 32 lets the steps do it. Measured at a million users (in-process, one run each): batches of 28 inserts
-- 40 -> 29 µs per user, the slowest batch 131 -> 19 ms; one insert per transaction 145 -> 148 µs, the slowest
-- 124 -> 33 ms.
INSERT INTO `users_fts` (`users_fts`, `rank`) VALUES ('crisismerge', 32);
