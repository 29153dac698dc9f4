import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

/** A Markdown table (pipes), padded so it also reads well in a terminal. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
export const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : '—');
export const mb = (bytes: number) => (bytes > 0 ? `${(bytes / 1048576).toFixed(0)} MB` : '—');

/** "1.23 ≥ 0.8 PASS" */
export function verdict(value: number, target: number | null, atLeast = true): string {
  if (!Number.isFinite(value)) return '—';
  if (target === null) return value.toFixed(2);
  const pass = atLeast ? value >= target : value <= target;
  return `${value.toFixed(2)} (${atLeast ? '≥' : '≤'} ${target}) ${pass ? 'PASS' : 'FAIL'}`;
}

/** The machine: CPU count and model, memory, Node version, kernel, and the load when the run started. */
export function machine(): string {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  const model = /Model name:\s*(.+)/.exec(run('lscpu', []))?.[1]?.trim() ?? cpus()[0]?.model ?? '?';
  return [
    `nproc ${run('nproc', [])}, ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `Node ${process.version}, ${run('uname', ['-sr'])}, wrk ${run('sh', ['-c', 'wrk -v 2>&1 | head -1 | cut -d" " -f2'])}`,
    `load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `code: ${run('git', ['rev-parse', '--short', 'HEAD'])}${run('git', ['status', '--porcelain', '--untracked-files=no']) ? ' with uncommitted changes' : ''}`,
  ].join('\n');
}
