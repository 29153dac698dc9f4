-- Sorting by age with keyset cursors: a (virtual) column and a plain index on (age_key, id), which SQLite can
-- seek at a position (age_key, id) > (?, ?); on the expression index of 0001 such a position meant a scan.
ALTER TABLE `users` ADD `age_key` integer GENERATED ALWAYS AS (coalesce(age, -1)) VIRTUAL;--> statement-breakpoint
CREATE INDEX `users_age_key_id_idx` ON `users` (`age_key`,`id`);--> statement-breakpoint
DROP INDEX IF EXISTS `users_age_id_idx`;
