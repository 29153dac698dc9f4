import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { OpenApiResponseChecker } from './openapi.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built server (dist/server.js) as a real process on a free port and waits until it is healthy. */
export async function startServer(env: Record<string, string> = {}, timeoutMs = 15000): Promise<ServerProcess> {
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  while (Date.now() < deadline && !exitedEarly) {
    try {
      const response = await fetch(`${url}/healthcheck`);
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server.stop('SIGKILL');
  throw new Error(`server did not become healthy:\n${output}`);
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
