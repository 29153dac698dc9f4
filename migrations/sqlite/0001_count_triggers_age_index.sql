-- Sorting by age: users without an age sort first ascending and last descending; ties break by id.
CREATE INDEX `users_age_id_idx` ON `users` (coalesce(`age`, -1), `id`);
--> statement-breakpoint
-- An O(1) total for the unfiltered list, kept in the same transaction as every insert and delete.
INSERT INTO `users_count` (`id`, `n`) VALUES (1, (SELECT count(*) FROM `users`));
--> statement-breakpoint
CREATE TRIGGER `users_count_after_insert` AFTER INSERT ON `users` BEGIN
  UPDATE `users_count` SET `n` = `n` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `users_count_after_delete` AFTER DELETE ON `users` BEGIN
  UPDATE `users_count` SET `n` = `n` - 1 WHERE `id` = 1;
END;
