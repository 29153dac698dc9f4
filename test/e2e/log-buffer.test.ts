import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ROOT, startServer, type ServerProcess, type StartOptions } from '../../scripts/harness/server-process.js';
import { userInput } from '../helpers/factories.js';

// The buffered access log (LOG_BUFFER_BYTES, LOG_FLUSH_INTERVAL_MS; src/http/log-destination.ts) on the built
// server as a real process whose stdout is a file, as under a process manager. Every assertion is on what the file
// holds; none on how long something took.

before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

const BUFFER_BYTES = 4096;
/** Long enough that the timer never writes during a test that is about what the buffer holds. */
const NO_TIMER = '60000';

interface LogLine {
  level?: number;
  msg?: string;
  request_id?: string;
  [key: string]: unknown;
}

/** The access lines of a log's text, by request id. Every JSON line must parse: a torn or interleaved one fails here. */
function requestLinesOf(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as LogLine;
    if (entry.msg === 'request' && entry.request_id) found.set(entry.request_id, line);
  }
  return found;
}

const requestLines = (file: string) => requestLinesOf(readFileSync(file, 'utf8'));

/** The log's entries with this message. */
const entriesOf = (text: string, msg: string): LogLine[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((entry) => entry.msg === msg);

/** The request ids of a burst: all of one length, so that their access lines are of one length (± the `ms` digits). */
const idsOf = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

/** GETs /users/1 once per id, `concurrency` at a time; resolves with the ids answered (any status; not those refused). */
async function burst(server: ServerProcess, ids: string[], concurrency = 8, onAnswer?: (answered: number) => void): Promise<Set<string>> {
  const answered = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const response = await fetch(`${server.url}/users/1`, { headers: { 'x-request-id': id } });
        await response.arrayBuffer();
        answered.add(id);
        onAnswer?.(answered.size);
      } catch {
        // refused or reset: the server is closing
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return answered;
}

/**
 * One more request, answered: the server reads it only after it wrote the burst's last response, whose access line
 * is logged as that write completes. After it, every line of the burst has been handed to the log (kill -9 tests).
 */
async function settle(server: ServerProcess): Promise<void> {
  const response = await fetch(`${server.url}/healthcheck`, { headers: { 'x-request-id': 'settle' } });
  await response.arrayBuffer();
}

/** The X-Instance-Id of the worker that answers a request on a new connection. */
function instanceOf(server: ServerProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${server.url}/healthcheck`, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(String(response.headers['x-instance-id'])));
    }).on('error', reject);
  });
}

describe('the buffered access log', () => {
  let directory: string;
  let server: ServerProcess | undefined;
  let test = 0;
  /** A server with its own database and log file, logging at info. */
  const start = async (env: Record<string, string> = {}, options: StartOptions = {}) => {
    const name = `run-${++test}`;
    const logFile = join(directory, `${name}.log`);
    const database = `file:${join(directory, `${name}.db`)}`;
    server = await startServer({ env: { LOG_LEVEL: 'info', DATABASE_URL: database, ...env }, logFile, name, ...options });
    return { server, logFile };
  };

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-log-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('writes the lines of a quiet server within the flush interval, without being stopped', async () => {
    // The defaults: 4 KB of buffer, written every second. Five lines are far from filling it: only the timer writes them.
    const { server, logFile } = await start();
    const ids = idsOf('quiet', 5);
    assert.equal((await burst(server, ids, 1)).size, ids.length);
    let found = requestLines(logFile);
    // Bounded: a second's interval, with room for a busy machine.
    for (let waited = 0; waited < 5000 && ids.some((id) => !found.has(id)); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      found = requestLines(logFile);
    }
    assert.deepEqual(ids.filter((id) => !found.has(id)), [], 'every access line is in the file while the server runs');
    assert.equal(server.child.exitCode, null, 'the server is still running');
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it('writes a warn or error line at once, with every line before it, while the server runs', async () => {
    const { server, logFile } = await start({ LOG_FLUSH_INTERVAL_MS: NO_TIMER, SQLITE_BUSY_TIMEOUT_MS: '100' });
    const ids = idsOf('before-error', 3); // far below 4 KB: they wait
    assert.equal((await burst(server, ids, 1)).size, ids.length);
    // Another process holds SQLite's write lock: a POST gets 503, and the outage is logged at error.
    const other = new BetterSqlite3(join(directory, `run-${test}.db`));
    try {
      other.exec('BEGIN IMMEDIATE');
      const refused = await fetch(`${server.url}/users/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(userInput()),
      });
      await refused.arrayBuffer();
      assert.equal(refused.status, 503);
      let text = readFileSync(logFile, 'utf8');
      // Bounded: the line is written as it is logged, which may come just after the answer.
      for (let waited = 0; waited < 5000 && entriesOf(text, 'database unavailable').length === 0; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        text = readFileSync(logFile, 'utf8');
      }
      assert.equal(entriesOf(text, 'database unavailable').length, 1, 'the error line is in the file');
      const found = requestLinesOf(text);
      assert.deepEqual(ids.filter((id) => !found.has(id)), [], 'with the lines logged before it');
    } finally {
      other.close();
    }
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it('loses no line on SIGTERM right after a burst: every answered request and the shutdown are in the file', async () => {
    const { server, logFile } = await start({ LOG_FLUSH_INTERVAL_MS: NO_TIMER });
    const ids = idsOf('term', 300);
    // SIGTERM while the burst is still going: the requests in flight are finished (and logged) during the shutdown.
    let stopping: Promise<unknown> | undefined;
    const answered = await burst(server, ids, 8, (count) => {
      if (count === 150) stopping = server.stop('SIGTERM');
    });
    await stopping;
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.ok(answered.size >= 150);
    const found = requestLines(logFile);
    assert.deepEqual([...answered].filter((id) => !found.has(id)), [], 'every answered request has its access line');
    assert.ok(
      entriesOf(readFileSync(logFile, 'utf8'), 'shutting down').some((entry) => entry['signal'] === 'SIGTERM'),
      'the shutdown line is in the file',
    );
  });

  it('loses no line when the shutdown times out (close-with-grace exits the process)', async () => {
    const { server, logFile } = await start({ LOG_FLUSH_INTERVAL_MS: NO_TIMER, SHUTDOWN_TIMEOUT_MS: '300' });
    const ids = idsOf('timeout', 50);
    const answered = await burst(server, ids);
    // A request that never ends (its body never comes) holds app.close() past the grace period: process.exit(1).
    const stuck = connect(server.port, '127.0.0.1');
    await once(stuck, 'connect');
    stuck.write('POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    stuck.on('error', () => {});
    await settle(server);
    try {
      assert.deepEqual(await server.stop(), { code: 1, signal: null });
    } finally {
      stuck.destroy();
    }
    const found = requestLines(logFile);
    assert.deepEqual([...answered].filter((id) => !found.has(id)), [], 'every answered request has its access line');
    assert.equal(entriesOf(readFileSync(logFile, 'utf8'), 'shutting down').length, 1, 'the shutdown line is in the file');
  });

  it('loses no line on a crash: an uncaught exception goes through close-with-grace', async () => {
    // The crash: a preloaded module throws from a signal listener, outside any request.
    const crash = `data:text/javascript,process.on('SIGWINCH', () => { throw new Error('test crash') })`;
    const { server, logFile } = await start({ LOG_FLUSH_INTERVAL_MS: NO_TIMER }, { nodeArgs: ['--import', crash] });
    const ids = idsOf('crash', 50);
    const answered = await burst(server, ids);
    await settle(server);
    assert.deepEqual(await server.stop('SIGWINCH'), { code: 1, signal: null });
    const found = requestLines(logFile);
    assert.deepEqual([...answered].filter((id) => !found.has(id)), [], 'every answered request has its access line');
    const [crashed] = entriesOf(readFileSync(logFile, 'utf8'), 'shutting down after an error');
    assert.match(String((crashed?.['err'] as { message?: string } | undefined)?.message), /test crash/, 'the error is in the file');
  });

  it("under WORKERS=2 on one pipe, every worker's lines are written on SIGTERM, none torn by the other's", async () => {
    // stdout is a pipe shared by the workers (keepOutput), as under Docker: a block is at most PIPE_BUF, so atomic.
    const { server } = await start({ WORKERS: '2', INSTANCE_ID: 'w', LOG_FLUSH_INTERVAL_MS: NO_TIMER }, { keepOutput: true });
    // Healthy once one worker listens: wait (bounded) until both answer, each on a new connection.
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      seen.add(await instanceOf(server));
      if (seen.size < 2) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual([...seen].sort(), ['w.1', 'w.2']);
    const ids = idsOf('workers', 400);
    const answered = await burst(server, ids);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    // The pipe is read after the exit: wait (bounded) for both workers' last line.
    for (let waited = 0; waited < 5000 && entriesOf(server.output(), 'shutting down').length < 2; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const found = requestLinesOf(server.output()); // parses every line
    assert.deepEqual([...answered].filter((id) => !found.has(id)), [], 'every answered request has its access line');
    const pids = (msg: string) => new Set(entriesOf(server.output(), msg).map((entry) => entry['pid']));
    assert.equal(pids('request').size, 2, 'both workers served');
    assert.equal(pids('shutting down').size, 2, 'both workers logged their shutdown');
  });

  it(`loses at most LOG_BUFFER_BYTES (${BUFFER_BYTES}) of access lines on kill -9, and never part of a line`, async (t) => {
    const { server, logFile } = await start({ LOG_BUFFER_BYTES: String(BUFFER_BYTES), LOG_FLUSH_INTERVAL_MS: NO_TIMER });
    const ids = idsOf('kill', 300); // ~50 KB of lines: a dozen blocks written, then what waits
    assert.equal((await burst(server, ids)).size, ids.length);
    await settle(server);
    assert.equal((await server.stop('SIGKILL')).signal, 'SIGKILL');

    const found = requestLines(logFile); // parses every line: no torn line
    const missing = ids.filter((id) => !found.has(id));
    const longest = Math.max(...[...found.values()].map((line) => Buffer.byteLength(line) + 1));
    // A lost line is counted as long as the longest one kept (they differ by the digits of `ms`).
    const lostBytes = missing.length * longest;
    t.diagnostic(`kill -9 lost ${missing.length} of ${ids.length} access lines (≤ ${lostBytes} bytes)`);
    assert.ok(found.size > 0, 'full blocks were written while the server ran');
    assert.ok(
      lostBytes <= BUFFER_BYTES + longest,
      `lost ${missing.length} lines (≤ ${lostBytes} bytes), more than LOG_BUFFER_BYTES (${BUFFER_BYTES}) + one line (${longest})`,
    );
  });

  it('loses the lines that wait in the buffer on kill -9 (what the bound is about)', async () => {
    const { server, logFile } = await start({ LOG_FLUSH_INTERVAL_MS: NO_TIMER });
    // Three lines and the start-up's few: far below 4 KB, so nothing has been written since the start.
    const ids = idsOf('waiting', 3);
    assert.equal((await burst(server, ids, 1)).size, ids.length);
    assert.equal((await server.stop('SIGKILL')).signal, 'SIGKILL');
    const found = requestLines(logFile);
    assert.deepEqual(ids.filter((id) => found.has(id)), [], 'the waiting lines died with the process');
  });

  it('with LOG_BUFFER_BYTES=0 writes every line at once: kill -9 loses none', async () => {
    const { server, logFile } = await start({ LOG_BUFFER_BYTES: '0' });
    const ids = idsOf('unbuffered', 300);
    assert.equal((await burst(server, ids)).size, ids.length);
    await settle(server);
    assert.equal((await server.stop('SIGKILL')).signal, 'SIGKILL');
    const found = requestLines(logFile);
    assert.deepEqual(ids.filter((id) => !found.has(id)), [], 'every access line is in the file');
  });
});
