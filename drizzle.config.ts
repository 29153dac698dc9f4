import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` writes a new versioned migration into migrations/sqlite after a schema change.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.sqlite.ts',
  out: './migrations/sqlite',
});
