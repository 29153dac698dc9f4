import { closeSync, openSync, readSync, statSync } from 'node:fs';

// Server-side timing: requests are sent one at a time (concurrency 1), each with its own X-Request-Id, and the
// time the server spent on each is read back from its access log (the `ms` field of the one-line log: Fastify's
// reply.elapsedTime, from the request arriving to the response being finished).

export interface Timed {
  /** Median of the server's own `ms` per request (access log). */
  serverMs: number;
  /** p90 of the server time. */
  serverP90Ms: number;
  /** Every server time measured, ms. */
  serverAll: number[];
  /** Median client-side round trip (fetch, body read): an upper bound of the server time. */
  clientMs: number;
  status: number;
  headers: Headers;
  body: string;
}

export const median = (values: number[]): number => percentile(values, 50);

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The mean of the values between the 10th and the 90th percentile: steadier than a median of 0.01 ms steps. */
export function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 10);
  const middle = sorted.slice(cut, sorted.length - cut);
  return middle.length === 0 ? Number.NaN : middle.reduce((a, b) => a + b, 0) / middle.length;
}

let sequence = 0;

/** The log file's text from byte `from` on. */
function readFrom(file: string, from: number): string {
  const size = statSync(file).size;
  if (size <= from) return '';
  const buffer = Buffer.alloc(size - from);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/**
 * Reads the `ms` of the given request ids from a JSON-lines access log (from byte `from` on), waiting (≤ 3 s) for
 * the lines to be flushed.
 */
export async function serverTimes(logFile: string, ids: string[], from = 0): Promise<number[]> {
  const wanted = new Set(ids);
  const deadline = Date.now() + 3000;
  for (;;) {
    const found = new Map<string, number>();
    for (const line of readFrom(logFile, from).split('\n')) {
      if (!line.includes('"request_id"')) continue;
      try {
        const entry = JSON.parse(line) as { request_id?: string; ms?: number };
        if (entry.request_id && wanted.has(entry.request_id) && typeof entry.ms === 'number') found.set(entry.request_id, entry.ms);
      } catch {
        // a line still being written
      }
    }
    if (found.size === wanted.size || Date.now() > deadline) return ids.map((id) => found.get(id) ?? Number.NaN).filter((ms) => !Number.isNaN(ms));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Sends `count` sequential GETs of `path` (after `warmup` untimed ones) and returns the median server time from the
 * access log, the median client time and the last response.
 */
export async function timeSequential(
  origin: string,
  path: string,
  logFile: string,
  count: number,
  warmup = 5,
): Promise<Timed> {
  const ids: string[] = [];
  const client: number[] = [];
  let last: { status: number; headers: Headers; body: string } | undefined;
  const run = `t${process.pid}-${++sequence}`;
  const from = statSync(logFile).size;
  for (let i = 0; i < warmup + count; i++) {
    const id = `bench-${run}-${i}`;
    const started = performance.now();
    const response = await fetch(origin + path, { headers: { 'x-request-id': id } });
    const body = await response.text();
    const elapsed = performance.now() - started;
    if (i >= warmup) {
      ids.push(id);
      client.push(elapsed);
    }
    last = { status: response.status, headers: response.headers, body };
  }
  const server = await serverTimes(logFile, ids, from);
  return {
    serverMs: median(server),
    serverP90Ms: percentile(server, 90),
    serverAll: server,
    clientMs: median(client),
    status: last!.status,
    headers: last!.headers,
    body: last!.body,
  };
}

/** The URL of a Link header's rel="next" (relative to the server), if any. */
export function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link') ?? '';
  return /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
}
