import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';

describe('Idempotency-Key across workers and restarts (real server, WORKERS=2)', () => {
  let directory: string;
  let server: ServerProcess;
  const env = () => ({ WORKERS: '2', DATABASE_URL: `file:${join(directory, 'users.db')}` });
  const post = (key: string, body: object) =>
    fetchChecked(`${server.url}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-idem-'));
    server = await startServer(env());
  });
  after(async () => {
    await server.stop('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates one user for 20 concurrent retries of one keyed request, and replays it after a restart', async () => {
    const body = { first_name: 'Retry', last_name: 'Storm', email: 'retry.storm@example.com' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post('storm-1', body)));
    const users = await Promise.all(responses.map((response) => response.json() as Promise<{ id: number }>));
    for (const response of responses) assert.equal(response.status, 201);
    assert.equal(new Set(users.map((user) => user.id)).size, 1, 'every retry got the same user');
    assert.equal(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true').length, 19);

    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    server = await startServer(env());
    const again = await post('storm-1', body);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await again.json(), users[0]);
    const list = await fetchChecked(`${server.url}/users/`);
    assert.equal(list.headers.get('x-total-count'), '1');
  });
});
