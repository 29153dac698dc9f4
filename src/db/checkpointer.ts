import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

/** The shared state's slots: commits since the start (the server adds), closing (the server sets 1). */
export const CHECKPOINTER_SLOTS = { commits: 0, closing: 1 } as const;

/** What the checkpointer's thread is given. */
export interface CheckpointerData {
  filename: string;
  /** The server's SQLITE_SYNCHRONOUS: the checkpoint syncs as the commits do. */
  synchronous: string;
  /** The file the server has open: the thread opens that file or nothing. */
  identity: { dev: number; ino: number };
  /** How long commits gather before a checkpoint copies them. */
  gatherMs: number;
  state: Int32Array;
}

/** What the thread says: it could not start (or stopped), a checkpoint failed, checkpoints work again. */
export interface CheckpointerReport {
  kind: 'stopped' | 'failing' | 'recovered';
  code: string;
}

/**
 * How many WAL pages the server's own connection lets pile up before it checkpoints itself (SQLite's
 * wal_autocheckpoint; its default is 1,000). The checkpointer keeps the WAL copied well before that; this bound
 * holds if it falls behind, cannot start, or stops: the WAL never grows past ~16 MB.
 */
export const SERVER_AUTOCHECKPOINT_PAGES = 4000;

/** Commits gather this long before a checkpoint: one copy of a page rewritten by many batches. */
const GATHER_MS = 20;
/** How long a close waits for the thread to finish its checkpoint and close its connection. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * The thread's script. In the build, its bundle (scripts/build-bundle.ts). Under tsx (tests, npm run dev), its
 * source, which the thread loads through tsx's loader: a worker thread does not inherit the loader of the thread
 * that starts it.
 */
function threadScript(): { script: URL | string; eval: boolean } {
  if (!import.meta.filename.endsWith('.ts')) return { script: new URL('../../dist/db/checkpointer.js', import.meta.url), eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(new URL('./checkpointer.worker.ts', import.meta.url).href);
  return { script: `import(${tsx}).then(({ register }) => { register(); return import(${source}); });`, eval: true };
}

/**
 * SQLite's WAL checkpoints, on a thread of their own. A commit in WAL mode appends pages to the WAL; a checkpoint
 * copies them into the database file and syncs it. SQLite runs it inside the commit that crosses 1,000 WAL pages:
 * on the event loop, with two fsyncs, every few hundred milliseconds under a write load (and every request waits
 * for it). Here a thread with its own connection checkpoints shortly after commits instead (PASSIVE: it never
 * blocks a reader or a writer), and the server's connection checkpoints itself only past
 * SERVER_AUTOCHECKPOINT_PAGES. Durability is unchanged: a write is durable once its commit is in the WAL (the
 * response waits for that); a checkpoint only moves it. Measured at 32 writing connections: POST +10–16 % req/s,
 * PATCH +13–20 %, p99 −10 to −25 %, for 9–14 MB of RSS (docs/PERFORMANCE.md). Started only with
 * SQLITE_CHECKPOINT_THREAD=true: off by default since that memory is more than issue 10's RSS bar leaves ("Ninth pass").
 */
export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;

  constructor(data: Omit<CheckpointerData, 'state' | 'gatherMs'>, onReport: (report: CheckpointerReport) => void) {
    const { script, eval: isSource } = threadScript();
    this.worker = new Worker(script, {
      eval: isSource,
      workerData: { ...data, gatherMs: GATHER_MS, state: this.state } satisfies CheckpointerData,
      // A small heap: the thread holds a connection and a statement, nothing more.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', onReport);
    this.worker.on('error', (error) => onReport({ kind: 'stopped', code: (error as { code?: string }).code ?? error.name }));
    this.exited = once(this.worker, 'exit').catch(() => undefined);
    // Never what keeps the process alive.
    this.worker.unref();
  }

  /** A transaction was committed: the thread wakes up (if it sleeps) and copies it shortly. */
  committed(): void {
    Atomics.add(this.state, CHECKPOINTER_SLOTS.commits, 1);
    Atomics.notify(this.state, CHECKPOINTER_SLOTS.commits);
  }

  /** Stops the thread after its current checkpoint, if any, and closes its connection. */
  async close(): Promise<void> {
    Atomics.store(this.state, CHECKPOINTER_SLOTS.closing, 1);
    // Counted as a commit too: a thread that goes back to sleep after a checkpoint waits for the count to change
    // from what it last saw, so it wakes at once instead of missing this notify (it was copying, not waiting).
    Atomics.add(this.state, CHECKPOINTER_SLOTS.commits, 1);
    Atomics.notify(this.state, CHECKPOINTER_SLOTS.commits);
    Atomics.notify(this.state, CHECKPOINTER_SLOTS.closing);
    // Waited for: the process stays up until the thread's connection is closed. Bounded all the same: a thread
    // that does not stop (it never should) is terminated, which SQLite survives (a checkpoint is atomic).
    this.worker.ref();
    const stopped = await Promise.race([this.exited.then(() => true), sleep(CLOSE_TIMEOUT_MS, false, { ref: false })]);
    if (!stopped) await this.worker.terminate();
  }
}
