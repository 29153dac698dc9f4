import assert from 'node:assert/strict';
import { startServer as startProcess, type ServerProcess } from '../../scripts/harness/server-process.js';
import { OpenApiResponseChecker } from './openapi.js';

export { ROOT } from '../../scripts/harness/server-process.js';
export type { ServerProcess };

/**
 * Starts the built server (dist/server.js) as a real process on a free port (or env.PORT) and waits until it is
 * healthy; its output is kept in memory. LOG_LEVEL is warn unless `env` says otherwise: no access log in tests.
 */
export function startServer(env: Record<string, string> = {}, timeoutMs = 15000): Promise<ServerProcess> {
  const { PORT, ...rest } = env;
  return startProcess({ env: { LOG_LEVEL: 'warn', ...rest }, timeoutMs, pollMs: 50, ...(PORT ? { port: Number(PORT) } : {}) });
}

const checkers = new Map<string, Promise<OpenApiResponseChecker>>();

/** The OpenAPI checker of a running server, built from its own /openapi.json (once per origin). */
export function openApiCheckerOf(origin: string): Promise<OpenApiResponseChecker> {
  let checker = checkers.get(origin);
  if (!checker) {
    checker = fetch(`${origin}/openapi.json`).then(async (response) => new OpenApiResponseChecker(await response.json() as never));
    checkers.set(origin, checker);
  }
  return checker;
}

/** Asserts that a response matches the server's OpenAPI document for its operation and status. */
export async function assertDocumented(origin: string, method: string, path: string, status: number, contentType: string | null | undefined, body: string): Promise<void> {
  const checker = await openApiCheckerOf(origin);
  assert.deepEqual(checker.check(method, path, status, contentType ?? undefined, body), [], `${method} ${path} ${status} matches the OpenAPI document`);
}

/** fetch, plus a check of the response against the server's OpenAPI document (as app.inject tests do). */
export async function fetchChecked(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const { origin, pathname, search } = new URL(url);
  const body = await response.clone().text();
  await assertDocumented(origin, init.method ?? 'GET', pathname + search, response.status, response.headers.get('content-type'), body);
  return response;
}
