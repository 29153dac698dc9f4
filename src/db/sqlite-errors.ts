import type { DatabaseFault } from './database.js';

// Faults of the database or its file, not of the request: the client may retry once they clear.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|CORRUPT|NOTADB)/;

/** The SQLite error code of an error from better-sqlite3. */
export function sqliteErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function sqliteFaultOf(error: unknown): DatabaseFault | undefined {
  const code = sqliteErrorCode(error);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique-violation';
  if (code && UNAVAILABLE.test(code)) return 'unavailable';
  return undefined;
}
