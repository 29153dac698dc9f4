import { spawn, spawnSync } from 'node:child_process';

export interface WrkOptions {
  /** Full URL: origin plus the path wrk requests when the script does not choose one. */
  url: string;
  /** A Lua script (absolute path), or none for a plain GET of `url`. */
  script?: string;
  /** Arguments passed to the script after `--`. */
  args?: (string | number)[];
  durationSec: number;
  connections: number;
  threads: number;
  /** Extra request headers ("Name: value"). */
  headers?: string[];
}

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(value.trim());
  if (!match) throw new Error(`unexpected wrk duration: ${value}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Parses wrk's text report (with --latency). */
export function parseWrk(raw: string): WrkResult {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(raw);
    return match ? Number(match[1]) : 0;
  };
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(raw);
    if (!match) throw new Error(`wrk output has no ${p}% latency:\n${raw}`);
    return toMs(match[1]!);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw);
  if (!rps) throw new Error(`wrk output has no Requests/sec:\n${raw}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    requestsPerSec: Number(rps[1]),
    requests: number(/(\d+) requests in/),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    raw,
  };
}

/** Stops the benchmark before it starts anything when wrk is not installed, saying how to install it. */
export function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  if (probe.error) {
    console.error('The benchmark needs wrk, which is not installed: apt-get install -y wrk (Debian, Ubuntu), brew install wrk (macOS).');
    process.exit(2);
  }
}

/** Runs wrk once, bounded in time (killed 20 s after its own duration), and parses its report. */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const argv = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    '--latency',
    ...(options.headers ?? []).flatMap((header) => ['-H', header]),
    ...(options.script ? ['-s', options.script] : []),
    options.url,
    ...(options.args && options.args.length > 0 ? ['--', ...options.args.map(String)] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.durationSec + 20) * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`wrk ${argv.join(' ')} failed (${code ?? signal}):\n${out}`));
      try {
        resolve(parseWrk(out));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
