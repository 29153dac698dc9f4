import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import type { UsersRepository } from '../../src/users/users.repository.js';
import { createTestDatabase, type TestDialect } from './database.js';
import { OpenApiResponseChecker } from './openapi.js';

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  /** The users repository the app serves from: a test may replace its methods to inject faults. */
  users: UsersRepository;
  config: Config;
  /** app.inject, plus a check of every response against the OpenAPI document. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A fresh app on a fresh, migrated database of the given dialect (SQLite in memory by default). */
export async function buildTestApp(
  dialect: TestDialect = 'sqlite',
  env: Record<string, string> = {},
): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:', ...env });
  const { database, users, drop } = await createTestDatabase(dialect, config);
  const app = await buildApp(config, { database, users, logger: false });
  await app.ready();
  const checker = new OpenApiResponseChecker(app.swagger() as never);
  return {
    app,
    database,
    users,
    config,
    async request(options) {
      const response = await app.inject(options);
      const problems = checker.check(
        options.method ?? 'GET',
        String(options.url ?? '/'),
        response.statusCode,
        response.headers['content-type'] as string | undefined,
        response.body,
      );
      assert.deepEqual(problems, [], 'the response must match the OpenAPI document');
      return response;
    },
    async close() {
      await app.close();
      await database.close();
      await drop();
    },
  };
}
