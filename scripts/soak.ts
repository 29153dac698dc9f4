import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from './harness/cli.js';
import { memoryOf } from './harness/process-stats.js';
import { PRODUCTION_ENV, SERVER_ENTRY, startServer } from './harness/server-process.js';

// `npm run soak [-- options]`: the built server (dist/server.js) with production settings on a fresh SQLite file,
// under N seconds of mixed traffic from this process over loopback. Every response is checked against what the
// traffic model expects; the server's RSS is sampled every second. Exits 1 when there is any error or the RSS
// grew by more than the limit between the end of the warm-up and the end of the run. See docs/RELIABILITY.md.

const cli = parseCli({
  usage: 'npm run soak -- [options]',
  name: 'soak',
  usageExitCode: 64,
  flags: {
    duration: { type: 'string', value: '<s>', default: '60', description: 'seconds of traffic, warm-up included, at most 3600' },
    warmup: { type: 'string', value: '<s>', default: '5', description: 'seconds before the start RSS is taken' },
    concurrency: { type: 'string', value: '<n>', default: '16', description: 'concurrent request loops, each on its own keep-alive connection' },
    rate: { type: 'string', value: '<n>', default: '1500', description: 'requests per second to sustain, over all loops; 0: as fast as answered' },
    'max-growth': { type: 'string', value: '<%>', default: '20', description: 'largest accepted RSS growth from the end of the warm-up to the end' },
    keep: { type: 'boolean', description: 'keep the temporary directory (database, server log) even when the run passes' },
  },
});
const { flags } = cli;
const DURATION_S = cli.number('duration', { min: 1, max: 3600 });
const WARMUP_S = Math.min(cli.number('warmup', { min: 0, max: 3600 }), DURATION_S / 2);
const CONCURRENCY = Math.floor(cli.number('concurrency', { min: 1, max: 256 }));
const MAX_GROWTH = cli.number('max-growth', { min: 0, max: 1000 });
const RATE = cli.number('rate', { min: 0, max: 1_000_000 });
const REQUEST_TIMEOUT_MS = 10000;

if (!existsSync(SERVER_ENTRY)) {
  console.error('soak: dist/server.js is missing; run `npm run build` (npm run soak does)');
  process.exit(1);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const int = (n: number) => Math.round(n).toLocaleString('en');
const random = (n: number) => Math.floor(Math.random() * n);

// ---------------------------------------------------------------------------------------------------------------
// The server: a child process on a loopback port, its output in a log file; killed whatever happens to us (the
// harness kills it when this process exits).

const directory = mkdtempSync(join(tmpdir(), 'users-api-soak-'));
const logFile = join(directory, 'server.log');
const databaseFile = join(directory, 'soak.db');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`soak: ${signal}; stopping the server`);
    if (!flags.keep) rmSync(directory, { recursive: true, force: true });
    process.exit(130);
  });
}
// Bounded in time, whatever happens: the run, the checks and the shutdown, plus a minute.
setTimeout(() => {
  console.error(`soak: still running ${DURATION_S + 120} s after the start; giving up (logs in ${directory})`);
  process.exit(2);
}, (DURATION_S + 120) * 1000).unref();

const loadAtStart = loadavg();
const server = await startServer({
  name: 'soak: the server',
  // Production settings: the defaults of src/config.ts, access log at info, the Docker image's process settings, loopback only.
  env: { LOG_LEVEL: 'info', ...PRODUCTION_ENV, DATABASE_URL: `file:${databaseFile}` },
  logFile,
  timeoutMs: 20000,
  pollMs: 50,
  killAfterMs: 15000, // the graceful stop at the end gets 15 s
}).catch((error: Error) => {
  console.error(error.message);
  return process.exit(1);
});
const pid = server.pid;
const serverAlive = () => server.child.exitCode === null && server.child.signalCode === null;

// ---------------------------------------------------------------------------------------------------------------
// HTTP: one keep-alive agent, one socket per loop.

const BASE = server.url;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  ms: number;
}

function send(method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${BASE}${path}`,
      { method, agent, headers: payload === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // kept as text; the checks report it
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, ms: performance.now() - started });
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Bookkeeping: counts, latencies, errors by kind with a few examples.

const counts = new Map<string, number>();
const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
const errors = new Map<string, { count: number; examples: string[] }>();
const latencies: number[] = [];
let requests = 0;

function error(kind: string, example: string): void {
  const entry = errors.get(kind) ?? { count: 0, examples: [] };
  entry.count++;
  if (entry.examples.length < 3) entry.examples.push(example.slice(0, 300));
  errors.set(kind, entry);
}
const errorCount = () => [...errors.values()].reduce((sum, entry) => sum + entry.count, 0);

/** Sends one request and checks its status; returns the answer when the status was one of `expected`. */
async function call(op: string, method: string, path: string, body: unknown, expected: number[]): Promise<Answer | undefined> {
  requests++;
  bump(counts, op);
  let answer: Answer;
  try {
    answer = await send(method, path, body);
  } catch (caught) {
    const code = (caught as NodeJS.ErrnoException).code ?? (caught as Error).message;
    error(`network ${code}`, `${method} ${path}`);
    return undefined;
  }
  latencies.push(answer.ms);
  if (expected.includes(answer.status)) return answer;
  const kind = answer.status >= 500 ? `${answer.status} (server error)` : `unexpected ${answer.status}`;
  error(`${kind} on ${op}`, `${method} ${path} ${body === undefined ? '' : JSON.stringify(body)} -> ${JSON.stringify(answer.body)}`);
  return undefined;
}

function expectBody(op: string, ok: boolean, answer: Answer, what: string): void {
  if (!ok) error(`wrong body on ${op}`, `${what}: ${JSON.stringify(answer.body).slice(0, 200)}`);
}

const codeOf = (answer: Answer) => (answer.body as { code?: string } | undefined)?.code;

// ---------------------------------------------------------------------------------------------------------------
// The traffic model. Each loop owns the users it creates: only it patches or deletes them, so the outcome of every
// request on them is known. Reads go to any user; a 404 is correct only for an id that was (being) deleted.

interface User {
  id: number;
  email: string;
  age: number | null;
}
const created: number[] = [];
const deleting = new Set<number>();

class Loop {
  readonly live: User[] = [];
  readonly deleted: number[] = [];
  private sequence = 0;
  constructor(readonly index: number) {}

  private emailFor(n: number): string {
    return `soak.${this.index}.${n}@example.com`;
  }

  async create(): Promise<void> {
    const email = this.emailFor(++this.sequence);
    const age = Math.random() < 0.1 ? null : random(100);
    const body = { first_name: 'Soak', last_name: `Loop${this.index}`, age, email };
    const answer = await call('POST', 'POST', '/users/', body, [201]);
    if (!answer) return;
    const user = answer.body as User;
    expectBody('POST', user.email === email && answer.headers['location'] === `/users/${user.id}`, answer, 'created user');
    this.live.push({ id: user.id, email, age });
    created.push(user.id);
  }

  async createDuplicate(): Promise<void> {
    const existing = this.live[random(this.live.length)]!;
    const body = { first_name: 'Dup', last_name: 'Licate', email: existing.email.toUpperCase() };
    const answer = await call('POST (duplicate email)', 'POST', '/users/', body, [409]);
    if (answer) expectBody('POST (duplicate email)', codeOf(answer) === 'EMAIL_TAKEN', answer, '409 problem');
  }

  async getAny(): Promise<void> {
    const id = created[random(created.length)]!;
    // Marked before the DELETE is sent, so a 404 seen while the DELETE is in flight counts as expected.
    const answer = await call('GET by id', 'GET', `/users/${id}`, undefined, [200, 404]);
    if (!answer) return;
    if (answer.status === 404) {
      bump(counts, 'expected 404 (deleted id)');
      if (!deleting.has(id)) error('unexpected 404 on GET by id', `GET /users/${id}: never deleted`);
      else expectBody('GET by id', codeOf(answer) === 'USER_NOT_FOUND', answer, '404 problem');
    } else expectBody('GET by id', (answer.body as User).id === id, answer, `user ${id}`);
  }

  async getDeleted(): Promise<void> {
    const id = this.deleted[random(this.deleted.length)]!;
    const answer = await call('GET deleted id', 'GET', `/users/${id}`, undefined, [404]);
    if (answer) {
      bump(counts, 'expected 404 (deleted id)');
      expectBody('GET deleted id', (answer.body as { detail?: string }).detail === 'User not found', answer, '404 problem');
    }
  }

  async list(): Promise<void> {
    const own = this.live[random(this.live.length)]!;
    const shapes: [string, (users: User[], answer: Answer) => boolean][] = [
      [`/users/?limit=20&offset=${random(Math.max(1, created.length))}`, (users) => users.length <= 20],
      ['/users/?limit=50&sort=-created_at', (users) => users.length <= 50],
      [`/users/?min_age=20&max_age=40&sort=age&limit=20`, (users) => users.every((u) => u.age !== null && u.age >= 20 && u.age <= 40)],
      [`/users/?q=soak.${this.index}.&limit=10`, (users) => users.every((u) => u.email.startsWith(`soak.${this.index}.`))],
      [`/users/?email=${encodeURIComponent(own.email.toUpperCase())}`, (users) => users.length === 1 && users[0]!.id === own.id],
      [`/users/?last_name=Loop${this.index}&sort=-age&limit=25`, (users) => users.length <= 25],
    ];
    const [path, check] = shapes[random(shapes.length)]!;
    const answer = await call('list', 'GET', path, undefined, [200]);
    if (!answer) return;
    const users = answer.body as User[];
    expectBody('list', Array.isArray(users) && check(users, answer), answer, path);
    // Follow the keyset `next` link now and then.
    const link = String(answer.headers['link'] ?? '');
    const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
    if (next && Math.random() < 0.3) {
      const page = await call('list (next link)', 'GET', next.startsWith('/') ? next : `/users/${next}`, undefined, [200]);
      if (page) expectBody('list (next link)', Array.isArray(page.body), page, next);
    }
  }

  async patch(): Promise<void> {
    const user = this.live[random(this.live.length)]!;
    const age = random(151);
    const answer = await call('PATCH', 'PATCH', `/users/${user.id}`, { age, last_name: `Loop${this.index}` }, [200]);
    if (!answer) return;
    user.age = age;
    expectBody('PATCH', (answer.body as User).age === age && (answer.body as User).id === user.id, answer, `user ${user.id}`);
  }

  async patchDuplicate(): Promise<void> {
    const [a, b] = [this.live[0]!, this.live[this.live.length - 1]!];
    const answer = await call('PATCH (duplicate email)', 'PATCH', `/users/${a.id}`, { email: b.email.toUpperCase() }, [409]);
    if (answer) expectBody('PATCH (duplicate email)', codeOf(answer) === 'EMAIL_TAKEN', answer, '409 problem');
  }

  async remove(): Promise<void> {
    const [user] = this.live.splice(random(this.live.length), 1);
    deleting.add(user!.id);
    const answer = await call('DELETE', 'DELETE', `/users/${user!.id}`, undefined, [200]);
    if (!answer) return;
    expectBody('DELETE', (answer.body as { ok?: boolean }).ok === true, answer, 'deleted');
    this.deleted.push(user!.id);
  }

  /** ~70% reads (GET by id, list pages with filters), 15% POST, 10% PATCH, 5% DELETE. */
  async step(): Promise<void> {
    if (this.live.length < 5) return this.create();
    const r = Math.random();
    if (r < 0.35) return this.deleted.length > 0 && Math.random() < 0.15 ? this.getDeleted() : this.getAny();
    if (r < 0.7) return this.list();
    if (r < 0.85) return Math.random() < 0.1 ? this.createDuplicate() : this.create();
    if (r < 0.95) return Math.random() < 0.1 ? this.patchDuplicate() : this.patch();
    return this.remove();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The run.

console.log(
  `users-api soak: ${DURATION_S} s of mixed traffic at ${RATE === 0 ? 'full speed' : `${int(RATE)} steps/s`} ` +
    `(warm-up ${WARMUP_S} s), ${CONCURRENCY} keep-alive loops, ` +
    `server pid ${pid} on ${BASE}`,
);
const samples: { t: number; rss: number }[] = [];
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
let startRss: number | undefined;
const sampler = setInterval(() => {
  if (!serverAlive()) return;
  const { rss } = memoryOf(pid);
  samples.push({ t: elapsed(), rss });
  if (startRss === undefined && elapsed() >= WARMUP_S) startRss = rss;
  if (samples.length % 10 === 0) {
    console.log(`  ${elapsed().toFixed(0).padStart(4)} s  ${int(requests).padStart(9)} requests  rss ${mib(rss)}  errors ${errorCount()}`);
  }
}, 1000);

// A sustained load, not a stress test: the loops share one schedule of RATE steps per second (a step is one
// request, or two when a list follows its next link). A loop that falls behind catches up by at most 1 s of steps.
let nextStepAt = 0;
async function paced(): Promise<void> {
  if (RATE === 0) return;
  const now = elapsed();
  nextStepAt = Math.max(nextStepAt + 1 / RATE, now - 1);
  if (nextStepAt > now) await sleep((nextStepAt - now) * 1000);
}
const loops = Array.from({ length: CONCURRENCY }, (_, index) => new Loop(index));
await Promise.all(
  loops.map(async (loop) => {
    while (elapsed() < DURATION_S && serverAlive()) {
      await paced();
      await loop.step();
    }
  }),
);
clearInterval(sampler);
const trafficSeconds = elapsed();
if (!serverAlive()) error('server exited during the run', JSON.stringify(await server.exited));
const end = serverAlive() ? memoryOf(pid) : { rss: 0, hwm: 0 };
startRss ??= samples[0]?.rss ?? 0;
const peakRss = Math.max(end.rss, ...samples.map((sample) => sample.rss));
const growth = startRss > 0 ? ((end.rss - startRss) / startRss) * 100 : NaN;

// Consistency after the run: every live user reads back as last written, every deleted one is gone, and the
// collection counts exactly the live users.
const requestsBefore = requests;
if (serverAlive()) {
  const live = loops.flatMap((loop) => loop.live);
  const deleted = loops.flatMap((loop) => loop.deleted);
  const queue = [...live.map((user) => ({ user, id: user.id })), ...deleted.slice(0, 500).map((id) => ({ user: undefined, id }))];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let item = queue.pop(); item; item = queue.pop()) {
        const answer = await call('final check', 'GET', `/users/${item.id}`, undefined, [item.user ? 200 : 404]);
        const user = answer?.body as User | undefined;
        if (answer && item.user && (user?.email !== item.user.email || user.age !== item.user.age)) {
          error('final check: user differs', `${JSON.stringify(item.user)} vs ${JSON.stringify(user)}`);
        }
      }
    }),
  );
  const total = await call('final check', 'GET', '/users/?limit=1', undefined, [200]);
  if (total && Number(total.headers['x-total-count']) !== live.length) {
    error('final check: X-Total-Count', `${String(total.headers['x-total-count'])} rows, ${live.length} live users`);
  }
  bump(counts, 'final check users', live.length);
}
const checkRequests = requests - requestsBefore;

// A graceful stop: SIGTERM drains and exits 0.
agent.destroy();
let shutdown = 'not running';
if (serverAlive()) {
  const stopping = performance.now();
  const exit = await server.stop('SIGTERM');
  shutdown = `SIGTERM -> exit ${exit.code ?? exit.signal} in ${(performance.now() - stopping).toFixed(0)} ms`;
  if (exit.code !== 0) error('shutdown', shutdown);
}

// The server's log: one line per request at info; nothing at error level or above.
const logLines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
let logErrors = 0;
const levelOf = (line: string): number => {
  try {
    return (JSON.parse(line) as { level?: number }).level ?? 0;
  } catch {
    return 60; // not JSON: a crash trace or a warning from Node
  }
};
for (const line of logLines) {
  if (levelOf(line) >= 50) {
    logErrors++;
    error('server log at error level', line);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Summary.

latencies.sort((a, b) => a - b);
const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
const trafficRequests = requestsBefore;
const failed = errorCount() > 0 || !(growth <= MAX_GROWTH);
const cpu = cpus();
const order = ['GET by id', 'GET deleted id', 'list', 'list (next link)', 'POST', 'POST (duplicate email)', 'PATCH', 'PATCH (duplicate email)', 'DELETE'];
console.log(`
users-api soak summary
  machine     ${cpu.length} x ${cpu[0]?.model.trim() ?? '?'}, Node ${process.version}; load average ${loadAtStart[0]!.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end
  server      dist/server.js, production defaults, LOG_LEVEL=info, fresh SQLite file, 127.0.0.1 only
  traffic     ${int(trafficRequests)} requests in ${trafficSeconds.toFixed(1)} s = ${int(trafficRequests / trafficSeconds)} req/s, ${CONCURRENCY} concurrent keep-alive loops
              ${order.map((op) => `${op} ${int(counts.get(op) ?? 0)}`).join(', ')}
              expected answers seen: ${int(counts.get('expected 404 (deleted id)') ?? 0)} x 404 for deleted ids, ${int((counts.get('POST (duplicate email)') ?? 0) + (counts.get('PATCH (duplicate email)') ?? 0))} x 409 for duplicate emails
  latency     p50 ${percentile(50).toFixed(1)} ms, p99 ${percentile(99).toFixed(1)} ms, max ${percentile(100).toFixed(1)} ms
  final check ${int(checkRequests)} reads: ${int(counts.get('final check users') ?? 0)} live users as last written, deleted ones 404, X-Total-Count exact
  log         ${int(logLines.length)} lines, ${logErrors} at error level or above
  shutdown    ${shutdown}
  rss         start ${mib(startRss)} (after ${WARMUP_S} s warm-up), end ${mib(end.rss)}, peak ${mib(Math.max(peakRss, end.hwm))}, growth ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% (limit ${MAX_GROWTH}%)
  errors      ${errorCount()}${[...errors].map(([kind, entry]) => `\n    ${entry.count} x ${kind}${entry.examples.map((example) => `\n        e.g. ${example}`).join('')}`).join('')}
  result      ${failed ? 'FAIL' : 'PASS'}`);

if (failed || flags.keep) console.log(`  kept        ${directory} (server.log, soak.db)`);
else rmSync(directory, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
