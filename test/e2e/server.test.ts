import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineIndexedSourceMap } from '../../src/stack-traces.js';
import { ROOT, fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';
import { fileHoldsUsers } from '../helpers/sqlite-file.js';

// These tests run the built server (dist/server.js) as a real process, as `npm start` does.
before(() => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

const json = { 'content-type': 'application/json' };

// The bundle is whitespace-minified (scripts/build-bundle.ts): its positions mean nothing to a reader, so every stack
// trace of the logs depends on the source maps leading back to the line of src/*.ts.
it("the build's source maps lead a position in the bundle back to its line in src/", () => {
  const declaration = 'function parseEntityTags(';
  const chunks = readdirSync(join(ROOT, 'dist')).filter((name) => name.endsWith('.js'));
  const chunk = chunks.find((name) => readFileSync(join(ROOT, 'dist', name), 'utf8').includes(declaration));
  assert.ok(chunk, 'a chunk holds the function');
  const lines = readFileSync(join(ROOT, 'dist', chunk), 'utf8').split('\n');
  const line = lines.findIndex((text) => text.includes(declaration));
  const map = new SourceMap(JSON.parse(readFileSync(join(ROOT, 'dist', `${chunk}.map`), 'utf8')) as SourceMapPayload);
  const entry = map.findEntry(line, lines[line]!.indexOf(declaration)) as { originalSource?: string; originalLine?: number };
  const source = readFileSync(join(ROOT, 'src/http/etag.ts'), 'utf8').split('\n');
  assert.match(entry.originalSource ?? '', /(^|\/)src\/http\/etag\.ts$/);
  assert.match(source[entry.originalLine!] ?? '', /export function parseEntityTags\(/);
});

it("reads the build's source maps as Node's SourceMap does, a line at a time (src/stack-traces.ts)", () => {
  const maps = readdirSync(join(ROOT, 'dist')).filter((name) => name.endsWith('.js.map'));
  assert.ok(maps.length > 0, 'the build has source maps');
  let compared = 0;
  let mapped = 0;
  for (const name of maps) {
    const path = join(ROOT, 'dist', name);
    const payload = JSON.parse(readFileSync(path, 'utf8')) as SourceMapPayload;
    const ours = new LineIndexedSourceMap(payload, pathToFileURL(path).href);
    const node = new SourceMap(payload);
    const lines = readFileSync(path.slice(0, -'.map'.length), 'utf8').split('\n');
    // Every line: its start, its end and past it, and positions spread over it (a bundle's lines are long).
    lines.forEach((text, line) => {
      const columns = [0, 1, text.length - 1, text.length + 10];
      for (let column = 7; column < text.length; column += Math.max(13, Math.floor(text.length / 400))) columns.push(column);
      for (const column of columns) {
        const expected = node.findEntry(line, column) as { originalSource?: string; originalLine?: number; originalColumn?: number };
        const found = ours.find(line, column);
        const where = `${name} ${line}:${column}`;
        if (expected.originalSource === undefined) {
          assert.equal(found, undefined, where);
        } else {
          const source = new URL(expected.originalSource, pathToFileURL(path));
          assert.deepEqual(found, { source: source.protocol === 'file:' ? fileURLToPath(source) : source.href, line: expected.originalLine, column: expected.originalColumn }, where);
          mapped++;
        }
        compared++;
      }
    });
  }
  assert.ok(mapped > 10000, `${mapped} of ${compared} positions mapped`);
});

it("names the src/*.ts lines of a failed start's stack trace, read from the build's maps", () => {
  const directory = mkdtempSync(join(tmpdir(), 'users-api-stack-'));
  try {
    // A database under a file, not a directory: the start fails inside src/db/sqlite.ts, and the error is printed.
    const notADirectory = join(directory, 'file');
    writeFileSync(notADirectory, '');
    const started = spawnSync(process.execPath, [join(ROOT, 'dist/server.js')], {
      env: { PATH: process.env['PATH'], DATABASE_URL: `file:${join(notADirectory, 'users.db')}`, PORT: '0' },
      encoding: 'utf8',
      timeout: 15000,
    });
    assert.equal(started.status, 1, started.stderr);
    const frames = [...started.stderr.matchAll(/^ {4}at (?:.* \()?(.+?):(\d+):(\d+)\)?$/gm)].map(([, file, line]) => ({ file: file!, line: Number(line) }));
    const own = frames.filter(({ file }) => file.startsWith(join(ROOT, 'src')));
    assert.ok(own.length >= 4, started.stderr);
    const opening = own.find(({ file }) => file === join(ROOT, 'src/db/sqlite.ts'));
    assert.ok(opening, started.stderr);
    assert.match(readFileSync(opening.file, 'utf8').split('\n')[opening.line - 1] ?? '', /new BetterSqlite3\(/);
    assert.equal(frames.filter(({ file }) => /\/dist\/[^/]+-[A-Z0-9]{8}\.js$/.test(file)).length, 0, `no frame left in a chunk: ${started.stderr}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

describe('the server as a real process', () => {
  let directory: string;
  let server: ServerProcess | undefined;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-e2e-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates its database file on first start and serves the seed README flows', async () => {
    const file = join(directory, 'data', 'users.db');
    server = await startServer({ DATABASE_URL: `file:${file}` });
    assert.ok(existsSync(file), 'the database file exists after start-up');
    // curl -X POST http://localhost:8000/users/ -H "Content-Type: application/json" -d '{...}'
    const created = await fetchChecked(`${server.url}/users/`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ first_name: 'John', last_name: 'Doe', age: 30, email: 'john.doe@example.com' }),
    });
    assert.equal(created.status, 201);
    const user = (await created.json()) as { id: number };
    assert.equal(created.headers.get('location'), `/users/${user.id}`);
    // curl http://localhost:8000/users/
    const list = await fetchChecked(`${server.url}/users/`);
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), [user]);
    // curl http://localhost:8000/users/1
    const one = await fetchChecked(`${server.url}/users/${user.id}`);
    assert.deepEqual(await one.json(), user);
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('copies committed users into the database file on its checkpoint thread, when it is on (the built bundle starts it)', async () => {
    const file = join(directory, 'checkpoints.db');
    server = await startServer({ DATABASE_URL: `file:${file}`, SQLITE_CHECKPOINT_THREAD: 'true' });
    for (let i = 0; i < 20; i++) {
      const created = await fetchChecked(`${server.url}/users/`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ first_name: 'Check', last_name: 'Point', email: `checkpoint${i}@example.com` }),
      });
      assert.equal(created.status, 201);
    }
    // The file alone, without its WAL: 20 users are a few dozen WAL pages, far below the 4,000 at which the server's
    // own connection would copy them. Only the thread, loaded from dist/db/checkpointer.js, puts them there.
    assert.equal(await fileHoldsUsers(file, 20), 20);
    assert.doesNotMatch(server.output(), /WAL checkpoint/, 'no warning about the checkpointer');
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('loads the rate limit and CORS, chunks of the bundle of their own, when they are set', async () => {
    server = await startServer({ DATABASE_URL: `file:${join(directory, 'access.db')}`, RATE_LIMIT: '2', CORS_ORIGINS: 'https://app.example.com' });
    const origin = { origin: 'https://app.example.com' };
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetchChecked(`${server.url}/users/`, { headers: origin });
      assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example.com');
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    server = await startServer({ DATABASE_URL: `file:${join(directory, 'drain.db')}` });
    const requests = Array.from({ length: 20 }, (_, i) =>
      fetchChecked(`${server!.url}/users/`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ first_name: 'In', last_name: 'Flight', email: `drain${i}@example.com` }),
      }).then((response) => response.status, () => 'refused'),
    );
    // Wait for the first request to be answered, so the others are in flight or queued.
    const first = await Promise.race(requests);
    server.child.kill('SIGTERM');
    const statuses = await Promise.all(requests);
    assert.equal(first, 201);
    for (const status of statuses) assert.ok(status === 201 || status === 503 || status === 'refused', String(status));
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  // Without the checkpointer's thread (the default) and with it: durability never depends on it.
  for (const thread of ['false', 'true']) {
    it(`keeps every acknowledged write after kill -9 during a write load (SQLITE_CHECKPOINT_THREAD=${thread})`, async () => {
      const file = join(directory, `crash-${thread}.db`);
      server = await startServer({ DATABASE_URL: `file:${file}`, SQLITE_CHECKPOINT_THREAD: thread });
      const acknowledged: { id: number; email: string }[] = [];
      let stop = false;
      const writer = async (worker: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const email = `crash.${worker}.${i}@example.com`;
            const response = await fetchChecked(`${server!.url}/users/`, {
              method: 'POST',
              headers: json,
              body: JSON.stringify({ first_name: 'Crash', last_name: 'Test', email }),
            });
            if (response.status === 201) acknowledged.push({ id: ((await response.json()) as { id: number }).id, email });
          } catch {
            return; // the server is gone
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, worker) => writer(worker));
      while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 10));
      server.child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await server.exited;

      server = await startServer({ DATABASE_URL: `file:${file}`, SQLITE_CHECKPOINT_THREAD: thread });
      for (const { id, email } of acknowledged) {
        const response = await fetchChecked(`${server.url}/users/${id}`);
        assert.equal(response.status, 200, `acknowledged user ${id} survived the crash`);
        assert.equal(((await response.json()) as { email: string }).email, email);
      }
      const total = Number((await fetchChecked(`${server.url}/users/?limit=1`)).headers.get('x-total-count'));
      assert.ok(total >= acknowledged.length);
      assert.ok(total <= acknowledged.length + 8, 'at most one unacknowledged write per connection');
      await server.stop();
    });
  }

  it('refuses to start with an invalid configuration, naming every bad variable', async () => {
    await assert.rejects(startServer({ DATABASE_URL: 'mysql://nope', LOG_LEVEL: 'loud' }, 3000), (error: Error) => {
      assert.match(error.message, /DATABASE_URL/);
      assert.match(error.message, /LOG_LEVEL/);
      return true;
    });
  });

  it('fails to start, and exits, when the database directory cannot be created', { skip: !existsSync('/proc/self') && 'no /proc here' }, async () => {
    // mkdir under /proc fails with ENOENT although /proc exists: Node 20's recursive mkdirSync never returned there.
    await assert.rejects(startServer({ DATABASE_URL: 'file:/proc/users-api-missing/users.db' }, 5000), (error: Error) => {
      assert.match(error.message, /ENOENT/);
      assert.match(error.message, /exited \(1\) before it was healthy/);
      return true;
    });
  });
});
