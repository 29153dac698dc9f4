import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../scripts/harness/cli.js';

// `node --import tsx bench/cpuprofile.ts <file.cpuprofile> [--top 25]`: where the time of a V8 CPU profile
// (node --cpu-prof, or `npm run bench -- --profile`) goes, by self time per function and per package. Frames of
// the bundle (dist/) are mapped back through its source maps: read a profile against the build that made it.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const cli = parseCli({
  usage: 'node --import tsx bench/cpuprofile.ts <file.cpuprofile>... [options]',
  flags: { top: { type: 'string', value: '<n>', default: '25', description: 'rows per table' } },
  positionals: true,
});
const { positionals } = cli;
if (positionals.length === 0) cli.fail('no profile given');
const top = cli.number('top', { min: 1, integer: true });

/** The package (or "app: <file>", "node: <module>") a script URL belongs to. */
function owner(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const app = Math.max(url.lastIndexOf('/src/'), url.lastIndexOf('/dist/'));
  return app >= 0 ? `app: ${url.slice(app + 1)}` : url;
}

const maps = new Map<string, SourceMap | null>();

/** The source map next to a script (the bundle's dist/*.js.map, written by npm run build), if it has one. */
function sourceMapOf(url: string): SourceMap | null {
  let map = maps.get(url);
  if (map === undefined) {
    const file = `${url.startsWith('file:') ? fileURLToPath(url) : url}.map`;
    map = url.includes('/dist/') && existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null;
    maps.set(url, map);
  }
  return map;
}

/** Where a frame's code was written: a bundled frame is mapped back to its source (src/*.ts, node_modules/...). */
function sourceOf(frame: ProfileNode['callFrame']): { url: string; line: number } {
  const entry: Partial<SourceMapping> | undefined = frame.url ? sourceMapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) : undefined;
  return entry?.originalSource ? { url: entry.originalSource, line: entry.originalLine ?? 0 } : { url: frame.url, line: frame.lineNumber };
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // Percentages are of busy time: (idle) is left out.
  const idle = profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id);
  for (const id of idle) self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    const source = sourceOf(frame);
    const name = `${frame.functionName || '(anonymous)'} ${owner(source.url)}${source.url ? `:${source.line + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    byOwner.set(owner(source.url), (byOwner.get(owner(source.url)) ?? 0) + time);
  }
  const show = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * time) / total).toFixed(1).padStart(6)}%  ${(time / 1000).toFixed(0).padStart(7)} ms  ${name}`);
    }
  };
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy (idle excluded; percentages are of busy time)`);
  show('self time by package', byOwner);
  show('self time by function', byFunction);
}
