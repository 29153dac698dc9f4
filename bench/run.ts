import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import ts from 'typescript';
import { parseCli } from '../scripts/harness/cli.js';
import { measureProcess, memoryOf } from '../scripts/harness/process-stats.js';
import { SERVER_ENTRY, startServer, type ServerProcess } from '../scripts/harness/server-process.js';
import { fixed, machine, mb, ms, table, verdict } from './report.js';
import { userModel } from '../src/users/users.schemas.js';
import { copySqlite, RANGE_PROBES, samplePostgres, sampleSqlite, seedPostgres, seedSqlite, type SeedResult } from './seed.js';
import { median, nextLink, timeSequential, trimmedMean, type Timed } from './timing.js';
import { requireWrk, runWrk, type WrkResult } from './wrk.js';

// `npm run bench [-- options]`: the service (dist/server.js, production settings) against a bare node:http +
// better-sqlite3 baseline doing the same work, on fresh seeded databases, with wrk. See docs/PERFORMANCE.md.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = fileURLToPath(new URL('.', import.meta.url));
const ALL = ['get', 'list', 'post', 'patch', 'mix', 'shapes', 'scale', 'startup'] as const;
type Part = (typeof ALL)[number];
type Side = 'service' | 'baseline';

const cli = parseCli({
  usage: 'npm run bench -- [options]',
  flags: {
    duration: { type: 'string', value: '<s>', default: '5', description: 'seconds per scenario and server in each round' },
    rounds: { type: 'string', value: '<n>', default: '3', description: 'rounds; each round starts both servers afresh and runs every scenario A then B' },
    users: {
      type: 'string',
      value: '<n>',
      default: '1000',
      description: 'users seeded before the run\nat 100000 or more the scale checks run too: list shapes at server time (≤ 5 ms),\nGET by id against a 1000-user database',
    },
    db: {
      type: 'string',
      value: '<sqlite|postgres>',
      default: 'sqlite',
      description: "the service's database\npostgres: a fresh database per run on --pg-url; the baseline stays on SQLite",
    },
    'pg-url': { type: 'string', value: '<url>', default: 'postgres://postgres@127.0.0.1:5432/test', description: 'the PostgreSQL server --db postgres creates its databases on' },
    only: { type: 'string', value: '<list>', description: `comma-separated subset of: ${ALL.join(',')}` },
    connections: { type: 'string', value: '<n>', default: '32', description: 'wrk connections' },
    threads: { type: 'string', value: '<n>', default: '1', description: 'wrk threads' },
    warmup: { type: 'string', value: '<s>', default: '2', description: 'seconds of mixed load on each fresh server before it is measured' },
    samples: { type: 'string', value: '<n>', default: '50', description: 'sequential requests per list shape' },
    profile: { type: 'boolean', description: 'run the service with --cpu-prof (profiles in the run directory; implies --keep)' },
    keep: { type: 'boolean', description: 'keep the run directory (databases, logs) under .bench/' },
  },
});
const { flags } = cli;
const count = (name: Parameters<typeof cli.number>[0], min = 1) => cli.number(name, { min, integer: true });
const options = {
  duration: count('duration'),
  rounds: count('rounds'),
  users: count('users'),
  connections: count('connections'),
  threads: count('threads'),
  warmup: count('warmup', 0),
  samples: count('samples'),
  db: flags.db,
  pgUrl: flags['pg-url'],
  profile: flags.profile,
  keep: flags.keep || flags.profile,
};
if (options.db !== 'sqlite' && options.db !== 'postgres') cli.fail('--db must be sqlite or postgres');
const SCALE = options.users >= 100000;
const only = flags.only ? new Set(flags.only.split(',').map((s) => s.trim())) : undefined;
for (const name of only ?? []) {
  if (!(ALL as readonly string[]).includes(name)) {
    cli.fail(`--only: unknown part "${name}"; one of ${ALL.join(', ')}`);
  }
}
const wanted = (part: Part) => (only ? only.has(part) : part === 'shapes' || part === 'scale' ? SCALE : true);
// Every part but the list shapes and the start-up puts load on the servers with wrk.
if (ALL.some((part) => part !== 'shapes' && part !== 'startup' && wanted(part))) requireWrk();

// ---------------------------------------------------------------------------------------------------------------
interface Scenario {
  key: Part;
  title: string;
  /** Target for the service/baseline req/s ratio (null: none). */
  target: number | null;
  path: string;
  script?: string;
  args?: (seed: SeedResult, round: number, side: Side) => (string | number)[];
}

const lua = (name: string) => join(BENCH, 'lua', name);
const nonce = randomBytes(4).toString('hex');
const SCENARIOS: Scenario[] = [
  { key: 'get', title: 'GET /users/{id} (random ids)', target: 0.8, path: '/', script: lua('get-by-id.lua'), args: (s, r) => [s.minId, s.maxId, 1000 + r] },
  { key: 'list', title: 'GET /users/?limit=100', target: 1.5, path: '/users/?limit=100' },
  { key: 'post', title: 'POST /users/ (unique emails)', target: 0.8, path: '/', script: lua('post.lua'), args: (_s, r, side) => [`${nonce}.${r}.${side}`] },
  { key: 'patch', title: 'PATCH /users/{id} (random ids)', target: 0.7, path: '/', script: lua('patch.lua'), args: (s, r) => [s.minId, s.maxId, 2000 + r] },
  { key: 'mix', title: 'mix: 70% GET id, 10% list, 10% POST, 10% PATCH', target: null, path: '/', script: lua('mix.lua'), args: (s, r, side) => [s.minId, s.maxId, 3000 + r, `${nonce}.${r}.${side}`] },
];

const runDir = join(ROOT, '.bench', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${nonce}`);
mkdirSync(runDir, { recursive: true });
const out: string[] = [];
/** Prints a line and keeps it for the report file. */
const say = (text = '') => {
  console.log(text);
  out.push(text);
};
const progress = (text: string) => console.error(`  · ${text}`);

// ---------------------------------------------------------------------------------------------------------------
// The baseline is compiled to plain JavaScript so it runs on bare Node, like dist/server.js.
function buildBaseline(): string {
  const source = readFileSync(join(BENCH, 'baseline.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(runDir, 'baseline.mjs');
  writeFileSync(file, outputText);
  return file;
}

interface Target {
  label: string;
  entry: string;
  nodeArgs: string[];
  env: Record<string, string>;
  seed: SeedResult;
}

const pgDatabases: string[] = [];

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: options.pgUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL database on the server of --pg-url; its URL. */
async function createPgDatabase(suffix: string): Promise<string> {
  const name = `users_bench_${nonce}_${suffix}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  pgDatabases.push(name);
  const url = new URL(options.pgUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const serviceNodeArgs = (tag: string) => (options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, `prof-${tag}`)}`] : []);
const SERVICE_ENV = { NODE_ENV: 'production', LOG_LEVEL: 'info' };

/** A seeded database for the service with `users` rows (schema from the real migrations). */
async function serviceTarget(users: number, tag: string): Promise<Target> {
  if (options.db === 'sqlite') {
    const file = join(runDir, `service-${tag}.db`);
    const seed = seedSqlite(file, users);
    return { label: `service (${users} users)`, entry: SERVER_ENTRY, nodeArgs: serviceNodeArgs(tag), env: { ...SERVICE_ENV, DATABASE_URL: `file:${file}` }, seed };
  }
  const url = await createPgDatabase(tag);
  // The schema comes from the service's own migrations: start it once on the empty database.
  const migrating = await launch('service (migrating)', { entry: SERVER_ENTRY, nodeArgs: [], env: { ...SERVICE_ENV, DATABASE_URL: url } }, join(runDir, `service-${tag}-migrate.log`));
  await migrating.stop();
  const seed = await seedPostgres(url, users);
  return { label: `service (${users} users, PostgreSQL)`, entry: SERVER_ENTRY, nodeArgs: serviceNodeArgs(tag), env: { ...SERVICE_ENV, DATABASE_URL: url }, seed };
}

// ---------------------------------------------------------------------------------------------------------------
interface Sample extends WrkResult {
  peakRss: number;
  /** Server CPU time (user + system, all threads) per request, µs. */
  cpuUsPerRequest: number;
}

const startups: Record<string, number[]> = {};
const hwm: Record<Side, number[]> = { service: [], baseline: [] };
let logCounter = 0;

/** A server of the run; its access log (a file of its own) gives the server times. */
type Running = ServerProcess & { logFile: string };

/**
 * Every server of the run starts this way: output to a log file (written by the server itself, not through this
 * process), /healthcheck polled every 5 ms so that startupMs is precise, 20 s to come up, SIGKILL 10 s after stop().
 */
async function launch(name: string, target: Pick<Target, 'entry' | 'nodeArgs' | 'env'>, logFile: string): Promise<Running> {
  const server = await startServer({ name, entry: target.entry, nodeArgs: target.nodeArgs, env: target.env, logFile, pollMs: 5, timeoutMs: 20000, killAfterMs: 10000 });
  return Object.assign(server, { logFile });
}

async function start(side: string, target: Target, startupKey: string): Promise<Running> {
  const server = await launch(side, target, join(runDir, `${side.replace(/\W+/g, '-')}-${++logCounter}.log`));
  (startups[startupKey] ??= []).push(server.startupMs);
  return server;
}

function wrkOn(server: ServerProcess, scenario: Scenario, seed: SeedResult, round: number, side: Side, duration: number) {
  return runWrk({
    url: server.url + scenario.path,
    ...(scenario.script ? { script: scenario.script } : {}),
    args: scenario.args?.(seed, round, side) ?? [],
    durationSec: duration,
    connections: options.connections,
    threads: options.threads,
  });
}

async function warmUp(server: ServerProcess, seed: SeedResult, round: number, side: Side, scenario = SCENARIOS[4]!): Promise<void> {
  if (options.warmup > 0) await wrkOn(server, scenario, seed, 100 + round, side, options.warmup);
}

const describe = (r: WrkResult) =>
  `${fixed(r.requestsPerSec)} req/s, p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms, non-2xx ${r.non2xx}, socket errors ${r.socketErrors}`;

/** The wrk scenarios: service and baseline, both started afresh each round, measured A then B per scenario. */
async function loadSuite(service: Target, baseline: Target, scenarios: Scenario[]): Promise<Map<Part, Record<Side, Sample[]>>> {
  const results = new Map<Part, Record<Side, Sample[]>>(scenarios.map((s) => [s.key, { service: [], baseline: [] }]));
  for (let round = 1; round <= options.rounds; round++) {
    const servers: Record<Side, Running> = {
      service: await start('service', service, service.label),
      baseline: await start('baseline', baseline, baseline.label),
    };
    const seeds: Record<Side, SeedResult> = { service: service.seed, baseline: baseline.seed };
    try {
      for (const side of ['service', 'baseline'] as const) await warmUp(servers[side], seeds[side], round, side);
      for (const scenario of scenarios) {
        for (const side of ['service', 'baseline'] as const) {
          const server = servers[side];
          const { result, peakRss, cpuMs } = await measureProcess(server.pid, () => wrkOn(server, scenario, seeds[side], round, side, options.duration));
          const cpuUsPerRequest = (cpuMs * 1000) / Math.max(1, result.requests);
          results.get(scenario.key)![side].push({ ...result, peakRss, cpuUsPerRequest });
          progress(`round ${round}/${options.rounds} ${scenario.key} ${side}: ${describe(result)}, peak RSS ${mb(peakRss)}, CPU ${fixed(cpuUsPerRequest)} µs/request`);
        }
      }
      for (const side of ['service', 'baseline'] as const) hwm[side].push(memoryOf(servers[side].pid).hwm);
    } finally {
      await servers.service.stop();
      await servers.baseline.stop();
    }
  }
  return results;
}

function reportSuite(results: Map<Part, Record<Side, Sample[]>>, scenarios: Scenario[], baselineNote: string): void {
  const summary = (samples: Sample[]) => ({
    rps: median(samples.map((s) => s.requestsPerSec)),
    p50: median(samples.map((s) => s.p50Ms)),
    p99: median(samples.map((s) => s.p99Ms)),
    cpu: median(samples.map((s) => s.cpuUsPerRequest)),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.socketErrors, 0),
    rss: Math.max(0, ...samples.map((s) => s.peakRss)),
    rounds: samples.map((s) => fixed(s.requestsPerSec)).join(' / '),
  });
  const throughput: string[][] = [];
  const latency: string[][] = [];
  const detail: string[][] = [];
  for (const scenario of scenarios) {
    const r = results.get(scenario.key)!;
    const svc = summary(r.service);
    const base = summary(r.baseline);
    throughput.push([
      scenario.title,
      fixed(svc.rps),
      fixed(base.rps),
      verdict(svc.rps / base.rps, scenario.target),
      mb(svc.rss),
      mb(base.rss),
      verdict(svc.rss / base.rss, 1.5, false),
    ]);
    latency.push([
      scenario.title,
      `${ms(svc.p50)} / ${ms(svc.p99)}`,
      `${ms(base.p50)} / ${ms(base.p99)}`,
      `${svc.non2xx} / ${svc.errors}`,
      `${base.non2xx} / ${base.errors}`,
      fixed(svc.cpu),
      fixed(base.cpu),
      fixed(base.cpu / svc.cpu, 2),
    ]);
    detail.push([scenario.key, svc.rounds, base.rounds]);
  }
  say(`Throughput (median of the rounds) and peak RSS (highest VmRSS seen during the scenario, any round); ${baselineNote}.`);
  say();
  say(table(['scenario', 'service req/s', 'baseline req/s', 'ratio (target)', 'service peak RSS', 'baseline peak RSS', 'RSS ratio (target)'], throughput));
  say();
  say('Latency (wrk, median of the rounds), errors (all rounds) and server CPU per request (user + system time of the process / requests).');
  say();
  say(
    table(
      ['scenario', 'service p50 / p99 ms', 'baseline p50 / p99 ms', 'service non-2xx / socket errors', 'baseline non-2xx / socket errors', 'service CPU µs/req', 'baseline CPU µs/req', 'CPU ratio (base/svc)'],
      latency,
    ),
  );
  say();
  say(table(['req/s each round', 'service', 'baseline'], detail));
  say();
  say(`Process peak RSS (VmHWM) at the end of each round: service ${hwm.service.map(mb).join(', ')}; baseline ${hwm.baseline.map(mb).join(', ')}.`);
}

// ---------------------------------------------------------------------------------------------------------------
interface Shape {
  label: string;
  path: string;
  /** false: shown for comparison only, not held to the 5 ms bar. */
  checked: boolean;
  /** Filtered lists: when over the bar, the same query with count=false is timed too (is it the count?). */
  filtered?: boolean;
}

/** Every sortable field of the declaration (src/users/users.fields.ts). */
const SORTS = [...userModel.sorts.keys()];

function listShapes(sample: Record<string, unknown>, users: number): Shape[] {
  const shapes: Shape[] = [{ label: 'first page', path: '/users/?limit=100', checked: true }];
  for (const field of SORTS) {
    shapes.push({ label: `sort=${field}`, path: `/users/?limit=100&sort=${field}`, checked: true });
    shapes.push({ label: `sort=-${field}`, path: `/users/?limit=100&sort=-${field}`, checked: true });
  }
  const filter = (label: string, query: string) => shapes.push({ label, path: `/users/?limit=100&${query}`, checked: true, filtered: true });
  // Every filter of the declaration: a text filter by the sampled user's value (in upper case for a caseless one),
  // a range filter by the bounds bench/seed.ts gives for its field.
  for (const definition of userModel.filters) {
    if (definition.kind === 'range') continue;
    const value = sample[definition.field.name];
    if (value === null || value === undefined) {
      progress(`no ${definition.param}= shape: the sampled user has no ${definition.field.name}`);
      continue;
    }
    if (definition.kind === 'caseless') {
      const note = definition.field.spec.unique ? 'one match, other case' : 'other case';
      filter(`${definition.param}= (${note})`, `${definition.param}=${encodeURIComponent(String(value).toUpperCase())}`);
    } else {
      filter(`${definition.param}=${String(value)}`, `${definition.param}=${encodeURIComponent(String(value))}`);
    }
  }
  for (const definition of userModel.filters) {
    if (definition.kind !== 'range') continue;
    const probes = RANGE_PROBES[definition.field.name];
    if (!probes) {
      progress(`no ${definition.min}/${definition.max} shapes: bench/seed.ts has no RANGE_PROBES for ${definition.field.name}`);
      continue;
    }
    const { min, max } = definition;
    filter(`${min}=${probes.min}`, `${min}=${probes.min}`);
    filter(`${max}=${probes.max}`, `${max}=${probes.max}`);
    filter(`${min}=${probes.band[0]}&${max}=${probes.band[1]}`, `${min}=${probes.band[0]}&${max}=${probes.band[1]}`);
  }
  if (userModel.filterParams.includes('q')) {
    filter('q=son (common)', 'q=son');
    filter('q=zqx (no match)', 'q=zqx');
  }
  shapes.push({ label: `offset=${users - 100} (reference: offset pages cost O(offset))`, path: `/users/?limit=100&offset=${users - 100}`, checked: false });
  return shapes;
}

/** The list shapes at server time, one request at a time; deep pages follow Link rel="next" from near the end. */
async function shapeChecks(server: Running, sample: Record<string, unknown>, users: number): Promise<string[][]> {
  const rows: string[][] = [];
  const record = (shape: Shape, t: Timed, note = '') => {
    const total = t.headers.get('x-total-count');
    const rowsInPage = t.status === 200 ? (JSON.parse(t.body) as unknown[]).length : 0;
    const pass = t.serverMs <= 5 ? 'PASS' : 'FAIL';
    rows.push([shape.label, String(t.status), `${rowsInPage}`, total ?? '—', ms(t.serverMs), ms(t.serverP90Ms), ms(t.clientMs), shape.checked ? pass : 'ref', note]);
    progress(`${shape.label}: server ${ms(t.serverMs)} ms (client ${ms(t.clientMs)} ms)`);
    return pass === 'PASS';
  };
  const samplesFor = async (path: string) => {
    // Slow shapes get fewer samples, so the run stays bounded.
    const probe = await timeSequential(server.url, path, server.logFile, 1, 1);
    return probe.serverMs > 50 ? Math.min(10, options.samples) : options.samples;
  };
  const shapes = listShapes(sample, users);
  for (const shape of shapes) {
    const t = await timeSequential(server.url, shape.path, server.logFile, await samplesFor(shape.path));
    if (!record(shape, t) && shape.filtered && shape.checked) {
      const path = `${shape.path}&count=false`;
      const c = await timeSequential(server.url, path, server.logFile, await samplesFor(path));
      record({ label: `  ${shape.label} &count=false`, path, checked: false }, c, 'diagnostic: without X-Total-Count');
    }
  }
  for (const sort of SORTS.flatMap((field) => [field, `-${field}`])) {
    // One untimed offset request near the end, then the keyset page its Link rel="next" points to.
    const near = await fetch(`${server.url}/users/?limit=100&sort=${sort}&offset=${Math.max(0, users - 250)}`);
    await near.arrayBuffer();
    const next = nextLink(near.headers);
    if (!next) {
      rows.push([`deep page sort=${sort} (cursor)`, String(near.status), '—', '—', '—', '—', '—', 'FAIL', 'no Link rel="next"']);
      continue;
    }
    const t = await timeSequential(server.url, next, server.logFile, await samplesFor(next));
    record({ label: `deep page sort=${sort} (cursor)`, path: next, checked: true }, t);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const started = Date.now();
  await fetch('http://127.0.0.1:1/').catch(() => undefined); // load fetch before any start-up is timed
  say(`# users-api benchmark — ${new Date().toISOString()}`);
  say();
  say('```');
  say(machine());
  say(
    `run: ${options.rounds} round(s) × ${options.duration} s per scenario and server, wrk -t${options.threads} -c${options.connections}, ` +
      `warm-up ${options.warmup} s, ${options.users} users, service database ${options.db}`,
  );
  say('```');
  say();

  const scenarios = SCENARIOS.filter((s) => wanted(s.key));
  const baselineFile = buildBaseline();
  progress(`seeding ${options.users} users (${options.db})`);
  const service = await serviceTarget(options.users, 'main');
  progress(`service database seeded in ${fixed(service.seed.ms / 1000, 1)} s`);
  let baselineSeed: SeedResult;
  const baselineDb = join(runDir, 'baseline.db');
  if (options.db === 'sqlite') {
    copySqlite(join(runDir, 'service-main.db'), baselineDb);
    baselineSeed = service.seed;
  } else {
    baselineSeed = seedSqlite(baselineDb, options.users);
  }
  const baseline: Target = {
    label: `baseline (${options.users} users, SQLite)`,
    entry: baselineFile,
    nodeArgs: [],
    // The user's fields, from the declaration: the baseline reads them from here rather than load the model itself.
    env: { NODE_ENV: 'production', BASELINE_DB: baselineDb, BASELINE_FIELDS: JSON.stringify(userModel.fields) },
    seed: baselineSeed,
  };
  say(`Seeded ${service.seed.count} users in ${fixed(service.seed.ms / 1000, 1)} s (ids ${service.seed.minId}–${service.seed.maxId}).`);
  say();

  // Scale checks first, on the untouched seeded database.
  if (wanted('shapes')) {
    say(`## List shapes at ${options.users} users: server time (access log \`ms\`), one request at a time`);
    say();
    const server = await start('service', service, service.label);
    try {
      const sample = options.db === 'sqlite'
        ? sampleSqlite(join(runDir, 'service-main.db'), [Math.floor((service.seed.minId + service.seed.maxId) / 2)])
        : await samplePostgres(service.env['DATABASE_URL']!, [Math.floor((service.seed.minId + service.seed.maxId) / 2)]);
      const rows = await shapeChecks(server, sample[0]!, service.seed.count);
      say(table(['shape', 'status', 'rows', 'X-Total-Count', 'server ms (median)', 'server p90', 'client ms (median)', '≤ 5 ms', 'note'], rows));
      say();
      say(
        `Server ms = the service's access-log \`ms\` (reply.elapsedTime) of ${options.samples} sequential requests after 5 untimed ` +
          'ones (10 when a shape takes > 50 ms); client ms = the fetch round trip, an upper bound. A deep page is the page ' +
          `its Link rel="next" cursor gives after an (untimed) offset page ~${service.seed.count - 250} rows in.`,
      );
      say();
    } finally {
      await server.stop();
    }
  }

  if (wanted('scale')) {
    say(`## GET /users/{id} at ${options.users} users against 1000 users (service only)`);
    say();
    const small = await serviceTarget(1000, 'small');
    const getById = SCENARIOS[0]!;
    const rps: Record<'small' | 'large', number[]> = { small: [], large: [] };
    const server: Record<'small' | 'large', number[]> = { small: [], large: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const [key, target] of [['small', small], ['large', service]] as const) {
        const proc = await start('service', target, target.label);
        try {
          await warmUp(proc, target.seed, round, 'service', getById);
          const result = await wrkOn(proc, getById, target.seed, round, 'service', options.duration);
          rps[key].push(result.requestsPerSec);
          // Server time of single requests on random ids.
          const timings: number[] = [];
          for (let i = 0; i < 10; i++) {
            const id = target.seed.minId + Math.floor(Math.random() * (target.seed.maxId - target.seed.minId + 1));
            timings.push(...(await timeSequential(proc.url, `/users/${id}`, proc.logFile, 20, 2)).serverAll);
          }
          server[key].push(...timings);
          progress(`round ${round} GET by id ${target.label}: ${describe(result)}, server ${ms(trimmedMean(timings))} ms`);
        } finally {
          await proc.stop();
        }
      }
    }
    const time = (key: 'small' | 'large') => trimmedMean(server[key]);
    const row = (label: string, key: 'small' | 'large') => [
      label,
      `${time(key).toFixed(3)} ms`,
      `${median(server[key]).toFixed(2)} ms`,
      String(server[key].length),
      fixed(median(rps[key])),
      rps[key].map((n) => fixed(n)).join(' / '),
    ];
    say(
      table(
        ['database', 'server time (10–90% mean)', 'server time (median)', 'requests timed', 'req/s at -c32 (median)', 'req/s each round'],
        [row('1000 users', 'small'), row(`${service.seed.count} users`, 'large')],
      ),
    );
    say();
    say(
      `Server time at ${service.seed.count} users / at 1000 users: ${verdict(time('large') / time('small'), 1.1, false)} (within 10%). ` +
        `Throughput ratio, for information (noisy on a shared machine): ${fixed(median(rps.large) / median(rps.small), 2)}.`,
    );
    say();
    say(
      `Server time: the access-log \`ms\` of ${server.large.length / options.rounds} sequential GETs per round (10 random ids × 20, after 2 untimed), ` +
        'each server started afresh and warmed up with wrk first; the two databases alternate within each round.',
    );
    say();
  }

  if (scenarios.length > 0) {
    say(`## Load: service vs baseline, wrk -t${options.threads} -c${options.connections}, ${options.duration} s × ${options.rounds} rounds, ${options.users} users`);
    say();
    const results = await loadSuite(service, baseline, scenarios);
    const note = options.db === 'postgres' ? 'the baseline runs on SQLite, the service on PostgreSQL' : 'both on SQLite';
    reportSuite(results, scenarios, note);
    say();
  }

  if (wanted('startup')) {
    // Dedicated starts with nothing else running, on top of the starts of the parts above.
    for (let i = 0; i < 5; i++) {
      for (const [side, target] of [['service', service], ['baseline', baseline]] as const) {
        const server = await start(side, target, target.label);
        await server.stop();
      }
    }
  }
  say('## Start-up to a healthy /healthcheck (spawn → first 200), target ≤ 1 s');
  say();
  say(
    table(
      ['server and database', 'starts', 'min ms', 'median ms', 'max ms', '≤ 1000 ms (median)'],
      Object.entries(startups).map(([label, values]) => [
        label,
        String(values.length),
        fixed(Math.min(...values)),
        fixed(median(values)),
        fixed(Math.max(...values)),
        label.startsWith('service') ? (median(values) <= 1000 ? 'PASS' : 'FAIL') : '—',
      ]),
    ),
  );
  say();
  say('Every start of each server in this run counts: one per round of each part, plus 5 dedicated starts (part `startup`).');
  say();
  say(`Run took ${fixed((Date.now() - started) / 1000)} s; load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  const report = out.join('\n') + '\n';
  writeFileSync(join(runDir, 'report.md'), report);
  writeFileSync(join(ROOT, '.bench', 'latest.md'), report);
  writeFileSync(join(ROOT, '.bench', `${runDir.split('/').pop()}.md`), report);
}

async function cleanUp(): Promise<void> {
  for (const name of pgDatabases) {
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((error: Error) => console.error(`could not drop ${name}: ${error.message}`));
  }
  if (!options.keep) rmSync(runDir, { recursive: true, force: true });
  else console.error(`run directory kept: ${runDir}`);
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(`\nbenchmark failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
