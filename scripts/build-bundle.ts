import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeMetafile, build, type Plugin } from 'esbuild';

// `npm run build` (after tsc, which only type-checks): bundles the server into dist/ with esbuild, so that a start
// loads a handful of files instead of ~1,000 modules (docs/PERFORMANCE.md, start-up).
// `node --import tsx scripts/build-bundle.ts --analyze` also prints what each chunk is made of.
//
//   dist/server.js        the entry: `node dist/server.js` (npm start, the Docker image, the tests, the benchmark)
//   dist/db/migrate.js    the entry of `npm run db:migrate`
//   dist/db/backup.js     the entry of `npm run db:backup` (docs/OPERATIONS.md)
//   dist/db/checkpointer.js  the SQLite WAL checkpointer's thread (src/db/checkpointer.ts)
//   dist/db/postgres.js   the PostgreSQL pool and migrations (pg in a chunk of its own), loaded only for a
//                         postgres:// DATABASE_URL
//   dist/*-<hash>.js      the code, in chunks shared by the entries, each with its source map (*.js.map)
//
// An entry only maps its stack traces and then imports its code, so that every stack trace (the logs' `err.stack`)
// names src/*.ts lines. The maps are read when a stack is first formatted, not at start-up (src/stack-traces.ts).
// Left out of the bundle and loaded from node_modules as before: better-sqlite3 (a native addon, which `bindings`
// finds from the calling file's path) and pg-native (an optional pg backend this service never installs).

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'dist');
const EXTERNAL = ['better-sqlite3', 'pg-native'];

/** The entries whose code runs with source maps on: output name -> source. */
const ENTRIES: Record<string, string> = {
  server: 'src/server.ts',
  'db/migrate': 'src/db/migrate.ts',
  'db/backup': 'src/db/backup.ts',
  'db/checkpointer': 'src/db/checkpointer.worker.ts',
};
/** Loaded by a dynamic import of the code, and named so: output name -> source. */
const NAMED_CHUNKS: Record<string, string> = { 'db/postgres': 'src/db/postgres.ts' };

const toPosix = (path: string) => path.split(sep).join(posix.sep);

/** Where a file of the repository is, as a path relative to the chunks (all directly in dist/). */
const fromChunks = (file: string) => toPosix(relative(OUT, file));

/**
 * A bundled module keeps its own location: `__dirname` and `__filename` (CommonJS packages: @fastify/swagger-ui
 * serves its static files from its own folder, pino finds its transport workers, @fastify/swagger reads its
 * package.json) and `import.meta.url` (src/db/migrations.ts finds migrations/) name the original file, at run time,
 * relative to the chunk that holds the module: the same layout as the repository or the image (dist/ next to
 * node_modules/, src/ and migrations/). Only expressions within a line change, so the source maps' lines stay right.
 */
function ownLocation(rewritten: Set<string>): Plugin {
  return {
    name: 'own-location',
    setup(bundle) {
      bundle.onLoad({ filter: /\.(?:[cm]?js|ts)$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        // CommonJS only: an ES module that declares its own `__dirname` (from import.meta.url) keeps it.
        const commonJs =
          /\b__(?:dirname|filename)\b/.test(source) &&
          !args.path.endsWith('.ts') &&
          !/\b(?:const|let|var)\s+__(?:dirname|filename)\b/.test(source);
        const meta = source.includes('import.meta.url');
        if (!commonJs && !meta) return undefined;
        rewritten.add(toPosix(relative(ROOT, args.path)));
        let contents = source;
        if (commonJs) {
          contents = contents
            .replace(/\b__dirname\b/g, `__bundledPath(${JSON.stringify(fromChunks(dirname(args.path)))})`)
            .replace(/\b__filename\b/g, `__bundledPath(${JSON.stringify(fromChunks(args.path))})`);
        }
        if (meta) contents = contents.replaceAll('import.meta.url', `__bundledUrl(${JSON.stringify(fromChunks(args.path))})`);
        return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** The entries: each maps its stack traces (src/stack-traces.ts), then imports its code (a chunk). */
function sourceMappedEntries(): Plugin {
  return {
    name: 'source-mapped-entries',
    setup(bundle) {
      bundle.onResolve({ filter: /^entry:/ }, (args) => ({ path: args.path.slice('entry:'.length), namespace: 'entry' }));
      bundle.onLoad({ filter: /.*/, namespace: 'entry' }, (args) => ({
        contents:
          `import { mapStackTraces } from './src/stack-traces.ts';\nmapStackTraces();\n` +
          `await import(${JSON.stringify(`./${args.path}`)});\n`,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
}

// Every chunk can require() (CommonJS packages require Node's modules) and locate the modules it holds.
const BANNER = [
  `import { createRequire as __createRequire } from 'node:module';`,
  `import { fileURLToPath as __fileURLToPath } from 'node:url';`,
  `const require = __createRequire(import.meta.url);`,
  `const __bundledUrl = (path) => new URL(path, import.meta.url).href;`,
  `const __bundledPath = (path) => __fileURLToPath(new URL(path, import.meta.url));`,
].join(' ');

const rewritten = new Set<string>();
const started = performance.now();
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    ...Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, `entry:${source}`])),
    ...NAMED_CHUNKS,
  },
  outdir: OUT,
  // Written below, once the build is complete.
  write: false,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Maps with the mappings only, not the text of the sources: a third of the size, and read at every start.
  sourcemap: 'linked',
  sourcesContent: false,
  // Whitespace and comments dropped (licence comments go to *.LEGAL.txt beside each chunk), names kept: the source
  // text V8 keeps of the server's chunk shrinks from 4.3 to 1.5 MB (it was two bytes a character, because one comment
  // had an accent): idle heap 18.8 -> 14.5 MB. Stack traces still name src/*.ts lines through the source maps.
  minifyWhitespace: true,
  legalComments: 'external',
  banner: { js: BANNER },
  logLevel: 'warning',
  metafile: true,
  plugins: [sourceMappedEntries(), ownLocation(rewritten)],
});

/** A path of dist/, relative to it. */
const inDist = (path: string) => toPosix(relative(OUT, join(ROOT, path)));

// A module that locates itself must sit in a chunk directly in dist/: its paths are relative to that.
for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  const misplaced = Object.keys(inputs).filter((input) => rewritten.has(input));
  if (inDist(output).includes('/') && misplaced.length > 0) {
    throw new Error(`build-bundle: ${misplaced.join(', ')} ended up in dist/${inDist(output)}, not directly in dist/`);
  }
}

// Written file by file (each whole, by a rename), chunks first and entries last: a server starting meanwhile loads
// either the old build or the new one (a chunk's name changes with its content), never a mix. The files of an older
// build are removed after.
const named = new Set([...Object.keys(ENTRIES), ...Object.keys(NAMED_CHUNKS)]);
const isNamed = (file: { path: string }) => named.has(toPosix(relative(OUT, file.path)).replace(/\.js(?:\.map)?$/, ''));
const files = [...result.outputFiles.filter((file) => !isNamed(file)), ...result.outputFiles.filter(isNamed)];
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const partial = `${file.path}.${process.pid}.partial`;
  writeFileSync(partial, file.contents);
  renameSync(partial, file.path);
}
const written = new Set(files.map((file) => file.path));
const removeStale = (dir: string) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removeStale(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!written.has(path)) rmSync(path);
  }
};
removeStale(OUT);

if (process.argv.includes('--analyze')) console.log(await analyzeMetafile(result.metafile));
const code = files.filter((file) => file.path.endsWith('.js'));
const kib = code.reduce((sum, file) => sum + file.contents.length, 0) / 1024;
console.log(`build-bundle: ${code.length} files in dist/, ${kib.toFixed(0)} KiB of JavaScript, ${(performance.now() - started).toFixed(0)} ms`);
