import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertDocumented, startServer, type ServerProcess } from '../helpers/server-process.js';

interface Answer {
  status: number;
  instance: string;
  body: unknown;
}

/** One request on a fresh connection, so that the cluster can hand it to any worker. */
function call(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      { method, agent: false, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const answer = { status: res.statusCode ?? 0, instance: String(res.headers['x-instance-id']), body: text ? JSON.parse(text) : null };
          assertDocumented(base, method, path, answer.status, res.headers['content-type'], text).then(() => resolve(answer), reject);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const childPids = (pid: number) =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('WORKERS=2: two processes on one port and one database', () => {
  let directory: string;
  let server: ServerProcess;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-workers-'));
    server = await startServer({ WORKERS: '2', INSTANCE_ID: 'w', DATABASE_URL: `file:${join(directory, 'users.db')}` });
    // The server is healthy once one worker listens; wait until both answer.
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      seen.add((await call(server.url, 'GET', '/healthcheck')).instance);
      if (seen.size < 2) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual([...seen].sort(), ['w.1', 'w.2']);
  });
  after(async () => {
    await server.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads through one worker what another worker wrote', async () => {
    const created = await call(server.url, 'POST', '/users/', { first_name: 'Wo', last_name: 'Rker', email: 'worker@example.com' });
    assert.equal(created.status, 201);
    const id = (created.body as { id: number }).id;
    const readers = new Set<string>();
    for (let i = 0; i < 40 && !readers.has(created.instance === 'w.1' ? 'w.2' : 'w.1'); i++) {
      const read = await call(server.url, 'GET', `/users/${id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, created.body);
      readers.add(read.instance);
    }
    assert.ok(/^w\.[12]$/.test(created.instance), created.instance);
    assert.ok([...readers].some((instance) => instance !== created.instance), `read only through ${[...readers]}`);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = childPids(server.child.pid!);
    assert.equal(workers.length, 2);
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
  });
});
