import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';
import { parseResponses, type RawResponse } from '../helpers/raw-http.js';

// Slow and abusive clients against the built server (dist/server.js) as a real process, with raw sockets:
// headers sent byte by byte, a trickled body, idle keep-alive connections, a declared 100 MB body, a chunked
// body over the limit, and 10,000 idle connections. The timeouts are small here so that the file stays quick;
// production uses the defaults of src/config.ts (10 s headers, 30 s request, 5 s keep-alive).
before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const KEEP_ALIVE_TIMEOUT_MS = 500;
// Node checks the header and request deadlines every connectionsCheckingInterval (src/app.ts: min(1 s, headers)).
const CHECK_INTERVAL_MS = Math.min(1000, HEADERS_TIMEOUT_MS);
// Node keeps an idle keep-alive socket 1 s beyond keepAliveTimeout (so that a client never reuses a socket the
// server is closing at that very moment).
const NODE_KEEP_ALIVE_GRACE_MS = 1000;
// Scheduling slack on a loaded 2-core machine.
const SLACK_MS = 1500;
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A raw TCP client that counts what it sent, keeps what it received, and notes when the connection ended. */
interface RawClient {
  socket: Socket;
  /** Bytes written so far. */
  sent: number;
  /** Bytes written when the first byte of a response arrived (undefined: nothing arrived yet). */
  sentAtFirstResponseByte: number | undefined;
  /** Date.now() when the socket closed. */
  closedAt: number | undefined;
  /** The error code that ended the connection (EPIPE, ECONNRESET), if any. */
  error: string | undefined;
  closed: Promise<void>;
  text(): string;
  /** Writes and waits for the socket buffer to drain; false once the connection is gone. */
  write(chunk: string | Buffer): Promise<boolean>;
}

async function connectRaw(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
  const socket = createConnection({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  const client: RawClient = {
    socket,
    sent: 0,
    sentAtFirstResponseByte: undefined,
    closedAt: undefined,
    error: undefined,
    closed: new Promise<void>((resolve) =>
      socket.once('close', () => {
        client.closedAt = Date.now();
        resolve();
      }),
    ),
    text: () => Buffer.concat(chunks).toString('latin1'),
    async write(chunk) {
      if (socket.destroyed || !socket.writable) return false;
      const flushed = socket.write(chunk);
      client.sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (!flushed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          socket.on('drain', done);
          socket.on('close', done);
        });
      }
      return !socket.destroyed && socket.writable;
    },
  };
  socket.on('data', (chunk: Buffer) => {
    client.sentAtFirstResponseByte ??= client.sent;
    chunks.push(chunk);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => (client.error ??= error.code ?? error.message));
  return client;
}

/** Waits (at most `timeoutMs`) until `count` complete responses arrived on the raw connection. */
async function responsesOn(client: RawClient, count: number, timeoutMs = 5000): Promise<RawResponse[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const responses = parseResponses(client.text());
    if (responses.length >= count || client.closedAt !== undefined || Date.now() > deadline) return responses;
    await sleep(5);
  }
}

/** One request on a fresh connection (no agent, no keep-alive pool), with its duration. */
function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      { method, agent: false, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** VmRSS and VmHWM (the peak RSS) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

function assertBodyTooLarge(response: RawResponse | undefined): void {
  assert.ok(response, 'a response arrived');
  assert.equal(response.status, 413);
  assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(response.headers['connection'], 'close', 'the server closes the connection instead of reading the body');
  const problem = JSON.parse(response.body) as { status: number; code: string };
  assert.equal(problem.status, 413);
  assert.equal(problem.code, 'BODY_TOO_LARGE');
}

describe(`slow and abusive clients (HEADERS_TIMEOUT_MS=${HEADERS_TIMEOUT_MS}, REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS}, KEEP_ALIVE_TIMEOUT_MS=${KEEP_ALIVE_TIMEOUT_MS})`, () => {
  let directory: string;
  let server: ServerProcess;
  /** What the server sent to the connection that never sent a byte (the first test), for the todo test. */
  let silentAnswer: string | undefined;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-slow-'));
    server = await startServer({
      DATABASE_URL: `file:${join(directory, 'users.db')}`,
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    });
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('cuts off a client that sends its headers byte by byte (and one that sends nothing), answering others meanwhile', { timeout: 20000 }, async () => {
    const started = Date.now();
    const slow = await connectRaw(server.port);
    const silent = await connectRaw(server.port);
    // At 200 ms a byte this request would take over 20 s to send.
    const slowRequest = `GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Padding: ${'x'.repeat(40)}\r\n\r\n`;
    const trickle = (async () => {
      for (const byte of slowRequest) {
        if (!(await slow.write(byte))) return;
        await sleep(200);
      }
    })();
    // Meanwhile, normal clients on fresh connections are answered at once.
    const others: { status: number; ms: number }[] = [];
    while (slow.closedAt === undefined && Date.now() - started < HEADERS_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS + 2000) {
      const { status, ms } = await call(server.url, 'GET', '/healthcheck');
      others.push({ status, ms });
      await sleep(150);
    }
    await Promise.all([slow.closed, silent.closed, trickle]);
    silentAnswer = silent.text();

    for (const [name, client] of [['byte-by-byte', slow], ['silent', silent]] as const) {
      const lasted = client.closedAt! - started;
      assert.ok(lasted >= HEADERS_TIMEOUT_MS - 100, `${name}: not cut before HEADERS_TIMEOUT_MS (${lasted} ms)`);
      assert.ok(
        lasted <= HEADERS_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS,
        `${name}: cut off within HEADERS_TIMEOUT_MS + the check interval (${lasted} ms)`,
      );
      // The server answers 408 (or just closes); it never answers the request itself.
      const text = client.text();
      if (text) assert.match(text, /^HTTP\/1\.1 408 /, `${name}: ${text.slice(0, 40)}`);
    }
    assert.ok(slow.sent < slowRequest.length, `the slow request was never completed (${slow.sent} of ${slowRequest.length} bytes)`);
    assert.ok(others.length >= 3, `${others.length} normal requests during the attack`);
    for (const other of others) {
      assert.equal(other.status, 200);
      assert.ok(other.ms < 1000, `a normal request took ${other.ms.toFixed(0)} ms`);
    }
  });

  it('cuts off a client that trickles its body, at REQUEST_TIMEOUT_MS', { timeout: 20000 }, async () => {
    const started = Date.now();
    const client = await connectRaw(server.port);
    const head =
      'POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    await client.write(head);
    // One byte every 100 ms: the 1000-byte body would take 100 s.
    const trickle = (async () => {
      while (await client.write(' ')) await sleep(100);
    })();
    await Promise.all([client.closed, trickle]);
    const lasted = client.closedAt! - started;
    // The headers were complete at once, so only the whole-request deadline can cut this client.
    assert.ok(lasted >= REQUEST_TIMEOUT_MS - 100, `not cut before REQUEST_TIMEOUT_MS (${lasted} ms)`);
    assert.ok(lasted <= REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS, `cut off within REQUEST_TIMEOUT_MS + the check interval (${lasted} ms)`);
    assert.ok(client.sent < head.length + 1000, 'the body was never completed');
    const text = client.text();
    if (text) assert.match(text, /^HTTP\/1\.1 408 /, text.slice(0, 40));
    assert.equal((await call(server.url, 'GET', '/healthcheck')).status, 200);
  });

  it('keeps a connection alive between requests, and closes it once idle for KEEP_ALIVE_TIMEOUT_MS', { timeout: 20000 }, async () => {
    const client = await connectRaw(server.port);
    const get = 'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    await client.write(get);
    const [first] = await responsesOn(client, 1);
    assert.equal(first?.status, 200);
    assert.notEqual(first?.headers['connection'], 'close');
    await sleep(KEEP_ALIVE_TIMEOUT_MS / 2);
    await client.write(get);
    const responses = await responsesOn(client, 2);
    assert.equal(responses[1]?.status, 200, 'a second request on the same connection within the timeout is served');
    const idleFrom = Date.now();
    await client.closed;
    const idle = client.closedAt! - idleFrom;
    assert.ok(idle >= KEEP_ALIVE_TIMEOUT_MS - 100, `not closed before KEEP_ALIVE_TIMEOUT_MS (${idle} ms)`);
    assert.ok(idle <= KEEP_ALIVE_TIMEOUT_MS + NODE_KEEP_ALIVE_GRACE_MS + SLACK_MS, `closed once idle (${idle} ms)`);
    assert.equal(parseResponses(client.text()).length, 2, 'nothing else was sent on the idle connection');
  });

  it('answers a declared 100 MB body with 413 right after the headers, without reading or buffering it', { timeout: 20000 }, async () => {
    const before = memoryOf(server.child.pid!);
    // allowHalfOpen: keep writing after the server's FIN, as a client that ignores the answer would.
    const client = await connectRaw(server.port, { allowHalfOpen: true });
    const head =
      'POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n';
    await client.write(head);
    await client.write(Buffer.alloc(4096, 0x20));
    const [response] = await responsesOn(client, 1, 3000);
    assertBodyTooLarge(response);
    assert.equal(client.sentAtFirstResponseByte, head.length + 4096, 'the answer came while only 4 KiB of 100 MB were sent');

    // A client that goes on sending finds the connection closed long before its 100 MB are through.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    while (client.sent < 104857600 && (await client.write(chunk)));
    await client.closed;
    assert.ok(client.sent < 32 * MiB, `the server stopped the upload after ${mib(client.sent)} of 100 MiB`);

    const afterwards = memoryOf(server.child.pid!);
    assert.ok(afterwards.rss - before.rss < 20 * MiB, `RSS ${mib(before.rss)} -> ${mib(afterwards.rss)}`);
    assert.ok(afterwards.peak - Math.max(before.peak, before.rss) < 20 * MiB, `peak RSS ${mib(before.peak)} -> ${mib(afterwards.peak)}`);
    assert.equal((await call(server.url, 'GET', '/healthcheck')).status, 200);
  });

  it('answers a chunked body (no Content-Length) with 413 as soon as it passes 1 MiB', { timeout: 20000 }, async () => {
    const before = memoryOf(server.child.pid!);
    const frame = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const head = 'POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = Buffer.alloc(64 * 1024, 0x20);

    // A client that sends 1 MiB + 64 KiB, then waits for the answer, gets the 413.
    const polite = await connectRaw(server.port);
    await polite.write(head);
    for (let sent = 0; sent <= MiB; sent += chunk.length) await polite.write(frame(chunk));
    const [response] = await responsesOn(polite, 1, 3000);
    assertBodyTooLarge(response);
    await polite.closed;

    // A client that streams 100 MB without stopping is cut off long before the end, and nothing is buffered.
    const flood = await connectRaw(server.port);
    await flood.write(head);
    while (flood.sent < 104857600 && (await flood.write(frame(chunk))));
    await flood.closed;
    assert.ok(flood.sent < 32 * MiB, `the server stopped the upload after ${mib(flood.sent)} of 100 MiB`);
    // It sees the 413, or a reset when its unread data was still queued at the server as it closed (Node does
    // no lingering close); either way the upload is refused.
    const text = flood.text();
    if (text) assert.match(text, /^HTTP\/1\.1 413 /);
    else assert.ok(flood.error === 'ECONNRESET' || flood.error === 'EPIPE', `the upload ended with ${flood.error}`);

    const afterwards = memoryOf(server.child.pid!);
    assert.ok(afterwards.rss - before.rss < 20 * MiB, `RSS ${mib(before.rss)} -> ${mib(afterwards.rss)}`);
    assert.ok(afterwards.peak - Math.max(before.peak, before.rss) < 20 * MiB, `peak RSS ${mib(before.peak)} -> ${mib(afterwards.peak)}`);
    assert.equal((await call(server.url, 'GET', '/healthcheck')).status, 200);
  });

  it('answers a body with an object of 90,000 fields with 422 from its first 16 KiB, without waiting for the rest', { timeout: 20000 }, async () => {
    const fields = Array.from({ length: 90_000 }, (_, i) => `"x${String(i).padStart(5, '0')}":0`).join(',');
    const body = Buffer.from(`{${fields}}`);
    const client = await connectRaw(server.port);
    await client.write(
      `POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // Only the first 16 KiB of the declared ~1 MB: the answer must come without the rest (a server waiting for
    // the whole body would answer 408 at REQUEST_TIMEOUT_MS instead).
    await client.write(body.subarray(0, 16 * 1024));
    const [response] = await responsesOn(client, 1, 3000);
    assert.ok(response, `an answer: ${client.text()} (${client.error ?? 'no error'})`);
    assert.equal(response.status, 422);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(response.headers['connection'], 'close');
    assert.deepEqual(JSON.parse(response.body).errors, [{ location: ['body'], message: 'has an object of more than 1000 fields' }]);
    await client.closed;
    assert.equal((await call(server.url, 'GET', '/healthcheck')).status, 200);
  });

  // The contract: every error body is application/problem+json, also Node's connection-level answers.
  it('answers a timed-out request with a problem+json 408', { timeout: 10000 }, async () => {
    if (silentAnswer === undefined) {
      const silent = await connectRaw(server.port);
      await silent.closed;
      silentAnswer = silent.text();
    }
    const [response] = parseResponses(silentAnswer);
    assert.equal(response?.status, 408);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal((JSON.parse(response.body) as { status: number }).status, 408);
    assert.equal((JSON.parse(response.body) as { code: string }).code, 'REQUEST_TIMEOUT');
  });

  it('answers malformed and oversized request heads with problem+json', async () => {
    for (const [head, status] of [
      ['GARBAGE\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431],
    ] as const) {
      const socket = await connectRaw(server.port);
      socket.write(head);
      await socket.closed;
      const [response] = parseResponses(socket.text());
      assert.equal(response?.status, status);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 10,000 idle connections. Each needs a file descriptor in this process and in the server, and a local port.

const CONNECTIONS = 10000;
const FD_MARGIN = 1024;

/** The soft and hard RLIMIT_NOFILE of a process. */
function openFileLimits(pid: number): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const value = (text: string | undefined) => (text === 'unlimited' ? Infinity : Number(text));
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}

/**
 * Makes sure the process may open `needed` files, raising its limit with prlimit(1) when it is lower (Node already
 * raises its soft limit to the hard one at start-up; raising the hard limit needs CAP_SYS_RESOURCE). Nothing
 * system-wide is changed. Returns the soft limit in force afterwards.
 */
function ensureOpenFiles(pid: number, needed: number): number {
  const { soft, hard } = openFileLimits(pid);
  if (soft >= needed) return soft;
  for (const limit of [`${needed}:${Math.max(hard, needed)}`, `${hard}:${hard}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}`], { stdio: 'ignore' });
      if (openFileLimits(pid).soft >= needed) break;
    } catch {
      // not permitted, or no prlimit: try the next, then report below
    }
  }
  return openFileLimits(pid).soft;
}

/** How many connections this machine allows, or `CONNECTIONS`; in CI a shortfall is a failure, not a skip. */
function feasibleConnections(t: TestContext, serverPid: number): number {
  const ours = ensureOpenFiles(process.pid, CONNECTIONS + FD_MARGIN);
  const theirs = ensureOpenFiles(serverPid, CONNECTIONS + FD_MARGIN);
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const ports = (high ?? 0) - (low ?? 0) + 1;
  const feasible = Math.min(CONNECTIONS, ours - FD_MARGIN, theirs - FD_MARGIN, ports - 2000);
  t.diagnostic(`open files: this process ${ours}, the server ${theirs} (ulimit -n: ${execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()}); local ports ${ports}`);
  if (feasible >= CONNECTIONS) return CONNECTIONS;
  const message =
    `only ${feasible} idle connections are possible here (open files: test ${ours}, server ${theirs}; local ports ${ports}); ` +
    `${CONNECTIONS} need RLIMIT_NOFILE >= ${CONNECTIONS + FD_MARGIN} (prlimit or ulimit -Hn as a privileged user)`;
  if (process.env['CI'] === 'true') assert.fail(`${message}. With CI=true the test is not scaled down.`);
  console.warn(`\n!!!!! slow-clients: ${message}. SCALED DOWN: this run does NOT prove the 10,000 guarantee. !!!!!\n`);
  t.diagnostic(`SCALED DOWN to ${feasible} connections`);
  return Math.max(0, feasible);
}

describe(`${CONNECTIONS.toLocaleString('en')} idle connections`, () => {
  // The production defaults (HEADERS_TIMEOUT_MS 10 s, REQUEST_TIMEOUT_MS 30 s): every connection is open at
  // the same time for a while, then the server sheds them.
  const IDLE_HEADERS_TIMEOUT_MS = 10000;
  let directory: string;
  let server: ServerProcess;
  const sockets: Socket[] = [];
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-idle-'));
    server = await startServer({
      DATABASE_URL: `file:${join(directory, 'users.db')}`,
      HEADERS_TIMEOUT_MS: String(IDLE_HEADERS_TIMEOUT_MS),
    });
  });
  after(async () => {
    // A reset leaves no TIME_WAIT behind on either side.
    for (const socket of sockets) if (!socket.destroyed) socket.resetAndDestroy();
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps answering normal requests promptly while they are open, then sheds them at HEADERS_TIMEOUT_MS', { timeout: 60000 }, async (t) => {
    const count = feasibleConnections(t, server.child.pid!);
    const pid = server.child.pid!;
    const before = memoryOf(pid).rss;
    let closed = 0;
    let timedOut = 0;
    let errors = 0;
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = createConnection({ port: server.port, host: '127.0.0.1' });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
        socket.on('data', (data: Buffer) => {
          if (data.toString('latin1').startsWith('HTTP/1.1 408 ')) timedOut++;
        });
        socket.on('error', () => errors++);
        socket.on('close', () => closed++);
      });
    const openingStarted = Date.now();
    // 200 connects in flight at a time, below the listen backlog (511), so that no SYN is dropped and retried.
    let started = 0;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (started < count) {
          started++;
          sockets.push(await open());
        }
      }),
    );
    const openedAt = Date.now();
    const openingMs = openedAt - openingStarted;
    assert.equal(sockets.length, count);
    assert.ok(
      openingMs < IDLE_HEADERS_TIMEOUT_MS - 1000,
      `opening ${count} connections took ${openingMs} ms: too slow a machine to hold them all open at once`,
    );
    assert.equal(closed, 0, 'every connection is open at the same time');
    // They are accepted by the server, not waiting in the listen backlog: it holds a descriptor for each. A busy
    // event loop may still be accepting the last ones when the client sees them connected (the kernel completes the
    // handshake): up to a second for that (a CI run saw 9,839 of them at the first look).
    const serverFds = () => readdirSync(`/proc/${pid}/fd`).length;
    for (let waited = 0; serverFds() < count && waited < 1000; waited += 50) await sleep(50);
    assert.ok(serverFds() >= count, `the server holds ${serverFds()} descriptors`);
    const withConnections = memoryOf(pid).rss;

    // Normal clients, each on a fresh connection, are answered at once.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const health = await call(server.url, 'GET', '/healthcheck');
      assert.equal(health.status, 200);
      const created = await call(server.url, 'POST', '/users/', {
        first_name: 'Idle',
        last_name: 'Crowd',
        email: `idle.${i}@example.com`,
      });
      assert.equal(created.status, 201);
      const { id } = JSON.parse(created.body) as { id: number };
      const read = await call(server.url, 'GET', `/users/${id}`);
      assert.equal(read.status, 200);
      const list = await call(server.url, 'GET', '/users/?limit=5');
      assert.equal(list.status, 200);
      latencies.push(health.ms, created.ms, read.ms, list.ms);
    }
    const slowest = Math.max(...latencies);
    assert.ok(slowest < 1000, `the slowest normal request took ${slowest.toFixed(0)} ms`);
    assert.equal(closed, 0, 'the idle connections were still open during the normal requests');

    // The server sheds them itself: none of them sent a request within HEADERS_TIMEOUT_MS.
    const deadline = openedAt + IDLE_HEADERS_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS + 2000;
    while (closed < count && Date.now() < deadline) await sleep(50);
    const shedMs = Date.now() - openingStarted;
    assert.equal(closed, count, `the server closed ${closed} of ${count} idle connections`);
    assert.equal(timedOut, count, 'each with a 408');
    assert.equal(errors, 0);
    assert.equal((await call(server.url, 'GET', '/healthcheck')).status, 200);
    t.diagnostic(
      `${count} connections opened in ${openingMs} ms; server RSS ${mib(before)} -> ${mib(withConnections)} with them open; ` +
        `slowest of ${latencies.length} normal requests meanwhile ${slowest.toFixed(1)} ms; all shed ${shedMs} ms after the first opened`,
    );
  });
});
