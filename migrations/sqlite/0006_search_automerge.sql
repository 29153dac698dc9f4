-- The trigram index merges its segments 16 at a time instead of FTS5's default 4 (the `automerge` option, stored in
-- the index's own config table). Every commit writes a new segment with its rows, and merges rewrite them level by
-- level: with 16 there are half as many levels, so each row's entries are rewritten half as often, and the large
-- merges that stall a commit come a quarter as often. Measured at a million users, batches of 28 inserts: 164 -> 102
-- µs per row on average; a page of `q` reads more segments, 0.12 -> 0.20 ms for a common term (docs/PERFORMANCE.md).
INSERT INTO `users_fts` (`users_fts`, `rank`) VALUES ('automerge', 16);
