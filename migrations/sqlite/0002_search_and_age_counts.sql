-- q: a case-insensitive substring of first name, last name or email, answered from a trigram index
-- (external content: the text is not stored twice) kept in step with users by triggers.
CREATE VIRTUAL TABLE `users_fts` USING fts5(
  `first_name`, `last_name`, `email`,
  content = 'users', content_rowid = 'id', tokenize = 'trigram case_sensitive 0'
);
--> statement-breakpoint
INSERT INTO `users_fts` (`users_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `users_fts` (`rowid`, `first_name`, `last_name`, `email`)
  VALUES (new.`id`, new.`first_name`, new.`last_name`, new.`email`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_delete` AFTER DELETE ON `users` BEGIN
  INSERT INTO `users_fts` (`users_fts`, `rowid`, `first_name`, `last_name`, `email`)
  VALUES ('delete', old.`id`, old.`first_name`, old.`last_name`, old.`email`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_update` AFTER UPDATE OF `first_name`, `last_name`, `email` ON `users` BEGIN
  INSERT INTO `users_fts` (`users_fts`, `rowid`, `first_name`, `last_name`, `email`)
  VALUES ('delete', old.`id`, old.`first_name`, old.`last_name`, old.`email`);
  INSERT INTO `users_fts` (`rowid`, `first_name`, `last_name`, `email`)
  VALUES (new.`id`, new.`first_name`, new.`last_name`, new.`email`);
END;
--> statement-breakpoint
-- Users per age (-1: no age), kept by triggers: the total of an age-range filter is a sum over at most
-- 152 rows instead of a count over every matching user.
CREATE TABLE `users_age_count` (
  `age` integer PRIMARY KEY NOT NULL,
  `n` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `users_age_count` (`age`, `n`)
SELECT coalesce(`age`, -1), count(*) FROM `users` GROUP BY coalesce(`age`, -1);
--> statement-breakpoint
CREATE TRIGGER `users_age_count_after_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `users_age_count` (`age`, `n`) VALUES (coalesce(new.`age`, -1), 1)
  ON CONFLICT (`age`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `users_age_count_after_delete` AFTER DELETE ON `users` BEGIN
  UPDATE `users_age_count` SET `n` = `n` - 1 WHERE `age` = coalesce(old.`age`, -1);
END;
--> statement-breakpoint
CREATE TRIGGER `users_age_count_after_update` AFTER UPDATE OF `age` ON `users`
WHEN old.`age` IS NOT new.`age` BEGIN
  UPDATE `users_age_count` SET `n` = `n` - 1 WHERE `age` = coalesce(old.`age`, -1);
  INSERT INTO `users_age_count` (`age`, `n`) VALUES (coalesce(new.`age`, -1), 1)
  ON CONFLICT (`age`) DO UPDATE SET `n` = `n` + 1;
END;
