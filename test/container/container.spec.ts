// Builds the image and runs it for real: health check, non-root user, the seed README's curl flows,
// SIGTERM, data kept in the volume across a restart, then the compose file up and down.
//   CONTAINER_ENGINE=podman npm run test:container      (the engine defaults to docker)
// Without a working engine the suite is skipped, loudly; with CI=true it fails instead.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BUILD_TIMEOUT,
  ENGINE,
  MINUTE,
  SECOND,
  compose,
  composeProblem,
  engine,
  engineProblem,
  freePort,
  mustRun,
  run,
  skipReason,
} from './engine.js';

const tag = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `users-api-test:${tag}`;
const CONTAINER = `users-api-test-${tag}`;
const PROJECT = `users-api-test-${tag}`;

/** Polls /healthcheck until it answers 200; on timeout, fails with the last error and the logs. */
async function waitForHealthy(base: string, timeoutMs: number, logs: () => Promise<string>) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/healthcheck`, { signal: AbortSignal.timeout(2 * SECOND) });
      if (response.status === 200) return;
      last = `status ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = String((error as Error).cause ?? error);
    }
    await delay(500);
  }
  throw new Error(`${base}/healthcheck was not 200 within ${timeoutMs} ms (${last})\n--- logs ---\n${await logs()}`);
}

async function logsOf(container: string): Promise<string> {
  const result = await run(ENGINE, ['logs', '--tail', '50', container]);
  return `${result.stdout}${result.stderr}`;
}

const processUid = async (container: string) => {
  const status = (await engine(['exec', container, 'cat', '/proc/1/status'])).stdout;
  return /^Uid:\s+(\d+)/m.exec(status)?.[1];
};

describe(`the users-api image (${ENGINE})`, { skip: skipReason(engineProblem, 'the container tests') }, () => {
  let port = 0;
  let base = '';
  let dataDir = '';
  let created: Record<string, unknown> = {};

  before(
    async () => {
      if (engineProblem) throw new Error(`CI=true and the container engine is not usable: ${engineProblem}`);
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
      // A fresh data directory that the image's user (uid 1000, or its mapping in rootless mode) may write.
      dataDir = await mkdtemp(join(tmpdir(), 'users-api-data-'));
      await chmod(dataDir, 0o777);
      // podman's default OCI format drops HEALTHCHECK; the docker format keeps it.
      const format = ENGINE === 'podman' ? ['--format', 'docker'] : [];
      await engine(['build', ...format, '-t', IMAGE, '.'], { timeoutMs: BUILD_TIMEOUT });
      await engine(['run', '-d', '--name', CONTAINER, '-p', `127.0.0.1:${port}:8000`, '-v', `${dataDir}:/app/data`, IMAGE]);
      await waitForHealthy(base, MINUTE, () => logsOf(CONTAINER));
    },
    { timeout: BUILD_TIMEOUT + 5 * MINUTE },
  );

  after(async () => {
    await run(ENGINE, ['rm', '-f', '-t', '0', CONTAINER]);
    await run(ENGINE, ['rmi', '-f', IMAGE]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('reports healthy through the image’s own HEALTHCHECK', { timeout: 3 * MINUTE }, async () => {
    if (ENGINE === 'podman') {
      // Runs the image's HEALTHCHECK command once (podman's timers need systemd, absent here).
      await engine(['healthcheck', 'run', CONTAINER]);
      return;
    }
    // Docker runs the check itself: the first result comes after one interval.
    const deadline = Date.now() + 2 * MINUTE;
    let status = '';
    while (Date.now() < deadline) {
      status = (await engine(['inspect', '--format', '{{.State.Health.Status}}', CONTAINER])).stdout.trim();
      if (status !== 'starting') break;
      await delay(2 * SECOND);
    }
    assert.equal(status, 'healthy');
  });

  it('runs the server as a non-root user', async () => {
    const uid = (await engine(['exec', CONTAINER, 'id', '-u'])).stdout.trim();
    assert.match(uid, /^\d+$/);
    assert.notEqual(uid, '0');
    const pid1 = await processUid(CONTAINER);
    assert.ok(pid1 !== undefined && pid1 !== '0', `PID 1 runs as uid ${pid1}`);
  });

  it('serves the seed README’s curl flows through the published port', async () => {
    const john = { first_name: 'John', last_name: 'Doe', age: 30, email: 'john.doe@example.com' };
    const post = await fetch(`${base}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(john),
    });
    assert.equal(post.status, 201, await post.clone().text());
    created = (await post.json()) as Record<string, unknown>;
    assert.equal(typeof created.id, 'number');
    assert.equal(post.headers.get('location'), `/users/${String(created.id)}`);
    assert.deepEqual(
      Object.keys(created).sort(),
      ['age', 'created_at', 'email', 'first_name', 'id', 'last_name', 'updated_at'],
    );
    assert.deepEqual({ ...created, id: undefined, created_at: undefined, updated_at: undefined }, {
      ...john,
      id: undefined,
      created_at: undefined,
      updated_at: undefined,
    });

    const list = await fetch(`${base}/users/`);
    assert.equal(list.status, 200);
    const users = (await list.json()) as unknown[];
    assert.ok(Array.isArray(users));
    assert.deepEqual(users, [created]);

    const one = await fetch(`${base}/users/${String(created.id)}`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), created);
  });

  it('stops on SIGTERM within seconds with exit code 0', { timeout: MINUTE }, async () => {
    const started = Date.now();
    await engine(['stop', '-t', '10', CONTAINER], { timeoutMs: 30 * SECOND });
    const took = Date.now() - started;
    // A server that ignored SIGTERM would be killed after the full 10 s, with exit code 137.
    assert.ok(took < 8 * SECOND, `stop took ${took} ms`);
    const state = (await engine(['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', CONTAINER])).stdout.trim();
    assert.equal(state, 'false 0');
  });

  it('still has the user after a restart, because the data lives in the /app/data volume', { timeout: 2 * MINUTE }, async () => {
    assert.ok(existsSync(join(dataDir, 'users.db')), 'no users.db in the mounted data directory');
    await engine(['start', CONTAINER]);
    await waitForHealthy(base, MINUTE, () => logsOf(CONTAINER));
    const one = await fetch(`${base}/users/${String(created.id)}`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), created);
  });

  describe('with docker-compose.yml', { skip: skipReason(composeProblem, 'the container tests') }, () => {
    let composePort = 0;
    let composeData = '';
    let composeEnv: Record<string, string> = {};
    const composeRun = (args: string[], timeoutMs = 2 * MINUTE) =>
      mustRun(compose.command, [...compose.args, '-p', PROJECT, '-f', 'docker-compose.yml', ...args], {
        env: composeEnv,
        timeoutMs,
      });
    const projectContainers = async () =>
      (await engine(['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}'])).stdout
        .split('\n')
        .filter(Boolean);

    before(async () => {
      if (composeProblem) throw new Error(`CI=true and compose is not usable: ${composeProblem}`);
      composePort = await freePort();
      // Not created beforehand: compose must create it and the service must still be able to write it.
      composeData = join(await mkdtemp(join(tmpdir(), 'users-api-compose-')), 'data');
      composeEnv = {
        API_BIND: '127.0.0.1',
        API_PORT: String(composePort),
        DATA_DIR: composeData,
        // podman-compose builds with `podman build`; keep the Dockerfile's HEALTHCHECK there too.
        BUILDAH_FORMAT: 'docker',
      };
    });

    after(async () => {
      await run(compose.command, [...compose.args, '-p', PROJECT, '-f', 'docker-compose.yml', 'down', '-v'], {
        env: composeEnv,
        timeoutMs: 2 * MINUTE,
      });
      for (const name of await projectContainers().catch(() => [])) await run(ENGINE, ['rm', '-f', '-t', '0', name]);
      await run(ENGINE, ['network', 'rm', `${PROJECT}_default`]); // podman-compose 1.0 leaves it behind
      for (const image of [`${PROJECT}_api`, `${PROJECT}-api`]) await run(ENGINE, ['rmi', '-f', image]);
      if (composeData) await rm(join(composeData, '..'), { recursive: true, force: true });
    });

    it('comes up, answers /healthcheck as a non-root process and goes down again', { timeout: BUILD_TIMEOUT + 5 * MINUTE }, async () => {
      await composeRun(['up', '-d', '--build'], BUILD_TIMEOUT);
      const [container] = await projectContainers();
      assert.ok(container, 'compose started no container');
      const composeBase = `http://127.0.0.1:${composePort}`;
      await waitForHealthy(composeBase, MINUTE, () => logsOf(container));
      const uid = await processUid(container);
      assert.ok(uid !== undefined && uid !== '0', `the server runs as uid ${uid}`);
      assert.ok(existsSync(join(composeData, 'users.db')), 'the database is not in DATA_DIR');

      await composeRun(['down', '-v']);
      assert.deepEqual(await projectContainers(), []);
      await assert.rejects(fetch(`${composeBase}/healthcheck`, { signal: AbortSignal.timeout(2 * SECOND) }));
    });
  });
});
