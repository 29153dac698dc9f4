import { DatabaseError } from 'pg';
import type { DatabaseFault } from './database.js';

/** The errors of an error: itself, its causes and the members of an AggregateError (pg's connection errors). */
function* chain(error: unknown): Generator<Error> {
  for (let current = error; current instanceof Error; current = current.cause) {
    yield current;
    if (current instanceof AggregateError) for (const inner of current.errors) yield* chain(inner);
  }
}

/** The SQLSTATE of an error sent by the PostgreSQL server. */
export function pgErrorCode(error: unknown): string | undefined {
  for (const current of chain(error)) if (current instanceof DatabaseError) return current.code;
  return undefined;
}

// Faults of the server or of the way to it, not of the request: the client may retry once they clear.
// 08 connection exception, 53 insufficient resources (53300 too many connections, disk full, out of memory),
// 57P01-57P05 shutdown, crash, cannot connect now, idle session timeout, 57014 statement timeout,
// 25006 read-only (a standby after a failover), 40001/40P01 serialization failure and deadlock (retryable),
// 55P03 lock not available.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-5]$|57014$|25006$|40001$|40P01$|55P03$)/;

// Socket errors while connecting or talking to the server.
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// pg and pg-pool report a lost or unobtainable connection with a message and no code.
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/** Whether the error says the database cannot be reached or cannot serve right now (not that the request is wrong). */
export function isPgUnavailable(error: unknown): boolean {
  for (const current of chain(error)) {
    if (current instanceof DatabaseError) {
      if (UNAVAILABLE_SQLSTATE.test(current.code ?? '')) return true;
      continue;
    }
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_SOCKET.has(code)) return true;
    if (UNAVAILABLE_MESSAGE.test(current.message)) return true;
  }
  return false;
}

/** What a driver error means for the request; undefined for anything else. */
export function pgFaultOf(error: unknown): DatabaseFault | undefined {
  // 23505 unique_violation.
  if (pgErrorCode(error) === '23505') return 'unique-violation';
  if (isPgUnavailable(error)) return 'unavailable';
  return undefined;
}
