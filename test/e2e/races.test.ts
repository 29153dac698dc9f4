import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';

const json = { 'content-type': 'application/json' };

// Real server processes: one, and two workers sharing the database, so races cross processes too.
for (const workers of ['1', '2']) {
  describe(`races on the real server (WORKERS=${workers})`, () => {
    let directory: string;
    let server: ServerProcess;
    before(async () => {
      directory = mkdtempSync(join(tmpdir(), 'users-api-races-'));
      server = await startServer({ WORKERS: workers, DATABASE_URL: `file:${join(directory, 'users.db')}` });
    });
    after(async () => {
      await server.stop('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    });

    it('lets exactly one of 100 concurrent creates with one email win; the others get 409', async () => {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          fetchChecked(`${server.url}/users/`, {
            method: 'POST',
            headers: json,
            // The same address in varying case: uniqueness is case-insensitive.
            body: JSON.stringify({ first_name: 'Race', last_name: `R${i}`, email: i % 2 ? 'race@example.com' : 'RACE@example.com' }),
          }).then((response) => response.status),
        ),
      );
      assert.equal(statuses.filter((status) => status === 201).length, 1);
      assert.equal(statuses.filter((status) => status === 409).length, 99);
      const list = await fetchChecked(`${server.url}/users/?email=race@example.com`);
      assert.equal(list.headers.get('x-total-count'), '1');
    });

    it('applies 50 concurrent PATCHes to one user whole: the row is one of the written states', async () => {
      const created = await fetchChecked(`${server.url}/users/`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ first_name: 'Base', last_name: 'Base', age: 1, email: 'patch.race@example.com' }),
      });
      const { id } = (await created.json()) as { id: number };
      const state = (i: number) => ({ first_name: `F${i}`, last_name: `L${i}`, age: i, email: `patch.race.${i}@example.com` });
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fetchChecked(`${server.url}/users/${id}`, { method: 'PATCH', headers: json, body: JSON.stringify(state(i)) }),
        ),
      );
      for (const response of responses) assert.equal(response.status, 200);
      const final = (await (await fetchChecked(`${server.url}/users/${id}`)).json()) as Record<string, unknown>;
      const i = Number(String(final['first_name']).slice(1));
      assert.deepEqual(
        { first_name: final['first_name'], last_name: final['last_name'], age: final['age'], email: final['email'] },
        state(i),
        'every field comes from the same PATCH',
      );
    });
  });
}
