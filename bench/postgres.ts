import pg from 'pg';
import { cpuTimeBetween, cpuTimesOf } from '../scripts/harness/process-stats.js';

// PostgreSQL for the benchmark: fresh databases on the server of --pg-url, and the CPU time PostgreSQL itself
// spends on a scenario (its processes are not the service's, so the service's CPU per request leaves it out).

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The databases a run creates on the server of `adminUrl`, named users_bench_<nonce>_<suffix>; dropAll() at the end. */
export class PgDatabases {
  private readonly names: string[] = [];

  constructor(
    private readonly adminUrl: string,
    private readonly nonce: string,
  ) {}

  /** A fresh, empty database; its URL. */
  async create(suffix: string): Promise<string> {
    const name = `users_bench_${this.nonce}_${suffix}`;
    await query(this.adminUrl, `CREATE DATABASE "${name}"`);
    this.names.push(name);
    const url = new URL(this.adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async dropAll(): Promise<void> {
    for (const name of this.names.splice(0)) {
      await query(this.adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((error: Error) => console.error(`could not drop ${name}: ${error.message}`));
    }
  }
}

/** The pids of the backends connected to the database of `url` (the service's pool), other than the one asking. */
async function backendsOf(url: string): Promise<number[]> {
  const rows = await query<{ pid: number }>(url, 'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.map((row) => row.pid);
}

export interface PostgresCpu {
  /** CPU time of every process named postgres on this machine (ms), 0 when none is visible (another host, container). */
  allMs: number;
  /** CPU time of the backends connected to the benchmark's database, at the start or the end (ms). */
  backendsMs: number;
  /** How many postgres processes were visible at the end. */
  processes: number;
}

/**
 * Runs `work` and measures the CPU time PostgreSQL spent meanwhile, from /proc/<pid>/stat of every process whose
 * command is `postgres`: all of them (backends of other databases, the WAL writer, the checkpointer, autovacuum
 * included), and the backends of `url`'s database alone. A process that exits during the work is not counted (its
 * time leaves /proc with it); the service's pool keeps its connections, so its backends live through a scenario.
 */
export async function measurePostgres<T>(url: string, work: () => Promise<T>): Promise<{ result: T; cpu: PostgresCpu }> {
  // The pids are asked first and last, so that the asking connection's own backend falls outside the snapshots.
  const backendsBefore = await backendsOf(url);
  const before = cpuTimesOf('postgres');
  const result = await work();
  const after = cpuTimesOf('postgres');
  const backends = new Set([...backendsBefore, ...(await backendsOf(url))]);
  return { result, cpu: { allMs: cpuTimeBetween(before, after), backendsMs: cpuTimeBetween(before, after, backends), processes: after.size } };
}
