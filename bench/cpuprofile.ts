import { readFileSync } from 'node:fs';
import { parseCli } from '../scripts/harness/cli.js';

// `node --import tsx bench/cpuprofile.ts <file.cpuprofile> [--top 25]`: where the time of a V8 CPU profile
// (node --cpu-prof, or `npm run bench -- --profile`) goes, by self time per function and per package.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? `app: ${url.slice(dist + 1)}` : url;
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
    const name = `${frame.functionName || '(anonymous)'} ${owner(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    byOwner.set(owner(frame.url), (byOwner.get(owner(frame.url)) ?? 0) + time);
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
