import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate --config drizzle.pg.config.ts` writes a new versioned migration into migrations/postgres
// after a change of src/db/schema.pg.ts. Keep src/db/schema.sqlite.ts and its migrations in step.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.pg.ts',
  out: './migrations/postgres',
});
