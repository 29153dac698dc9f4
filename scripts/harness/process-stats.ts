import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
