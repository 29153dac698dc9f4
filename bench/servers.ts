import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { freePort } from '../test/helpers/free-port.js';

/** A server process the harness started, with its stdout and stderr going to a log file. */
export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  logFile: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 from /healthcheck. */
  startupMs: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Never leave a server behind, whatever happens to the harness.
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `node <args>` on a free loopback port with stdout and stderr appended to `logFile`, and waits (at most
 * `timeoutMs`) for /healthcheck to answer 200, polling every 5 ms. The measured start-up includes Node's own boot.
 */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
  timeoutMs = 20000,
): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fd = openSync(logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  };
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const response = await fetch(`${url}/healthcheck`);
      await response.arrayBuffer();
      if (response.status === 200) {
        return { name, pid: child.pid!, url, logFile, child, startupMs: performance.now() - started, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  await stop();
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms (exit ${child.exitCode ?? child.signalCode}):\n${tail}`);
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/**
 * Runs `work` while polling the process's VmRSS every `everyMs`: returns its result, the highest RSS seen
 * meanwhile and the CPU time the process used.
 */
export async function measureProcess<T>(
  pid: number,
  work: () => Promise<T>,
  everyMs = 100,
): Promise<{ result: T; peakRss: number; cpuMs: number }> {
  let peak = memoryOf(pid).rss;
  const cpuBefore = cpuTimeMs(pid);
  const timer = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), everyMs);
  try {
    const result = await work();
    peak = Math.max(peak, memoryOf(pid).rss);
    return { result, peakRss: peak, cpuMs: cpuTimeMs(pid) - cpuBefore };
  } finally {
    clearInterval(timer);
  }
}
