// What the container tests share: the engine (`CONTAINER_ENGINE`, docker by default) and its compose,
// whether they are usable here, and running commands without a shell.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../scripts/harness/free-port.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ENGINE = process.env.CONTAINER_ENGINE ?? 'docker';
export const IN_CI = process.env.CI === 'true';
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
// The first build compiles better-sqlite3 (about 75-300 s on 2 cores); later builds hit the layer cache.
export const BUILD_TIMEOUT = 15 * MINUTE;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Variables removed from the inherited environment. */
  unset?: string[];
}

/** Runs a command without a shell and resolves with its exit code and output (never rejects). */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  return new Promise<Result>((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env, timeout: options.timeoutMs ?? MINUTE, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? '') });
      },
    );
  });
}

/** Like run, but throws with the command's stderr when it fails. */
export async function mustRun(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const output = `${result.stderr}\n${result.stdout}`.trim().slice(-6000);
    throw new Error(`\`${command} ${args.join(' ')}\` exited with ${result.code}:\n${output}`);
  }
  return result;
}

export const engine = (args: string[], options?: RunOptions) => mustRun(ENGINE, args, options);

/** The compose command for the engine: `podman-compose` for podman, `<engine> compose` otherwise. */
export const compose: { command: string; args: string[] } =
  ENGINE === 'podman' ? { command: 'podman-compose', args: [] } : { command: ENGINE, args: ['compose'] };

/** Why a command cannot be used here, or null when it answers. */
async function unavailable(command: string, args: string[]): Promise<string | null> {
  const result = await run(command, args, { timeoutMs: 30 * SECOND });
  if (result.code === 0) return null;
  const why = result.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit code ${result.code}`;
  return `\`${command} ${args.join(' ')}\` failed: ${why}`;
}

export const engineProblem = await unavailable(ENGINE, ['info']);
export const composeProblem = engineProblem ?? (await unavailable(compose.command, [...compose.args, 'version']));

/** In CI a missing engine is a failure; elsewhere the tests are skipped, loudly, with the reason. */
export function skipReason(problem: string | null, tests: string): string | false {
  if (!problem || IN_CI) return false;
  const reason = `container engine "${ENGINE}" or its compose is not usable (${problem}); set CONTAINER_ENGINE (e.g. podman) or start the engine`;
  console.warn(`\n!!! SKIPPING ${tests}: ${reason}\n`);
  return reason;
}

/**
 * Runs an engine command with its standard output written to `stdout`, or its standard input read from `stdin`
 * (files, byte for byte: a database dump is binary, which run() would decode as text), like a shell's `>` and `<`.
 * Throws with the command's stderr when it fails.
 */
export async function engineWithFiles(args: string[], files: { stdout?: string; stdin?: string }, timeoutMs = 5 * MINUTE): Promise<void> {
  const input = files.stdin === undefined ? 'ignore' : openSync(files.stdin, 'r');
  const output = files.stdout === undefined ? 'ignore' : openSync(files.stdout, 'w');
  try {
    const child = spawn(ENGINE, args, { cwd: ROOT, stdio: [input, output, 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`\`${ENGINE} ${args.join(' ')}\` exited with ${code ?? signal}:\n${stderr.slice(-6000)}`);
  } finally {
    if (typeof input === 'number') closeSync(input);
    if (typeof output === 'number') closeSync(output);
  }
}
