import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite, openSqlite } from '../../src/db/sqlite.js';

/** A new SQLite file in `directory` (a unique name unless given), opened with these settings and migrated. */
export function migratedFile(
  directory: string,
  settings: Parameters<typeof openSqlite>[1],
  name = `${Date.now()}-${Math.random()}.db`,
): { file: string; connection: BetterSqlite3.Database } {
  const file = join(directory, name);
  const connection = openSqlite(file, settings);
  migrateSqlite(connection);
  return { file, connection };
}

/**
 * The users in a SQLite file itself, read from a copy of it without its WAL: what the checkpoints have copied
 * there. -1 when the copy is torn (taken while a checkpoint was writing the file) or has no users table yet.
 */
export function usersInFileAlone(file: string): number {
  const copy = `${file}.alone`;
  copyFileSync(file, copy);
  try {
    const reader = new BetterSqlite3(copy, { readonly: true });
    try {
      return reader.prepare('SELECT count(*) FROM users').pluck().get() as number;
    } finally {
      reader.close();
    }
  } catch {
    return -1;
  } finally {
    rmSync(copy, { force: true });
  }
}

/** Until the file itself holds at least n users (a checkpoint follows a commit within milliseconds), at most 10 s. */
export async function fileHoldsUsers(file: string, n: number): Promise<number> {
  let users = usersInFileAlone(file);
  for (let waited = 0; users < n && waited < 10_000; waited += 20) {
    await sleep(20);
    users = usersInFileAlone(file);
  }
  return users;
}
