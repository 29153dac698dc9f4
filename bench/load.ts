import { join } from 'node:path';
import { measureProcess, memoryOf } from '../scripts/harness/process-stats.js';
import { measurePostgres } from './postgres.js';
import { fixed, mb, ms, table, verdict } from './report.js';
import type { SeedResult } from './seed.js';
import type { Running, Servers, Target } from './servers.js';
import { median } from './timing.js';
import { runWrk, type WrkResult } from './wrk.js';

// The wrk scenarios, run on every side of the comparison: the service (on SQLite, on PostgreSQL or both), the
// same-work baseline and the naive limit, all started afresh each round and measured back to back per scenario.

/** service: the service on SQLite; postgres: the service on PostgreSQL. The references always run on SQLite. */
export type Side = 'service' | 'postgres' | 'baseline' | 'naive';
export const SIDE_NAME: Record<Side, string> = { service: 'service', postgres: 'service on PostgreSQL', baseline: 'baseline', naive: 'naive' };

export const SCENARIO_KEYS = ['get', 'list', 'post', 'post1', 'patch', 'mix'] as const;
export type ScenarioKey = (typeof SCENARIO_KEYS)[number];

export interface Scenario {
  key: ScenarioKey;
  title: string;
  /** Targets for the service's req/s over each reference's (null: none). */
  target: { baseline: number | null; naive: number | null };
  path: string;
  script?: string;
  /** wrk -c for this scenario (default: --connections). */
  connections?: number;
  /** The script's arguments: `tag` is unique to this run of the scenario on this side (unique emails). */
  args?: (seed: SeedResult, round: number, tag: string) => (string | number)[];
}

/** The scenarios, with their Lua scripts in `luaDir`. */
export function scenarios(luaDir: string): Scenario[] {
  const lua = (name: string) => join(luaDir, name);
  const none = { baseline: null, naive: null };
  return [
    { key: 'get', title: 'GET /users/{id} (random ids)', target: { baseline: 0.8, naive: 0.7 }, path: '/', script: lua('get-by-id.lua'), args: (s, r) => [s.minId, s.maxId, 1000 + r] },
    { key: 'list', title: 'GET /users/?limit=100', target: { baseline: 1.5, naive: 1.6 }, path: '/users/?limit=100' },
    { key: 'post', title: 'POST /users/ (unique emails)', target: { baseline: 0.8, naive: 0.6 }, path: '/', script: lua('post.lua'), args: (_s, _r, tag) => [tag] },
    { key: 'post1', title: 'POST /users/, one client (-c1)', target: none, path: '/', script: lua('post.lua'), connections: 1, args: (_s, _r, tag) => [tag] },
    { key: 'patch', title: 'PATCH /users/{id} (random ids)', target: { baseline: 0.7, naive: 0.6 }, path: '/', script: lua('patch.lua'), args: (s, r) => [s.minId, s.maxId, 2000 + r] },
    { key: 'mix', title: 'mix: 70% GET id, 10% list, 10% POST, 10% PATCH', target: none, path: '/', script: lua('mix.lua'), args: (s, r, tag) => [s.minId, s.maxId, 3000 + r, tag] },
  ];
}

export interface LoadSettings {
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  threads: number;
  /** Unique to the run: with the round, side and scenario, it makes the POSTed emails unique. */
  nonce: string;
}

/** Runs a scenario's wrk load on a server for `duration` seconds. */
export function wrkOn(server: Running, scenario: Scenario, seed: SeedResult, round: number, tag: string, settings: LoadSettings, duration = settings.duration): Promise<WrkResult> {
  return runWrk({
    url: server.url + scenario.path,
    ...(scenario.script ? { script: scenario.script } : {}),
    args: scenario.args?.(seed, round, `${tag}.${scenario.key}`) ?? [],
    durationSec: duration,
    connections: scenario.connections ?? settings.connections,
    threads: Math.min(settings.threads, scenario.connections ?? settings.connections),
  });
}

export const describe = (r: WrkResult) =>
  `${fixed(r.requestsPerSec)} req/s, p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms, non-2xx ${r.non2xx}, socket errors ${r.socketErrors}`;

export interface Sample extends WrkResult {
  peakRss: number;
  /** Server CPU time (user + system, all threads) per request, µs. */
  cpuUsPerRequest: number;
  /** The service on PostgreSQL: PostgreSQL's own CPU time per request, µs. */
  postgres?: { allUs: number; backendsUs: number; processes: number };
}

/** One side of the comparison: a server to start each round. */
export interface SideRun {
  side: Side;
  target: Target;
}

export interface SuiteResults {
  scenarios: Scenario[];
  sides: Side[];
  /** The service the ratios are about: on SQLite when it ran, else on PostgreSQL. */
  primary: Side;
  samples: Map<ScenarioKey, Partial<Record<Side, Sample[]>>>;
  /** Each process's VmHWM at the end of each round. */
  hwm: Partial<Record<Side, number[]>>;
}

const perRequest = (ms: number, requests: number) => (ms * 1000) / Math.max(1, requests);

/** Measures one scenario on one server: wrk, the process's peak RSS and CPU, and PostgreSQL's CPU for the service on it. */
async function measure(server: Running, run: SideRun, scenario: Scenario, round: number, settings: LoadSettings): Promise<Sample> {
  const tag = `${settings.nonce}.${round}.${run.side}`;
  const load = () => wrkOn(server, scenario, run.target.seed, round, tag, settings);
  if (run.side !== 'postgres') {
    const { result, peakRss, cpuMs } = await measureProcess(server.pid, load);
    return { ...result, peakRss, cpuUsPerRequest: perRequest(cpuMs, result.requests) };
  }
  const { result: measured, peakRss, cpuMs } = await measureProcess(server.pid, () => measurePostgres(run.target.env['DATABASE_URL']!, load));
  const { result, cpu } = measured;
  const requests = result.requests;
  return {
    ...result,
    peakRss,
    cpuUsPerRequest: perRequest(cpuMs, requests),
    postgres: { allUs: perRequest(cpu.allMs, requests), backendsUs: perRequest(cpu.backendsMs, requests), processes: cpu.processes },
  };
}

export interface Suite {
  runs: SideRun[];
  scenarios: Scenario[];
  /** What each fresh server gets for --warmup seconds before it is measured (the mix). */
  warmUp: Scenario;
  settings: LoadSettings;
  servers: Servers;
  /** Prints a line of the report. */
  say: (text?: string) => void;
  /** Prints a progress line (not in the report). */
  progress: (text: string) => void;
}

/**
 * The load suite: each round starts every side afresh, warms each up, then runs every scenario on each side in
 * turn (service, baseline, naive, …) and prints the round's ratios.
 */
export async function loadSuite({ runs, scenarios: list, warmUp, settings, servers, say, progress }: Suite): Promise<SuiteResults> {
  const sides = runs.map((run) => run.side);
  const results: SuiteResults = {
    scenarios: list,
    sides,
    primary: sides.includes('service') ? 'service' : 'postgres',
    samples: new Map(list.map((scenario) => [scenario.key, {}])),
    hwm: {},
  };
  for (let round = 1; round <= settings.rounds; round++) {
    const started: Running[] = [];
    try {
      for (const run of runs) started.push(await servers.start(run.side === 'postgres' ? 'service-pg' : run.side, run.target));
      if (settings.warmup > 0) {
        for (const [i, run] of runs.entries()) await wrkOn(started[i]!, warmUp, run.target.seed, 100 + round, `${settings.nonce}.w${round}.${run.side}`, settings, settings.warmup);
      }
      for (const scenario of list) {
        for (const [i, run] of runs.entries()) {
          const sample = await measure(started[i]!, run, scenario, round, settings);
          (results.samples.get(scenario.key)![run.side] ??= []).push(sample);
          const pgCpu = sample.postgres ? `, PostgreSQL CPU ${fixed(sample.postgres.allUs)} µs/request (its backends ${fixed(sample.postgres.backendsUs)})` : '';
          progress(`round ${round}/${settings.rounds} ${scenario.key} ${run.side}: ${describe(sample)}, peak RSS ${mb(sample.peakRss)}, CPU ${fixed(sample.cpuUsPerRequest)} µs/request${pgCpu}`);
        }
      }
      for (const [i, run] of runs.entries()) (results.hwm[run.side] ??= []).push(memoryOf(started[i]!.pid).hwm);
    } finally {
      for (const server of started) await server.stop();
    }
    say(`Round ${round} of ${settings.rounds}:`);
    say();
    say(roundTable(results, round - 1));
    say();
  }
  return results;
}

const LABEL_BASELINE = 'vs same-work baseline (what the framework costs)';
const LABEL_NAIVE = 'vs naive limit (what every feature costs)';

/** The service's value over a reference's, per round. */
function ratios(results: SuiteResults, key: ScenarioKey, reference: Side, value: (s: Sample) => number): number[] {
  const samples = results.samples.get(key)!;
  const mine = samples[results.primary] ?? [];
  const theirs = samples[reference] ?? [];
  return mine.map((sample, i) => value(sample) / value(theirs[i]!));
}

const rps = (s: Sample) => s.requestsPerSec;
const rss = (s: Sample) => s.peakRss;

/** The ratios of one round, printed as soon as it is over. */
function roundTable(results: SuiteResults, index: number): string {
  const others = results.sides.filter((side) => side !== results.primary && side !== 'baseline' && side !== 'naive');
  const rows = results.scenarios.map((scenario) => {
    const samples = results.samples.get(scenario.key)!;
    const at = (side: Side) => samples[side]?.[index];
    const ratio = (reference: Side, value: (s: Sample) => number) => fixed(ratios(results, scenario.key, reference, value)[index]!, 2);
    return [
      scenario.key,
      ...[results.primary, 'baseline' as const, 'naive' as const].map((side) => fixed(at(side)?.requestsPerSec ?? Number.NaN)),
      ratio('baseline', rps),
      ratio('naive', rps),
      ratio('naive', rss),
      ...others.map((side) => fixed(at(side)?.requestsPerSec ?? Number.NaN)),
    ];
  });
  return table(
    [
      'scenario',
      `${SIDE_NAME[results.primary]} req/s`,
      'baseline req/s',
      'naive req/s',
      LABEL_BASELINE,
      LABEL_NAIVE,
      'peak RSS vs naive',
      ...others.map((side) => `${SIDE_NAME[side]} req/s`),
    ],
    rows,
  );
}

/** The summary of the load suite: medians of the rounds, the verdicts on the median ratio, each round, and the PostgreSQL table. */
export function reportSuite(results: SuiteResults, say: (text?: string) => void, note: string): void {
  const { primary } = results;
  const trio: Side[] = [primary, 'baseline', 'naive'];
  const of = (key: ScenarioKey, side: Side) => results.samples.get(key)![side] ?? [];
  const med = (key: ScenarioKey, side: Side, value: (s: Sample) => number) => median(of(key, side).map(value));
  const peak = (key: ScenarioKey, side: Side) => Math.max(0, ...of(key, side).map(rss));
  const errors = (key: ScenarioKey, side: Side) =>
    `${of(key, side).reduce((n, s) => n + s.non2xx, 0)} / ${of(key, side).reduce((n, s) => n + s.socketErrors, 0)}`;
  const name = SIDE_NAME[primary];

  say(
    `Throughput: req/s, median of the rounds. Each ratio is the ${name}'s req/s over the reference's in the same round; ` +
      `the verdict is on the median of the rounds' ratios. ${note}.`,
  );
  say();
  say(
    table(
      ['scenario', `${name} req/s`, 'baseline req/s', 'naive req/s', `${LABEL_BASELINE} (target)`, `${LABEL_NAIVE} (target)`],
      results.scenarios.map((scenario) => [
        scenario.title,
        ...trio.map((side) => fixed(med(scenario.key, side, rps))),
        verdict(median(ratios(results, scenario.key, 'baseline', rps)), scenario.target.baseline),
        verdict(median(ratios(results, scenario.key, 'naive', rps)), scenario.target.naive),
      ]),
    ),
  );
  say();
  say('Peak RSS: the highest VmRSS seen during the scenario in any round; ratios: median of the rounds\' ratios.');
  say();
  say(
    table(
      ['scenario', `${name} peak RSS`, 'baseline peak RSS', 'naive peak RSS', `RSS ${LABEL_BASELINE} (target)`, `RSS ${LABEL_NAIVE} (target)`],
      results.scenarios.map((scenario) => [
        scenario.title,
        ...trio.map((side) => mb(peak(scenario.key, side))),
        verdict(median(ratios(results, scenario.key, 'baseline', rss)), 1.5, false),
        verdict(median(ratios(results, scenario.key, 'naive', rss)), 1.3, false),
      ]),
    ),
  );
  say();
  const hwm = (side: Side) => results.hwm[side] ?? [];
  const hwmRatio = (reference: Side) => median(hwm(primary).map((value, i) => value / hwm(reference)[i]!));
  say(
    `Process peak RSS (VmHWM) at the end of each round: ${trio.map((side) => `${SIDE_NAME[side]} ${hwm(side).map(mb).join(', ')}`).join('; ')}. ` +
      `Median ratio: ${verdict(hwmRatio('baseline'), 1.5, false)} ${LABEL_BASELINE}, ${verdict(hwmRatio('naive'), 1.3, false)} ${LABEL_NAIVE}.`,
  );
  say();
  say('Latency (wrk, median of the rounds), errors (all rounds) and server CPU per request (user + system time of the process / requests).');
  say();
  say(
    table(
      [
        'scenario',
        ...trio.map((side) => `${SIDE_NAME[side]} p50 / p99 ms`),
        ...trio.map((side) => `${SIDE_NAME[side]} non-2xx / socket errors`),
        ...trio.map((side) => `${SIDE_NAME[side]} CPU µs/req`),
      ],
      results.scenarios.map((scenario) => [
        scenario.title,
        ...trio.map((side) => `${ms(med(scenario.key, side, (s) => s.p50Ms))} / ${ms(med(scenario.key, side, (s) => s.p99Ms))}`),
        ...trio.map((side) => errors(scenario.key, side)),
        ...trio.map((side) => fixed(med(scenario.key, side, (s) => s.cpuUsPerRequest))),
      ]),
    ),
  );
  say();
  const each = (values: number[], digits = 0) => values.map((v) => fixed(v, digits)).join(' / ');
  say(
    table(
      ['each round', `${name} req/s`, 'baseline req/s', 'naive req/s', LABEL_BASELINE, LABEL_NAIVE],
      results.scenarios.map((scenario) => [
        scenario.key,
        ...trio.map((side) => each(of(scenario.key, side).map(rps))),
        each(ratios(results, scenario.key, 'baseline', rps), 2),
        each(ratios(results, scenario.key, 'naive', rps), 2),
      ]),
    ),
  );
  say();

  if (results.samples.has('post1')) {
    say('A single client\'s POST (wrk -t1 -c1): its latency, which group commit must not make worse (p50).');
    say();
    say(
      table(
        ['server', 'p50 ms (median)', 'p99 ms (median)', 'p50 each round', 'p99 each round', 'req/s (median)'],
        results.sides.map((side) => [
          SIDE_NAME[side],
          ms(med('post1', side, (s) => s.p50Ms)),
          ms(med('post1', side, (s) => s.p99Ms)),
          of('post1', side).map((s) => ms(s.p50Ms)).join(' / '),
          of('post1', side).map((s) => ms(s.p99Ms)).join(' / '),
          fixed(med('post1', side, rps)),
        ]),
      ),
    );
    say();
  }

  if (results.sides.includes('postgres')) reportPostgres(results, say);
}

/** The service on PostgreSQL next to the service on SQLite, with PostgreSQL's own CPU apart from the service's. */
function reportPostgres(results: SuiteResults, say: (text?: string) => void): void {
  const of = (key: ScenarioKey, side: Side) => results.samples.get(key)![side] ?? [];
  const med = (key: ScenarioKey, side: Side, value: (s: Sample) => number) => median(of(key, side).map(value));
  const visible = results.scenarios.some((scenario) => of(scenario.key, 'postgres').some((s) => (s.postgres?.processes ?? 0) > 0));
  say(results.sides.includes('service') ? '## The service on PostgreSQL next to SQLite' : '## The service on PostgreSQL');
  say();
  say(
    'Medians of the rounds. CPU per request: the service process (user + system time / requests), and PostgreSQL ' +
      'itself (user + system time of every process named `postgres` on this machine / requests; "its backends": only ' +
      'the backends connected to the benchmark\'s database). A postgres process that exits during a scenario is not ' +
      'counted (its time leaves /proc with it); the service\'s pool keeps its connections, so its backends live through ' +
      'the scenario. "All postgres processes" also counts the WAL writer, the checkpointer, autovacuum and any other ' +
      'database\'s backends on the same server.',
  );
  say();
  if (!visible) {
    say('No process named `postgres` is visible from here (PostgreSQL on another host or in a container): its CPU is n/a.');
    say();
  }
  const pgCpu = (key: ScenarioKey, pick: (p: NonNullable<Sample['postgres']>) => number) =>
    visible ? fixed(med(key, 'postgres', (s) => (s.postgres ? pick(s.postgres) : Number.NaN))) : 'n/a';
  say(
    table(
      [
        'scenario',
        'SQLite req/s',
        'PostgreSQL req/s',
        'PostgreSQL / SQLite',
        'SQLite p50 ms',
        'PostgreSQL p50 ms',
        'service CPU µs/req on SQLite',
        'service CPU µs/req on PostgreSQL',
        'PostgreSQL CPU µs/req (all postgres processes)',
        'PostgreSQL CPU µs/req (its backends)',
      ],
      results.scenarios.map((scenario) => [
        scenario.title,
        fixed(med(scenario.key, 'service', rps)),
        fixed(med(scenario.key, 'postgres', rps)),
        fixed(median(of(scenario.key, 'postgres').map((s, i) => s.requestsPerSec / (of(scenario.key, 'service')[i]?.requestsPerSec ?? Number.NaN))), 2),
        ms(med(scenario.key, 'service', (s) => s.p50Ms)),
        ms(med(scenario.key, 'postgres', (s) => s.p50Ms)),
        fixed(med(scenario.key, 'service', (s) => s.cpuUsPerRequest)),
        fixed(med(scenario.key, 'postgres', (s) => s.cpuUsPerRequest)),
        pgCpu(scenario.key, (p) => p.allUs),
        pgCpu(scenario.key, (p) => p.backendsUs),
      ]),
    ),
  );
  say();
}
