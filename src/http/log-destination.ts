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
 * The log destination of a server process: pino's sonic-boom on stdout, given the lines in blocks of up to `bytes`
 * instead of one write(2) per line, i.e. per request (issue 10).
 *
 * - **The blocks are made here**, not by sonic-boom's `minLength`: sonic-boom measures the byte length of the block
 *   it is filling at every line, which flattens that growing string each time (~2 KB allocated a request at 4 KB
 *   blocks, the largest allocation of a GET by id; docs/PERFORMANCE.md, "Sixth pass"). Here each line is measured
 *   once and a block is one string, written by sonic-boom at once.
 * - **sync**: a block is written synchronously when the next line would not fit. A write is then never in flight
 *   when JavaScript runs, so that the flushes on close and on exit can neither reorder nor lose a block, and what
 *   waits in memory never exceeds `bytes` − 1. One write of ~4 KB costs about what one of a line does.
 * - **Whole lines**: a block holds whole lines of at most `bytes` − 1 bytes in all (a longer line is written alone)
 *   and, with `bytes` ≤ 4096 (PIPE_BUF), a write to a pipe is atomic: workers sharing stdout never interleave their
 *   lines, as with a write per line.
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
  // Every write synchronous and at once (pino's own default writes asynchronously: a line still in flight when a
  // kill -9 comes is lost, even unbuffered).
  const destination = pino.destination({ dest: fd, sync: true });
  let buffering = bytes > 0;
  /** The lines that wait, whole, and their length in bytes (< `bytes`). */
  let block = '';
  let blockBytes = 0;

  const flush = () => {
    if (blockBytes === 0) return;
    const lines = block;
    block = '';
    blockBytes = 0;
    destination.write(lines);
  };
  const write = (line: string) => {
    if (!buffering) {
      destination.write(line);
      return;
    }
    const size = Buffer.byteLength(line);
    if (blockBytes + size >= bytes) flush();
    if (size >= bytes) {
      destination.write(line);
      return;
    }
    block += line;
    blockBytes += size;
  };
  // Everything that waits, synchronously, and whatever sonic-boom still holds (a write it could not finish).
  const flushAll = () => {
    try {
      flush();
      destination.flushSync();
    } catch {
      // stdout itself failed (a closed pipe is already ignored by pino): there is nowhere left to say so.
    }
  };

  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  process.on('exit', flushAll);

  return {
    stream: { write },
    hooks: {
      logMethod(args, method, level) {
        method.apply(this, args);
        if (level >= WARN) flush();
      },
    },
    write,
    close() {
      clearInterval(timer);
      process.removeListener('exit', flushAll);
      flushAll();
      // Each later line is written at once, as with no buffer.
      buffering = false;
    },
  };
}
