import type BetterSqlite3 from 'better-sqlite3';
import { sqliteErrorCode } from './sqlite-errors.js';

/** The statements of a batch, prepared once per connection. */
interface ConnectionStatements {
  db: BetterSqlite3.Database;
  begin: BetterSqlite3.Statement;
  commit: BetterSqlite3.Statement;
  rollback: BetterSqlite3.Statement;
  savepoint: BetterSqlite3.Transaction<(run: () => unknown) => unknown>;
}

/** One write waiting for its commit. */
interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Set at the first busy answer: how long it may still wait for the lock. */
  deadline?: number;
}

/** At most this many writes share a transaction: the event loop is held for one batch (~20 ms at most). */
const MAX_BATCH = 128;
/** Waits between attempts to take the write lock: short at first (locks are held for ~0.1 ms), then capped. */
export const BACKOFF_MS = [1, 1, 2, 4, 8, 16, 25, 50];
/** Batch-size buckets of the summary (upper bounds). */
const BUCKETS: [label: string, upTo: number][] = [
  ['1', 1],
  ['2-3', 3],
  ['4-7', 7],
  ['8-15', 15],
  ['16-31', 31],
  ['32-63', 63],
  ['64+', Infinity],
];

/** How the writes were grouped since the start: logged when the database closes. */
export interface GroupCommitStats {
  batches: number;
  writes: number;
  largest: number;
  sizes: Record<string, number>;
}

export interface GroupCommitOptions {
  /** The connection to write on now (it changes when the file is reopened). */
  connection: () => BetterSqlite3.Database;
  /** How long a write may wait for another connection's lock, in all (SQLITE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs: number;
  /** Checked before each batch: a write must not start (the error to refuse it with). */
  refusal: () => Error | undefined;
  /** Told of every error a write or the commit met (read-only files are noticed here). */
  onError: (error: unknown) => void;
  /** Told of every committed transaction (the checkpointer copies it from the WAL). */
  onCommit?: () => void;
  /** Run inside each transaction after its writes, before COMMIT; a throw fails the batch like a failed COMMIT. */
  beforeCommit?: () => void;
}

/**
 * Group commit: the writes that arrive while one is being committed (in the same turn of the event loop: every
 * request read from the sockets in that turn) are committed together after it, in one IMMEDIATE transaction, each
 * in its own savepoint, so that a refused write (a taken email, a stale If-Match, a replayed idempotency key) is
 * undone alone and never affects another. The first write of a turn is committed at once: a lone client waits for
 * nothing. Every write's promise settles only after its commit: a response is never sent for an uncommitted write.
 * In WAL mode with synchronous=NORMAL a commit costs a WAL append, and with the trigram index a new FTS5 segment:
 * shared by a batch, they no longer grow with the number of writes.
 *
 * The lock is taken once per batch. When another connection (another worker) holds it, the batch is tried again
 * after a timer (BACKOFF_MS), with the writes that arrived meanwhile; a write that waited SQLITE_BUSY_TIMEOUT_MS in
 * all fails with the busy error (503). The event loop never sleeps on a lock.
 */
export class GroupCommit {
  private readonly queue: PendingWrite[] = [];
  /** A turn is open: a write has been committed at once in it, the next ones wait for its end (setImmediate). */
  private turnOpen = false;
  /** Set while another connection holds the lock: the next try. */
  private lockRetry: NodeJS.Timeout | undefined;
  /** Busy answers in a row: the index into BACKOFF_MS. */
  private busyAttempts = 0;
  private statements: ConnectionStatements | undefined;
  readonly stats: GroupCommitStats = { batches: 0, writes: 0, largest: 0, sizes: Object.fromEntries(BUCKETS.map(([label]) => [label, 0])) };

  constructor(private readonly options: GroupCommitOptions) {}

  /** Runs a write (synchronous code on the connection); resolves with its result once it is committed. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.turnOpen || this.lockRetry) return;
      this.openTurn();
      this.commitBatch();
    });
  }

  /** setImmediate runs after the poll phase: the writes of the requests read in the rest of this turn wait for it. */
  private openTurn(): void {
    this.turnOpen = true;
    setImmediate(this.endTurn);
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    if (this.queue.length === 0 || this.lockRetry) return;
    this.openTurn();
    this.commitBatch();
  };

  private readonly retryLock = (): void => {
    this.lockRetry = undefined;
    this.commitBatch();
  };

  /** Commits the queued writes (up to MAX_BATCH; more wait for the end of the turn). */
  private commitBatch(): void {
    if (this.queue.length === 0) return;
    const refusal = this.options.refusal();
    if (refusal) {
      this.busyAttempts = 0;
      for (const write of this.queue.splice(0)) write.reject(refusal);
      return;
    }
    const statements = this.statementsOf(this.options.connection());
    try {
      this.commitOn(statements);
    } finally {
      this.restoreTempStore(statements.db);
    }
  }

  /**
   * The batch, with the connection's temporary files in memory. Every insert journals the pages it and its triggers
   * (the search index's notes, the counts) change, so that it can be undone alone; past 64 KiB SQLite spills that journal to
   * a temporary file: 12 more `pwrite`s an insert, measured, for a journal a crash discards anyway (the WAL holds
   * only committed transactions). For the batch only: a read's sort (a search with a large offset) still spills to
   * disk instead of growing the heap.
   */
  private commitOn({ begin, commit, rollback, savepoint, db }: ConnectionStatements): void {
    try {
      // Exec, not a prepared statement: SQLite applies this pragma when it compiles it. Outside a transaction only.
      db.exec('PRAGMA temp_store = MEMORY');
      begin.run();
    } catch (error) {
      this.options.onError(error);
      if (sqliteErrorCode(error)?.startsWith('SQLITE_BUSY')) this.waitForLock(error);
      else {
        this.busyAttempts = 0;
        for (const write of this.queue.splice(0)) write.reject(error);
      }
      return;
    }
    this.busyAttempts = 0;
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0 && !this.turnOpen) this.openTurn();
    const results: { ok: boolean; value: unknown }[] = [];
    let failed: unknown;
    for (const write of batch) {
      if (failed !== undefined) break;
      try {
        // One write alone needs no savepoint: if it fails, the whole transaction is rolled back below.
        results.push({ ok: true, value: batch.length === 1 ? write.run() : savepoint(write.run) });
      } catch (error) {
        results.push({ ok: false, value: error });
        this.options.onError(error);
        // Some errors (SQLITE_FULL, SQLITE_IOERR...) end the transaction itself: the writes before are undone.
        if (!db.inTransaction || batch.length === 1) failed = error;
      }
    }
    if (failed === undefined) {
      try {
        this.options.beforeCommit?.();
        commit.run();
      } catch (error) {
        this.options.onError(error);
        failed = error;
      }
    }
    if (failed !== undefined) {
      if (db.inTransaction) rollback.run();
      // A write refused on its own (a unique email...) keeps its own error; the others fail with the fault.
      for (const [index, write] of batch.entries()) {
        const result = results[index];
        write.reject(result && !result.ok ? result.value : failed);
      }
      return;
    }
    this.record(batch.length);
    this.options.onCommit?.();
    for (const [index, write] of batch.entries()) {
      const result = results[index]!;
      if (result.ok) write.resolve(result.value);
      else write.reject(result.value);
    }
  }

  /** Another connection holds the lock: the writes past their deadline fail, the others wait for the next try. */
  private waitForLock(error: unknown): void {
    const now = performance.now();
    for (let index = this.queue.length - 1; index >= 0; index--) {
      const write = this.queue[index]!;
      write.deadline ??= now + this.options.busyTimeoutMs;
      if (now >= write.deadline) {
        this.queue.splice(index, 1);
        write.reject(error);
      }
    }
    if (this.queue.length === 0) {
      this.busyAttempts = 0;
      return;
    }
    const wait = BACKOFF_MS[Math.min(this.busyAttempts, BACKOFF_MS.length - 1)]!;
    this.busyAttempts++;
    this.lockRetry = setTimeout(this.retryLock, wait);
  }

  /** Reads sort on disk again, as by default (SQLite refuses the change inside a transaction: none is open here). */
  private restoreTempStore(db: BetterSqlite3.Database): void {
    if (!db.open || db.inTransaction) return;
    try {
      db.exec('PRAGMA temp_store = DEFAULT');
    } catch (error) {
      this.options.onError(error);
    }
  }

  private statementsOf(db: BetterSqlite3.Database): ConnectionStatements {
    if (this.statements?.db !== db) {
      this.statements = {
        db,
        begin: db.prepare('BEGIN IMMEDIATE'),
        commit: db.prepare('COMMIT'),
        rollback: db.prepare('ROLLBACK'),
        // Called inside the batch's transaction, better-sqlite3 runs it in a savepoint (undone alone on a throw).
        savepoint: db.transaction((run: () => unknown) => run()),
      };
    }
    return this.statements;
  }

  private record(size: number): void {
    const { stats } = this;
    stats.batches++;
    stats.writes += size;
    stats.largest = Math.max(stats.largest, size);
    const [label] = BUCKETS.find(([, upTo]) => size <= upTo)!;
    stats.sizes[label]!++;
  }
}
