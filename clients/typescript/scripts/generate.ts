import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';

/** Where the generated types live; committed, and checked against the served document by test/client/drift.test.ts. */
export const SCHEMA_FILE = fileURLToPath(new URL('../src/schema.ts', import.meta.url));

const HEADER = `/**
 * GENERATED FILE: do not edit. Regenerate with \`npm run client:generate\`
 * (clients/typescript/scripts/generate.ts: openapi-typescript on the OpenAPI document the server serves with
 * its default configuration, no API_KEY and no RATE_LIMIT).
 */

`;

/**
 * The document GET /openapi.json answers with the default configuration. The environment is not read (an
 * API_KEY in the shell would add the bearer scheme and 401s), and the database is SQLite in memory.
 */
export async function servedDocument(): Promise<OpenAPI3> {
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' }), { logger: false });
  try {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
    return response.json<OpenAPI3>();
  } finally {
    await app.close();
  }
}

/** The text of schema.ts for a document: the same document always gives the same bytes. */
export async function generateSchemaText(document?: OpenAPI3): Promise<string> {
  // A copy: openapi-typescript annotates the object it is given.
  const source = structuredClone(document ?? (await servedDocument()));
  const nodes = await openapiTS(source, { silent: true });
  return HEADER + astToString(nodes).replace(/\r\n/g, '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, await generateSchemaText());
  console.log(`wrote ${relative(process.cwd(), SCHEMA_FILE)}`);
}
