// What each optional or production feature costs on the hottest route, GET /users/{id}: the service is run
// in several configurations on the same seeded database, interleaved (A B C … A B C …), and each is loaded with
// wrk (1 thread, 32 connections). Run: npm run build && node --import tsx bench/features.ts [--duration 5] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { copySqlite, seedSqlite } from './seed.js';
import { startServer } from './servers.js';
import { runWrk } from './wrk.js';

const { values: flags } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
});
const durationSec = Number(flags.duration);
const rounds = Number(flags.rounds);
const root = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'bench-key-0123456789abcdef';

const variants: { name: string; env: Record<string, string>; headers?: string[] }[] = [
  { name: 'production defaults (access log at info)', env: {} },
  { name: 'no access log (LOG_LEVEL=warn)', env: { LOG_LEVEL: 'warn' } },
  { name: 'API_KEY set (bearer key checked)', env: { API_KEY: KEY }, headers: [`Authorization: Bearer ${KEY}`] },
  { name: 'RATE_LIMIT set (never reached)', env: { RATE_LIMIT: '1000000' } },
  { name: 'CORS_ORIGINS set (request with Origin)', env: { CORS_ORIGINS: 'https://app.example.com' }, headers: ['Origin: https://app.example.com'] },
];

const directory = mkdtempSync(join(tmpdir(), 'users-api-features-'));
try {
  const seeded = join(directory, 'seed.db');
  seedSqlite(seeded, 1000);
  const results = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const file = join(directory, `r${round}.db`);
      copySqlite(seeded, file);
      const server = await startServer(
        'service',
        [join(root, 'dist/server.js')],
        { LOG_LEVEL: 'info', NODE_ENV: 'production', DATABASE_URL: `file:${file}`, ...variant.env },
        join(directory, 'service.log'),
      );
      try {
        const load = { url: server.url, script: join(root, 'bench/lua/get-by-id.lua'), args: [1, 1000, round], connections: 32, threads: 1, headers: variant.headers };
        await runWrk({ ...load, durationSec: 1 });
        const result = await runWrk({ ...load, durationSec });
        if (result.non2xx > 0) throw new Error(`${variant.name}: ${result.non2xx} non-2xx answers`);
        results.set(variant.name, [...(results.get(variant.name) ?? []), result.requestsPerSec]);
        console.log(`  · round ${round} ${variant.name}: ${Math.round(result.requestsPerSec)} req/s`);
      } finally {
        await server.stop();
        rmSync(file, { force: true });
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const reference = median(results.get(variants[0]!.name)!);
  console.log('\n| configuration | GET /users/{id} req/s (median) | vs production defaults |');
  console.log('|---|---|---|');
  for (const variant of variants) {
    const value = median(results.get(variant.name)!);
    console.log(`| ${variant.name} | ${Math.round(value)} | ${value >= reference ? '+' : ''}${(((value - reference) / reference) * 100).toFixed(1)} % |`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
