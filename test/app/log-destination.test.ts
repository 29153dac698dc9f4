import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { openBufferedLog, type BufferedLog } from '../../src/http/log-destination.js';

// The blocks of the buffered log (src/http/log-destination.ts), written to a file: what is written when, and what
// waits. The processes' guarantees (SIGTERM, exit, kill -9, workers on one pipe) are in test/e2e/log-buffer.test.ts.

const BYTES = 100;
/** A line of `size` bytes, newline included, that names itself. */
const lineOf = (name: string, size: number) => `${name}${'.'.repeat(size - name.length - 1)}\n`;

describe('buffered log blocks', () => {
  let directory: string;
  let file: string;
  let fd: number;
  let log: BufferedLog;
  const written = () => readFileSync(file, 'utf8');

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-log-'));
    file = join(directory, 'log');
    fd = openSync(file, 'a');
    log = openBufferedLog({ bytes: BYTES, flushIntervalMs: 60000, fd });
  });
  afterEach(() => {
    log.close();
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps whole lines until the next one would make a block of BYTES, then writes the block before it', () => {
    const a = lineOf('a', 40);
    const b = lineOf('b', 40);
    const c = lineOf('c', 19); // a + b + c: 99 bytes, one less than BYTES
    log.write(a);
    log.write(b);
    log.write(c);
    assert.equal(written(), '', 'fewer than BYTES bytes wait');
    const d = lineOf('d', 2);
    log.write(d);
    assert.equal(written(), a + b + c, 'the block, not the line that would not fit');
    log.close();
    assert.equal(written(), a + b + c + d, 'close writes what waits');
    log.write(lineOf('e', 3));
    assert.equal(written(), a + b + c + d + lineOf('e', 3), 'after close, each line at once');
  });

  it('writes a line of BYTES or more alone, after the lines before it', () => {
    const a = lineOf('a', 30);
    const long = lineOf('long', BYTES + 50);
    log.write(a);
    log.write(long);
    assert.equal(written(), a + long);
    log.write(lineOf('b', 10));
    assert.equal(written(), a + long, 'a short line waits again');
  });

  it('counts bytes, not characters', () => {
    const wide = `${'é'.repeat(30)}\n`; // 61 bytes in 31 characters
    log.write(wide);
    log.write(wide);
    assert.equal(written(), wide, 'two such lines are more than BYTES bytes');
  });

  it("writes a pino line at warn or above at once, with the lines before it, in their order", () => {
    const logger = pino({ level: 'info', hooks: log.hooks }, log.stream);
    const a = lineOf('a', 20);
    log.write(a);
    logger.info('waits');
    assert.equal(written(), '');
    logger.warn('now');
    const lines = written().split('\n').filter(Boolean);
    assert.equal(lines[0], a.trimEnd());
    assert.deepEqual(lines.slice(1).map((line) => (JSON.parse(line) as { msg: string }).msg), ['waits', 'now']);
  });
});
