import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { csvRecord } from '../src/http/csv.js';
import { userModel } from '../src/users/users.schemas.js';
import { fixed, mb, ms, table } from './report.js';
import { SEED_COLUMNS, seedRows } from './seed.js';
import type { Running, Servers, Target } from './servers.js';
import { percentile } from './timing.js';

// The bulk parts of `npm run bench`: GET /users/export of a large table (time, the server's RSS idle and at its
// peak, GET by id latency meanwhile) and POST /users/import of 100,000 users into an empty table.

export interface BulkContext {
  servers: Servers;
  say: (text?: string) => void;
  progress: (text: string) => void;
}

/** The resident set size of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

interface Probe {
  /** Stops probing; resolves with what was measured. */
  stop(): Promise<{ peakRss: number; latencies: number[] }>;
}

/**
 * While a bulk request runs: the server's RSS every 20 ms, and GET /users/{id} on random ids one after another (the
 * client's round trip: what another client waits while the bulk request holds the server).
 */
function probe(server: Running, ids: [number, number]): Probe {
  let peakRss = rssOf(server.pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server.pid))), 20);
  const latencies: number[] = [];
  let running = true;
  const getter = (async () => {
    while (running) {
      const id = ids[0] + Math.floor(Math.random() * (ids[1] - ids[0] + 1));
      const started = performance.now();
      const response = await fetch(`${server.url}/users/${id}`);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`GET /users/${id} answered ${response.status}`);
    }
  })();
  return {
    async stop() {
      running = false;
      clearInterval(sampler);
      await getter;
      return { peakRss, latencies };
    },
  };
}

const latencyCells = (latencies: number[]) => [String(latencies.length), ms(percentile(latencies, 50)), ms(percentile(latencies, 99)), ms(Math.max(...latencies))];

/** The idle RSS of a fresh server: after a first GET and a small export, settled for a second. */
async function idleRss(server: Running): Promise<number> {
  await (await fetch(`${server.url}/users/1`)).arrayBuffer();
  await (await fetch(`${server.url}/users/export?max_age=0`)).arrayBuffer();
  await sleep(1000);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++, await sleep(100)) samples.push(rssOf(server.pid));
  return Math.min(...samples);
}

/** GET /users/export of every user, CSV and NDJSON, each on a freshly started server, read as fast as the client can. */
export async function exportPart(context: BulkContext, target: Target, database: string): Promise<void> {
  const { servers, say, progress } = context;
  say(`## Export of ${target.seed.count} users (${database}): time ≤ 10 s, RSS within 50 MiB of idle, GET by id meanwhile`);
  say();
  const rows: string[][] = [];
  for (const format of ['csv', 'ndjson'] as const) {
    const server = await servers.start('service-export', target);
    try {
      const idle = await idleRss(server);
      const measuring = probe(server, [target.seed.minId, target.seed.maxId]);
      const started = performance.now();
      const response = await fetch(`${server.url}/users/export?format=${format}`);
      let bytes = 0;
      let lines = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      }
      const seconds = (performance.now() - started) / 1000;
      const { peakRss, latencies } = await measuring.stop();
      const users = lines - (format === 'csv' ? 1 : 0);
      if (users !== target.seed.count) throw new Error(`the ${format} export has ${users} users, not ${target.seed.count}`);
      progress(`export ${format}: ${fixed(seconds, 2)} s, peak RSS ${mb(peakRss)} (idle ${mb(idle)})`);
      rows.push([
        format,
        String(users),
        mb(bytes),
        fixed(seconds, 2),
        seconds <= 10 ? 'PASS' : 'FAIL',
        mb(idle),
        mb(peakRss),
        mb(peakRss - idle),
        peakRss - idle <= 50 * 1024 * 1024 ? 'PASS' : 'FAIL',
        ...latencyCells(latencies),
      ]);
    } finally {
      await server.stop();
    }
  }
  say(
    table(
      [
      'format',
      'users',
      'size',
      'seconds',
      '≤ 10 s',
      'RSS idle',
      'RSS peak',
      'peak − idle',
      '≤ 50 MiB',
      'GETs meanwhile',
      'GET p50 ms',
      'GET p99 ms',
      'GET max ms',
    ], rows),
  );
  say();
  say(
    'Each export on a freshly started service: idle RSS after one GET and one small export, settled for a second; the ' +
      'peak sampled every 20 ms from /proc during the export. The client reads the body as fast as it can while another ' +
      'client sends GET /users/{random id} one after another; GET ms is that client\'s round trip.',
  );
  say();
}

/** The users of an upload: the seed's users (their create fields), as NDJSON and as CSV. */
function uploadOf(count: number): { ndjson: Buffer; csv: Buffer } {
  const created = userModel.created.map((field) => field.name);
  const columns = created.map((name) => SEED_COLUMNS.indexOf(name));
  const ndjson: string[] = [];
  const csv: string[] = [csvRecord(created)];
  let n = 0;
  for (const row of seedRows(count)) {
    n++;
    const user = Object.fromEntries(created.map((name, index) => [name, columns[index]! >= 0 ? row[columns[index]!] : null]));
    ndjson.push(`${JSON.stringify(user)}\n`);
    csv.push(csvRecord(created.map((name) => (user[name] === null || user[name] === undefined ? '' : String(user[name])))));
  }
  if (n !== count) throw new Error('seedRows gave fewer users than asked');
  return { ndjson: Buffer.from(ndjson.join('')), csv: Buffer.from(csv.join('')) };
}

/** POST /users/import of `count` users into an empty table, NDJSON and CSV, each on a fresh service and database. */
export async function importPart(context: BulkContext, fresh: (tag: string) => Promise<Target>, database: string, count = 100_000): Promise<void> {
  const { servers, say, progress } = context;
  say(`## Import of ${count} users into an empty table (${database}): ≤ 10 s, GET by id meanwhile`);
  say();
  const upload = uploadOf(count);
  const rows: string[][] = [];
  for (const format of ['ndjson', 'csv'] as const) {
    const target = await fresh(`import-${format}`);
    const server = await servers.start('service-import', target);
    try {
      // One user to GET meanwhile (the table is otherwise empty).
      const first = await fetch(`${server.url}/users/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ first_name: 'Probe', last_name: 'User', email: 'probe.user@bench.example' }),
      });
      const { id } = (await first.json()) as { id: number };
      const idle = await idleRss(server);
      const measuring = probe(server, [id, id]);
      const started = performance.now();
      const response = await fetch(`${server.url}/users/import`, {
        method: 'POST',
        headers: { 'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
        body: upload[format],
      });
      const report = (await response.json()) as { created: number; refused: number };
      const seconds = (performance.now() - started) / 1000;
      const { peakRss, latencies } = await measuring.stop();
      if (response.status !== 200 || report.created !== count) throw new Error(`the ${format} import answered ${response.status}: ${JSON.stringify(report).slice(0, 300)}`);
      progress(`import ${format}: ${fixed(seconds, 2)} s`);
      rows.push([format, String(report.created), mb(upload[format].length), fixed(seconds, 2), seconds <= 10 ? 'PASS' : 'FAIL', fixed(count / seconds), mb(idle), mb(peakRss), ...latencyCells(latencies)]);
    } finally {
      await server.stop();
    }
  }
  say(
    table(['format', 'created', 'size', 'seconds', '≤ 10 s', 'users/s', 'RSS idle', 'RSS peak', 'GETs meanwhile', 'GET p50 ms', 'GET p99 ms', 'GET max ms'], rows),
  );
  say();
  say(
    'The seed\'s users (bench/seed.ts), their create fields only, sent in one request from memory to a freshly started ' +
      'service on a new database; the default mode (per row, transactions of IMPORT_BATCH_ROWS users). GET ms: another ' +
      'client\'s round trip for GET /users/{id}, one after another during the import.',
  );
  say();
}
