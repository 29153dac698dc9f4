import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

// One way to start a server as a real process and wait until it is healthy, shared by the end-to-end tests,
// the benchmark and the soak.

/** The repository root; servers run with it as their working directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The built server (`npm run build`: the entry of the esbuild bundle, with source maps), what `npm start` and the
 * Docker image run, and what is started unless the caller names another entry.
 */
export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));
/**
 * The process settings of the Docker image (its `ENV`; test/docker/dockerfile.test.ts checks they agree), which the
 * benchmark and the soak give the service too. All are read when the process starts (by Node and by glibc).
 * - `NODE_OPTIONS=--max-semi-space-size=2`: V8 lets the young generation grow to two 16 MB semi-spaces under load; a
 *   write load took it there (+17 MB of RSS). At 8 MB the collector costs a request the same (~2 µs under POST and
 *   PATCH), at 4 MB ~1 µs more, at 1 MB ~9 µs more (docs/PERFORMANCE.md, "Sixth pass" and "Seventh pass"). 2 MB,
 *   with SQLite's checkpoints on the serving connection (SQLITE_CHECKPOINT_THREAD's default), is what keeps the peak
 *   within issue 10's 1.3 × the naive server ("Ninth pass").
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that mallocs (the checkpointer's, V8's collector helpers,
 *   libuv's pool) an arena of its own, up to 8 per core, each keeping what it freed; two arenas in all: 3–6 MB less
 *   peak RSS, the same throughput side by side ("Seventh pass").
 * - `MALLOC_TRIM_THRESHOLD_=131072`: glibc gives memory back once 128 KB are free at the top of an arena; by default
 *   it raises that threshold to twice the largest block it has freed (an arena kept 3 MB free under load): ~1 MB less
 *   peak RSS, the same throughput ("Ninth pass").
 */
export const PRODUCTION_ENV = { NODE_OPTIONS: '--max-semi-space-size=2', MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' } as const;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** The script to run (default: dist/server.js). */
  entry?: string;
  /** Node flags before the entry, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /**
   * The process's environment, on top of PATH alone: this process's own environment is not passed on, so a
   * stray variable cannot change a run. PORT and HOST (127.0.0.1) are always set by the harness.
   */
  env?: Record<string, string>;
  /** The port to listen on (default: a free loopback port). */
  port?: number;
  /** Append stdout and stderr to this file. */
  logFile?: string;
  /** Keep stdout and stderr in memory as well (default: only when there is no log file). */
  keepOutput?: boolean;
  /** Give up when /healthcheck has not answered 200 this many ms after the spawn (default 15000). */
  timeoutMs?: number;
  /** Time between /healthcheck polls (default 50 ms); a short one makes startupMs precise. */
  pollMs?: number;
  /** stop() sends SIGKILL when the process is still running this many ms after its signal (default: never). */
  killAfterMs?: number;
  /** What to call the process in error messages (default "server"). */
  name?: string;
  /** Which /healthcheck status means started (default 200; a test of an unhealthy start accepts 503). */
  readyStatuses?: readonly number[];
  /** Run the process as this user and group (a test of file permissions, started as root). */
  user?: { uid: number; gid: number };
}

export interface ServerProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Milliseconds from the spawn to the first 200 from /healthcheck, Node's own boot included. */
  startupMs: number;
  /** Everything the process wrote to stdout and stderr so far (kept in memory, else read from the log file). */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM) unless the process has already exited; resolves once it has. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<ChildProcess>();
// Never leave a server behind, whatever happens to the process that started it (a failed test, process.exit()).
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `node [nodeArgs] entry` (by default the built server) on a free loopback port and waits until its
 * /healthcheck answers 200. Rejects, with the process's output, when it exits or times out first.
 */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const { entry = SERVER_ENTRY, nodeArgs = [], env = {}, logFile, timeoutMs = 15000, pollMs = 50, killAfterMs, name = 'server' } = options;
  const readyStatuses = options.readyStatuses ?? [200];
  const keepOutput = options.keepOutput ?? logFile === undefined;
  if (!existsSync(entry)) throw new Error(`${name}: ${entry} is missing (run npm run build)`);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  // A log file alone is handed to the child as its stdout and stderr: a busy server (the benchmark's) then costs
  // this process nothing. Output kept in memory has to pass through here.
  const fd = logFile !== undefined && !keepOutput ? openSync(logFile, 'a') : undefined;
  const stdio = fd ?? (keepOutput ? 'pipe' : 'ignore');
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', stdio, stdio],
    ...options.user,
  });
  if (fd !== undefined) closeSync(fd);
  running.add(child);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );

  let memory = '';
  const file = keepOutput && logFile !== undefined ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  if (keepOutput) {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        memory += chunk;
        file?.write(chunk);
      });
    }
  }
  // 'close' comes after 'exit', once stdout and stderr are drained: only then is the output complete.
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      file?.end();
      resolve();
    }),
  );
  const output = () => (keepOutput ? memory : logFile !== undefined ? readFileSync(logFile, 'utf8') : '');

  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (alive()) {
      child.kill(signal);
      if (killAfterMs !== undefined) {
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        void exited.then(() => clearTimeout(timer));
      }
    }
    return exited;
  };

  const deadline = started + timeoutMs;
  while (alive() && performance.now() < deadline) {
    try {
      // Bounded, so that a server that accepts but never answers cannot stretch the timeout.
      const response = await fetch(`${url}/healthcheck`, { signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))) });
      await response.arrayBuffer();
      if (readyStatuses.includes(response.status)) {
        return { name, url, port, pid: child.pid!, child, startupMs: performance.now() - started, output, exited, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
  const what = alive() ? `did not become healthy within ${timeoutMs} ms` : `exited (${child.exitCode ?? child.signalCode}) before it was healthy`;
  await stop('SIGKILL');
  await Promise.race([closed, sleep(1000)]); // bounded: a worker process may still hold the pipes
  // Output in memory is one server's and short-lived; a log file may be long, or shared by several runs.
  const shown = keepOutput ? output() : output().split('\n').slice(-30).join('\n');
  throw new Error(`${name} ${what}:\n${shown}`);
}
