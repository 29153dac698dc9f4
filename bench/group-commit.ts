import { existsSync, readFileSync } from 'node:fs';

// The service's group commit on SQLite logs one summary line when it shuts down:
// {"msg":"sqlite group commit","batches":…,"writes":…,"largest":…,"sizes":{"1":…,"2-3":…,…,"64+":…}}
// The benchmark reads it from the service's log file after stop().

/** Batch-size buckets of the summary line, in order. */
export const BATCH_SIZES = ['1', '2-3', '4-7', '8-15', '16-31', '32-63', '64+'] as const;

export interface GroupCommitStats {
  /** Transactions committed. */
  batches: number;
  /** Writes committed in them. */
  writes: number;
  /** The most writes one transaction held. */
  largest: number;
  /** Transactions per batch-size bucket. */
  sizes: Record<string, number>;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** The last group-commit summary in a log file; undefined when there is none (a service without group commit). */
export function readGroupCommit(logFile: string): GroupCommitStats | undefined {
  if (!existsSync(logFile)) return undefined;
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((line) => line.includes('"msg":"sqlite group commit"'));
  for (const line of lines.reverse()) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const sizes = entry['sizes'];
      if (!isCount(entry['batches']) || !isCount(entry['writes']) || !isCount(entry['largest']) || typeof sizes !== 'object' || sizes === null) continue;
      const counts = Object.fromEntries(Object.entries(sizes).filter((pair): pair is [string, number] => isCount(pair[1])));
      return { batches: entry['batches'], writes: entry['writes'], largest: entry['largest'], sizes: counts };
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** The sum of several summaries (largest: the largest of them); undefined when any is missing. */
export function sumGroupCommit(all: (GroupCommitStats | undefined)[]): GroupCommitStats | undefined {
  if (all.length === 0 || all.some((stats) => stats === undefined)) return undefined;
  const sum: GroupCommitStats = { batches: 0, writes: 0, largest: 0, sizes: {} };
  for (const stats of all as GroupCommitStats[]) {
    sum.batches += stats.batches;
    sum.writes += stats.writes;
    sum.largest = Math.max(sum.largest, stats.largest);
    for (const [label, n] of Object.entries(stats.sizes)) sum.sizes[label] = (sum.sizes[label] ?? 0) + n;
  }
  return sum;
}

/** The cells of a table row: batches, writes, mean batch, largest, then the batches of each size ("n/a" without a summary). */
export function groupCommitCells(stats: GroupCommitStats | undefined): string[] {
  if (!stats) return ['n/a', 'n/a', 'n/a', 'n/a', ...BATCH_SIZES.map(() => 'n/a')];
  const mean = stats.batches > 0 ? (stats.writes / stats.batches).toFixed(2) : '—';
  return [String(stats.batches), String(stats.writes), mean, String(stats.largest), ...BATCH_SIZES.map((label) => String(stats.sizes[label] ?? 0))];
}

/** The headers that go with groupCommitCells(). */
export const GROUP_COMMIT_HEADERS = ['batches', 'writes', 'mean batch', 'largest', ...BATCH_SIZES.map((label) => `size ${label}`)];
