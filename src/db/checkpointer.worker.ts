import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { CHECKPOINTER_SLOTS, type CheckpointerData, type CheckpointerReport } from './checkpointer.js';

// The checkpointer's thread (src/db/checkpointer.ts): copies the WAL's committed pages into the database file, so
// that the event loop's commits do not. It sleeps until a commit, lets more gather for a moment, checkpoints, and
// sleeps again: an idle server's checkpointer does nothing.

const { filename, synchronous, identity, gatherMs, state } = workerData as CheckpointerData;
const report = (message: CheckpointerReport) => parentPort?.postMessage(message);
const codeOf = (error: unknown) => (error as { code?: string }).code ?? 'UNKNOWN';

function open(): BetterSqlite3.Database | undefined {
  // Only the file the server has open: a file put in its place beside the old WAL must never be opened.
  const stats = statSync(filename, { throwIfNoEntry: false });
  if (!stats || stats.dev !== identity.dev || stats.ino !== identity.ino) {
    report({ kind: 'stopped', code: 'FILE_CHANGED' });
    return undefined;
  }
  try {
    const sqlite = new BetterSqlite3(filename, { fileMustExist: true, timeout: 0 });
    // The checkpoint syncs the WAL before copying and the file after, as the connection's setting says: the
    // server's own, or an acknowledged write could be lost with the machine.
    sqlite.pragma(`synchronous = ${synchronous}`);
    sqlite.pragma('wal_autocheckpoint = 0');
    return sqlite;
  } catch (error) {
    report({ kind: 'stopped', code: codeOf(error) });
    return undefined;
  }
}

const sqlite = open();
if (sqlite) {
  // PASSIVE: copies what no reader still needs, never waits for a lock, never blocks a writer or a reader.
  const checkpoint = sqlite.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let seen = 0;
  let failing: string | undefined;
  for (;;) {
    Atomics.wait(state, CHECKPOINTER_SLOTS.commits, seen);
    if (Atomics.load(state, CHECKPOINTER_SLOTS.closing) !== 0) break;
    // The commits of the next few milliseconds are copied with this one (wakes at once on close).
    Atomics.wait(state, CHECKPOINTER_SLOTS.closing, 0, gatherMs);
    if (Atomics.load(state, CHECKPOINTER_SLOTS.closing) !== 0) break;
    seen = Atomics.load(state, CHECKPOINTER_SLOTS.commits);
    try {
      checkpoint.get();
      if (failing) report({ kind: 'recovered', code: failing });
      failing = undefined;
    } catch (error) {
      // SQLITE_BUSY: another connection is checkpointing. Anything else is said once; the next commit retries.
      const code = codeOf(error);
      if (!code.startsWith('SQLITE_BUSY') && code !== failing) report({ kind: 'failing', code });
      if (!code.startsWith('SQLITE_BUSY')) failing = code;
    }
  }
  sqlite.close();
}
