// What each optional or production feature costs on the hottest route, GET /users/{id}: the service is run
// in several configurations on the same seeded database, interleaved (A B C … A B C …), each loaded with wrk
// (1 thread, 32 connections), and the server's CPU time per request is compared (steadier than req/s). Run: npm run build && node --import tsx bench/features.ts [--duration 5] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../scripts/harness/cli.js';
import { cpuTimeMs } from '../scripts/harness/process-stats.js';
import { startServer } from '../scripts/harness/server-process.js';
import { copySqlite, seedSqlite } from './seed.js';
import { requireWrk, runWrk } from './wrk.js';

const cli = parseCli({
  usage: 'npm run build && node --import tsx bench/features.ts [options]',
  flags: {
    duration: { type: 'string', value: '<s>', default: '5', description: 'seconds of measured load per configuration and round' },
    rounds: { type: 'string', value: '<n>', default: '3', description: 'rounds; each runs every configuration once, in turn' },
  },
});
const durationSec = cli.number('duration', { min: 1, integer: true });
const rounds = cli.number('rounds', { min: 1, integer: true });
const root = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'bench-key-0123456789abcdef';

const variants: { name: string; env: Record<string, string>; headers?: string[] }[] = [
  { name: 'production defaults (access log at info)', env: {} },
  { name: 'no access log (LOG_LEVEL=warn)', env: { LOG_LEVEL: 'warn' } },
  { name: 'API_KEY set (bearer key checked)', env: { API_KEY: KEY }, headers: [`Authorization: Bearer ${KEY}`] },
  { name: 'RATE_LIMIT set (never reached)', env: { RATE_LIMIT: '1000000' } },
  { name: 'CORS_ORIGINS set (request with Origin)', env: { CORS_ORIGINS: 'https://app.example.com' }, headers: ['Origin: https://app.example.com'] },
];

requireWrk();
const directory = mkdtempSync(join(tmpdir(), 'users-api-features-'));
try {
  const seeded = join(directory, 'seed.db');
  seedSqlite(seeded, 1000);
  const results = new Map<string, number[]>();
  const rates = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const file = join(directory, `r${round}.db`);
      copySqlite(seeded, file);
      // As bench/run.ts starts its servers: log file, 5 ms polls, 20 s to come up, SIGKILL 10 s after stop().
      const server = await startServer({
        name: 'service',
        env: { LOG_LEVEL: 'info', NODE_ENV: 'production', DATABASE_URL: `file:${file}`, ...variant.env },
        logFile: join(directory, 'service.log'),
        pollMs: 5,
        timeoutMs: 20000,
        killAfterMs: 10000,
      });
      try {
        const load = { url: server.url, script: join(root, 'bench/lua/get-by-id.lua'), args: [1, 1000, round], connections: 32, threads: 1, headers: variant.headers };
        await runWrk({ ...load, durationSec: 1 });
        const cpuBefore = cpuTimeMs(server.pid);
        const result = await runWrk({ ...load, durationSec });
        // CPU time of the server per request: steadier than req/s on a shared machine.
        const cpuPerRequest = ((cpuTimeMs(server.pid) - cpuBefore) * 1000) / result.requests;
        if (result.non2xx > 0) throw new Error(`${variant.name}: ${result.non2xx} non-2xx answers`);
        results.set(variant.name, [...(results.get(variant.name) ?? []), cpuPerRequest]);
        rates.set(variant.name, [...(rates.get(variant.name) ?? []), result.requestsPerSec]);
        console.log(`  · round ${round} ${variant.name}: ${Math.round(result.requestsPerSec)} req/s, ${cpuPerRequest.toFixed(1)} µs CPU/request`);
      } finally {
        await server.stop();
        rmSync(file, { force: true });
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const reference = median(results.get(variants[0]!.name)!);
  console.log('\n| configuration | server CPU µs per GET /users/{id} (median) | vs production defaults | req/s (median) |');
  console.log('|---|---|---|---|');
  for (const variant of variants) {
    const value = median(results.get(variant.name)!);
    const change = (((value - reference) / reference) * 100).toFixed(1);
    console.log(`| ${variant.name} | ${value.toFixed(1)} | ${value >= reference ? '+' : ''}${change} % | ${Math.round(median(rates.get(variant.name)!))} |`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
