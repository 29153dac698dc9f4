import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseCli } from '../scripts/harness/cli.js';
import { cpuTimeMs, memoryOf } from '../scripts/harness/process-stats.js';
import { SERVER_ENTRY, startServer, type ServerProcess } from '../scripts/harness/server-process.js';
import { fixed, machine, mb, ms, table, verdict } from './report.js';
import { median, percentile } from './timing.js';
import { userModel } from '../src/users/users.schemas.js';

// `npm run bench:hostile [-- options]`: what a 1 MB body of 90,000 unknown fields costs the service (issue 9).
// The built server runs on a fresh SQLite file; GET /users/1 latency is measured idle, then while a few clients
// keep POSTing the hostile body. Prints the hostile answer's size, the server's CPU per hostile request, and the
// GET latency under that load against idle (target: within 2x).

const cli = parseCli({
  usage: 'npm run bench:hostile -- [options]',
  flags: {
    duration: { type: 'string', value: '<s>', default: '10', description: 'seconds of hostile load' },
    clients: { type: 'string', value: '<n>', default: '4', description: 'clients POSTing the hostile body, each one request at a time' },
    fields: { type: 'string', value: '<n>', default: '90000', description: 'unknown fields in the hostile body (90000 make ~1 MB)' },
    idle: { type: 'string', value: '<s>', default: '3', description: 'seconds of GET /users/1 on the idle server' },
    sequential: { type: 'string', value: '<n>', default: '20', description: 'hostile requests sent one at a time to measure CPU per request' },
    entry: { type: 'string', value: '<file>', default: SERVER_ENTRY, description: 'the server to start (another build, to compare)' },
    'body-limit': { type: 'string', value: '<bytes>', description: "the server's BODY_LIMIT (default: the server's own default)" },
  },
});
const count = (name: 'duration' | 'clients' | 'fields' | 'idle' | 'sequential', min = 1) => cli.number(name, { min, integer: true });
const options = {
  duration: count('duration'),
  clients: count('clients'),
  fields: count('fields'),
  idle: count('idle'),
  sequential: count('sequential'),
  entry: cli.flags.entry,
  bodyLimit: cli.flags['body-limit'] === undefined ? undefined : cli.number('body-limit', { min: 1024, integer: true }),
};
/** The whole run stops here even if the server stops answering. */
const DEADLINE_MS = (options.idle + options.duration + 120) * 1000;

/**
 * The reported payload: a user missing a required field and with a bad email (real problems that must still be
 * listed), followed by `fields` unknown fields.
 */
function hostileBody(fields: number): string {
  const example = (field: (typeof userModel.created)[number]) => (field.spec.schema as { examples?: unknown[] }).examples?.[0] ?? null;
  const required = userModel.created.filter((field) => field.spec.create === 'required');
  const missing = required.find((field) => field.name !== 'email');
  const user = Object.fromEntries(
    required.filter((field) => field !== missing).map((field) => [field.name, field.name === 'email' ? 'not-an-email' : example(field)]),
  );
  const unknown = Array.from({ length: fields }, (_, i) => `"x${String(i).padStart(5, '0')}":0`).join(',');
  return `${JSON.stringify(user).slice(0, -1)},${unknown}}`;
}

const say = (text = '') => console.log(text);
const progress = (text: string) => console.error(`  · ${text}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
/** GET /users/1 every 10 ms (100/s): light enough to leave the server idle between them. */
const GET_INTERVAL_MS = 10;

/**
 * GETs of `url` at a fixed rate until `until` (performance.now()), each sent on time whether or not the earlier
 * ones were answered: a GET sent while the server is busy waits, as a real client's would. (A loop that waits for
 * each answer before sending the next mostly samples the moments when the server is free.) Round trips, ms.
 */
async function getAtRate(url: string, until: number): Promise<{ times: number[]; failures: number }> {
  const times: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const get = async () => {
    const started = performance.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
      await response.arrayBuffer();
      if (response.status !== 200) failures++;
    } catch {
      failures++;
    }
    times.push(performance.now() - started);
  };
  for (let due = performance.now(); due < until; due += GET_INTERVAL_MS) {
    await sleep(due - performance.now());
    pending.push(get());
  }
  await Promise.all(pending);
  return { times, failures };
}

interface HostileResult {
  requests: number;
  statuses: Record<string, number>;
  times: number[];
}

// The hostile clients run in a thread of their own, so that sending 1 MB bodies does not delay the GETs being timed.
const CLIENTS = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, body, clients, durationMs } = workerData;
const payload = new TextEncoder().encode(body);
const until = performance.now() + durationMs;
const statuses = {};
const times = [];
async function client() {
  while (performance.now() < until) {
    const started = performance.now();
    try {
      const response = await fetch(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30000) });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    } catch (error) {
      statuses[error.name] = (statuses[error.name] ?? 0) + 1;
    }
    times.push(performance.now() - started);
  }
}
Promise.all(Array.from({ length: clients }, client)).then(() => parentPort.postMessage({ requests: times.length, statuses, times }));
`;

function hostileLoad(url: string, body: string): Promise<HostileResult> {
  const worker = new Worker(CLIENTS, { eval: true, workerData: { url, body, clients: options.clients, durationMs: options.duration * 1000 } });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: HostileResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function run(server: ServerProcess): Promise<void> {
  const body = hostileBody(options.fields);
  const created = await fetch(`${server.url}/users/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(Object.fromEntries(userModel.created.map((field) => [field.name, (field.spec.schema as { examples?: unknown[] }).examples?.[0] ?? null]))),
  });
  if (created.status !== 201) throw new Error(`creating user 1 answered ${created.status}: ${await created.text()}`);
  const getUrl = `${server.url}/users/${((await created.json()) as { id: number }).id}`;

  progress(`warming up, then ${options.idle} s of GET /users/1 (${1000 / GET_INTERVAL_MS}/s) on the idle server`);
  await getAtRate(getUrl, performance.now() + 1000);
  let cpu = cpuTimeMs(server.pid);
  const idle = await getAtRate(getUrl, performance.now() + options.idle * 1000);
  const cpuPerGet = (cpuTimeMs(server.pid) - cpu) / idle.times.length;

  progress(`${options.sequential} hostile requests of ${fixed(body.length / 1024)} KB, one at a time`);
  const rssBefore = memoryOf(server.pid).rss;
  const wall: number[] = [];
  let answer = 'none';
  cpu = cpuTimeMs(server.pid);
  for (let i = 0; i < options.sequential; i++) {
    const started = performance.now();
    try {
      const response = await fetch(`${server.url}/users/`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30000) });
      const text = await response.text();
      const problem = JSON.parse(text) as { code?: string; errors?: unknown[]; errors_omitted?: number };
      answer =
        `${response.status} ${problem.code}, ${Buffer.byteLength(text)} bytes` +
        (problem.errors ? `, ${problem.errors.length} errors listed, errors_omitted ${problem.errors_omitted ?? 0}` : '');
    } catch (error) {
      // A body refused by its Content-Length: the server may close the connection while the client still sends.
      answer = `no answer: ${(error as Error).message}`;
    }
    wall.push(performance.now() - started);
  }
  const cpuPerHostile = (cpuTimeMs(server.pid) - cpu) / options.sequential;

  progress(`${options.duration} s of GET /users/1 while ${options.clients} clients POST the hostile body`);
  let peakRss = memoryOf(server.pid).rss;
  const poll = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(server.pid).rss)), 100);
  cpu = cpuTimeMs(server.pid);
  const started = performance.now();
  const [hostile, loaded] = await Promise.all([
    hostileLoad(`${server.url}/users/`, body),
    getAtRate(getUrl, started + options.duration * 1000),
  ]);
  const loadCpu = cpuTimeMs(server.pid) - cpu;
  clearInterval(poll);
  // The GETs' share of the CPU, at their idle cost, is taken out of the hostile requests'.
  const cpuPerLoadedHostile = (loadCpu - loaded.times.length * cpuPerGet) / Math.max(1, hostile.requests);

  say(`# Hostile bodies: ${options.fields} unknown fields in ${fixed(body.length / 1024)} KB, ${options.clients} clients for ${options.duration} s`);
  say();
  say(`Server: ${options.entry}${options.bodyLimit === undefined ? '' : `, BODY_LIMIT=${options.bodyLimit}`}`);
  say();
  say(machine());
  say();
  say(
    table(
      ['measure', 'value'],
      [
        ['hostile answer', answer],
        ['hostile request alone: server CPU / wall p50', `${ms(cpuPerHostile)} ms / ${ms(median(wall))} ms (${options.sequential} sequential)`],
        ['hostile requests under load: server CPU each', `${ms(cpuPerLoadedHostile)} ms (GETs' share removed)`],
        ['hostile requests under load: answered', `${hostile.requests} (${Object.entries(hostile.statuses).map(([status, n]) => `${status}: ${n}`).join(', ')}), p50 ${ms(median(hostile.times))} ms`],
        ['GET /users/1 idle: p50 / p99', `${ms(median(idle.times))} / ${ms(percentile(idle.times, 99))} ms (${idle.times.length} requests, ${fixed(cpuPerGet * 1000)} µs CPU each)`],
        ['GET /users/1 under load: p50 / p99', `${ms(median(loaded.times))} / ${ms(percentile(loaded.times, 99))} ms (${loaded.times.length} requests)`],
        ['GET p50 under load / idle', verdict(median(loaded.times) / median(idle.times), 2, false)],
        ['GET p99 under load / idle', fixed(percentile(loaded.times, 99) / percentile(idle.times, 99), 2)],
        ['non-200 GETs', String(idle.failures + loaded.failures)],
        ['server RSS: before hostile requests / peak under load', `${mb(rssBefore)} / ${mb(peakRss)}`],
      ],
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'users-bench-hostile-'));
let server: ServerProcess | undefined;
const watchdog = setTimeout(() => {
  console.error(`bench:hostile: still running after ${DEADLINE_MS / 1000} s; stopping`);
  void server?.stop('SIGKILL').finally(() => process.exit(1));
}, DEADLINE_MS);
try {
  server = await startServer({
    name: 'service',
    entry: options.entry,
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: `file:${join(dir, 'users.db')}`,
      ...(options.bodyLimit !== undefined && { BODY_LIMIT: String(options.bodyLimit) }),
    },
    logFile: join(dir, 'server.log'),
    killAfterMs: 10000,
  });
  await run(server);
} finally {
  await server?.stop();
  clearTimeout(watchdog);
  await sleep(0);
  rmSync(dir, { recursive: true, force: true });
}
