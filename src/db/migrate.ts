import { loadConfig } from '../config.js';
import { createDatabase } from './client.js';

// `npm run db:migrate`: applies pending migrations to the configured database and exits.
// The server does the same at start-up; this is for deploy pipelines that migrate as a separate step.
const database = await createDatabase(loadConfig());
await database.close();
console.log(`migrations applied (${database.dialect})`);
