import { DatabaseUnavailableError, EmailTakenError } from '../errors.js';

/** The SQLite error code of an error from better-sqlite3, directly or wrapped by Drizzle. */
export function sqliteErrorCode(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

// Faults of the database or its file, not of the request: the client may retry once they clear.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|CORRUPT|NOTADB)/;

/** Maps a driver error to a domain error; anything unknown is returned as is (and becomes a generic 500). */
export function mapSqliteError(error: unknown): unknown {
  const code = sqliteErrorCode(error);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return new EmailTakenError();
  if (code && UNAVAILABLE.test(code)) return new DatabaseUnavailableError(error);
  return error;
}
