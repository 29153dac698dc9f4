import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { startServer, type ServerProcess } from '../../scripts/harness/server-process.js';
import { userInput } from '../helpers/factories.js';

// The SQLite file under a running server: made read-only, deleted with its directory. Real processes: the faults
// are of the file system, and what matters is what a restart finds.

// A read-only file means nothing to root: the server then runs as nobody.
const NOBODY = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(server: ServerProcess, path: string, body?: object): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls /healthcheck until it answers `status` (the server checks its file every second); the last answer. */
async function healthBecomes(server: ServerProcess, status: number): Promise<Answer> {
  let answer = await call(server, '/healthcheck');
  for (let i = 0; i < 150 && answer.status !== status; i++) {
    await sleep(100);
    answer = await call(server, '/healthcheck');
  }
  assert.equal(answer.status, status, `/healthcheck never answered ${status}: ${JSON.stringify(answer.body)}`);
  return answer;
}

const logLines = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the SQLite file under a running server', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-file-'));
    chmodSync(directory, 0o777);
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('reports a read-only database in the health check, and takes writes again once the file is writable', async () => {
    const folder = join(directory, 'read-only');
    const file = join(folder, 'users.db');
    const start = () =>
      startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'warn' }, readyStatuses: [200, 503], ...(asRoot && { user: NOBODY }) });
    // The first start creates the database; the server owns its folder and file.
    mkdirSync(folder);
    if (asRoot) chownSync(folder, NOBODY.uid, NOBODY.gid);
    let server = await start();
    const emails: string[] = [];
    for (let i = 0; i < 3; i++) {
      const user = userInput();
      emails.push(String(user['email']));
      assert.equal((await call(server, '/users/', user)).status, 201);
    }
    assert.equal((await server.stop()).code, 0);

    chmodSync(file, 0o444);
    server = await start();
    try {
      const list = await call(server, '/users/');
      assert.equal(list.status, 200, 'reads are served');
      const refused = await call(server, '/users/', userInput());
      assert.equal(refused.status, 503);
      assert.equal(refused.body['code'], 'DATABASE_UNAVAILABLE');
      const health = await call(server, '/healthcheck');
      assert.equal(health.status, 503, 'the health check does not say 200 for a database that cannot take writes');
      assert.equal(health.body['code'], 'DATABASE_READ_ONLY');
      const errors = logLines(server).filter((line) => line['level'] === 50);
      assert.ok(errors.some((line) => line['fault'] === 'read-only'), `an error line says the file is read-only: ${server.output()}`);

      // Writable again: the server reopens the file by itself, no restart.
      chmodSync(file, 0o644);
      await healthBecomes(server, 200);
      assert.equal((await call(server, '/users/', userInput())).status, 201);
      assert.ok(logLines(server).some((line) => line['msg'] === 'the database file takes writes again'));
      for (const email of emails) assert.doesNotMatch(server.output(), new RegExp(email.replace(/[.+]/g, '\\$&')), 'no email in the log');
    } finally {
      await server.stop();
    }
  });

  // With WORKERS=2 both processes share the deleted file: one writes it back, the other reopens that copy. The
  // primary of workers is stopped with SIGTERM (a kill -9 of it would leave its workers running).
  for (const workers of [1, 2]) {
    it(`writes a database deleted with its directory back from the open connection (WORKERS=${workers}): a restart after ${workers === 1 ? 'kill -9' : 'SIGTERM'} finds every acknowledged user`, async () => {
      const folder = join(directory, `deleted-${workers}`);
      const file = join(folder, 'users.db');
      // The access log too: no line of a run with faults may hold a user's email.
      const start = (env: Record<string, string> = {}) =>
        startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'info', ...env }, readyStatuses: [200] });
      let server = await start({ WORKERS: String(workers) });
      const acknowledged = new Map<number, string>();
      const create = async () => {
        const user = userInput();
        const answer = await call(server, '/users/', user);
        if (answer.status === 201) acknowledged.set(answer.body['id'] as number, String(user['email']));
        else assert.equal(answer.status, 503, JSON.stringify(answer.body));
        return answer.status;
      };
      try {
        for (let i = 0; i < 50; i++) assert.equal(await create(), 201);
        // The directory goes, and a file in its place keeps it from being made again, until the test removes it.
        rmSync(folder, { recursive: true });
        writeFileSync(folder, 'not a directory');
        // Until the server notices (within a second), writes still go to the open file; then they are refused.
        for (let i = 0; i < 20; i++) await create();
        const missing = await healthBecomes(server, 503);
        assert.equal(missing.body['code'], 'DATABASE_FILE_MISSING');
        // Every process has checked its file since (once a second).
        await sleep(1500);
        for (let i = 0; i < 4; i++) assert.equal(await create(), 503, 'no write is acknowledged while the file is missing');
        assert.ok(
          logLines(server).some((line) => line['level'] === 50 && line['fault'] === 'file-missing'),
          `an error line says the file is missing: ${server.output()}`,
        );

        rmSync(folder);
        await healthBecomes(server, 200);
        await sleep(1500);
        for (let i = 0; i < 10; i++) assert.equal(await create(), 201);
      } finally {
        await server.stop(workers === 1 ? 'SIGKILL' : 'SIGTERM');
      }

      server = await start();
      try {
        for (const [id, email] of acknowledged) {
          const answer = await call(server, `/users/${id}`);
          assert.equal(answer.status, 200, `acknowledged user ${id} is there after the restart`);
          assert.equal(answer.body['email'], email);
        }
        const total = await fetch(`${server.url}/users/`).then((response) => Number(response.headers.get('x-total-count')));
        assert.equal(total, acknowledged.size, 'nothing more, nothing less');
        for (const email of acknowledged.values()) assert.ok(!server.output().includes(email), 'no email in the log');
      } finally {
        await server.stop();
      }
    });
  }

  it('refuses writes when the file alone is deleted (its WAL still in use), and leaves a copy holding every acknowledged user', async () => {
    const folder = join(directory, 'file-alone');
    const file = join(folder, 'users.db');
    const server = await startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'warn' } });
    try {
      const emails: string[] = [];
      for (let i = 0; i < 10; i++) {
        const user = userInput();
        assert.equal((await call(server, '/users/', user)).status, 201);
        emails.push(String(user['email']));
      }
      // The WAL holds writes of the deleted file: a file opened beside it would be corrupt.
      rmSync(file);
      const missing = await healthBecomes(server, 503);
      assert.equal(missing.body['code'], 'DATABASE_FILE_MISSING');
      assert.equal((await call(server, '/users/', userInput())).status, 503, 'no write is acknowledged');
      // The log says where the copy is, once it is complete.
      let copy: string | undefined;
      for (let i = 0; i < 100 && !copy; i++) {
        copy = logLines(server).find((entry) => typeof entry['copy'] === 'string')?.['copy'] as string | undefined;
        if (!copy) await sleep(100);
      }
      assert.ok(copy?.startsWith(join(folder, 'users.db.recovered-')), `the log says where the copy is: ${server.output()}`);
      const recovered = new BetterSqlite3(copy, { readonly: true });
      try {
        const stored = recovered.prepare('SELECT email FROM users').pluck().all() as string[];
        assert.deepEqual(stored.sort(), [...emails].sort(), 'the copy holds every acknowledged user');
      } finally {
        recovered.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('refuses writes when the file is replaced under it beside the old WAL, and says a restart is needed', async () => {
    const folder = join(directory, 'replaced');
    const file = join(folder, 'users.db');
    let server = await startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'warn' } });
    assert.equal((await call(server, '/users/', userInput())).status, 201);
    await server.stop();
    copyFileSync(file, join(folder, 'backup.db'));
    server = await startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'warn' } });
    try {
      assert.equal((await call(server, '/users/', userInput())).status, 201);
      renameSync(join(folder, 'backup.db'), file);
      const replaced = await healthBecomes(server, 503);
      assert.equal(replaced.body['code'], 'DATABASE_FILE_REPLACED');
      assert.equal((await call(server, '/users/', userInput())).status, 503, 'no write goes to a file that is not the configured one');
      assert.ok(logLines(server).some((entry) => entry['level'] === 50 && entry['fault'] === 'file-replaced'), server.output());
    } finally {
      await server.stop();
    }
    // A restart serves the file now at the path: the backup, with its one user.
    for (const leftover of ['users.db-wal', 'users.db-shm']) rmSync(join(folder, leftover), { force: true });
    server = await startServer({ env: { DATABASE_URL: `file:${file}`, LOG_LEVEL: 'warn' } });
    try {
      const total = await fetch(`${server.url}/users/`).then((response) => Number(response.headers.get('x-total-count')));
      assert.equal(total, 1);
    } finally {
      await server.stop();
    }
  });
});
