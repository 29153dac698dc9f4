import { loadConfig } from '../config.js';
import { migrateDatabase } from './client.js';

// `npm run db:migrate`: applies pending migrations to the configured database and exits.
// The server does the same at start-up; this is for deploy pipelines that migrate as a separate step.
const dialect = await migrateDatabase(loadConfig());
console.log(`migrations applied (${dialect})`);
