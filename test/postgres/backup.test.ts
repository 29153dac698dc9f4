import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import type { User } from '../../src/users/users.schemas.js';
import { createPostgresTestDatabase, POSTGRES_UNAVAILABLE } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';
import { ROOT, fetchChecked, startServer, type ServerProcess } from '../helpers/server-process.js';
import { WriteLoad } from '../helpers/write-load.js';

// The PostgreSQL backup of docs/OPERATIONS.md ("Backups and restore"): pg_dump --format=custom of a database a
// server writes to, pg_restore into a fresh database, a server started on it.
// Under CI=true an unreachable PostgreSQL fails the import of ../helpers/database.js, so nothing is skipped there.

const skip = POSTGRES_UNAVAILABLE === null ? false : `PostgreSQL is unreachable (${POSTGRES_UNAVAILABLE}): SKIPPED`;
if (skip) console.warn(`!!! test/postgres/backup: ${skip}`);

const exec = promisify(execFile);
const json = { 'content-type': 'application/json' };

async function maxUserId(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ max: string }>('SELECT max(id) AS max FROM users')).rows[0]!.max);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL: pg_dump / pg_restore round trip', { skip }, () => {
  let directory: string;
  const databases: { drop: () => Promise<void> }[] = [];
  const servers: ServerProcess[] = [];

  before(() => {
    if (!existsSync(join(ROOT, 'dist/server.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    directory = mkdtempSync(join(tmpdir(), 'users-api-pg-backup-'));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    for (const database of databases) await database.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('restores a dump taken during a write load into a fresh database: every user acknowledged before it, and new ids continue the sequence', async () => {
    const source = await createPostgresTestDatabase({ migrated: true });
    databases.push(source);
    const server = await startServer({ DATABASE_URL: source.url });
    servers.push(server);
    const load = new WriteLoad(server.url, 'pg-backup');
    load.start();
    await load.waitFor(300);

    // The documented commands, as an operator types them.
    const before = load.freeze();
    const dump = join(directory, 'users.dump');
    await exec('pg_dump', ['--format=custom', `--file=${dump}`, source.url]);
    await load.waitFor(20);
    await load.stop();
    assert.deepEqual(load.failures, [], 'every write of the load was acknowledged, during pg_dump too');
    assert.ok(statSync(dump).size > 0);

    const target = await createPostgresTestDatabase();
    databases.push(target);
    await exec('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', `--dbname=${target.url}`, dump]);
    const restored = await startServer({ DATABASE_URL: target.url });
    servers.push(restored);

    for (const [id, user] of before.users) {
      const response = await fetchChecked(`${restored.url}/users/${id}`);
      assert.equal(response.status, 200, `user ${id}, acknowledged before the dump, is in it`);
      assert.deepEqual(await response.json(), user, `user ${id} has the fields acknowledged before the dump`);
    }
    for (const id of before.deleted) {
      const response = await fetchChecked(`${restored.url}/users/${id}`);
      assert.equal(response.status, 404, `user ${id}, deleted before the dump, is not in it`);
      await response.arrayBuffer();
    }
    const list = await fetchChecked(`${restored.url}/users/?limit=1`);
    const total = Number(list.headers.get('x-total-count'));
    await list.arrayBuffer();
    assert.ok(total >= before.users.size, `${total} users restored, ${before.users.size} acknowledged before the dump`);

    // The sequence came with the data: a new user gets an id above every restored one, and the counters are right.
    const highest = await maxUserId(target.url);
    const created = await fetchChecked(`${restored.url}/users/`, { method: 'POST', headers: json, body: JSON.stringify(userInput()) });
    assert.equal(created.status, 201);
    const user = (await created.json()) as User;
    assert.ok(user.id > highest, `new id ${user.id} above the restored ${highest}`);
    const after = await fetchChecked(`${restored.url}/users/?limit=1`);
    assert.equal(Number(after.headers.get('x-total-count')), total + 1);
    await after.arrayBuffer();
    const found = await fetchChecked(`${restored.url}/users/?q=${encodeURIComponent(user.last_name)}&email=${encodeURIComponent(user.email)}`);
    assert.deepEqual(await found.json(), [user], 'the search index was restored and follows new writes');
  });
});
