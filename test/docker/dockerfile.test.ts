// Static checks of the Dockerfile, .dockerignore and docker-compose.yml: fast, no container engine needed.
// The image itself is built and run by test/container/container.spec.ts (npm run test:container).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PRODUCTION_ENV } from '../../scripts/harness/server-process.js';
import {
  DockerfileParser,
  type Copy,
  type Env,
  type From,
  type Healthcheck,
  type Instruction,
  type JSONInstruction,
} from 'dockerfile-ast';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Stage {
  from: From;
  instructions: Instruction[];
}

/** Splits the Dockerfile into its build stages, each with the instructions after its FROM. */
function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') stages.push({ from: instruction as From, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const byKeyword = <T extends Instruction = Instruction>(stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.getKeyword() === keyword) as T[];

const BUILD_TOOLS = new Set(['python3', 'python3-minimal', 'make', 'g++', 'gcc', 'build-essential', 'node-gyp']);

/** The packages a RUN instruction installs with apt-get/apt/apk (flags left out). */
function installedPackages(run: Instruction): string[] {
  const script = (run.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
  const packages: string[] = [];
  for (const command of script.split(/&&|\|\||;|\n/)) {
    const match = /\b(?:apt-get|apt|apk)\s+(?:\S+\s+)*?(?:install|add)\s+(.*)$/.exec(command.trim());
    if (match?.[1]) packages.push(...match[1].split(/\s+/).filter((word) => word && !word.startsWith('-')));
  }
  return packages;
}

/** The image a stage really starts from, following `FROM <earlier stage>` references. */
function baseImageOf(stages: Stage[], stage: Stage): string {
  const image = stage.from.getImage() ?? '';
  const parent = stages.find((candidate) => candidate.from.getBuildStage()?.toLowerCase() === image.toLowerCase());
  return parent && parent !== stage ? baseImageOf(stages, parent) : image;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules: patterns are paths relative to the context (a leading / or ./
// changes nothing), `*` and `?` stay within one path segment, `**` spans any number of them, `!`
// re-includes, the last matching rule wins, and a rule matching a directory applies to its contents.

interface IgnoreRule {
  pattern: string;
  negated: boolean;
  regex: RegExp;
}

function patternToRegExp(pattern: string): RegExp {
  const escape = (char: string) => char.replace(/[.+^${}()|\\/]/g, '\\$&');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else {
        source += '.*';
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[' && pattern.indexOf(']', i + 2) > i) {
      const end = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, end).replace(/^[!^]/, '^').replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = end;
    } else if (char === '\\' && i + 1 < pattern.length) {
      source += escape(pattern.charAt(++i));
    } else {
      source += escape(char);
    }
  }
  return new RegExp(`^${source}$`);
}

function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const line of text.split(/\r?\n/)) {
    let pattern = line.trim();
    if (!pattern || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    pattern = posix.normalize(pattern).replace(/^\/+/, '').replace(/\/+$/, '');
    if (!pattern || pattern === '.') continue;
    rules.push({ pattern, negated, regex: patternToRegExp(pattern) });
  }
  return rules;
}

/** Whether the file or directory at `path` (relative to the context) is left out of the build context. */
function isExcluded(rules: IgnoreRule[], path: string): boolean {
  const segments = posix.normalize(path).replace(/^\/+/, '').split('/');
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
  }
  return excluded;
}

function filesUnder(directory: string): string[] {
  return readdirSync(join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(directory, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The context paths a COPY/ADD source names: itself, or the files its last segment's wildcard matches. */
function expandSource(source: string): string[] {
  const path = posix.normalize(source).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
  if (!/[*?[]/.test(path)) return [path];
  const directory = posix.dirname(path);
  if (/[*?[]/.test(directory)) assert.fail(`wildcards are only checked in the last segment: ${source}`);
  const regex = patternToRegExp(posix.basename(path));
  const dir = join(ROOT, directory);
  return existsSync(dir) ? readdirSync(dir).filter((name) => regex.test(name)).map((name) => posix.join(directory, name)) : [];
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml, read minimally (no YAML dependency): the block of one service, and its values
// after `${VAR:-default}` / `${VAR-default}` interpolation with the defaults.

function serviceBlock(compose: string, service: string): string[] {
  const lines = compose.split(/\r?\n/);
  const start = lines.findIndex((line) => new RegExp(`^\\s+${service}:\\s*$`).test(line));
  assert.ok(start >= 0, `docker-compose.yml has no service "${service}"`);
  const indent = /^\s*/.exec(lines[start] ?? '')?.[0].length ?? 0;
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() && !line.trim().startsWith('#') && (/^\s*/.exec(line)?.[0].length ?? 0) <= indent) break;
    block.push(line);
  }
  return block;
}

const withDefaults = (value: string) =>
  value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}/g, '$1').replace(/^["']|["']$/g, '');

/** The list items under `key:` in a service block, interpolated with their defaults. */
function listUnder(block: string[], key: string): string[] {
  const start = block.findIndex((line) => new RegExp(`^\\s+${key}:\\s*$`).test(line));
  if (start < 0) return [];
  const items: string[] = [];
  for (const line of block.slice(start + 1)) {
    const item = /^\s+-\s+(.+?)\s*$/.exec(line);
    if (!item?.[1]) break;
    items.push(withDefaults(item[1]));
  }
  return items;
}

// ---------------------------------------------------------------------------------------------

const stages = stagesOf(read('Dockerfile'));
const finalStage = stages.at(-1);
const buildStages = stages.slice(0, -1);
const ignoreRules = parseDockerignore(existsSync(join(ROOT, '.dockerignore')) ? read('.dockerignore') : '');

function final(): Stage {
  assert.ok(finalStage, 'the Dockerfile has no FROM');
  return finalStage;
}

describe('the Dockerfile', () => {
  it('builds in more than one stage, so compilers and dev dependencies stay out of the image', () => {
    assert.ok(stages.length >= 2, `expected a multi-stage build, found ${stages.length} stage(s)`);
  });

  it('starts the final stage from an official Debian-based node image, not Alpine', () => {
    const image = baseImageOf(stages, final());
    assert.match(image, /^(?:docker\.io\/)?(?:library\/)?node:\d+(?:\.\d+)*-(?:bookworm|bullseye|trixie)(?:-slim)?$/);
    assert.doesNotMatch(image, /alpine/);
  });

  it('uses a Node major version that satisfies package.json engines', () => {
    const engines = (JSON.parse(read('package.json')) as { engines?: { node?: string } }).engines?.node ?? '';
    const wanted = Number(/(\d+)/.exec(engines)?.[1] ?? 0);
    for (const stage of stages) {
      const tag = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)/.exec(baseImageOf(stages, stage));
      if (tag) assert.ok(Number(tag[1]) >= wanted, `${stage.from.getImage()} is older than engines ${engines}`);
    }
  });

  it('installs python3, make and a C++ compiler in a build stage, for better-sqlite3', () => {
    const installed = new Set(buildStages.flatMap((stage) => byKeyword(stage, 'RUN').flatMap(installedPackages)));
    const hasCompiler = installed.has('build-essential') || installed.has('g++');
    const hasMake = installed.has('build-essential') || installed.has('make');
    assert.ok(installed.has('python3') && hasCompiler && hasMake, `build stages install: ${[...installed].join(' ')}`);
  });

  it('installs no build tools in the final stage', () => {
    const installed = byKeyword(final(), 'RUN').flatMap(installedPackages);
    assert.deepEqual(installed.filter((name) => BUILD_TOOLS.has(name)), []);
  });

  it('installs the dependencies from the lockfile and drops dev dependencies before the runtime stage', () => {
    const scripts = buildStages.flatMap((stage) => byKeyword(stage, 'RUN').map((run) => run.getArgumentsContent() ?? ''));
    assert.ok(scripts.some((script) => /\bnpm ci\b/.test(script)), 'no `npm ci` in a build stage');
    assert.ok(
      scripts.some((script) => /\bnpm prune\b[^&;]*--omit=dev|\bnpm ci\b[^&;]*--omit=dev/.test(script)),
      'no `npm prune --omit=dev` (or `npm ci --omit=dev`) in a build stage',
    );
  });

  it('copies node_modules, dist, migrations and package.json into the final stage', () => {
    const copied = byKeyword<Copy>(final(), 'COPY').flatMap((copy) =>
      copy.getArguments().slice(0, -1).map((argument) => posix.basename(argument.getValue().replace(/\/+$/, ''))),
    );
    for (const needed of ['node_modules', 'dist', 'migrations', 'package.json']) {
      assert.ok(copied.includes(needed), `the final stage does not COPY ${needed}`);
    }
  });

  it('runs the final stage as a non-root user', () => {
    const user = byKeyword(final(), 'USER').at(-1)?.getArgumentsContent()?.trim();
    assert.ok(user, 'the final stage has no USER, so it runs as root');
    assert.doesNotMatch(user, /^(?:root|0)(?::|$)/);
  });

  it('sets HOST=0.0.0.0, PORT=8000, NODE_ENV=production and the process settings the benchmark measures in the final stage', () => {
    const env = new Map(
      byKeyword<Env>(final(), 'ENV').flatMap((instruction) =>
        instruction.getProperties().map((property) => [property.getName(), property.getValue()] as const),
      ),
    );
    assert.equal(env.get('HOST'), '0.0.0.0');
    assert.equal(env.get('PORT'), '8000');
    assert.equal(env.get('NODE_ENV'), 'production');
    for (const [name, value] of Object.entries(PRODUCTION_ENV)) assert.equal(env.get(name), value, name);
  });

  it('exposes port 8000', () => {
    const ports = byKeyword(final(), 'EXPOSE').flatMap((expose) => expose.getArguments().map((a) => a.getValue()));
    assert.ok(ports.some((port) => port === '8000' || port === '8000/tcp'), `EXPOSE ${ports.join(' ')}`);
  });

  it('declares /app/data as a volume, created and owned by node before the VOLUME line', () => {
    const instructions = final().instructions;
    const volume = instructions.findIndex(
      (instruction) =>
        instruction.getKeyword() === 'VOLUME' && /(^|[\s"[,])\/app\/data\/?(["\],\s]|$)/.test(instruction.getArgumentsContent() ?? ''),
    );
    assert.ok(volume >= 0, 'no VOLUME /app/data in the final stage');
    // Changes to a volume's path after the VOLUME line are discarded by the builder.
    const prepared = instructions
      .slice(0, volume)
      .some(
        (instruction) =>
          instruction.getKeyword() === 'RUN' &&
          /mkdir\b.*\/app\/data/.test(instruction.getArgumentsContent() ?? '') &&
          /chown\b[^&;]*\b(?:node|1000)\b[^&;]*\/app\/data/.test(instruction.getArgumentsContent() ?? ''),
      );
    assert.ok(prepared, 'no RUN that creates /app/data and gives it to node before VOLUME');
  });

  it('has a HEALTHCHECK that asks /readyz with node itself (the slim image has no curl)', () => {
    const healthcheck = byKeyword<Healthcheck>(final(), 'HEALTHCHECK').at(-1);
    assert.ok(healthcheck, 'no HEALTHCHECK in the final stage');
    assert.equal(healthcheck.getSubcommand()?.getValue().toUpperCase(), 'CMD');
    const command = /^CMD\s+(.*)$/is.exec(healthcheck.getArgumentsContent() ?? '')?.[1] ?? '';
    const argv = JSON.parse(command) as unknown;
    assert.ok(Array.isArray(argv) && argv[0] === 'node', `the check should run node in exec form: ${command}`);
    assert.match(command, /http:\/\/127\.0\.0\.1:.*\/readyz'/);
    assert.match(command, /200/, 'the check must fail unless the answer is 200');
    assert.doesNotMatch(command, /\b(?:curl|wget)\b/);
  });

  it('starts the server with CMD ["node", "dist/server.js"] and no ENTRYPOINT', () => {
    const cmd = byKeyword<JSONInstruction>(final(), 'CMD').at(-1);
    assert.ok(cmd, 'no CMD in the final stage');
    assert.deepEqual(
      cmd.getJSONStrings().map((argument) => argument.getJSONValue()),
      ['node', 'dist/server.js'],
    );
    assert.equal(byKeyword(final(), 'ENTRYPOINT').length, 0);
  });

  it('copies only sources that exist in the repository and that .dockerignore lets through', () => {
    const copies = stages.flatMap((stage) =>
      stage.instructions.filter((instruction) => ['COPY', 'ADD'].includes(instruction.getKeyword())),
    ) as Copy[];
    assert.ok(copies.length > 0, 'the Dockerfile copies nothing');
    for (const copy of copies.filter((instruction) => !instruction.getFromFlag())) {
      const sources = copy.getJSONStrings().length > 0
        ? copy.getJSONStrings().map((argument) => argument.getJSONValue()).slice(0, -1)
        : copy.getArguments().map((argument) => argument.getValue()).slice(0, -1);
      assert.ok(sources.length > 0, `${copy.getKeyword()} without a source: ${copy.getArgumentsContent()}`);
      for (const source of sources) {
        const paths = expandSource(source);
        assert.ok(paths.length > 0, `${source} matches nothing in the repository`);
        for (const path of paths) {
          assert.ok(existsSync(join(ROOT, path)), `${path} (${copy.getKeyword()} ${source}) does not exist`);
          assert.ok(!isExcluded(ignoreRules, path), `${path} is copied but excluded by .dockerignore`);
          if (statSync(join(ROOT, path)).isDirectory()) {
            const sent = filesUnder(path).filter((file) => !isExcluded(ignoreRules, file));
            assert.ok(sent.length > 0, `no file under ${path} reaches the build context`);
          }
        }
      }
    }
  });
});

describe('the .dockerignore file', () => {
  it('keeps node_modules, dist, data, .git, .env files and local databases out of the build context', () => {
    for (const path of ['node_modules', 'node_modules/fastify/package.json', 'dist/server.js', 'data/users.db', '.git/HEAD', '.env', 'users.db', 'test/users/users.test.ts']) {
      assert.ok(isExcluded(ignoreRules, path), `${path} would be sent to the builder`);
    }
  });

  it('is read with Docker’s matching rules by this test', () => {
    const rules = parseDockerignore('*\n!src\n/dist/\n**/*.db\n!keep/*.db\ndocs/?.md\n# comment\n');
    assert.equal(isExcluded(rules, 'README.md'), true);
    assert.equal(isExcluded(rules, 'src/app.ts'), false);
    assert.equal(isExcluded(rules, 'src/deep/x.db'), true);
    assert.equal(isExcluded(rules, 'users.db'), true);
    assert.equal(isExcluded(rules, 'keep/a.db'), false);
    assert.equal(isExcluded(rules, 'keep/sub/a.db'), true);
    assert.equal(isExcluded(parseDockerignore('docs/?.md'), 'docs/a.md'), true);
    assert.equal(isExcluded(parseDockerignore('docs/?.md'), 'docs/ab.md'), false);
    assert.equal(isExcluded(parseDockerignore('node_modules'), 'node_modules/a/b.js'), true);
    assert.equal(isExcluded(parseDockerignore('node_modules'), 'src/node_modules'), false);
  });
});

describe('docker-compose.yml', () => {
  const compose = read('docker-compose.yml');
  const api = serviceBlock(compose, 'api');

  it('builds the api service from the repository', () => {
    assert.ok(api.some((line) => /^\s+build:\s*["']?\.\/?["']?\s*$/.test(line)), 'api should have `build: .`');
  });

  it('publishes container port 8000 on host port 8000 by default', () => {
    const ports = listUnder(api, 'ports');
    assert.ok(
      ports.some((port) => /^(?:\d{1,3}(?:\.\d{1,3}){3}:)?8000:8000(?:\/tcp)?$/.test(port)),
      `ports: ${ports.join(', ')}`,
    );
  });

  it('mounts ./data at /app/data by default', () => {
    const volumes = listUnder(api, 'volumes');
    assert.ok(volumes.some((volume) => /^\.\/data\/?:\/app\/data(?::rw)?$/.test(volume)), `volumes: ${volumes.join(', ')}`);
  });

  it('has a healthcheck that asks /readyz', () => {
    const start = api.findIndex((line) => /^\s+healthcheck:\s*$/.test(line));
    assert.ok(start >= 0, 'the api service has no healthcheck');
    const test = api.slice(start + 1).find((line) => /^\s+test:/.test(line)) ?? '';
    assert.match(test, /\/readyz'/);
  });

  it('restarts the service unless it was stopped', () => {
    assert.ok(api.some((line) => /^\s+restart:\s*["']?unless-stopped["']?\s*$/.test(line)));
  });
});
