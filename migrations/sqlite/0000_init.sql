CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`first_name` text NOT NULL,
	`last_name` text NOT NULL,
	`age` integer,
	`email` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "users_age_range" CHECK("users"."age" IS NULL OR "users"."age" BETWEEN 0 AND 150)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_lower_uq` ON `users` (lower("email"));--> statement-breakpoint
CREATE INDEX `users_first_name_id_idx` ON `users` (`first_name`,`id`);--> statement-breakpoint
CREATE INDEX `users_last_name_id_idx` ON `users` (`last_name`,`id`);--> statement-breakpoint
CREATE INDEX `users_created_at_id_idx` ON `users` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_updated_at_id_idx` ON `users` (`updated_at`,`id`);--> statement-breakpoint
CREATE TABLE `users_count` (
	`id` integer PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
