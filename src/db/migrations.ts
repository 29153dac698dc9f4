import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dialect } from './database.js';

/** One versioned SQL file of migrations/<dialect>/, named NNNN_what_it_does.sql. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 of the file: an applied migration must never change. */
  checksum: string;
}

export const MIGRATIONS_ROOT = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The migrations of a dialect, in version order. */
export function readMigrations(dialect: Dialect, folder = join(MIGRATIONS_ROOT, dialect)): Migration[] {
  const migrations = readdirSync(folder)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(file);
      if (!match) throw new Error(`migrations/${dialect}/${file}: the name must be NNNN_snake_case.sql`);
      const sql = readFileSync(join(folder, file), 'utf8');
      return { version: Number(match[1]), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index) throw new Error(`migrations/${dialect}: expected version ${index}, found ${migration.name}`);
  });
  return migrations;
}

/** The table that records applied migrations, the same on both dialects. */
export const MIGRATIONS_TABLE = 'schema_migrations';

export interface AppliedMigration {
  version: number;
  checksum: string | null;
}

/**
 * The migrations still to apply. An applied migration whose file changed stops the start-up: the database was
 * built from other SQL than the repository holds. A null checksum is a migration adopted from drizzle-kit's
 * journal (databases created before the runner), whose files were applied as they are.
 */
export function pendingMigrations(migrations: Migration[], applied: AppliedMigration[]): Migration[] {
  const byVersion = new Map(applied.map((row) => [row.version, row.checksum]));
  for (const migration of migrations) {
    const checksum = byVersion.get(migration.version);
    if (checksum && checksum !== migration.checksum) {
      throw new Error(`migration ${migration.name} was changed after it was applied: add a new migration instead`);
    }
  }
  if (applied.some((row) => row.version >= migrations.length)) {
    throw new Error('the database has migrations this version does not know: it was migrated by a newer release');
  }
  return migrations.filter((migration) => !byVersion.has(migration.version));
}
