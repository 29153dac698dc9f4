import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/harness/free-port.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS, createPostgresTestDatabase } from '../helpers/database.js';
import { uniqueEmail } from '../helpers/factories.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

// The Prometheus metrics: after known traffic, the numbers of the scrape are those of the traffic, by method, route
// template (never the raw URL) and status; database operations are timed; the listener is METRICS_PORT's alone;
// under WORKERS=2 one scrape is the sum over the workers.

/** The samples of a Prometheus text scrape: `name{labels}` → value. */
function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const series = (name: string, labels: Record<string, string> = {}) =>
  Object.keys(labels).length === 0 ? name : `${name}{${Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',')}}`;

const requests = (method: string, route: string, status: number) => series('http_requests_total', { method, route, status: String(status) });
const durations = (method: string, route: string, status: number) =>
  series('http_request_duration_seconds_count', { method, route, status: String(status) });
const queries = (operation: string) => series('db_query_duration_seconds_count', { operation });

const json = { 'content-type': 'application/json' };
const newUser = () => JSON.stringify({ first_name: 'Metric', last_name: 'Counted', email: uniqueEmail('metric') });

for (const dialect of TEST_DIALECTS) describe(`metrics after known traffic (${dialect})`, () => {
  let t: TestApp;
  before(async () => {
    // METRICS_PORT turns the metrics on; buildApp does not listen, the test reads the registry itself.
    t = await buildTestApp(dialect, { METRICS_PORT: '9' });
  });
  after(() => t.close());

  it('counts each request by method, route template and status, and times each database operation', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await t.request({ method: 'POST', url: '/users/', headers: json, payload: newUser() });
      assert.equal(response.statusCode, 201);
      ids.push(response.json<{ id: number }>().id);
    }
    for (const id of ids) assert.equal((await t.request({ method: 'GET', url: `/users/${id}` })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: '/users/999999' })).statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: '/users' })).statusCode, 200);
    assert.equal((await t.request({ method: 'PATCH', url: `/users/${ids[0]}`, headers: json, payload: '{"age": 30}' })).statusCode, 200);
    assert.equal((await t.request({ method: 'DELETE', url: `/users/${ids[1]}` })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: '/users/0' })).statusCode, 422);
    assert.equal((await t.app.inject({ method: 'GET', url: '/no/such/path/42' })).statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: '/readyz' })).statusCode, 200);

    const text = await t.app.metrics!.render();
    const samples = samplesOf(text);
    const expected: [string, number][] = [
      [requests('POST', '/users/', 201), 3],
      [requests('GET', '/users/{user_id}', 200), 3],
      [requests('GET', '/users/{user_id}', 404), 1],
      [requests('GET', '/users/{user_id}', 422), 1],
      [requests('GET', '/users/', 200), 1],
      [requests('PATCH', '/users/{user_id}', 200), 1],
      [requests('DELETE', '/users/{user_id}', 200), 1],
      [requests('GET', 'unmatched', 404), 1],
      [requests('GET', '/readyz', 200), 1],
      [durations('POST', '/users/', 201), 3],
      [durations('GET', '/users/{user_id}', 200), 3],
      [series('http_requests_in_flight'), 0],
      [queries('insert'), 3],
      // The 422 never reaches the database.
      [queries('find_by_id'), 4],
      [queries('list'), 1],
      [queries('update'), 1],
      [queries('delete'), 1],
      [queries('ping'), 1],
    ];
    for (const [name, value] of expected) assert.equal(samples.get(name), value, `${name} in\n${text}`);
    assert.ok((samples.get(series('http_request_duration_seconds_sum', { method: 'POST', route: '/users/', status: '201' })) ?? 0) > 0);
    // A histogram's buckets are cumulative: its +Inf bucket is its count.
    assert.equal(samples.get(series('http_request_duration_seconds_bucket', { le: '+Inf', method: 'GET', route: '/users/{user_id}', status: '200' })), 3);
    assert.doesNotMatch(text, /route="\/users\/\d/, 'never a raw URL as a label');
    assert.doesNotMatch(text, /no\/such\/path/);
    // The Node process metrics.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.ok(samples.has(name), `${name} in the scrape`);
    }
    if (dialect === 'postgres') {
      assert.ok((samples.get(series('db_pool_connections', { state: 'total' })) ?? 0) >= 1);
      assert.ok(samples.has(series('db_pool_connections', { state: 'idle' })));
      assert.equal(samples.get('db_pool_waiting_requests'), 0);
    } else {
      // Three creates, one update and one delete, each acknowledged after its own commit here (one at a time).
      assert.equal(samples.get('sqlite_group_commit_writes_total'), 5);
      assert.equal(samples.get('sqlite_group_commits_total'), 5);
    }
  });
});

/** GET on a port; status, content type and body. */
async function get(port: number, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

const scrape = async (port: number) => {
  const { status, type, body } = await get(port, '/metrics');
  assert.equal(status, 200);
  assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
  return samplesOf(body);
};

for (const dialect of TEST_DIALECTS) describe(`the metrics listener of a real server (${dialect})`, { timeout: 60000 }, () => {
  let directory: string;
  let server: ServerProcess | undefined;
  let drop = async () => {};
  let metricsPort: number;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-metrics-'));
    let url = `file:${join(directory, 'users.db')}`;
    if (dialect === 'postgres') ({ url, drop } = await createPostgresTestDatabase({ migrated: true }));
    metricsPort = await freePort();
    server = await startServer({ DATABASE_URL: url, METRICS_PORT: String(metricsPort) });
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await drop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves /metrics on METRICS_PORT only: the API port has no /metrics, the metrics port nothing else', async () => {
    assert.equal((await get(server!.port, '/metrics')).status, 404);
    assert.equal((await get(metricsPort, '/users/')).status, 404);
    const samples = await scrape(metricsPort);
    assert.ok(samples.has('process_cpu_seconds_total'));
    if (dialect === 'sqlite') assert.ok((samples.get('sqlite_wal_bytes') ?? 0) > 0, 'the WAL of the served file');
  });

  it('counts a request in flight until it is answered, and one whose client went away until it is gone', async () => {
    const body = newUser();
    const inFlight = httpRequest({
      port: server!.port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/users/',
      headers: { ...json, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    inFlight.on('error', () => {});
    inFlight.flushHeaders();
    await once(inFlight, 'continue');
    assert.equal((await scrape(metricsPort)).get('http_requests_in_flight'), 1);
    // The client goes away mid-body.
    inFlight.destroy();
    let inFlightNow = 1;
    for (let tries = 0; inFlightNow !== 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlightNow = (await scrape(metricsPort)).get('http_requests_in_flight') ?? -1;
    }
    assert.equal(inFlightNow, 0);
  });
});

describe('metrics under WORKERS=2: one scrape sums the workers', { timeout: 60000 }, () => {
  let directory: string;
  let server: ServerProcess | undefined;
  let metricsPort: number;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'users-api-metrics-workers-'));
    metricsPort = await freePort();
    server = await startServer({
      DATABASE_URL: `file:${join(directory, 'users.db')}`,
      METRICS_PORT: String(metricsPort),
      WORKERS: '2',
      INSTANCE_ID: 'metrics',
    });
  });
  after(async () => {
    await server?.stop('SIGTERM');
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers the sum over both workers of the requests they served', async () => {
    // The server is ready when one worker answers; a scrape asks every worker, and one still loading its code drops
    // the question (prom-client then fails the scrape after 5 s, which a CI run hit). Both answer first.
    const started = new Set<string>();
    for (let tries = 0; started.size < 2 && tries < 200; tries++) {
      const response = await fetch(`${server!.url}/healthcheck`, { headers: { connection: 'close' } });
      started.add(response.headers.get('x-instance-id') ?? '');
    }
    assert.deepEqual([...started].sort(), ['metrics.1', 'metrics.2'], 'both workers are up');
    const before = (await scrape(metricsPort)).get(requests('GET', '/users/', 200)) ?? 0;
    const answeredBy = new Map<string, number>();
    const total = 60;
    for (let i = 0; i < total; i++) {
      // A new connection each time: the cluster hands connections to the workers in turn.
      const response = await fetch(`${server!.url}/users/?limit=1`, { headers: { connection: 'close' } });
      assert.equal(response.status, 200);
      const instance = response.headers.get('x-instance-id') ?? '';
      answeredBy.set(instance, (answeredBy.get(instance) ?? 0) + 1);
    }
    assert.deepEqual([...answeredBy.keys()].sort(), ['metrics.1', 'metrics.2'], 'both workers served some');
    const samples = await scrape(metricsPort);
    assert.equal((samples.get(requests('GET', '/users/', 200)) ?? 0) - before, total);
    assert.equal(samples.get('http_requests_in_flight'), 0);
  });
});

describe('metrics of API_KEY: requests accepted by each key, for a rotation', () => {
  const OLD = 'old-key-'.repeat(3);
  const NEW = 'new-key-'.repeat(3);
  let t: TestApp;
  before(async () => {
    t = await buildTestApp('sqlite', { METRICS_PORT: '9', API_KEY: `${OLD},${NEW}` });
  });
  after(() => t.close());

  it('counts each key by its position in API_KEY, and names no key', async () => {
    const send = (key?: string) => t.app.inject({ method: 'GET', url: '/users/', headers: key ? { authorization: `Bearer ${key}` } : {} });
    for (let i = 0; i < 2; i++) assert.equal((await send(OLD)).statusCode, 200);
    for (let i = 0; i < 5; i++) assert.equal((await send(NEW)).statusCode, 200);
    assert.equal((await send('not-a-key-at-all-000')).statusCode, 401);
    assert.equal((await send()).statusCode, 401);
    const text = await t.app.metrics!.render();
    const samples = samplesOf(text);
    assert.equal(samples.get(series('api_key_requests_total', { key: '1' })), 2);
    assert.equal(samples.get(series('api_key_requests_total', { key: '2' })), 5);
    assert.equal(samples.get(requests('GET', '/users/', 401)), 2);
    assert.ok(!text.includes(OLD) && !text.includes(NEW), 'no key in the scrape');
  });
});
