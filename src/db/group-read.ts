import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { BACKOFF_MS } from './group-commit.js';
import { sqliteErrorCode } from './sqlite-errors.js';

/** One read waiting for the end of the turn. */
interface PendingRead {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The statements of a batch, prepared once per connection. */
interface ConnectionStatements {
  db: BetterSqlite3.Database;
  begin: BetterSqlite3.Statement;
  commit: BetterSqlite3.Statement;
}

/** At most this many reads share a transaction; more wait for the end of the next turn. */
const MAX_BATCH = 128;

export interface GroupReadOptions {
  /** The connection to read on now (it changes when the file is reopened). */
  connection: () => BetterSqlite3.Database;
  /** How long a read may wait in all when WAL makes a reader wait (SQLITE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs: number;
}

/**
 * Group reads, the read side of GroupCommit: the first read of a turn of the event loop runs at once (a lone client
 * waits for nothing), and the reads that arrive during the rest of that turn (every request read from the sockets
 * meanwhile) run together at its end, one after the other in one read transaction. Their answers then leave
 * back to back instead of one between the parsing of each request:
 * - a client on the same machine (a proxy, a load generator) is woken once for the batch's answers instead of once
 *   for each, and the sender pays those wake-ups in its system time;
 * - SQLite takes its read lock and checks the WAL once for the batch instead of once a read (two `fcntl`s and an
 *   `fstat` each).
 * Measured at 32 connections on a 2-core VM: GET by id 21 000 → 30 000 requests/s, a page of 100 5 300 → 7 400
 * (docs/PERFORMANCE.md, "Seventh pass").
 *
 * Each read still completes before its answer is sent, and sees every write committed before its request arrived:
 * the batch's snapshot is taken when the batch runs, after the requests were read. A read that fails (its own error,
 * or SQLITE_BUSY past its deadline) fails alone; the others of the batch are answered. A read that finds the WAL
 * busy (rare: another connection is recovering it) is tried again on a timer, like a write.
 */
export class GroupRead {
  private readonly queue: PendingRead[] = [];
  /** A turn is open: a read has run at once in it, the next ones wait for its end (setImmediate). */
  private turnOpen = false;
  private statements: ConnectionStatements | undefined;

  constructor(private readonly options: GroupReadOptions) {}

  /** Runs a read (synchronous code on the connection) now or at the end of this turn; resolves with its result. */
  read<T>(run: () => T): Promise<T> {
    if (!this.turnOpen) {
      this.openTurn();
      return this.attempt(run);
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Runs the reads that wait now (the connection is about to close). */
  flush(): void {
    while (this.queue.length > 0) this.runBatch();
  }

  private openTurn(): void {
    this.turnOpen = true;
    setImmediate(this.endTurn);
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    if (this.queue.length === 0) return;
    this.openTurn();
    this.runBatch();
  };

  private runBatch(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    const statements = this.beginBatch(batch.length);
    // attempt() is async: a read that throws rejects its own promise, never this loop.
    for (const { run, resolve, reject } of batch) this.attempt(run).then(resolve, reject);
    if (statements) this.endBatch(statements);
  }

  /**
   * The batch's read transaction; none for a batch of one, or on a connection that is closed or inside one. Never
   * throws (this runs from setImmediate): without the transaction, the reads run each on its own, as a lone read.
   */
  private beginBatch(size: number): ConnectionStatements | undefined {
    const db = this.options.connection();
    if (size < 2 || !db.open || db.inTransaction) return undefined;
    try {
      const statements = this.statementsOf(db);
      statements.begin.run();
      return statements;
    } catch {
      return undefined;
    }
  }

  /**
   * Ends the batch's snapshot (read-only: COMMIT and ROLLBACK are the same). A transaction left open would refuse the
   * next group commit's BEGIN IMMEDIATE, so a failed COMMIT is rolled back; a fault that ended the transaction itself
   * leaves nothing to end.
   */
  private endBatch({ db, commit }: ConnectionStatements): void {
    try {
      if (db.inTransaction) commit.run();
    } catch {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // The connection is unusable: the next read or write reports its own error.
      }
    }
  }

  /** A read; when WAL makes it wait, tried again after 1, 1, 2 … 50 ms, up to busyTimeoutMs in all. */
  private async attempt<T>(run: () => T): Promise<T> {
    // Set at the first busy answer: the first attempt, almost always the only one, reads no clock.
    let deadline: number | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return run();
      } catch (error) {
        if (!sqliteErrorCode(error)?.startsWith('SQLITE_BUSY')) throw error;
        deadline ??= performance.now() + this.options.busyTimeoutMs;
        if (performance.now() >= deadline) throw error;
      }
      await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!);
    }
  }

  private statementsOf(db: BetterSqlite3.Database): ConnectionStatements {
    if (this.statements?.db !== db) {
      this.statements = { db, begin: db.prepare('BEGIN'), commit: db.prepare('COMMIT') };
    }
    return this.statements;
  }
}
