import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConfig, lintFromString, loadConfig } from '@redocly/openapi-core';
import spectralCore from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { RE2JS } from 're2js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';

// The served document as generators read it (issue 11): both linters clean, an operationId on every operation,
// patterns every regex engine reads alike, every example valid against its own schema, and the document at
// one URL.

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: Json[];
  responses: Record<string, { headers?: Json; content?: Record<string, Media> }>;
  parameters?: { name: string; schema: Json; example?: unknown }[];
  requestBody?: { content: Record<string, Media> };
}
interface Media {
  schema: Json;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface OpenApiDocument {
  servers?: { url: string }[];
  security?: unknown[];
  info: { license?: { name: string; identifier?: string } };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; headers?: Json; securitySchemes?: Json };
}

// The repository's Spectral ruleset, as the CLI would load it (a JS module: typed here by what the tests use).
const RULESET_MODULE: string = '../../.spectral.js';
const spectralRuleset = ((await import(RULESET_MODULE)) as { default: { extends: unknown } }).default;

const OPERATION_IDS = [
  'getIndex',
  'headIndex',
  'getHealth',
  'headHealth',
  'getLiveness',
  'headLiveness',
  'getReadiness',
  'headReadiness',
  'createUser',
  'listUsers',
  'headUsers',
  'getUser',
  'headUser',
  'updateUser',
  'deleteUser',
  'getUsersExport',
  'headUsersExport',
  'importUsers',
];

const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ label: `${method.toUpperCase()} ${path}`, path, operation })),
  );

/** Every value of the document under a key `name`, with the JSON path where it is. */
function collect(value: unknown, name: string, path = '#', found: { path: string; value: unknown; parent: Json }[] = []) {
  if (Array.isArray(value)) value.forEach((item, i) => collect(item, name, `${path}/${i}`, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === name) found.push({ path: `${path}/${key}`, value: child, parent: value as Json });
      collect(child, name, `${path}/${key}`, found);
    }
  }
  return found;
}

describe('the OpenAPI document for client generators', () => {
  let plain: TestApp;
  let secured: TestApp;
  let document: OpenApiDocument;
  let securedDocument: OpenApiDocument;
  let text: string;

  before(async () => {
    plain = await buildTestApp();
    secured = await buildTestApp('sqlite', { API_KEY: 'k'.repeat(32), RATE_LIMIT: '100' });
    text = (await plain.app.inject({ url: '/openapi.json' })).body;
    document = JSON.parse(text) as OpenApiDocument;
    securedDocument = (await secured.app.inject({ url: '/openapi.json' })).json<OpenApiDocument>();
  });

  after(async () => {
    await plain?.close();
    await secured?.close();
  });

  for (const variant of ['default', 'API_KEY and RATE_LIMIT set'] as const) {
    const source = () => (variant === 'default' ? text : JSON.stringify(securedDocument));

    it(`has no Redocly problem, error or warning, under redocly.yaml (${variant})`, async () => {
      const config = await loadConfig({ configPath: 'redocly.yaml' });
      const problems = await lintFromString({ source: source(), absoluteRef: 'openapi.json', config });
      const shown = problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} ${problem.location[0]?.pointer ?? ''}`);
      assert.deepEqual(shown, []);
    });

    it(`has no Spectral result under .spectral.js, the oas ruleset (${variant})`, async () => {
      const spectral = new spectralCore.Spectral();
      spectral.setRuleset(spectralRuleset as never);
      const results = await spectral.run(new spectralCore.Document(source(), spectralParsers.Json, 'openapi.json'));
      assert.deepEqual(results.map((result) => `${result.code}: ${result.message} at ${result.path.join('.')}`), []);
    });
  }

  it('is linted with real rulesets: both flag the trailing slash of /users/, and only it, without the override', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: text, absoluteRef: 'openapi.json', config });
    assert.deepEqual(problems.map((problem) => problem.ruleId), ['no-path-trailing-slash']);
    const spectral = new spectralCore.Spectral();
    spectral.setRuleset({ extends: spectralRuleset.extends } as never);
    const results = await spectral.run(new spectralCore.Document(text, spectralParsers.Json, 'openapi.json'));
    assert.deepEqual(results.map((result) => result.code), ['path-keys-no-trailing-slash']);
  });

  it('gives every operation its stable operationId, a summary and a description', () => {
    const operations = operationsOf(document);
    assert.deepEqual(operations.map(({ operation }) => operation.operationId).sort(), [...OPERATION_IDS].sort());
    for (const { label, operation } of operations) {
      assert.ok(operation.summary?.trim(), `${label} summary`);
      assert.ok(operation.description?.trim(), `${label} description`);
    }
  });

  it('declares X-Request-Id on every response, a relative server, the license, and no security by default', () => {
    for (const { label, operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        assert.deepEqual(response.headers?.['X-Request-Id'], { $ref: '#/components/headers/X-Request-Id' }, `${label} ${status}`);
      }
      assert.equal(operation.security, undefined, `${label} is open`);
    }
    assert.deepEqual(document.servers?.map((server) => server.url), ['/']);
    assert.equal(document.info.license?.identifier, 'MIT');
    assert.deepEqual(document.security, []);
    assert.equal(document.components.securitySchemes, undefined);
  });

  it('with API_KEY set, names the bearer scheme on every users operation and on nothing else', () => {
    assert.deepEqual(securedDocument.security, []);
    for (const { label, path, operation } of operationsOf(securedDocument)) {
      const expected = path.startsWith('/users/') ? [{ bearerAuth: [] }] : undefined;
      assert.deepEqual(operation.security, expected, label);
      assert.equal(Object.hasOwn(operation.responses, '401'), expected !== undefined, `${label} documents 401 with the scheme`);
      assert.equal(Object.hasOwn(operation.responses, '429'), expected !== undefined, `${label} documents 429 with RATE_LIMIT`);
    }
  });

  it('holds only portable patterns: no look-around, no \\u escapes, no surrogates; each compiles with and without the u flag and in RE2', () => {
    const patterns = [...new Set(collect(document, 'pattern').map(({ value }) => value as string))];
    assert.ok(patterns.length >= 3, 'the names, the filters and the cursor have patterns');
    // Text on which engines that differ would disagree: astral characters, NBSP, U+FFFD, controls, a lone surrogate.
    const samples = ['John', 'Zoë 😀', '\u00a0x\u00a0', 'repl\ufffdchar', 'x\u0001y', '', 'a-b_c', '\ud83d\ude00', 'tab\there'];
    for (const pattern of patterns) {
      assert.doesNotMatch(pattern, /\(\?<?[=!]/, `${pattern}: no look-around (RE2 has none)`);
      assert.doesNotMatch(pattern, /\\u|\\p/, `${pattern}: \\x escapes only`);
      assert.doesNotMatch(pattern, /[\ud800-\udfff]/u, `${pattern}: no surrogates`);
      const unicode = new RegExp(pattern, 'u');
      const legacy = new RegExp(pattern);
      const re2 = RE2JS.compile(pattern);
      for (const sample of samples) {
        // RE2 reads UTF-8: a lone surrogate is not text it can hold, so it is left out of its comparison.
        assert.equal(legacy.test(sample), unicode.test(sample), `${pattern} on ${JSON.stringify(sample)}: with and without u`);
        if (!/\p{Cs}/u.test(sample)) assert.equal(re2.matches(sample), unicode.test(sample), `${pattern} on ${JSON.stringify(sample)}: RE2`);
      }
    }
  });

  it('says in words what the server checks beyond a pattern (blank names, lone surrogates)', () => {
    const { first_name } = (document.components.schemas['User']?.['properties'] ?? {}) as Record<string, Json>;
    assert.equal(first_name?.['x-not-blank'], true);
    assert.equal(first_name?.['x-well-formed'], true);
    assert.match(String(first_name?.['description']), /not blank/);
    assert.match(String(first_name?.['description']), /lone surrogates/);
  });

  it('has examples that validate against their own schemas: schemas, media types, headers and parameters', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    let checked = 0;
    const check = (schema: Json, example: unknown, where: string) => {
      const validate = ajv.compile({ ...schema, components: document.components });
      assert.ok(validate(example), `${where}: ${JSON.stringify(example)} ${ajv.errorsText(validate.errors)}`);
      checked++;
    };
    for (const { path, value, parent } of collect(document, 'examples')) {
      if (Array.isArray(value)) {
        // A schema's own examples (JSON Schema 2020-12).
        const { examples: _examples, ...schema } = parent;
        for (const example of value) check(schema, example, path);
      } else if (parent['schema']) {
        // A media type's named examples.
        for (const [name, { value: example }] of Object.entries(value as Record<string, { value: unknown }>)) {
          check(parent['schema'] as Json, example, `${path}/${name}`);
        }
      }
    }
    for (const { path, value, parent } of collect(document, 'example')) {
      if (parent['schema']) check(parent['schema'] as Json, value, path);
    }
    assert.ok(checked > 50, `only ${checked} examples found`);
  });

  it('gives every response with a body an example, and every error a named example for each code it can carry', () => {
    for (const { label, operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (Number(status) < 400) {
            assert.ok(media.example !== undefined, `${label} ${status} ${type} has an example`);
            continue;
          }
          const codes = ((media.schema['allOf'] as Json[])[1]?.['properties'] as { code: { enum: string[] } }).code.enum;
          assert.deepEqual(Object.keys(media.examples ?? {}), codes, `${label} ${status}: one example per code`);
          for (const [code, { value }] of Object.entries(media.examples ?? {})) {
            assert.deepEqual([(value as Json)['status'], (value as Json)['code']], [Number(status), code], `${label} ${status} ${code}`);
          }
        }
      }
    }
  });

  it('is served at one URL: Swagger UI loads /openapi.json, and /docs/json redirects there', async () => {
    const initializer = await plain.app.inject({ url: '/docs/static/swagger-initializer.js' });
    assert.equal(initializer.statusCode, 200);
    assert.match(initializer.body, /"urls":\[\{"url":"\.\.\/openapi\.json","name":"users-api"\}\]/);
    const old = await plain.app.inject({ url: '/docs/json' });
    assert.equal(old.statusCode, 301);
    assert.equal(old.headers.location, '/openapi.json');
  });
});
