import { createPostgresDatabase } from '../src/db/postgres.ts';
const db = await createPostgresDatabase('postgres://postgres@127.0.0.1:5432/qcheck', { DATABASE_POOL_SIZE: 2 });
for (const q of ['zqx', 'son', 'ada', 'Müller', 'zq']) {
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const s = performance.now();
    const page = await db.users.list({ filters: { q }, sort: 'id', descending: false, limit: 100, offset: 0, count: false } as never);
    times.push(performance.now() - s);
    if (i === 0) process.stdout.write(`${q}: ${page.size} rows; `);
  }
  times.sort((a, b) => a - b);
  console.log(`median ${times[6]!.toFixed(2)} ms, max ${times[11]!.toFixed(2)} ms`);
}
await db.close();
