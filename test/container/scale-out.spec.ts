// Brings up docker-compose.scale.yml for real (PostgreSQL, the API as two replicas, nginx balancing
// between them) and uses it only through the balancer: both replicas serve, writes made through one are
// read through the other, a concurrent duplicate email loses on every replica but one, a stopped replica
// is routed around and comes back, a pg_dump restored into a new volume brings every user back, the data lives
// in the named volume, and `down -v` deletes it.
//   CONTAINER_ENGINE=podman npm run test:container      (the engine defaults to docker)
// Without a working engine and compose the suite is skipped, loudly; with CI=true it fails instead.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BUILD_TIMEOUT,
  ENGINE,
  MINUTE,
  ROOT,
  SECOND,
  compose,
  composeProblem,
  engine,
  engineWithFiles,
  freePort,
  mustRun,
  run,
  skipReason,
} from './engine.js';
import type { User } from '../../src/users/users.schemas.js';

const COMPOSE_FILE = 'docker-compose.scale.yml';
const PROJECT = `users-api-scale-${process.pid}-${Date.now().toString(36)}`;
const VOLUME = `${PROJECT}_pgdata`;
const REPLICAS = ['api1', 'api2'];
// Characters that would break a postgres:// URL if the password were put into one unencoded.
const PASSWORD = `s/c@l:e%${randomBytes(8).toString('hex')}#?+=`;


describe(`the scale-out compose setup, ${COMPOSE_FILE} (${ENGINE})`, { skip: skipReason(composeProblem, 'the scale-out container tests') }, () => {
  let base = '';
  let env: Record<string, string> = {};
  const created: User[] = [];

  const composeRun = (args: string[], timeoutMs = 2 * MINUTE) =>
    mustRun(compose.command, [...compose.args, '-p', PROJECT, '-f', COMPOSE_FILE, ...args], { env, timeoutMs });

  /** The project's containers (all services, or one), found by the labels both compose tools set. */
  const containers = async (service?: string) => {
    const filters = ['--filter', `label=com.docker.compose.project=${PROJECT}`];
    if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
    return (await engine(['ps', '-a', ...filters, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  };

  const volumeExists = async () =>
    (await engine(['volume', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').includes(VOLUME);

  /** The last lines of every container's log, for failure messages. */
  const logs = async () => {
    const parts: string[] = [];
    for (const name of await containers().catch(() => [])) {
      const result = await run(ENGINE, ['logs', '--tail', '30', name]);
      parts.push(`--- ${name} ---\n${result.stdout}${result.stderr}`);
    }
    return parts.join('\n');
  };

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10 * SECOND) });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    api('/users/', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  const instanceOf = (response: Response) => response.headers.get('x-instance-id') ?? '(none)';

  /**
   * Polls the balancer's /healthcheck until it answers 200 and every replica has answered at least once
   * (podman-compose does not wait for health: a replica may still be starting, or restarting).
   */
  async function waitForReplicas(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    const seen = new Set<string>();
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      try {
        const response = await api('/healthcheck');
        last = `status ${response.status}: ${await response.text()}`;
        if (response.status === 200) seen.add(instanceOf(response));
        if (REPLICAS.every((id) => seen.has(id))) return;
      } catch (error) {
        last = String((error as Error).cause ?? error);
      }
      await delay(250);
    }
    throw new Error(
      `the balancer did not show both replicas healthy within ${timeoutMs} ms ` +
        `(seen: ${[...seen].join(', ') || 'none'}; last: ${last})\n${await logs()}`,
    );
  }

  /** GETs a path until every replica has answered it (at most `tries` times); returns the bodies by replica. */
  async function readFromEveryReplica(path: string, tries = 12) {
    const bodies = new Map<string, { status: number; body: unknown }>();
    for (let i = 0; i < tries && bodies.size < REPLICAS.length; i++) {
      const response = await api(path);
      bodies.set(instanceOf(response), { status: response.status, body: await response.json() });
    }
    assert.deepEqual([...bodies.keys()].sort(), REPLICAS, `${path} was not served by both replicas`);
    return bodies;
  }

  before(
    async () => {
      if (composeProblem) throw new Error(`CI=true and the container engine or compose is not usable: ${composeProblem}`);
      base = `http://127.0.0.1:${await freePort()}`;
      env = {
        API_BIND: '127.0.0.1',
        API_PORT: new URL(base).port,
        POSTGRES_USER: 'scale_user',
        POSTGRES_PASSWORD: PASSWORD,
        POSTGRES_DB: 'scale_db',
        // Pinned, so that settings in the developer's shell do not leak into the replicas.
        API_KEY: '',
        RATE_LIMIT: '0',
        LOG_LEVEL: 'info',
        DATABASE_POOL_SIZE: '5',
        // Metrics on, on the replicas' own network only (not published): read from inside a replica.
        METRICS_PORT: '9464',
        // podman-compose builds with `podman build`; keep the Dockerfile's HEALTHCHECK there too.
        BUILDAH_FORMAT: 'docker',
      };
      await composeRun(['up', '-d', '--build'], BUILD_TIMEOUT);
      await waitForReplicas(3 * MINUTE);
    },
    { timeout: BUILD_TIMEOUT + 5 * MINUTE },
  );

  after(
    async () => {
      await run(compose.command, [...compose.args, '-p', PROJECT, '-f', COMPOSE_FILE, 'down', '-v'], {
        env,
        timeoutMs: 2 * MINUTE,
      });
      // -v: with the container, its anonymous volumes (if a change to the compose file brings one back).
      for (const name of await containers().catch(() => [])) await run(ENGINE, ['rm', '-f', '-v', '-t', '0', name]);
      await run(ENGINE, ['network', 'rm', `${PROJECT}_default`]); // podman-compose 1.0 leaves it behind
      await run(ENGINE, ['volume', 'rm', '-f', VOLUME]);
      // The images built for this project only (podman-compose names them project_service, docker compose
      // project-service); the base images and the layer cache are shared and stay.
      for (const service of REPLICAS) {
        for (const image of [`${PROJECT}_${service}`, `${PROJECT}-${service}`]) await run(ENGINE, ['rmi', '-f', image]);
      }
    },
    { timeout: 5 * MINUTE },
  );

  it(
    'refuses to start without POSTGRES_PASSWORD (no default password)',
    { skip: existsSync(`${ROOT}.env`) && 'a .env file next to the compose file may set POSTGRES_PASSWORD' },
    async () => {
      // `ps` reads and interpolates the whole file, as `up` does, but starts nothing.
      const result = await run(compose.command, [...compose.args, '-p', `${PROJECT}-nopw`, '-f', COMPOSE_FILE, 'ps'], {
        env,
        unset: ['POSTGRES_PASSWORD'],
      });
      assert.notEqual(result.code, 0, result.stdout);
      assert.match(result.stderr, /set POSTGRES_PASSWORD/);
    },
  );

  it('balances requests round robin over both replicas', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const response = await api('/healthcheck');
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok', message: 'The service is healthy' });
      counts.set(instanceOf(response), (counts.get(instanceOf(response)) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), REPLICAS);
    for (const id of REPLICAS) assert.ok((counts.get(id) ?? 0) >= 5, `uneven: ${JSON.stringify([...counts])}`);
  });

  it('creates users through the balancer and reads each back from both replicas', async () => {
    const people = [
      { first_name: 'Ada', last_name: 'Lovelace', age: 36, email: 'ada@example.com' },
      { first_name: 'Alan', last_name: 'Turing', age: 41, email: 'alan@example.com' },
      { first_name: 'Grace', last_name: 'Hopper', age: null, email: 'grace@example.com' },
      { first_name: 'Edsger', last_name: 'Dijkstra', age: 72, email: 'edsger@example.com' },
    ];
    const writers = new Set<string>();
    for (const person of people) {
      const response = await post(person);
      assert.equal(response.status, 201, await response.clone().text());
      writers.add(instanceOf(response));
      const user = (await response.json()) as User;
      assert.equal(response.headers.get('location'), `/users/${user.id}`);
      assert.deepEqual({ ...user, id: 0, created_at: '', updated_at: '' }, { ...person, id: 0, created_at: '', updated_at: '' });
      created.push(user);
    }
    assert.deepEqual([...writers].sort(), REPLICAS, 'the creates were not spread over both replicas');

    // A user written through one replica is read, identical, through the other.
    for (const user of created) {
      for (const [id, read] of await readFromEveryReplica(`/users/${user.id}`)) {
        assert.equal(read.status, 200, `GET /users/${user.id} on ${id}`);
        assert.deepEqual(read.body, user, `GET /users/${user.id} on ${id}`);
      }
    }

    for (let i = 0; i < REPLICAS.length; i++) {
      const list = await api('/users/');
      assert.equal(list.status, 200);
      assert.equal(list.headers.get('x-total-count'), String(created.length), `X-Total-Count from ${instanceOf(list)}`);
      assert.deepEqual(await list.json(), created, `the list from ${instanceOf(list)}`);
    }
  });

  it('applies a PATCH made through the balancer on both replicas', async () => {
    const target = created[1];
    assert.ok(target);
    const response = await api(`/users/${target.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ age: 42, last_name: 'Mathison Turing' }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const patched = (await response.json()) as User;
    assert.equal(patched.age, 42);
    assert.equal(patched.last_name, 'Mathison Turing');
    assert.ok(patched.updated_at > target.updated_at, 'updated_at did not move');
    for (const [id, read] of await readFromEveryReplica(`/users/${target.id}`)) {
      assert.deepEqual(read.body, patched, `GET /users/${target.id} on ${id}`);
    }
    created[1] = patched;
  });

  it('lets exactly one of concurrent creates with the same email win, whichever replica each reaches', async () => {
    const attempts = 12;
    const responses = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        post({ first_name: 'Race', last_name: `Runner ${i}`, email: i % 2 ? 'RACE@example.com' : 'race@EXAMPLE.com' }),
      ),
    );
    const results = await Promise.all(
      responses.map(async (response) => ({
        status: response.status,
        instance: instanceOf(response),
        contentType: response.headers.get('content-type'),
        body: (await response.json()) as { code?: string; id?: number },
      })),
    );
    // The winner is recorded first, so that a failure below does not also fail the later tests' counts.
    for (const result of results) if (result.status === 201) created.push(result.body as User);
    const unexpected = results.filter((result) => result.status !== 201 && result.status !== 409);
    assert.deepEqual(
      results.map((result) => result.status).sort(),
      [201, ...Array<number>(attempts - 1).fill(409)],
      unexpected.length ? `unexpected answers: ${JSON.stringify(unexpected)}\n${await logs()}` : undefined,
    );
    assert.deepEqual([...new Set(results.map((result) => result.instance))].sort(), REPLICAS, 'the race did not involve both replicas');
    for (const result of results.filter((candidate) => candidate.status === 409)) {
      assert.equal(result.contentType, 'application/problem+json; charset=utf-8');
      assert.equal(result.body.code, 'EMAIL_TAKEN');
    }
    const list = await api('/users/?email=race@example.com');
    assert.equal(list.headers.get('x-total-count'), '1');
  });

  it('replays an Idempotency-Key on the other replica (keys live in the database)', async () => {
    const key = `scale-out-${randomBytes(8).toString('hex')}`;
    const person = { first_name: 'Idem', last_name: 'Potent', email: 'idem@example.com' };
    const first = await post(person, { 'idempotency-key': key });
    assert.equal(first.status, 201, await first.clone().text());
    const second = await post(person, { 'idempotency-key': key });
    assert.equal(second.status, 201, await second.clone().text());
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    // Round robin: consecutive requests go to different replicas.
    assert.notEqual(instanceOf(second), instanceOf(first));
    const user = (await first.json()) as User;
    assert.deepEqual(await second.json(), user);
    created.push(user);
  });

  it('passes X-Request-Id through, and refuses an oversized body with problem+json 413', async () => {
    const response = await api('/users/', { headers: { 'x-request-id': 'scale-out-test-1' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), 'scale-out-test-1');
    await response.arrayBuffer();

    const big = await post({ first_name: 'x'.repeat(1024 * 1024 + 1), last_name: 'Big', email: 'big@example.com' });
    assert.equal(big.status, 413);
    // Refused by nginx (its limit is the app's), in the app's format.
    assert.equal(big.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = (await big.json()) as { status: number; code: string };
    assert.equal(problem.status, 413);
    assert.equal(problem.code, 'BODY_TOO_LARGE');
    assert.equal(big.headers.get('server'), 'nginx', 'nginx should not tell its version');
  });

  it('follows one trace from the client through nginx to the replica: the same trace id in the answer and in both logs', async () => {
    const trace = randomBytes(16).toString('hex');
    const response = await api('/users/?limit=1', { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.match(response.headers.get('traceparent') ?? '', new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
    const replica = instanceOf(response);
    // Without one from the client, nginx starts a trace, which the replica takes up.
    const started = await api('/users/?limit=1');
    await started.arrayBuffer();
    const startedTrace = /^00-([0-9a-f]{32})-[0-9a-f]{16}-00$/.exec(started.headers.get('traceparent') ?? '')?.[1];
    assert.ok(startedTrace, `a trace is started: ${started.headers.get('traceparent')}`);
    // The replicas write their log in blocks at least every second (LOG_FLUSH_INTERVAL_MS), each on its own
    // timer: the two requests may have gone to different replicas, so wait for both lines.
    const logOf = async (service: string) => {
      const [name] = await containers(service);
      const result = await run(ENGINE, ['logs', name!]);
      return result.stdout + result.stderr;
    };
    const namesBoth = (log: string) => log.includes(`"trace_id":"${trace}"`) && log.includes(`"trace_id":"${startedTrace}"`);
    let replicaLog = '';
    for (let tries = 0; tries < 20 && !namesBoth(replicaLog); tries++) {
      await delay(250);
      replicaLog = (await logOf('api1')) + (await logOf('api2'));
    }
    assert.ok(replicaLog.includes(`"trace_id":"${trace}"`), `the log of ${replica} names the trace`);
    assert.ok(replicaLog.includes(`"trace_id":"${startedTrace}"`), "the replica's log names the trace nginx started");
    const balancerLog = await logOf('lb');
    assert.ok(balancerLog.includes(`traceparent=00-${trace}-00f067aa0ba902b7-01`), "nginx's access line names the client's trace");
    assert.ok(balancerLog.includes(`traceparent=00-${startedTrace}-`), "nginx's access line names the trace it started");
  });

  it('serves Prometheus metrics inside each replica on METRICS_PORT, and none through the balancer', async () => {
    const outside = await api('/metrics');
    assert.equal(outside.status, 404);
    await outside.arrayBuffer();
    for (const service of REPLICAS) {
      const [name] = await containers(service);
      const scrape = await mustRun(ENGINE, [
        'exec',
        name!,
        'node',
        '-e',
        "fetch('http://127.0.0.1:9464/metrics').then(async (r) => { if (r.status !== 200) process.exit(1); process.stdout.write(await r.text()); })",
      ]);
      assert.match(scrape.stdout, /^http_requests_total\{method="GET",route="\/healthcheck",status="200"\} \d+$/m, service);
      assert.match(scrape.stdout, /^db_pool_connections\{state="total"\} [1-9]/m, service);
    }
  });

  it('routes around a stopped replica, answers problem+json without any, and balances to them again once back', { timeout: 3 * MINUTE }, async () => {
    const [api1] = await containers('api1');
    assert.ok(api1, 'no api1 container');
    await engine(['stop', '-t', '10', api1], { timeoutMs: MINUTE });

    // Reads (retried on the other replica) and writes (never sent to the stopped one twice) keep working.
    for (let i = 0; i < 6; i++) {
      const response = await api(`/users/${created[0]?.id}`);
      assert.equal(response.status, 200);
      assert.equal(instanceOf(response), 'api2');
      await response.arrayBuffer();
    }
    const response = await post({ first_name: 'Solo', last_name: 'Replica', email: 'solo@example.com' });
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(instanceOf(response), 'api2');
    created.push((await response.json()) as User);

    // With no replica at all, nginx's own error is problem+json too.
    const [api2] = await containers('api2');
    assert.ok(api2, 'no api2 container');
    await engine(['stop', '-t', '10', api2], { timeoutMs: MINUTE });
    const none = await api('/users/');
    assert.ok(none.status === 502 || none.status === 504, `status ${none.status}`);
    assert.equal(none.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = (await none.json()) as { status: number; code: string };
    assert.equal(problem.status, none.status);
    assert.match(problem.code, /^UPSTREAM_(UNAVAILABLE|TIMEOUT)$/);

    // Started again, a replica usually has another address: the balancer must notice and use it again.
    await engine(['start', api1], { timeoutMs: MINUTE });
    await engine(['start', api2], { timeoutMs: MINUTE });
    await waitForReplicas(2 * MINUTE);
    const list = await api('/users/');
    assert.equal(list.headers.get('x-total-count'), String(created.length));
    await list.arrayBuffer();
  });

  it(
    'restores a pg_dump of the db service into a new volume: the users come back through the balancer and new writes work',
    { timeout: 10 * MINUTE },
    async () => {
      // docs/OPERATIONS.md, "PostgreSQL (docker-compose.scale.yml)": the same commands, through the engine (podman-compose
      // prints its own lines on stdout, which would end up in the dump).
      // The image has db:backup's entry; on PostgreSQL it refuses, and says what to run instead.
      const [api1] = await containers('api1');
      assert.ok(api1, 'no api1 container');
      const refused = await run(ENGINE, ['exec', api1, 'node', 'dist/db/backup.js', '/tmp/users.db']);
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /DATABASE_URL is a PostgreSQL database: db:backup copies SQLite files only[^]*pg_dump --format=custom/);

      const listed = await api('/users/?limit=100');
      assert.equal(listed.status, 200);
      const users = (await listed.json()) as User[];
      assert.equal(users.length, created.length);
      const dumpDirectory = mkdtempSync(join(tmpdir(), 'users-api-scale-dump-'));
      const dump = join(dumpDirectory, 'users.dump');
      try {
        const [db] = await containers('db');
        assert.ok(db, 'no db container');
        await engineWithFiles(['exec', db, 'sh', '-c', 'pg_dump --format=custom -U "$POSTGRES_USER" "$POSTGRES_DB"'], { stdout: dump });
        assert.ok(statSync(dump).size > 0, 'an empty dump');

        // Lose everything: containers and the database volume.
        await composeRun(['down', '-v']);
        assert.equal(await volumeExists(), false, `down -v left ${VOLUME}`);

        // Only the database first: replicas started on an empty one would create the schema before the restore.
        await composeRun(['up', '-d', 'db'], 5 * MINUTE);
        const [fresh] = await containers('db');
        assert.ok(fresh, 'no db container after up -d db');
        // Over TCP: while a new volume is initialised, a temporary server listens on the Unix socket only.
        const deadline = Date.now() + 2 * MINUTE;
        while ((await run(ENGINE, ['exec', fresh, 'pg_isready', '-q', '-h', '127.0.0.1'])).code !== 0) {
          if (Date.now() > deadline) throw new Error(`the new db did not become ready\n${await logs()}`);
          await delay(500);
        }
        await engineWithFiles(
          ['exec', '-i', fresh, 'sh', '-c', 'pg_restore --clean --if-exists --no-owner --single-transaction -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
          { stdin: dump },
        );
      } finally {
        rmSync(dumpDirectory, { recursive: true, force: true });
      }

      await composeRun(['up', '-d'], 5 * MINUTE);
      await waitForReplicas(3 * MINUTE);
      for (const [id, read] of await readFromEveryReplica('/users/?limit=100')) {
        assert.equal(read.status, 200, `the list on ${id}`);
        assert.deepEqual(read.body, users, `the restored list on ${id}`);
      }
      // The sequence was restored with the rows: a new user gets an id above all of them.
      const response = await post({ first_name: 'After', last_name: 'Restore', email: 'after.restore@example.com' });
      assert.equal(response.status, 201, await response.clone().text());
      const user = (await response.json()) as User;
      assert.ok(user.id > Math.max(...users.map((restored) => restored.id)), `new id ${user.id}`);
      created.push(user);
      const again = await post({ first_name: 'After', last_name: 'Restore', email: 'AFTER.restore@example.com' });
      assert.equal(again.status, 409, 'the unique email index was restored');
      await again.arrayBuffer();
    },
  );

  it('keeps the data in the named volume across down and up; down -v deletes it', { timeout: 6 * MINUTE }, async () => {
    assert.ok(await volumeExists(), `no volume ${VOLUME}`);
    // No container has another volume (such as an anonymous one for the image's /app/data) that down -v would leave.
    for (const name of await containers()) {
      const format = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}';
      const volumes = (await engine(['inspect', '--format', format, name])).stdout.split(/\s+/).filter(Boolean);
      assert.deepEqual(volumes.filter((volume) => volume !== VOLUME), [], `${name} has other volumes`);
    }
    await composeRun(['down']);
    assert.deepEqual(await containers(), []);
    assert.ok(await volumeExists(), `down without -v removed ${VOLUME}`);

    await composeRun(['up', '-d'], 5 * MINUTE);
    await waitForReplicas(3 * MINUTE);
    const list = await api('/users/');
    assert.equal(list.status, 200);
    assert.deepEqual(
      ((await list.json()) as User[]).map((user) => user.email).sort(),
      created.map((user) => user.email).sort(),
    );

    await composeRun(['down', '-v']);
    assert.deepEqual(await containers(), []);
    assert.equal(await volumeExists(), false, `down -v left ${VOLUME}`);
    await assert.rejects(fetch(`${base}/healthcheck`, { signal: AbortSignal.timeout(2 * SECOND) }));
  });
});
