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
// 57P01-57P05 shutdown, crash, cannot connect now, idle session timeout, 57014 statement timeout (or a
// cancelled statement), 55P03 lock not available (lock_timeout), 25P03/25P04 idle-in-transaction and
// transaction timeouts (the server ended the transaction), 25006 read-only (a standby after a failover),
// 40001/40P01 serialization failure and deadlock (retryable).
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-5]$|57014$|55P03$|25P0[34]$|25006$|40001$|40P01$)/;

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

// pg and pg-pool report a lost or unobtainable connection, and a statement the client stopped waiting for
// (query_timeout), with a message and no code.
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/** A fault of the client's connection (socket error, lost connection, client-side timeout), not an answer of the server. */
function isConnectionFault(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && UNAVAILABLE_SOCKET.has(code)) || UNAVAILABLE_MESSAGE.test(error.message);
}

/** Whether the error says the database cannot be reached or cannot serve right now (not that the request is wrong). */
export function isPgUnavailable(error: unknown): boolean {
  for (const current of chain(error)) {
    if (current instanceof DatabaseError) {
      if (UNAVAILABLE_SQLSTATE.test(current.code ?? '')) return true;
      continue;
    }
    if (isConnectionFault(current)) return true;
  }
  return false;
}

/**
 * Whether a statement's failure leaves its connection in an unknown state, so that it must be closed, not rolled
 * back and reused: the client stopped waiting (query_timeout; the statement may still be running, and a ROLLBACK
 * sent behind it would wait as long again) or the connection is lost. An error the server sent (a DatabaseError
 * anywhere in the chain) or an error of the caller's own leaves it waiting for the next command.
 */
export function isPgConnectionLost(error: unknown): boolean {
  for (const current of chain(error)) {
    if (current instanceof DatabaseError) return false;
    if (isConnectionFault(current)) return true;
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
