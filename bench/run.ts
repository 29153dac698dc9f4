import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../scripts/harness/cli.js';
import { PRODUCTION_ENV, SERVER_ENTRY } from '../scripts/harness/server-process.js';
import { GROUP_COMMIT_HEADERS, groupCommitCells, readGroupCommit, sumGroupCommit, type GroupCommitStats } from './group-commit.js';
import { describe, loadSuite, reportSuite, SCENARIO_KEYS, scenarios as allScenarios, wrkOn, type LoadSettings, type Scenario, type SideRun } from './load.js';
import { metricsCostPart } from './metrics.js';
import { exportPart, importPart } from './bulk.js';
import { PgDatabases } from './postgres.js';
import { fixed, machine, ms, table, verdict } from './report.js';
import { copySqlite, copyUsers, mostCommonTrigram, samplePostgres, sampleSqlite, seedPostgres, seedSqlite } from './seed.js';
import { compileServer, Servers, type Target } from './servers.js';
import { COMMON_Q_BAR_MS, commonSearchChecks, shapeChecks } from './shapes.js';
import { median, timeSequential, trimmedMean } from './timing.js';
import { userModel } from '../src/users/users.schemas.js';
import { requireWrk } from './wrk.js';

// `npm run bench [-- options]`: the service (dist/server.js, production settings) against two references, on fresh
// seeded databases, with wrk: a bare node:http + better-sqlite3 baseline doing the same work (what the framework
// costs), and a naive server doing the least work for the same requests (what every feature costs). See
// docs/PERFORMANCE.md.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = fileURLToPath(new URL('.', import.meta.url));
const ALL = [...SCENARIO_KEYS, 'batches', 'metrics', 'shapes', 'scale', 'startup', 'export', 'import'] as const;
type Part = (typeof ALL)[number];
type Db = 'sqlite' | 'postgres';

const cli = parseCli({
  usage: 'npm run bench -- [options]',
  flags: {
    duration: { type: 'string', value: '<s>', default: '5', description: 'seconds per scenario and server in each round' },
    rounds: { type: 'string', value: '<n>', default: '3', description: 'rounds; each round starts every server afresh and runs each scenario on each in turn' },
    users: {
      type: 'string',
      value: '<n>',
      default: '1000',
      description: 'users seeded before the run\nat 100000 or more the scale checks run too: list shapes at server time (≤ 5 ms),\nthe most common 3-character q with its total (≤ 50 ms), GET by id against a 1000-user database',
    },
    db: {
      type: 'string',
      value: '<sqlite|postgres|both>',
      default: 'sqlite',
      description:
        "the service's database\npostgres: a fresh database per run on --pg-url; both: the service on each, side by side\nthe baseline and the naive server stay on SQLite",
    },
    'pg-url': { type: 'string', value: '<url>', default: 'postgres://postgres@127.0.0.1:5432/test', description: 'the PostgreSQL server --db postgres creates its databases on' },
    only: { type: 'string', value: '<list>', description: `comma-separated subset of: ${ALL.join(',')}` },
    connections: { type: 'string', value: '<n>', default: '32', description: 'wrk connections (post1: always 1)' },
    threads: { type: 'string', value: '<n>', default: '1', description: 'wrk threads' },
    warmup: { type: 'string', value: '<s>', default: '2', description: 'seconds of mixed load on each fresh server before it is measured' },
    samples: { type: 'string', value: '<n>', default: '50', description: 'sequential requests per list shape' },
    profile: { type: 'boolean', description: 'run the service with --cpu-prof (profiles in the run directory; implies --keep)' },
    keep: { type: 'boolean', description: 'keep the run directory (databases, logs) under .bench/' },
    'service-env': {
      type: 'string',
      value: '<K=V,...>',
      description:
        "settings added to the service's environment, not the references'; comma-separated\n" +
        'e.g. SQLITE_CACHE_SIZE_MB=16 or SQLITE_CHECKPOINT_THREAD=true,NODE_OPTIONS=--max-semi-space-size=8 (the throughput-first settings)',
    },
    'export-users': { type: 'string', value: '<n>', default: '1000000', description: 'users in the table the export part exports (its own database unless --users has as many)' },
    'import-users': { type: 'string', value: '<n>', default: '100000', description: 'users the import part imports into an empty table' },
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
  exportUsers: count('export-users'),
  importUsers: count('import-users'),
  pgUrl: flags['pg-url'],
  profile: flags.profile,
  keep: flags.keep || flags.profile,
};
if (!['sqlite', 'postgres', 'both'].includes(flags.db)) cli.fail('--db must be sqlite, postgres or both');
const DBS: Db[] = flags.db === 'both' ? ['sqlite', 'postgres'] : [flags.db as Db];
const SCALE = options.users >= 100000;
const only = flags.only ? new Set(flags.only.split(',').map((s) => s.trim())) : undefined;
for (const name of only ?? []) {
  if (!(ALL as readonly string[]).includes(name)) {
    cli.fail(`--only: unknown part "${name}"; one of ${ALL.join(', ')}`);
  }
}
const wanted = (part: Part) => (only ? only.has(part) : part === 'shapes' || part === 'scale' ? SCALE : true);
// Every part but the list shapes and the start-up puts load on the servers with wrk.
if (ALL.some((part) => !['shapes', 'startup', 'export', 'import'].includes(part) && wanted(part))) requireWrk();

// ---------------------------------------------------------------------------------------------------------------
const nonce = randomBytes(4).toString('hex');
const SCENARIOS = allScenarios(join(BENCH, 'lua'));
const scenario = (key: Scenario['key']) => SCENARIOS.find((s) => s.key === key)!;
const settings: LoadSettings = { ...options, nonce };

const runDir = join(ROOT, '.bench', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${nonce}`);
mkdirSync(runDir, { recursive: true });
const servers = new Servers(runDir);
const pgDatabases = new PgDatabases(options.pgUrl, nonce);
const out: string[] = [];
/** Prints a line and keeps it for the report file. */
const say = (text = '') => {
  console.log(text);
  out.push(text);
};
const progress = (text: string) => console.error(`  · ${text}`);

const serviceNodeArgs = (tag: string) => (options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, `prof-${tag}`)}`] : []);
/** --service-env: what an operator would set, e.g. to measure a memory-lean deployment against the default one. */
function serviceEnvOf(list: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of list ? list.split(',') : []) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair.trim());
    if (!match) return cli.fail(`--service-env: "${pair}" is not KEY=VALUE`);
    env[match[1]!] = match[2]!;
  }
  return env;
}
// The Docker image's process settings (NODE_OPTIONS, MALLOC_*) as its ENV sets them (--service-env replaces any).
const SERVICE_ENV = { NODE_ENV: 'production', LOG_LEVEL: 'info', ...PRODUCTION_ENV, ...serviceEnvOf(flags['service-env']) };

/** A seeded database for the service with `users` rows (schema from the real migrations). */
async function serviceTarget(db: Db, users: number, tag: string): Promise<Target> {
  if (db === 'sqlite') {
    const file = join(runDir, `service-${tag}.db`);
    const seed = seedSqlite(file, users);
    return { label: `service (${users} users)`, entry: SERVER_ENTRY, nodeArgs: serviceNodeArgs(tag), env: { ...SERVICE_ENV, DATABASE_URL: `file:${file}` }, seed };
  }
  const url = await pgDatabases.create(tag);
  // The schema comes from the service's own migrations: start it once on the empty database.
  const migrating = await servers.launch('service (migrating)', { entry: SERVER_ENTRY, nodeArgs: [], env: { ...SERVICE_ENV, DATABASE_URL: url } });
  await migrating.stop();
  const seed = await seedPostgres(url, users);
  return { label: `service (${users} users, PostgreSQL)`, entry: SERVER_ENTRY, nodeArgs: serviceNodeArgs(`pg-${tag}`), env: { ...SERVICE_ENV, DATABASE_URL: url }, seed };
}

/** A service on a new, empty database (the service migrates it at its start). */
async function emptyTarget(db: Db, tag: string): Promise<Target> {
  const url = db === 'sqlite' ? `file:${join(runDir, `${tag}.db`)}` : await pgDatabases.create(tag.replace(/\W/g, ''));
  return { label: `service (empty ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} database)`, entry: SERVER_ENTRY, nodeArgs: [], env: { ...SERVICE_ENV, DATABASE_URL: url }, seed: { minId: 0, maxId: 0, count: 0, ms: 0 } };
}

const dbName = (db: Db) => (db === 'sqlite' ? 'SQLite' : 'PostgreSQL');

// ---------------------------------------------------------------------------------------------------------------
/** The list shapes at server time, on the untouched seeded database. */
async function shapesPart(service: Target, db: Db): Promise<void> {
  say(`## List shapes at ${options.users} users (${dbName(db)}): server time (access log \`ms\`), one request at a time`);
  say();
  const server = await servers.start('service', service);
  try {
    const id = Math.floor((service.seed.minId + service.seed.maxId) / 2);
    const sample = db === 'sqlite' ? sampleSqlite(service.env['DATABASE_URL']!.slice('file:'.length), [id]) : await samplePostgres(service.env['DATABASE_URL']!, [id]);
    const rows = await shapeChecks(server, sample[0]!, service.seed.count, options.samples, progress);
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

/** The list with the most common 3-character q and its total, on the untouched seeded database: ≤ 50 ms. */
async function commonSearch(service: Target, db: Db): Promise<void> {
  // The seed's data do not depend on its size: a sample ranks the trigrams as the whole table does.
  const { trigram, share } = mostCommonTrigram(Math.min(service.seed.count, 100000));
  say(`## The most common 3-character q at ${service.seed.count} users (${dbName(db)}): server time (access log \`ms\`), ≤ ${COMMON_Q_BAR_MS} ms`);
  say();
  const server = await servers.start('service', service);
  try {
    const rows = await commonSearchChecks(server, trigram, options.samples, progress);
    say(table(['shape', 'status', 'rows', 'X-Total-Count', 'server ms (median)', 'server p90', 'client ms (median)', `≤ ${COMMON_Q_BAR_MS} ms`], rows));
    say();
    say(
      `\`${trigram}\` is the 3-character substring (case-insensitive, of ${userModel.searched.map((field) => field.name).join(', ')}) that the ` +
        `most seeded users hold (${fixed(share * 100)} % of a ${Math.min(service.seed.count, 100000)}-user sample of the seed). ` +
        `Server ms: the median of ${options.samples} sequential requests after 5 untimed ones (10 when a request takes > 200 ms).`,
    );
    say();
  } finally {
    await server.stop();
  }
}

/** GET by id at --users against a 1000-user database: the server time must stay within 10 %. */
async function scalePart(service: Target, db: Db): Promise<void> {
  await commonSearch(service, db);
  say(`## GET /users/{id} at ${options.users} users against 1000 users (service only, ${dbName(db)})`);
  say();
  const small = await serviceTarget(db, 1000, db === 'sqlite' ? 'small' : 'pgsmall');
  const getById = scenario('get');
  const rps: Record<'small' | 'large', number[]> = { small: [], large: [] };
  const server: Record<'small' | 'large', number[]> = { small: [], large: [] };
  for (let round = 1; round <= options.rounds; round++) {
    for (const [key, target] of [['small', small], ['large', service]] as const) {
      const proc = await servers.start('service', target);
      try {
        if (options.warmup > 0) await wrkOn(proc, getById, target.seed, 100 + round, `${nonce}.s${round}`, settings, options.warmup);
        const result = await wrkOn(proc, getById, target.seed, round, `${nonce}.s${round}`, settings);
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
      ['database', 'server time (10–90% mean)', 'server time (median)', 'requests timed', `req/s at -c${options.connections} (median)`, 'req/s each round'],
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

/**
 * The batch sizes of the service's group commit on SQLite, per write scenario: each round a fresh service takes the
 * scenario's load alone (no warm-up: the summary counts from the start) and logs its summary when stopped.
 */
async function batchesPart(service: Target): Promise<void> {
  say(`## SQLite group commit: batch sizes under load (wrk -t${options.threads} -c${options.connections}, ${options.duration} s × ${options.rounds} rounds)`);
  say();
  const rows: string[][] = [];
  for (const write of [scenario('post'), scenario('patch')]) {
    const stats: (GroupCommitStats | undefined)[] = [];
    const rps: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const server = await servers.start('service-batches', service);
      try {
        const result = await wrkOn(server, write, service.seed, 500 + round, `${nonce}.b${round}.service`, settings);
        rps.push(result.requestsPerSec);
        progress(`batches round ${round} ${write.key}: ${describe(result)}`);
      } finally {
        await server.stop();
      }
      stats.push(readGroupCommit(server.logFile));
    }
    rows.push([write.title, String(options.rounds), fixed(median(rps)), ...groupCommitCells(sumGroupCommit(stats))]);
  }
  say(table(['scenario', 'runs', 'req/s (median)', ...GROUP_COMMIT_HEADERS], rows));
  say();
  say(
    'Summed over the runs (largest: the largest of any run), from the `"msg":"sqlite group commit"` line the service logs ' +
      'when it stops; "size 2-3" = batches of 2 or 3 writes. n/a: the service logged no such line.',
  );
  say();
}

/** Start-up on a fresh, empty database each time: the service runs its migrations, the naive server creates its table. */
async function startupPart(naiveEntry: string): Promise<void> {
  const fresh: { label: string; target: boolean; times: number[] }[] = [];
  const record = (label: string, target: boolean, ms: number) => {
    let entry = fresh.find((e) => e.label === label);
    if (!entry) fresh.push((entry = { label, target, times: [] }));
    entry.times.push(ms);
  };
  for (let i = 1; i <= 5; i++) {
    for (const db of DBS) {
      const url = db === 'sqlite' ? `file:${join(runDir, `fresh-${i}.db`)}` : await pgDatabases.create(`fresh${i}`);
      const server = await servers.launch('service-fresh', { entry: SERVER_ENTRY, nodeArgs: [], env: { ...SERVICE_ENV, DATABASE_URL: url } });
      await server.stop();
      record(`service (empty ${dbName(db)} database)`, db === 'sqlite', server.startupMs);
    }
    const server = await servers.launch('naive-fresh', { entry: naiveEntry, nodeArgs: [], env: { NAIVE_DB: join(runDir, `fresh-naive-${i}.db`) } });
    await server.stop();
    record('naive (empty SQLite database)', false, server.startupMs);
  }
  say('## Start-up on a fresh database (spawn → first 200 from /healthcheck), target ≤ 500 ms median');
  say();
  say(
    table(
      ['server and database', 'starts', 'min ms', 'median ms', 'max ms', '≤ 500 ms (median)'],
      fresh.map(({ label, target, times }) => [
        label,
        String(times.length),
        fixed(Math.min(...times)),
        fixed(median(times)),
        fixed(Math.max(...times)),
        target ? (median(times) <= 500 ? 'PASS' : 'FAIL') : '—',
      ]),
    ),
  );
  say();
  say(
    'Each start on a database that does not exist yet: the service creates it and applies every migration (on PostgreSQL, ' +
      'an empty database created beforehand, untimed), the naive server creates its table. The starts alternate; nothing ' +
      'else of the benchmark runs meanwhile. The target applies to the service on SQLite, the default.',
  );
  say();
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
      `warm-up ${options.warmup} s, ${options.users} users, service database ${flags.db}` +
      `, service ${(Object.keys(PRODUCTION_ENV) as (keyof typeof PRODUCTION_ENV)[]).map((name) => `${name}=${SERVICE_ENV[name]}`).join(' ')}` +
      (flags['service-env'] ? `, service environment ${flags['service-env']}` : ''),
  );
  say('```');
  say();

  const scenarios = SCENARIOS.filter((s) => wanted(s.key));
  const services: Partial<Record<Db, Target>> = {};
  for (const db of DBS) {
    progress(`seeding ${options.users} users (${db})`);
    const target = await serviceTarget(db, options.users, 'main');
    progress(`${db} database seeded in ${fixed(target.seed.ms / 1000, 1)} s`);
    say(`Seeded ${target.seed.count} users (${dbName(db)}) in ${fixed(target.seed.ms / 1000, 1)} s (ids ${target.seed.minId}–${target.seed.maxId}).`);
    services[db] = target;
  }
  say();

  // Scale checks first, on the untouched seeded databases.
  for (const db of DBS) if (wanted('shapes')) await shapesPart(services[db]!, db);
  for (const db of DBS) if (wanted('scale')) await scalePart(services[db]!, db);

  const naiveEntry = compileServer(join(BENCH, 'naive.ts'), runDir);
  if (scenarios.length > 0) {
    // The references get the service's SQLite users (seeded for them when the service is on PostgreSQL alone).
    const baselineDb = join(runDir, 'baseline.db');
    const naiveDb = join(runDir, 'naive.db');
    const serviceDb = services.sqlite?.env['DATABASE_URL']?.slice('file:'.length);
    let seed = services.sqlite?.seed;
    if (serviceDb) copySqlite(serviceDb, baselineDb);
    else seed = seedSqlite(baselineDb, options.users);
    const baseline: Target = {
      label: `baseline (${options.users} users, SQLite)`,
      entry: compileServer(join(BENCH, 'baseline.ts'), runDir),
      nodeArgs: [],
      // The user's fields, from the declaration: the baseline reads them from here rather than load the model itself.
      env: { NODE_ENV: 'production', BASELINE_DB: baselineDb, BASELINE_FIELDS: JSON.stringify(userModel.fields) },
      seed: seed!,
    };
    const naive: Target = { label: `naive (${options.users} users, SQLite)`, entry: naiveEntry, nodeArgs: [], env: { NAIVE_DB: naiveDb }, seed: seed! };
    // The naive server creates its own table at its first start; the users are copied in after.
    await (await servers.launch('naive (creating its table)', naive)).stop();
    const copied = copyUsers(serviceDb ?? baselineDb, naiveDb);
    progress(`${copied.count} users copied into the naive server's database in ${fixed(copied.ms)} ms`);

    const runs: SideRun[] = [
      ...(services.sqlite ? [{ side: 'service' as const, target: services.sqlite }] : []),
      ...(services.postgres && !services.sqlite ? [{ side: 'postgres' as const, target: services.postgres }] : []),
      { side: 'baseline', target: baseline },
      { side: 'naive', target: naive },
      ...(services.postgres && services.sqlite ? [{ side: 'postgres' as const, target: services.postgres }] : []),
    ];
    say(`## Load: service vs same-work baseline vs naive limit, wrk -t${options.threads} -c${options.connections}, ${options.duration} s × ${options.rounds} rounds, ${options.users} users`);
    say();
    const results = await loadSuite({ runs, scenarios, warmUp: scenario('mix'), settings, servers, say, progress });
    const note = services.sqlite ? 'All three on SQLite' : 'The baseline and the naive server run on SQLite, the service on PostgreSQL';
    reportSuite(results, say, note);
  }

  if (wanted('batches')) {
    if (services.sqlite) await batchesPart(services.sqlite);
    else {
      say("Part `batches` skipped: group commit is the SQLite service's (run with --db sqlite or both).");
      say();
    }
  }
  if (wanted('metrics')) {
    for (const db of DBS) await metricsCostPart({ servers, service: services[db]!, getById: scenario('get'), settings, nonce, say, progress });
  }
  if (wanted('startup')) await startupPart(naiveEntry);
  for (const db of DBS) {
    const bulk = { servers, say, progress };
    if (wanted('export')) {
      const large = services[db]!.seed.count >= options.exportUsers ? services[db]! : await serviceTarget(db, options.exportUsers, db === 'sqlite' ? 'export' : 'pgexport');
      await exportPart(bulk, large, dbName(db));
    }
    if (wanted('import')) await importPart(bulk, (tag) => emptyTarget(db, tag), dbName(db), options.importUsers);
  }

  say('## Start-up of every other server start of this run (seeded database), spawn → first 200');
  say();
  say(
    table(
      ['server and database', 'starts', 'min ms', 'median ms', 'max ms'],
      Object.entries(servers.startups).map(([label, values]) => [label, String(values.length), fixed(Math.min(...values)), fixed(median(values)), fixed(Math.max(...values))]),
    ),
  );
  say();
  say('One start per round of each part, on the seeded databases (after their first start, so no migration runs); for information.');
  say();
  say(`Run took ${fixed((Date.now() - started) / 1000)} s; load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  const report = out.join('\n') + '\n';
  writeFileSync(join(runDir, 'report.md'), report);
  writeFileSync(join(ROOT, '.bench', 'latest.md'), report);
  writeFileSync(join(ROOT, '.bench', `${runDir.split('/').pop()}.md`), report);
}

async function cleanUp(): Promise<void> {
  await pgDatabases.dropAll();
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
