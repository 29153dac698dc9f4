import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// Memory and CPU of a running process, read from /proc (Linux): what the benchmark and the soak measure.

/** VmRSS and VmHWM (peak) of a process, in bytes; zeros when it is gone (or /proc is not there). */
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

/** The command name and CPU time (user + system, all threads, ms) of a process, from /proc/<pid>/stat; undefined when it is gone. */
function statOf(pid: number): { comm: string; cpuMs: number } | undefined {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ...": comm may hold spaces and parentheses, so it ends at the last ")".
    // Fields after it: state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number): number {
  return statOf(pid)?.cpuMs ?? Number.NaN;
}

/** CPU time (ms) used so far by each running process whose command name is `comm` (e.g. every postgres process), by pid. */
export function cpuTimesOf(comm: string): Map<number, number> {
  const times = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat?.comm === comm) times.set(Number(entry), stat.cpuMs);
  }
  return times;
}

/**
 * The CPU time (ms) the processes used between two cpuTimesOf() snapshots (only those of `pids`, if given): a
 * process started meanwhile counts whole; one that exited meanwhile is not counted at all (its time is gone from
 * /proc with it).
 */
export function cpuTimeBetween(before: Map<number, number>, after: Map<number, number>, pids?: Iterable<number>): number {
  const only = pids ? new Set(pids) : undefined;
  let total = 0;
  for (const [pid, ms] of after) if (!only || only.has(pid)) total += ms - (before.get(pid) ?? 0);
  return total;
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
