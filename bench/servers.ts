import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';
import { startServer, type ServerProcess } from '../scripts/harness/server-process.js';
import type { SeedResult } from './seed.js';

// How the benchmark starts its servers: the service (dist/server.js), the same-work baseline and the naive limit.

/** A server to start: what to run, with which environment, and the users its database holds. */
export interface Target {
  label: string;
  entry: string;
  nodeArgs: string[];
  env: Record<string, string>;
  seed: SeedResult;
}

/** A server of the run; its output goes to a log file of its own (the access log gives server times). */
export type Running = ServerProcess & { logFile: string };

/**
 * Compiles a bench server (bench/baseline.ts, bench/naive.ts) to plain JavaScript in `outDir`, so that it runs
 * on bare Node like dist/server.js and pays no TypeScript loader. Returns the file.
 */
export function compileServer(source: string, outDir: string): string {
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(outDir, basename(source).replace(/\.ts$/, '.mjs'));
  writeFileSync(file, outputText);
  return file;
}

/** Starts the servers of a run, each with a log file of its own in the run directory, and keeps their start-up times. */
export class Servers {
  /** Milliseconds from spawn to the first 200 from /healthcheck, by label. */
  readonly startups: Record<string, number[]> = {};
  private logs = 0;

  constructor(private readonly runDir: string) {}

  /**
   * Every server of the run starts this way: output to a log file (written by the server itself, not through this
   * process), /healthcheck polled every 5 ms so that startupMs is precise, 20 s to come up, SIGKILL 10 s after stop().
   */
  async launch(name: string, target: Pick<Target, 'entry' | 'nodeArgs' | 'env'>, logFile = this.logFile(name)): Promise<Running> {
    const server = await startServer({ name, entry: target.entry, nodeArgs: target.nodeArgs, env: target.env, logFile, pollMs: 5, timeoutMs: 20000, killAfterMs: 10000 });
    return Object.assign(server, { logFile });
  }

  /** Starts a server and records its start-up time under `startupKey` (default: the target's label). */
  async start(name: string, target: Target, startupKey = target.label): Promise<Running> {
    const server = await this.launch(name, target);
    (this.startups[startupKey] ??= []).push(server.startupMs);
    return server;
  }

  /** A new log file in the run directory, named after the server. */
  logFile(name: string): string {
    return join(this.runDir, `${name.replace(/\W+/g, '-')}-${++this.logs}.log`);
  }
}
