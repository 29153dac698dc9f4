import pino from 'pino';
import type { LineWriter } from './access-log.js';

/** pino's level number of `warn`: lines from this level up are written at once. */
const WARN = 40;

export interface BufferedLogOptions {
  /** LOG_BUFFER_BYTES: at most this many bytes of lines wait in memory; each write is at most this long (0: none wait). */
  bytes: number;
  /** LOG_FLUSH_INTERVAL_MS: the longest a line waits on a quiet server. */
  flushIntervalMs: number;
  /** The file descriptor written to (default 1, stdout). */
  fd?: number;
}

export interface BufferedLog {
  /** What the pino logger writes to. */
  readonly stream: pino.DestinationStream;
  /** pino hooks: a `warn` or worse line is written at once, with every line before it. */
  readonly hooks: { logMethod: NonNullable<NonNullable<pino.LoggerOptions['hooks']>['logMethod']> };
  /** Writes a whole line (the access log's, src/http/access-log.ts) as pino would: buffered, below warn. */
  readonly write: LineWriter;
  /** Writes the buffered lines and stops buffering: a line logged later is written at once (app close). */
  close(): void;
}

/**
 * The log destination of a server process: pino's sonic-boom on stdout, writing its lines in blocks of up to
 * `bytes` instead of one write(2) per line, i.e. per request (issue 10).
 *
 * - **sync**: a block is written synchronously when the next line would not fit. A write is then never in flight
 *   when JavaScript runs, so that the flushes on close and on exit (flushSync) can neither reorder nor lose a block,
 *   and what waits in memory never exceeds `bytes` − 1 (the asynchronous mode keeps collecting lines while a block
 *   is being written: its `kill -9` loss is not bounded by `bytes`). One write of ~4 KB costs about what one of a line does.
 * - **maxWrite = bytes**: a block holds whole lines and, with `bytes` ≤ 4096 (PIPE_BUF), a write to a pipe is
 *   atomic: workers sharing stdout never interleave their lines, as with a write per line.
 * - a timer (unref'd) writes what waits every `flushIntervalMs`, so a quiet server's log is never older than that;
 *   lines at `warn` and above are written at once (an outage, a bug: the lines an operator waits for, and those a
 *   kill -9 must not take).
 * - the process's `exit` writes what waits (process.exit after the shutdown timeout, a second signal, a crash);
 *   close() does it when the app closes and stops buffering, for the lines logged after.
 *
 * What a `kill -9` (or the OOM killer) loses: the info lines that wait, fewer than `bytes` bytes, never a partial
 * line (docs/RELIABILITY.md, test/e2e/log-buffer.test.ts).
 */
export function openBufferedLog({ bytes, flushIntervalMs, fd = 1 }: BufferedLogOptions): BufferedLog {
  // A write starts once minLength bytes wait; a block holds at most maxWrite bytes (sonic-boom wants minLength < maxWrite).
  // bytes 0: every line written at once, synchronously (pino's own default writes asynchronously: a line still in
  // flight when a kill -9 comes is lost, even unbuffered).
  const destination =
    bytes > 0 ? pino.destination({ dest: fd, sync: true, minLength: bytes - 1, maxWrite: bytes }) : pino.destination({ dest: fd, sync: true });
  // Set by every line logged: the timer writes nothing (not even an empty write) on an idle server.
  let pending = false;

  const flush = () => {
    if (!pending) return;
    pending = false;
    // In sync mode a write is never in flight here, and what waits is one block (< maxWrite): flush() writes it all.
    destination.flush();
  };
  // Everything that waits, synchronously: flushSync writes every block (and fsyncs, once, at the end of the process).
  const flushAll = () => {
    pending = false;
    try {
      destination.flushSync();
    } catch {
      // stdout itself failed (a closed pipe is already ignored by pino): there is nowhere left to say so.
    }
  };

  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  process.on('exit', flushAll);

  return {
    stream: destination,
    hooks: {
      logMethod(args, method, level) {
        method.apply(this, args);
        pending = true;
        if (level >= WARN) flush();
      },
    },
    write(line) {
      destination.write(line);
      pending = true;
    },
    close() {
      clearInterval(timer);
      process.removeListener('exit', flushAll);
      flushAll();
      // sonic-boom reads minLength at every write: 0 writes each later line at once, as with no buffer.
      (destination as unknown as { minLength: number }).minLength = 0;
    },
  };
}
