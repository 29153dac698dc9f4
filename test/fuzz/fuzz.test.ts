/**
 * Property-based fuzzing of every /users endpoint with fast-check.
 *
 * Thousands of generated requests (JSON of every type and depth, huge and tiny numbers, long and exotic
 * Unicode strings, lone surrogates, `__proto__`/`constructor` keys, duplicate keys, almost-JSON text, random
 * content types, query strings and path ids) must never get a 5xx; every response must match the service's
 * OpenAPI document (`t.request` asserts it) and, when it is an error, be a problem+json with a `code` and
 * nothing internal in it. A rejected write must change nothing (checked by re-reading every user), an
 * accepted one must store exactly what was sent, and a valid request must never be refused. The list is
 * checked against a model of its filters, order, pagination, headers and keyset cursors.
 *
 *   node --import tsx --test test/fuzz/fuzz.test.ts
 *   FUZZ_SEED=1234 ...        replay a run (every run prints its seed)
 *   FUZZ_RUNS=2000 ...        runs per property (default 400: ~1 600 generated requests, ~3 000 in all with the re-reads)
 *   FUZZ_PATH=0:1:2 ...       replay one counterexample (with --test-name-pattern to pick the property)
 *   FUZZ_NO_SHRINK=1 ...      report the first failure as found, without shrinking it
 *
 * SQLite only by default (in memory), to keep the runtime reasonable: PostgreSQL more than doubles it (measured
 * on the 2-core box: ~9 s for SQLite alone, ~23 s with both). FUZZ_DIALECTS=sqlite,postgres adds PostgreSQL
 * when it is reachable (see test/helpers/database.ts).
 *
 * One app per property (building one costs 50-100 ms); its state carries from run to run, so every
 * expectation is computed from the state re-read before the request, never assumed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS, type TestDialect } from '../helpers/database.js';
import { asciiLower, boundsOf, compareSortValues, rulesOf, sortValues, type FieldRules, type SortValue } from '../helpers/factories.js';
import { NAME_PATTERN } from '../../src/users/users.fields.js';
import { userModel, type FieldDefinition, type FilterDefinition, type User, type UserCreate } from '../../src/users/users.schemas.js';

// ---------------------------------------------------------------------------------------------------------
// Run parameters
// ---------------------------------------------------------------------------------------------------------

const seed = Number(process.env['FUZZ_SEED'] ?? Date.now());
if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${process.env['FUZZ_SEED']}`);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env['FUZZ_RUNS']}`);
console.log(`fuzz seed: ${seed} — replay with FUZZ_SEED=${seed}`);

const FC_OPTIONS = {
  seed,
  numRuns: RUNS,
  // The assertion's message (request, response, expectation) in the report itself, not only in its cause.
  includeErrorInReport: true,
  ...(process.env['FUZZ_PATH'] ? { path: process.env['FUZZ_PATH'] } : {}),
  ...(process.env['FUZZ_NO_SHRINK'] ? { endOnFailure: true } : {}),
};

const requested = (process.env['FUZZ_DIALECTS'] ?? 'sqlite').split(',').map((name) => name.trim());
const DIALECTS = TEST_DIALECTS.filter((dialect) => requested.includes(dialect));

// ---------------------------------------------------------------------------------------------------------
// The resource
// ---------------------------------------------------------------------------------------------------------

// Everything that names the user's fields comes from the declaration (src/users/users.fields.ts) through the
// model: which fields a client sends, their generators and rules (from each field's schema), the sorts (from the
// declared sort expressions), the filters (from their kinds) and the searched fields.

/** The fields a client sets (on create or by PATCH), in declaration order. */
const CLIENT_FIELDS = userModel.fields.filter((field) => field.spec.create !== undefined || field.spec.patch === true);
const CLIENT_NAMES: readonly string[] = CLIENT_FIELDS.map((field) => field.name);
/** The fields the server sets (id, timestamps): a client sending one is refused. */
const SERVER_FIELDS = userModel.fields.filter((field) => !CLIENT_NAMES.includes(field.name));
const UNIQUE_FIELDS = CLIENT_FIELDS.filter((field) => field.spec.unique === 'caseless');
const fieldsOf = (mode: 'create' | 'update') => (mode === 'create' ? userModel.created : userModel.patched);

const SORT_PARAMS = [...userModel.sorts.keys()].flatMap((field) => [field, `-${field}`]);
/** The sort value of each sortable field, from its declared expression (an expression the tests do not understand throws here). */
const SORT_VALUES = sortValues();
const LIST_PARAMS: readonly string[] = ['offset', 'limit', 'sort', 'cursor', ...userModel.filterParams, 'count'];
type ListParam = string;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const codePoints = (text: string) => [...text].length;
/** -0 is a valid JSON integer; it is stored (and answered) as 0. */
const normalizeZero = (value: unknown) => (Object.is(value, -0) ? 0 : value);
/** A field's schema, compiled as the server's validator runs it (Ajv: the u flag). */
const patternOf = (rules: FieldRules) => (rules.pattern === undefined ? undefined : new RegExp(rules.pattern, 'u'));
/** Whether a text breaks a rule of its schema that no pattern says: blank (JS \\s) or a lone surrogate. */
const breaksTextRules = (rules: FieldRules, text: string) =>
  (rules['x-not-blank'] === true && !/\S/.test(text)) || (rules['x-well-formed'] === true && /\p{Cs}/u.test(text));

/** The integer fields a client sets, with their bounds: the number generators aim at them. */
const INTEGER_BOUNDS: [number, number][] = CLIENT_FIELDS.filter((field) => field.kind === 'integer').map((field) => {
  const { minimum = -1000, maximum = 1000 } = rulesOf(field);
  return [minimum, maximum];
});
const [LOWEST, HIGHEST] =
  INTEGER_BOUNDS.length === 0 ? [0, 100] : [Math.min(...INTEGER_BOUNDS.map(([minimum]) => minimum)), Math.max(...INTEGER_BOUNDS.map(([, maximum]) => maximum))];
/** The text lengths the declaration limits (the fields and the list's filters): the text generators aim around them. */
const TEXT_LIMITS = [
  ...new Set(
    [...CLIENT_FIELDS.map(rulesOf), ...userModel.filterParams.map((param) => listQueryProperties()[param] ?? {})].flatMap(({ type, maxLength }) =>
      [type].flat().includes('string') && maxLength !== undefined ? [maxLength] : [],
    ),
  ),
].sort((a, b) => a - b);

/** The schemas of the list query's parameters, as the model derives them from the declaration. */
function listQueryProperties(): Record<string, FieldRules> {
  return (userModel.schemas.UserListQuery as unknown as { properties: Record<string, FieldRules> }).properties;
}

// ---------------------------------------------------------------------------------------------------------
// Invariants of every response
// ---------------------------------------------------------------------------------------------------------

const STACK_TRACE = /\bat\s+(?:\S+\s+\()?(?:file:\/\/|node:|\/)[^\s)]*:\d+/;
const SQL_TEXT = /\b(?:SELECT|INSERT|UPDATE|DELETE FROM|WHERE|ORDER BY|MATCH|COLLATE|RETURNING)\b/;
const INTERNAL_TEXT =
  /sqlite|fts5|drizzle|syntax error|constraint|node_modules|URI malformed|TypeError|RangeError|ReferenceError|Cannot read|is not a function|undefined|null value/i;
const MARKUP = /<[A-Za-z!/?]/;

interface Sent {
  options: InjectOptions;
  response: LightMyRequestResponse;
}

/** A short, printable description of a request and its response, for failure messages. */
function describeExchange(options: InjectOptions, response?: LightMyRequestResponse): string {
  const payload = typeof options.payload === 'string' ? options.payload : undefined;
  const shown = payload === undefined ? '' : ` payload(${payload.length})=${JSON.stringify(payload.slice(0, 300))}`;
  const url = String(options.url);
  const shownUrl = url.length > 300 ? `${url.slice(0, 300)}…(${url.length} chars)` : url;
  const request = `${options.method ?? 'GET'} ${JSON.stringify(shownUrl)} headers=${JSON.stringify(options.headers ?? {})}${shown}`;
  if (!response) return request;
  return `${request}\n  -> ${response.statusCode} ${String(response.headers['content-type'])} ${response.body.slice(0, 500)}`;
}

/** Records the last response of app.inject, so that a failed OpenAPI assertion of t.request can show it. */
interface Recorder {
  last: LightMyRequestResponse | undefined;
  requests: number;
}

/** Records the last response of app.inject (so that a failed OpenAPI assertion of t.request can show it) and counts requests. */
function recordResponses(t: TestApp): Recorder {
  const recorder: Recorder = { last: undefined, requests: 0 };
  const inject = t.app.inject.bind(t.app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;
  (t.app as unknown as { inject: (options: InjectOptions) => Promise<LightMyRequestResponse> }).inject = async (options) => {
    recorder.requests += 1;
    return (recorder.last = await inject(options));
  };
  return recorder;
}

/**
 * Sends a request with t.request (which asserts the response against the OpenAPI document), then checks the
 * invariants every response keeps: no 5xx; errors are problem+json with a code and their own status, and show
 * no stack trace, SQL, driver message or markup.
 */
async function send(t: TestApp, recorder: Recorder, options: InjectOptions): Promise<Sent> {
  recorder.last = undefined;
  let response: LightMyRequestResponse;
  try {
    response = await t.request(options);
  } catch (error) {
    const last = recorder.last as LightMyRequestResponse | undefined;
    const status = last && last.statusCode >= 500 ? 'a 5xx answer, and ' : '';
    throw new Error(`${describeExchange(options, last)}\n${status}${(error as Error).message}`, { cause: error });
  }
  const where = () => describeExchange(options, response);
  assert.ok(response.statusCode < 500, `a 5xx answer:\n${where()}`);
  if (response.statusCode >= 400) {
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/, `not a problem:\n${where()}`);
    const problem = JSON.parse(response.body) as {
      status: number;
      code: string;
      type: string;
      title: string;
      detail: string;
      errors?: { location: (string | number)[]; message: string }[];
    };
    assert.equal(problem.status, response.statusCode, `problem status:\n${where()}`);
    assert.match(problem.code, /^[A-Z][A-Z_]*$/, `problem code:\n${where()}`);
    // Locations may name a client's field (that is their point); everything else is the server's own words.
    const ownWords = [problem.type, problem.title, problem.detail, problem.code, ...(problem.errors ?? []).map((e) => e.message)].join('\n');
    assert.doesNotMatch(ownWords, SQL_TEXT, `SQL in an error:\n${where()}`);
    assert.doesNotMatch(ownWords, INTERNAL_TEXT, `internals in an error:\n${where()}`);
    assert.doesNotMatch(response.body, STACK_TRACE, `a stack trace in an error:\n${where()}`);
    assert.doesNotMatch(response.body, /SQLITE/, `a driver code in an error:\n${where()}`);
    assert.doesNotMatch(response.body, MARKUP, `markup echoed in an error:\n${where()}`);
  }
  return { options, response };
}

function expectStatus(sent: Sent, allowed: readonly number[], why: string): void {
  assert.ok(
    allowed.includes(sent.response.statusCode),
    `expected ${allowed.join(' or ')} (${why}), got:\n${describeExchange(sent.options, sent.response)}`,
  );
}

const isSuccess = (sent: Sent) => sent.response.statusCode >= 200 && sent.response.statusCode < 300;

/** Every user, read through the API page by page; X-Total-Count must agree. */
async function readAll(t: TestApp, recorder: Recorder): Promise<User[]> {
  const users: User[] = [];
  for (let offset = 0; ; offset += 100) {
    const { response } = await send(t, recorder, { method: 'GET', url: `/users/?limit=100&offset=${offset}` });
    assert.equal(response.statusCode, 200);
    const page = response.json() as User[];
    users.push(...page);
    if (page.length < 100) {
      assert.equal(Number(response.headers['x-total-count']), users.length, 'X-Total-Count counts every user');
      return users;
    }
  }
}

/** The app of one property, with its last known state (null once a request may have changed it). */
class Fixture {
  users: User[] | null = null;
  maxId = 0;
  readonly statuses = new Map<string, number>();
  private constructor(
    readonly t: TestApp,
    readonly recorder: Recorder,
  ) {}

  static async start(dialect: TestDialect, seedUsers: readonly UserCreate[]): Promise<Fixture> {
    const t = await buildTestApp(dialect);
    const fixture = new Fixture(t, recordResponses(t));
    for (const user of seedUsers) {
      const { response } = await fixture.send({ method: 'POST', url: '/users/', payload: user as unknown as object });
      assert.equal(response.statusCode, 201, response.body);
      fixture.maxId = Math.max(fixture.maxId, (response.json() as User).id);
    }
    fixture.statuses.clear();
    fixture.recorder.requests = 0;
    return fixture;
  }

  send(options: InjectOptions): Promise<Sent> {
    return send(this.t, this.recorder, options);
  }

  /** The state before a request: re-read unless the previous run ended by re-reading it. */
  async before(): Promise<User[]> {
    const users = this.users ?? (await readAll(this.t, this.recorder));
    this.users = null;
    return users;
  }

  async after(): Promise<User[]> {
    const users = await readAll(this.t, this.recorder);
    this.users = users;
    return users;
  }

  tally(label: string, sent: Sent): void {
    const key = `${label} ${sent.response.statusCode}`;
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  summary(): string {
    return [...this.statuses.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key}×${n}`)
      .join(', ');
  }

  close(): Promise<void> {
    return this.t.close();
  }
}

/** Runs one property on a fresh fixture and prints which statuses it saw (the 2xx path must be exercised). */
async function withFixture(
  name: string,
  dialect: TestDialect,
  seedUsers: readonly UserCreate[],
  run: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  const fixture = await Fixture.start(dialect, seedUsers);
  try {
    await run(fixture);
  } finally {
    console.log(`fuzz ${name} (${dialect}, seed ${seed}): ${fixture.recorder.requests} requests; ${fixture.summary()}`);
    await fixture.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generators: text
// ---------------------------------------------------------------------------------------------------------

/** Characters that break naive code: spaces of every kind, zero-width, controls, combining, RTL, emoji, quotes. */
const EXOTIC = [
  '\u00a0', '\u1680', '\u2000', '\u200a', '\u200b', '\u200c', '\u200d', '\u2028', '\u2029', '\u202f', '\u205f',
  '\u2060', '\u3000', '\ufeff', '\u180e', '\u0085', '\u202e', '\u0301', '\ufffd', '\ufffe', '\uffff', '\u0000',
  '\u0001', '\u001f', '\u007f', '\u009f', '😀', '👨‍👩‍👧‍👦', '🇫🇷', 'e\u0301', 'é', 'É', 'ß', 'ẞ', 'İ', 'ı', 'ǅ',
  '\u212a', 'Ω', '张', 'ع', 'א', 'ﷺ', '"', '\\', '/', '<', '>', '&', "'", '%', '_', '*', '`', '\t', '\n', '\r',
  ' ', '{', '}', '[', ']', ':', ',', '+', '#', '?', '=',
];
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const oneChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...EXOTIC) },
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Well-formed text (no lone surrogates): short, around a declared length limit, long, or a known troublemaker. */
const wellFormedText = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: oneChar, maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...TEXT_LIMITS).chain((limit) => fc.string({ unit: oneChar, minLength: Math.max(0, limit - 5), maxLength: limit + 5 })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: oneChar, minLength: 1, maxLength: 3 }), fc.integer({ min: 30, max: 2500 }))
      .map(([chunk, times]) => chunk.repeat(times)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '', ' ', '\u00a0\u00a0', '\u200b', 'null', 'true', '30', 'John', '<script>alert(1)</script>', "Robert'); DROP TABLE users;--",
      '%00', '${jndi:ldap://x}', '{{7*7}}', '../../etc/passwd', '\\u0000', 'NEAR(a b)', 'a OR b', '"a" AND "b"',
      // Exactly at each declared length limit, and one past it.
      ...TEXT_LIMITS.flatMap((limit) => ['a'.repeat(limit), 'a'.repeat(limit + 1), '😀'.repeat(limit), '😀'.repeat(limit + 1)]),
    ),
  },
);
/** Any JS string a JSON text can carry: well-formed, or with lone surrogates (\ud800 escapes in JSON). */
const anyText = fc.oneof(
  { weight: 8, arbitrary: wellFormedText },
  { weight: 1, arbitrary: fc.string({ unit: fc.oneof(oneChar, loneSurrogate), minLength: 1, maxLength: 12 }) },
);

// ---------------------------------------------------------------------------------------------------------
// Generators: JSON text, built as a tree so that duplicate and __proto__ keys and exact number spellings survive
// ---------------------------------------------------------------------------------------------------------

type JsonNode =
  | { kind: 'lit'; text: string }
  | { kind: 'str'; value: string; ascii: boolean }
  | { kind: 'arr'; items: JsonNode[] }
  | { kind: 'obj'; entries: [string, JsonNode][] };

const lit = (text: string): JsonNode => ({ kind: 'lit', text });
const obj = (entries: [string, JsonNode][]): JsonNode => ({ kind: 'obj', entries });

/** JSON string syntax; `ascii` writes every non-ASCII UTF-16 unit as a \uXXXX escape. */
function quote(text: string, ascii = false): string {
  const quoted = JSON.stringify(text); // lone surrogates become \udXXX escapes
  return ascii ? quoted.replace(/[\u007f-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`) : quoted;
}

function render(node: JsonNode): string {
  switch (node.kind) {
    case 'lit':
      return node.text;
    case 'str':
      return quote(node.value, node.ascii);
    case 'arr':
      return `[${node.items.map(render).join(',')}]`;
    case 'obj':
      return `{${node.entries.map(([key, value]) => `${quote(key)}:${render(value)}`).join(',')}}`;
  }
}

const strNode = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.nat({ max: 5 })).map(([value, n]): JsonNode => ({ kind: 'str', value, ascii: n === 0 }));

/** Spellings of each bound of the integer fields: on it, one past it, and floats that JSON.parse rounds onto it. */
const BOUND_SPELLINGS = INTEGER_BOUNDS.flatMap(([minimum, maximum]) => [
  String(minimum), String(minimum - 1), String(maximum), String(maximum + 1),
  `${maximum}.0000000000000001`, `${maximum - 1}.99999999999999999`,
]);

/** Number spellings: ordinary, around the declared bounds, huge, tiny, negative zero, beyond double range, integers written as floats. */
const numberLiteral = fc.oneof(
  fc.integer({ min: LOWEST - 5, max: HIGHEST + 50 }).map(String),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    ...new Set([
      '-0', '0.0', '-0.0', '0e0', '1e308', '-1e308', '1e309', '-1e400', '1e-400', '5e-324', '2.5e-324',
      '1.7976931348623157e308', '9007199254740993', '123456789012345678901234567890', '30.0', '1e2', '1E2',
      '1.5e1', '0.5', '3e1', ...BOUND_SPELLINGS,
    ]),
  ),
);

/** Keys that almost name a field: another case, camelCase, padded, or with an invisible character. */
const nearMisses = (name: string) => [
  name.replace(/(^|_)([a-z])/g, (_, separator: string, letter: string) => separator + letter.toUpperCase()),
  name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
  `${name} `, ` ${name}`, name.toUpperCase(), `${name}\u0000`, `${name}\u200b`,
];
/** Keys a body must not have: the server's fields, near misses of the client's, and keys that trip up code. */
const SPECIAL_KEYS = [
  ...new Set([
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ...SERVER_FIELDS.map((field) => field.name),
    ...CLIENT_NAMES.flatMap(nearMisses), '', '<script>alert(1)</script>', 'a'.repeat(300), 'a' + '😀'.repeat(60), '$ref', 'nickname',
  ]),
].filter((key) => !CLIENT_NAMES.includes(key));
const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CLIENT_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_KEYS) },
  { weight: 2, arbitrary: anyText },
);

const { node: jsonNode } = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(lit('null'), lit('true'), lit('false')),
    numberLiteral.map(lit),
    strNode(anyText),
    fc.array(tie('node'), { maxLength: 5 }).map((items): JsonNode => ({ kind: 'arr', items })),
    fc.array(fc.tuple(keyArb, tie('node')), { maxLength: 5 }).map(obj),
  ),
}));

// ---------------------------------------------------------------------------------------------------------
// Generators: field values, valid and not, from each field's schema
// ---------------------------------------------------------------------------------------------------------

const [AGE_MIN, AGE_MAX] = boundsOf('age');

/** Users of the write fixtures: their unique values are reused by valid bodies, in another case, to hit 409. */
const WRITE_SEED: UserCreate[] = [
  { first_name: 'John', last_name: 'Doe', age: 30, email: 'John.Doe@example.com' },
  { first_name: 'Jane', last_name: 'Roe', age: null, email: 'jane@example.org' },
  { first_name: 'Zoë', last_name: 'Ünal', age: AGE_MIN, email: 'ZED@EXAMPLE.NET' },
  { first_name: '张伟', last_name: '😀', age: AGE_MAX, email: "o'brien+tag@mail.example.co.uk" },
  { first_name: "O'Brien", last_name: 'a"b\\c', age: 45, email: 'a@b.cd' },
  { first_name: ' spaced ', last_name: '\u00a0x', age: 18, email: 'UPPER.lower@Example.COM' },
];

/** The spaces that are whitespace under every definition (JS \s, Unicode White_Space, Python's isspace) and not control characters. */
const BLANK_CHARS = [' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000'];

/** Whether a text has the declared length, in code points (as the validator counts). */
const fitsLength = ({ minLength = 0, maxLength = Infinity }: FieldRules) => (text: string) =>
  codePoints(text) >= minLength && codePoints(text) <= maxLength;

/**
 * A valid value of a field whose pattern is NAME_PATTERN: its length in code points, with at least one that is not
 * whitespace by any definition. Control characters and lone surrogates are left to the invalid generators: a valid
 * body never has them (other properties check what happens to them).
 */
const nameChar = oneChar.filter((char) => codePoints(char) === 1 && !CONTROL.test(char));
const solidChar = fc.constantFrom('a', 'Z', 'é', '张', '😀', '0', 'ß', 'Ω', "'", '-', 'ع');
function validName(rules: FieldRules): fc.Arbitrary<string> {
  const fits = fitsLength(rules);
  const { minLength = 1, maxLength = 100 } = rules;
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.array(nameChar, { minLength: Math.max(0, minLength - 1), maxLength: Math.max(0, maxLength - 1) }), solidChar, fc.nat())
        .map(([chars, solid, at]) => {
          const all = [...chars];
          all.splice(at % (all.length + 1), 0, solid);
          return all.join('');
        }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...['a'.repeat(maxLength), '😀'.repeat(maxLength), `${'\u00a0'.repeat(maxLength - 1)}x`, 'Ünïcødé', "O'Brien-Smith"].filter(fits),
      ),
    },
    {
      // Spaces of every kind around a name (line and paragraph separators included): not blank, so valid.
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.string({ unit: fc.constantFrom(...BLANK_CHARS), minLength: 1, maxLength: 3 }),
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).filter((text) => /\S/.test(text)),
          fc.string({ unit: fc.constantFrom(...BLANK_CHARS), maxLength: 3 }),
        )
        .map(([before, name, after]) => before + name + after)
        .filter(fits),
    },
  );
}

const ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-";
const localPart = fc
  .array(fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 3 })
  .map((atoms) => atoms.join('.'));
const domainName = fc
  .tuple(
    fc.array(fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?$/), { minLength: 1, maxLength: 3 }),
    fc.stringMatching(/^[a-zA-Z]{2,6}$/),
  )
  .map(([labels, tld]) => [...labels, tld].join('.'));

/** A valid value of a field of format email (ASCII, as the contract says), within its length. */
const validEmail = (rules: FieldRules) =>
  fc
    .oneof(
      { weight: 2, arbitrary: fc.tuple(localPart, domainName).map(([local, domain]) => `${local}@${domain}`) },
      { weight: 1, arbitrary: fc.emailAddress() },
    )
    .filter(fitsLength(rules));

/** A text with one character inserted somewhere. */
const insertChar = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, oneChar, fc.nat()).map(([value, char, at]) => value.slice(0, at % (value.length + 1)) + char + value.slice(at % (value.length + 1)));

/** Text that an email field refuses (with other text, anyText covers the rest). */
const junkEmail = (rules: FieldRules, valid: fc.Arbitrary<string>) =>
  fc.oneof(
    anyText,
    fc.constantFrom(
      'a@b', '@x.com', 'a@', 'a b@x.com', 'jöhn@exämple.com', 'a@x..com', '"a"@x.com', 'a@x.com ', ' a@x.com',
      'a@-x.com', 'A@X.COM\u0000', 'a@x.com\n', 'a@@x.com', 'a.@x.com', '.a@x.com', 'a@x.c', 'a@[127.0.0.1]',
      'a@localhost', '<a@x.com>', 'a@x.com,b@x.com', 'ａ@x.com',
      // Over the declared length, by a few characters.
      ...(rules.maxLength === undefined ? [] : [`${'a'.repeat(64)}@${'b'.repeat(Math.max(1, rules.maxLength - 64))}.com`]),
    ),
    insertChar(valid),
  );

/** A valid value of a text field: by its pattern or format when the fuzzer knows one, else any text of its length without control characters. */
function validText(field: FieldDefinition): fc.Arbitrary<string> {
  const rules = rulesOf(field);
  const fits = fitsLength(rules);
  if (field.kind === 'timestamp' || rules.format === 'date-time') {
    return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString());
  }
  if (rules.format === 'email') return validEmail(rules);
  if (rules.format !== undefined) throw new Error(`${field.name}: the fuzzer has no generator for the format ${rules.format}: add one`);
  if (rules.pattern === NAME_PATTERN) return validName(rules);
  const pattern = patternOf(rules);
  if (pattern) {
    let matching: fc.Arbitrary<string>;
    try {
      matching = fc.stringMatching(pattern);
      fc.sample(matching, { numRuns: 1, seed: 1 });
    } catch (error) {
      throw new Error(`${field.name}: fast-check cannot generate text for the pattern ${rules.pattern}: give the fuzzer a generator for it`, {
        cause: error,
      });
    }
    return matching.filter((text) => fits(text) && pattern.test(text));
  }
  const { minLength = 0, maxLength = 100 } = rules;
  return fc.string({ unit: nameChar, minLength, maxLength });
}

/** Values of an integer field that JSON may spell in several ways. */
function spellings(value: number): string[] {
  const spelled = [String(value), `${value}.0`, `${value / 10}e1`];
  if (Object.is(value, 0)) spelled.push('-0');
  if (value % 100 === 0 && value !== 0) spelled.push(`${value / 100}e2`, `${value / 100}E2`);
  return spelled;
}

/** A valid value of an integer field, spelled as JSON may spell it: its bounds, its example, also as 1e2, 30.0 or -0. */
function validInteger(field: FieldDefinition): fc.Arbitrary<string> {
  const { minimum = -1000, maximum = 1000, examples = [] } = rulesOf(field);
  const notable = [minimum, maximum, examples[0], 0, 15, 30, 100].filter(
    (value): value is number => Number.isSafeInteger(value) && (value as number) >= minimum && (value as number) <= maximum,
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: minimum, max: maximum }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom(...new Set(notable.flatMap(spellings))) },
  );
}

/** Values of the write fixtures for a unique field, in another case (caseless), that a valid body reuses to hit 409. */
function takenValues(field: FieldDefinition, valid: (text: string) => boolean): fc.Arbitrary<string> | null {
  const taken = WRITE_SEED.map((user) => (user as Record<string, unknown>)[field.name]).filter((value): value is string => typeof value === 'string');
  if (taken.length === 0) return null;
  return fc.mixedCase(fc.constantFrom(...taken)).filter(valid);
}

/** The generators of one field: `valid` values (as JSON), and `any` value (valid, of its kind but invalid, or any JSON). */
interface FieldArbitraries {
  valid: fc.Arbitrary<JsonNode>;
  any: fc.Arbitrary<JsonNode>;
}

function fieldArbitraries(field: FieldDefinition): FieldArbitraries {
  const rules = rulesOf(field);
  let valid: fc.Arbitrary<JsonNode>;
  /** Invalid values of the field's own kind, with their weights beside the valid ones (3) and any JSON (1). */
  let invalid: fc.WeightedArbitrary<JsonNode>[];
  if (field.kind === 'integer') {
    valid = validInteger(field).map(lit);
    const example = JSON.stringify(rules.examples?.[0] ?? 1);
    invalid = [
      { weight: 3, arbitrary: numberLiteral.map(lit) },
      { weight: 1, arbitrary: fc.constantFrom('true', 'false', JSON.stringify(example), `[${example}]`, `{"value":${example}}`, '""').map(lit) },
    ];
  } else {
    let text = validText(field);
    if (field.spec.unique !== undefined) {
      const pattern = patternOf(rules);
      const fits = fitsLength(rules);
      const taken = takenValues(field, (value) => fits(value) && (!pattern || pattern.test(value)));
      if (taken) text = fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: taken });
    }
    valid = strNode(text);
    const junk = rules.format === 'email' ? junkEmail(rules, text) : rules.pattern === NAME_PATTERN ? anyText : fc.oneof(anyText, insertChar(text));
    invalid = [{ weight: 3, arbitrary: strNode(junk) }];
  }
  // null where the schema allows it, as often as a valid age was null before the generators were derived (2%).
  if (field.nullable) valid = fc.oneof({ weight: 49, arbitrary: valid }, { weight: 1, arbitrary: fc.constant(lit('null')) });
  return { valid, any: fc.oneof({ weight: 3, arbitrary: valid }, ...invalid, { weight: 1, arbitrary: jsonNode }) };
}

/** The generators of every field a client sets; a field of a kind, format or pattern the fuzzer cannot generate throws here. */
const FIELD_ARBITRARIES = new Map(CLIENT_FIELDS.map((field) => [field.name, fieldArbitraries(field)]));
const arbitrariesOf = (name: string) => FIELD_ARBITRARIES.get(name)!;

// ---------------------------------------------------------------------------------------------------------
// Generators: bodies and content types
// ---------------------------------------------------------------------------------------------------------

type Entries = [string, JsonNode][];

const rotate = <T>(items: T[], by: number): T[] => (items.length === 0 ? items : [...items.slice(by % items.length), ...items.slice(0, by % items.length)]);

/** A valid create body: every required field, some optional ones, in any order. */
const validCreateEntries = fc
  .record({
    entries: fc.tuple(
      ...userModel.created.map((field) => {
        const entry = arbitrariesOf(field.name).valid.map((value): [string, JsonNode] => [field.name, value]);
        return field.spec.create === 'required' ? entry.map((one) => [one]) : fc.option(entry, { nil: undefined }).map((one) => (one ? [one] : []));
      }),
    ),
    rotation: fc.nat(),
  })
  .map(({ entries, rotation }): Entries => rotate(entries.flat(), rotation));

/** A valid update body: any of the patchable fields. */
const validUpdateEntries = fc
  .record(Object.fromEntries(userModel.patched.map((field) => [field.name, arbitrariesOf(field.name).valid])), { requiredKeys: [] })
  .map((fields): Entries => Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [[key, value]])));

/** A value for a field the server sets, of its kind. */
const serverValue = (field: FieldDefinition): JsonNode =>
  field.kind === 'integer'
    ? lit(JSON.stringify(rulesOf(field).examples?.[0] ?? 1))
    : { kind: 'str', value: field.kind === 'timestamp' ? '2020-01-01T00:00:00.000Z' : String(rulesOf(field).examples?.[0] ?? 'x'), ascii: false };

type Mutation =
  | { op: 'set' | 'append' | 'prepend'; key: string; value: JsonNode }
  | { op: 'drop'; index: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A field gets another value (of its own kind or any JSON); append/prepend make duplicate keys.
  fc.constantFrom(...CLIENT_NAMES).chain((key) =>
    fc
      .tuple(fc.constantFrom('set', 'append', 'prepend') as fc.Arbitrary<'set' | 'append' | 'prepend'>, arbitrariesOf(key).any)
      .map(([op, value]) => ({ op, key, value })),
  ),
  fc.nat().map((index): Mutation => ({ op: 'drop', index })),
  fc.tuple(keyArb, jsonNode).map(([key, value]): Mutation => ({ op: 'append', key, value })),
  fc.constantFrom<Mutation>(
    { op: 'append', key: '__proto__', value: obj([['admin', lit('true')]]) },
    { op: 'append', key: 'constructor', value: obj([['prototype', obj([['admin', lit('true')]])]]) },
    { op: 'append', key: 'constructor', value: lit('1') },
    // A field only the server sets (id, timestamps).
    ...SERVER_FIELDS.map((field): Mutation => ({ op: 'append', key: field.name, value: serverValue(field) })),
  ),
);

function mutate(entries: Entries, mutations: Mutation[]): Entries {
  let result = [...entries];
  for (const change of mutations) {
    if (change.op === 'drop') {
      if (result.length > 0) result.splice(change.index % result.length, 1);
    } else if (change.op === 'set') {
      const at = result.findIndex(([key]) => key === change.key);
      if (at >= 0) result[at] = [change.key, change.value];
      else result.push([change.key, change.value]);
    } else if (change.op === 'append') {
      result = [...result, [change.key, change.value]];
    } else {
      result = [[change.key, change.value], ...result];
    }
  }
  return result;
}

/**
 * What a request body carries of a JS string: its UTF-8 encoding, where a lone surrogate (left by cutting a
 * surrogate pair) becomes U+FFFD. Raw texts are made well-formed first, so that the oracle parses what the
 * server receives. (Lone surrogates still reach the server, as \ud800 escapes of rendered JSON.)
 */
const wellFormed = (text: string) => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** Text that is almost JSON: truncated, with a character inserted or removed, or a known-bad spelling. */
function almostJson(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(base, fc.nat()).map(([text, at]) => text.slice(0, at % (text.length + 1))),
    fc.tuple(base, fc.nat(), oneChar).map(([text, at, char]) => text.slice(0, at % (text.length + 1)) + char + text.slice(at % (text.length + 1))),
    fc.tuple(base, fc.nat()).map(([text, at]) => text.slice(0, at % (text.length || 1)) + text.slice((at % (text.length || 1)) + 1)),
    fc.tuple(base, fc.constantFrom<(text: string) => string>(
      (text) => `${text},`,
      (text) => text.replace(/"/g, "'"),
      (text) => `\ufeff${text}`,
      (text) => text + text,
      (text) => `[${text}]`,
      (text) => text.replace(/}$/, ',}'),
      (text) => `/* c */${text}`,
      (text) => `${text}\n// c`,
      (text) => ` \n\t${text}\r\n `,
      (text) => text.replace(/:/g, '='),
      (text) => text.replace(/"([^"]*)":/g, '$1:'),
    )).map(([text, change]) => change(text)),
    fc.constantFrom(
      '', ' ', 'null', '[]', '"x"', '0', 'true', '{', '}', '{}', '{"a":NaN}', '{"age":Infinity}', '{"age":01}',
      '{"age":0x1}', '{"age":-}', '{"age":+1}', '{"age":.5}', '{"age":1.}', '{"first_name":"\\ud800"}',
      '{"first_name":"a\u0000"}', '{"first_name":"a\\x41"}', '{"a":1}garbage', "{'a':1}", '{"__proto__":{}}',
      '{"constructor":{"prototype":{}}}', '{"age":1,"age":"x"}', '{"age":"x","age":1}', '{"email":"\\u0041@x.com"}',
      '{"first_name":"A","first_name":null}', '{"":""}', '{"a":"\\u"}', '{"a":"\\uZZZZ"}', '\u0000', '\u00ff\u00fe',
    ),
    fc.integer({ min: 1000, max: 200_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.integer({ min: 1000, max: 100_000 }).map((depth) => `{"first_name":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
    fc.integer({ min: 1, max: 100_000 }).map((depth) => '['.repeat(depth)),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
}

type BodyKind = 'valid' | 'mutated' | 'random' | 'raw' | 'huge' | 'none';
/** A body: its text, or `huge` (built at run time, over the body limit, so that reports stay readable). */
interface Body {
  kind: BodyKind;
  text?: string;
}

function bodyArb(mode: 'create' | 'update'): fc.Arbitrary<Body> {
  const valid = mode === 'create' ? validCreateEntries : validUpdateEntries;
  const mutated = fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([entries, changes]) => render(obj(mutate(entries, changes))));
  return fc.oneof(
    { weight: 20, arbitrary: valid.map((entries): Body => ({ kind: 'valid', text: render(obj(entries)) })) },
    { weight: 25, arbitrary: mutated.map((text): Body => ({ kind: 'mutated', text })) },
    { weight: 8, arbitrary: jsonNode.map((node): Body => ({ kind: 'random', text: render(node) })) },
    { weight: 12, arbitrary: almostJson(fc.oneof(valid.map((entries) => render(obj(entries))), mutated)).map((text): Body => ({ kind: 'raw', text: wellFormed(text) })) },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'huge' }) },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
  );
}

function bodyText(body: Body, bodyLimit: number): string | undefined {
  if (body.kind === 'huge') {
    return JSON.stringify({ first_name: 'x'.repeat(bodyLimit), last_name: 'Doe', email: 'huge@example.com' });
  }
  return body.text;
}

type ContentTypeClass = 'json' | 'other' | 'random' | 'none';
interface ContentType {
  value: string | undefined;
  class: ContentTypeClass;
}
const contentTypeArb: fc.Arbitrary<ContentType> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc
      .constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8', 'application/json; charset="utf-8"')
      .map((value): ContentType => ({ value, class: 'json' })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
        'application/xml', 'text/json', 'application/json-patch+json', 'application/merge-patch+json',
        'application/vnd.api+json', 'application/jsonp', 'application/javascript', 'text/html', 'application/octet-stream',
      )
      .map((value): ContentType => ({ value, class: 'other' })),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((value): ContentType => ({ value, class: 'random' })) },
  { weight: 1, arbitrary: fc.constant<ContentType>({ value: undefined, class: 'none' }) },
);

/** Whether the server must read the body as JSON: the media type application/json, any case, any parameters. */
const isJsonType = (value: string | undefined) => value !== undefined && value.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';

// ---------------------------------------------------------------------------------------------------------
// An independent oracle of the contract: what is certainly invalid
// ---------------------------------------------------------------------------------------------------------

/** The body as JSON.parse reads it (last duplicate wins, as the server's parser); a UTF-8 BOM is allowed. */
function parseJson(text: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (text === undefined) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text.replace(/^\ufeff/, '')) };
  } catch {
    return { ok: false };
  }
}

/** The rule of its field's schema that a value certainly breaks, or null (valid, or invalid in a way this oracle does not judge, like email syntax). */
function valueViolation(field: FieldDefinition, value: unknown): string | null {
  const rules = rulesOf(field);
  if (value === null) return field.nullable ? null : `${field.name} null`;
  if (field.kind === 'integer') {
    const { minimum = -Infinity, maximum = Infinity } = rules;
    return typeof value === 'number' && Number.isInteger(value) && value >= minimum && value <= maximum ? null : field.name;
  }
  if (typeof value !== 'string') return `${field.name} not a string`;
  if (!fitsLength(rules)(value)) return `${field.name} length`;
  if (patternOf(rules)?.test(value) === false) return `${field.name} does not match its pattern`;
  if (breaksTextRules(rules, value)) return `${field.name} is blank or not well-formed`;
  // Emails are ASCII (the contract), with an @.
  if (rules.format === 'email' && (/[^\x21-\x7e]/.test(value) || !value.includes('@'))) return field.name;
  return null;
}

/** The rules a body certainly breaks (empty: valid, or invalid in a way this oracle does not judge, like email syntax). */
function violations(body: unknown, mode: 'create' | 'update'): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['not an object'];
  const found: string[] = [];
  const values = body as Record<string, unknown>;
  const fields = fieldsOf(mode);
  for (const key of Object.keys(values)) if (!fields.some((field) => field.name === key)) found.push(`unknown field ${JSON.stringify(key)}`);
  if (mode === 'create') {
    for (const field of fields) if (field.spec.create === 'required' && !Object.hasOwn(values, field.name)) found.push(`missing ${field.name}`);
  }
  for (const field of fields) {
    if (!Object.hasOwn(values, field.name)) continue;
    const problem = valueViolation(field, values[field.name]);
    if (problem !== null) found.push(problem);
  }
  return found;
}

/** The values of the fields a client sets. */
const clientValues = (user: User): Record<string, unknown> => Object.fromEntries(CLIENT_NAMES.map((name) => [name, (user as Record<string, unknown>)[name]]));

/** What a create stores for a field it is not sent: the schema's default, or null (a required field is always sent). */
const absentValue = (field: FieldDefinition): unknown => rulesOf(field).default ?? (field.nullable ? null : undefined);

/** The stored fields a valid body asks for, given what was there before (nothing, for a create). */
function expectedFields(body: Record<string, unknown>, previous?: User): Record<string, unknown> {
  const result = previous ? clientValues(previous) : Object.fromEntries(CLIENT_FIELDS.map((field) => [field.name, absentValue(field)]));
  for (const field of CLIENT_FIELDS) {
    if (Object.hasOwn(body, field.name)) result[field.name] = field.kind === 'integer' ? normalizeZero(body[field.name]) : body[field.name];
  }
  return result;
}

/** Whether a body sends the value of a unique field that another user has (in any case). */
function uniqueTaken(users: readonly User[], body: unknown, except?: number): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return UNIQUE_FIELDS.some((field) => {
    const value = (body as Record<string, unknown>)[field.name];
    return (
      typeof value === 'string' &&
      users.some((user) => {
        const other = (user as Record<string, unknown>)[field.name];
        return user.id !== except && typeof other === 'string' && asciiLower(other) === asciiLower(value);
      })
    );
  });
}

/** Statuses a body may get, judged from the body alone (the target of a PATCH is judged apart). */
function bodyStatuses(body: Body, type: ContentType, text: string | undefined, mode: 'create' | 'update', taken: boolean): { allowed: number[]; why: string } {
  const success = mode === 'create' ? 201 : 200;
  if (body.kind === 'huge') return isJsonType(type.value) ? { allowed: [413], why: 'over the body limit' } : { allowed: [400, 413, 415], why: 'huge, not JSON' };
  // An empty body is no body: nothing to parse, whatever the content type says.
  if (text !== undefined && text !== '' && !isJsonType(type.value)) {
    return type.class === 'random'
      ? { allowed: [400, 415], why: 'a body that is not application/json' }
      : { allowed: [415], why: 'a body that is not application/json' };
  }
  if (body.kind === 'valid') {
    return taken ? { allowed: [409], why: 'a valid body whose unique value (email) is taken' } : { allowed: [success], why: 'a valid body' };
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return { allowed: [400, 415, 422], why: 'not JSON' };
  const problems = violations(parsed.value, mode);
  if (problems.length > 0) return { allowed: [400, 422], why: problems.join('; ') };
  return { allowed: [success, 409, 400, 422], why: 'possibly valid' };
}

// ---------------------------------------------------------------------------------------------------------
// Generators: path ids
// ---------------------------------------------------------------------------------------------------------

type Target =
  | { kind: 'existing'; pick: number }
  | { kind: 'missing'; id: string }
  // segment: as written in the URL; decoded: what the server reads, or null when the segment is not valid URL text.
  | { kind: 'junk'; segment: string; decoded: string | null };

const RAW_SEGMENTS: [string, string | null][] = [
  ['%', null], ['%zz', null], ['%FF', null], ['%C0%80', null], ['%ED%A0%80', null], ['1%', null], ['%2', null],
  ['%2F', '/'], ['a%2Fb', 'a/b'], ['%00', '\u0000'], ['%20', ' '], ['%201', ' 1'], ['1%20', '1 '],
  ['+1', '+1'], ['1;x', '1;x'], ['1,2', '1,2'], ['%EF%BC%91', '１'], ['%D9%A3', '٣'],
];
const JUNK_IDS = [
  '0', '-1', '1.5', '1e3', '1e0', '0x1', '0b1', '0o7', '01', '1.0', '-0', 'abc', 'null', 'NaN', 'Infinity', '-Infinity',
  'true', '9007199254740991', '9007199254740992', '1'.repeat(30), '1'.repeat(250), '[1]', '{}', '😀', 'ﬀ', '1e400',
];

/**
 * A path segment. `.` and `..` are left out: light-my-request resolves them (as WHATWG URLs do, %2E included)
 * before the router sees the path, so they would test the URL parser of the test client, not the service.
 */
const segmentOf = (text: string) => encodeURIComponent(text);
const isDotSegment = (text: string) => text === '.' || text === '..';

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 12, arbitrary: fc.nat().map((pick): Target => ({ kind: 'existing', pick })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.integer({ min: 1_000_000, max: MAX_SAFE }), fc.constantFrom(MAX_SAFE, 2 ** 31, 2 ** 32, 999_999))
      .map((id): Target => ({ kind: 'missing', id: String(id) })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map(([segment, decoded]): Target => ({ kind: 'junk', segment, decoded })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom(...JUNK_IDS),
        wellFormedText.filter((text) => text.length > 0 && !isDotSegment(text)),
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
        fc.double().map(String),
      )
      .map((text): Target => ({ kind: 'junk', segment: segmentOf(text), decoded: text })),
  },
);

/** What an id in a path means: a canonical positive integer, or text that Ajv may coerce to one, or junk. */
function judgeId(decoded: string | null): { id: number; canonical: boolean } | null {
  if (decoded === null) return null;
  if (/^[1-9]\d*$/.test(decoded) && Number(decoded) <= MAX_SAFE) return { id: Number(decoded), canonical: true };
  // Path values are coerced (`1e0`, `0x1`, ` 1` read as 1): tolerated, not required.
  const coerced = decoded === '' ? NaN : Number(decoded);
  if (Number.isSafeInteger(coerced) && coerced >= 1) return { id: coerced, canonical: false };
  return null;
}

/** Whether the path segment is not valid URL text (bad percent-encoding): the server cannot even read it. */
const malformedUrl = (target: Target) => target.kind === 'junk' && target.decoded === null;

function resolveTarget(target: Target, users: readonly User[]): { segment: string; meaning: ReturnType<typeof judgeId> } {
  if (target.kind === 'existing') {
    const user = users[target.pick % Math.max(users.length, 1)];
    const id = String(user?.id ?? 1);
    return { segment: id, meaning: judgeId(id) };
  }
  if (target.kind === 'missing') return { segment: target.id, meaning: judgeId(target.id) };
  return { segment: target.segment, meaning: judgeId(target.decoded) };
}

// ---------------------------------------------------------------------------------------------------------
// The list model
// ---------------------------------------------------------------------------------------------------------

interface ListQuery {
  offset: number;
  limit: number;
  sort: string;
  cursor?: { value: string | number; id: number };
  /** The filter parameters sent (q apart), by name: text, or an integer bound of a range. */
  filters: Record<string, string | number>;
  q?: string;
  count?: boolean;
}

/** The integer parameters and their bounds: the list's own, and the bounds of each range filter, as declared. */
const INT_PARAMS = new Map<ListParam, [number, number]>([
  ['offset', [0, MAX_SAFE]],
  ['limit', [1, 100]],
  ...userModel.filters.flatMap((filter) => (filter.kind === 'range' ? [filter.min, filter.max].map((param) => [param, filter.bounds] as const) : [])),
]);
/** The text filter parameters (exact, caseless and q) and their rules, from the model's list query. */
const TEXT_PARAMS = new Map<ListParam, FieldRules>(
  userModel.filterParams.filter((param) => !INT_PARAMS.has(param)).map((param) => {
    const rules = listQueryProperties()[param];
    if (rules === undefined) throw new Error(`the model's list query has no schema for the filter parameter ${param}`);
    return [param, rules];
  }),
);

type Verdict = { ok: true; strict: boolean; value: unknown } | { ok: false };

/** One query value as the contract reads it; non-canonical integers (` 5`, `0x10`, `1e1`) are tolerated, not required. */
function judgeValue(param: ListParam, raw: string): Verdict {
  const range = INT_PARAMS.get(param);
  if (range) {
    const [min, max] = range;
    if (/^(0|[1-9]\d*)$/.test(raw) && Number(raw) >= min && Number(raw) <= max) return { ok: true, strict: true, value: Number(raw) };
    const coerced = raw === '' ? NaN : Number(raw);
    if (Number.isInteger(coerced) && coerced >= min && coerced <= max) return { ok: true, strict: false, value: normalizeZero(coerced) };
    return { ok: false };
  }
  const rules = TEXT_PARAMS.get(param);
  if (rules) {
    if (!fitsLength(rules)(raw)) return { ok: false };
    // No stored value holds a control character: refusing one in a filter (422) or matching nothing (200) are both fine.
    if (CONTROL.test(raw)) return { ok: true, strict: false, value: raw };
    // A value the field's own pattern refuses (a blank name) is a client error.
    if (patternOf(rules)?.test(raw) === false || breaksTextRules(rules, raw)) return { ok: false };
    return { ok: true, strict: true, value: raw };
  }
  if (param === 'sort') return SORT_PARAMS.includes(raw) ? { ok: true, strict: true, value: raw } : { ok: false };
  if (param === 'count') return raw === 'true' || raw === 'false' ? { ok: true, strict: true, value: raw === 'true' } : { ok: false };
  // cursor: judged once the sort is known
  return /^[A-Za-z0-9_-]{1,512}$/.test(raw) ? { ok: true, strict: true, value: raw } : { ok: false };
}

/** The cursor as the service encodes it: base64url of JSON [sort, value, id]. */
const encodeCursor = (sort: string, value: unknown, id: unknown) => Buffer.from(JSON.stringify([sort, value, id])).toString('base64url');

function decodeCursor(cursor: string, sort: string): { value: string | number; id: number } | null {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) return null;
  const [cursorSort, value, id] = decoded as unknown[];
  // The value of an integer field's sort is an integer; any other is text.
  const numeric = userModel.sorts.get(sort.replace(/^-/, ''))?.field.kind === 'integer';
  if (cursorSort !== sort || !Number.isSafeInteger(id)) return null;
  if (numeric ? !Number.isSafeInteger(value) : !(typeof value === 'string' && value.length <= 512)) return null;
  return { value: value as string | number, id: id as number };
}

/** The expected answer to a list query: 200 with a model query, 422, or either (a tolerated spelling). */
function judgeQuery(pairs: [string, string][]): { expect: 'ok' | 'either'; query: ListQuery } | { expect: 'bad'; why: string } {
  const seen = new Map<ListParam, string>();
  for (const [key, value] of pairs) {
    if (!LIST_PARAMS.includes(key)) return { expect: 'bad', why: `unknown parameter ${JSON.stringify(key)}` };
    if (seen.has(key)) return { expect: 'bad', why: `repeated parameter ${key}` };
    seen.set(key, value);
  }
  const values = new Map<ListParam, unknown>();
  let strict = true;
  for (const [param, raw] of seen) {
    const verdict = judgeValue(param, raw);
    if (!verdict.ok) return { expect: 'bad', why: `bad ${param}` };
    strict &&= verdict.strict;
    values.set(param, verdict.value);
  }
  const query: ListQuery = {
    offset: (values.get('offset') as number | undefined) ?? 0,
    limit: (values.get('limit') as number | undefined) ?? 100,
    sort: (values.get('sort') as string | undefined) ?? 'id',
    filters: {},
  };
  for (const param of userModel.filterParams) {
    const value = values.get(param) as string | number | undefined;
    if (value === undefined) continue;
    if (param === 'q') query.q = value as string;
    else query.filters[param] = value;
  }
  if (values.has('count')) query.count = values.get('count') as boolean;
  if (values.has('cursor')) {
    const cursor = decodeCursor(values.get('cursor') as string, query.sort);
    if (!cursor) return { expect: 'bad', why: 'a cursor of another list' };
    if (query.offset > 0) return { expect: 'bad', why: 'cursor with offset' };
    query.cursor = cursor;
  }
  return { expect: strict ? 'ok' : 'either', query };
}

/** A user's value under a sort, from the sort's declared expression. */
const sortKey = (user: User, sort: string): SortValue => SORT_VALUES.get(sort)!(user);

function compareKeys(a: [SortValue, number], b: [SortValue, number]): number {
  const [av, aid] = a;
  const [bv, bid] = b;
  return compareSortValues(av, bv) || Math.sign(aid - bid);
}

/** Whether a user passes one filter of the declaration, as its kind says. */
function matchesFilter(filter: FilterDefinition, user: User, filters: ListQuery['filters']): boolean {
  const value = (user as Record<string, unknown>)[filter.field.name];
  if (filter.kind === 'range') {
    const min = filters[filter.min] as number | undefined;
    const max = filters[filter.max] as number | undefined;
    if (min === undefined && max === undefined) return true;
    // Inclusive bounds on the sort expression; a missing value never matches a bound.
    if (value === null || value === undefined) return false;
    const key = sortKey(user, filter.field.name);
    if (typeof key !== 'number') throw new Error(`the range filter of ${filter.field.name} sorts by text`);
    return (min === undefined || key >= min) && (max === undefined || key <= max);
  }
  const wanted = filters[filter.param] as string | undefined;
  if (wanted === undefined) return true;
  if (typeof value !== 'string') return false;
  return filter.kind === 'caseless' ? asciiLower(value) === asciiLower(wanted) : value === wanted;
}

/** Whether the model can judge q: it folds ASCII only, so a q with other cased letters is left to the invariants. */
const modelledQ = (q: string | undefined) => q === undefined || [...q].every((char) => char < '\u0080' || (char.toLowerCase() === char && char.toUpperCase() === char));

function modelList(all: readonly User[], query: ListQuery): { matching: User[]; start: number } {
  const descending = query.sort.startsWith('-');
  const sort = query.sort.replace(/^-/, '');
  const direction = descending ? -1 : 1;
  const q = query.q === undefined ? undefined : asciiLower(query.q);
  const matching = all
    .filter((user) => userModel.filters.every((filter) => matchesFilter(filter, user, query.filters)))
    // q: a case-insensitive substring of any searched field.
    .filter((user) =>
      q === undefined ||
      userModel.searched.some((field) => {
        const text = (user as Record<string, unknown>)[field.name];
        return typeof text === 'string' && asciiLower(text).includes(q);
      }),
    )
    .sort((a, b) => direction * compareKeys([sortKey(a, sort), a.id], [sortKey(b, sort), b.id]));
  let start = query.offset;
  if (query.cursor) {
    // In id order the id is the whole position; a unique field's sort has no ties, so there the value is (its id is not read).
    let bound: [SortValue, number] = [query.cursor.value, query.cursor.id];
    if (sort === 'id') bound = [query.cursor.id, query.cursor.id];
    else if (userModel.sorts.get(sort)!.field.spec.unique !== undefined) bound = [query.cursor.value, direction * Infinity];
    start = matching.findIndex((user) => direction * compareKeys([sortKey(user, sort), user.id], bound) > 0);
    if (start < 0) start = matching.length;
  }
  return { matching, start };
}

function parseLinks(header: string | undefined): Map<string, string> {
  const links = new Map<string, string>();
  for (const match of (header ?? '').matchAll(/<([^>]*)>;\s*rel="([^"]+)"/g)) links.set(match[2]!, match[1]!);
  return links;
}

/** Users of the list fixture: ties, case variants, non-ASCII, LIKE and FTS metacharacters, missing ages. */
const LIST_SEED: UserCreate[] = [
  { first_name: 'Alice', last_name: 'Smith', age: 30, email: 'alice@example.com' },
  { first_name: 'alice', last_name: 'smith', age: 30, email: 'Alice.Two@Example.com' },
  { first_name: 'Bob', last_name: 'Stone', age: null, email: 'BOB@EXAMPLE.ORG' },
  { first_name: 'bob', last_name: 'Stone', age: AGE_MIN, email: 'bob.jr@example.org' },
  { first_name: 'Zed', last_name: 'Zulu', age: AGE_MAX, email: 'zed@x.io' },
  { first_name: 'Émile', last_name: 'Zola', age: 62, email: 'emile@zola.fr' },
  { first_name: 'émile', last_name: 'Durand', age: 1, email: 'E.Durand@zola.fr' },
  { first_name: '张伟', last_name: '王', age: 45, email: 'zhang.wei@example.cn' },
  { first_name: '😀', last_name: 'Smiley', age: null, email: 'smile+tag@example.com' },
  { first_name: "O'Brien", last_name: 'a"b', age: 30, email: "o'brien@example.ie" },
  { first_name: '50%_off', last_name: 'back\\slash', age: 99, email: '_under_@x.io' },
  { first_name: ' spaced ', last_name: '\u00a0nbsp', age: 18, email: 'spaced@x.io' },
  { first_name: 'Max', last_name: 'Mustermann', age: 45, email: 'MAX@Muster.DE' },
  { first_name: 'MAX', last_name: 'max', age: null, email: 'max2@muster.de' },
  { first_name: 'Ann', last_name: 'Lee', age: 29, email: 'ann@lee.kr' },
  { first_name: 'Anne', last_name: 'Lee', age: 31, email: 'anne@lee.kr' },
  { first_name: 'x', last_name: 'y', age: 2, email: 'x@y.zz' },
  { first_name: 'Zoë', last_name: 'Ünal', age: 77, email: 'zoe@unal.tr' },
  { first_name: 'abc', last_name: 'ABC', age: 100, email: 'abc@abc.abc' },
  { first_name: 'Ab', last_name: 'Cd', age: AGE_MAX, email: 'ab.cd@x.io' },
  { first_name: 'NEAR', last_name: 'AND OR NOT', age: 60, email: 'near@fts.io' },
  { first_name: 'a*', last_name: '"quoted"', age: 61, email: 'star@fts.io' },
];

/** The distinct text values the list fixture has for a field. */
const seedValues = (name: string) => [
  ...new Set(LIST_SEED.map((user) => (user as Record<string, unknown>)[name]).filter((value): value is string => typeof value === 'string')),
];
const seedTexts = CLIENT_FIELDS.filter((field) => field.kind === 'text').flatMap((field) => seedValues(field.name));
const queryText = fc.oneof(
  { weight: 6, arbitrary: wellFormedText },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '_', '"', '\\', 'a%', '%_%', '""', '*', 'NEAR', 'AND', 'OR', 'x\u0000', 'ab\u0000c', '\u0000\u0000\u0000', "'", '" OR 1=1 --'),
  },
);
const intJunk = fc.oneof(
  fc.constantFrom(
    '-1', '1.5', '1e3', '1e1', '0x10', '007', ' 5', '5 ', '+5', '', 'NaN', 'Infinity', '-0', '9007199254740991',
    '9007199254740992', '1'.repeat(30), 'true', 'null', '[]', '١', '101', '0',
    // Just outside the bounds of each range filter.
    ...new Set(userModel.filters.flatMap((filter) => (filter.kind === 'range' ? [String(filter.bounds[0] - 1), String(filter.bounds[1] + 1)] : []))),
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  queryText,
);
const substringOfSeed = fc
  .tuple(fc.constantFrom(...seedTexts), fc.nat(), fc.nat({ max: 6 }))
  .map(([text, at, length]) => {
    const chars = [...text];
    const start = at % Math.max(chars.length, 1);
    return chars.slice(start, start + length + 1).join('');
  });
const cursorValue = fc.oneof(
  fc.integer({ min: LOWEST - 2, max: HIGHEST + 10 }),
  fc.constantFrom(...seedTexts),
  fc.constantFrom(...seedTexts).map(asciiLower),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
  queryText,
  fc.constantFrom(MAX_SAFE, -MAX_SAFE, 1.5, null, true, 'x'.repeat(600)),
);
const cursorId = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(MAX_SAFE, -1, 1.5, '3', null, 2 ** 53));

/** Values of a filter's parameters: mostly ones the list fixture has (in another case, for a caseless filter), or any text; bounds of a range. */
function filterValues(filter: FilterDefinition): [ListParam, fc.Arbitrary<string>][] {
  if (filter.kind === 'range') {
    const [min, max] = filter.bounds;
    const bound = fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }).map(String) }, { weight: 1, arbitrary: intJunk });
    return [[filter.min, bound], [filter.max, bound]];
  }
  const known = seedValues(filter.field.name);
  // A field the fixture leaves empty: valid values of the field (which match nothing), or any text.
  if (known.length === 0) return [[filter.param, fc.oneof({ weight: 3, arbitrary: validText(filter.field) }, { weight: 2, arbitrary: queryText })]];
  const values = filter.kind === 'caseless' ? fc.mixedCase(fc.constantFrom(...known)) : fc.constantFrom(...known);
  return [[filter.param, fc.oneof({ weight: 3, arbitrary: values }, { weight: 2, arbitrary: queryText })]];
}

const paramValue = new Map<ListParam, fc.Arbitrary<string>>([
  ['offset', fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 30 }).map(String) }, { weight: 1, arbitrary: intJunk })],
  ['limit', fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('100', '101', '0') }, { weight: 1, arbitrary: intJunk })],
  ['sort', fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SORT_PARAMS) }, { weight: 1, arbitrary: fc.constantFrom('ID', '- id', '+id', '--id', 'name', '-', '', 'id,age') }, { weight: 1, arbitrary: queryText })],
  [
    'cursor',
    fc.oneof(
      fc.tuple(fc.constantFrom(...SORT_PARAMS), cursorValue, cursorId).map(([sort, value, id]) => encodeCursor(sort, value, id)),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
      queryText,
    ),
  ],
  ...userModel.filters.flatMap(filterValues),
  ['q', fc.oneof({ weight: 4, arbitrary: fc.mixedCase(substringOfSeed) }, { weight: 2, arbitrary: queryText })],
  ['count', fc.oneof({ weight: 4, arbitrary: fc.constantFrom('true', 'false') }, { weight: 1, arbitrary: fc.constantFrom('1', '0', 'TRUE', 'yes', '') })],
]);
for (const param of LIST_PARAMS) if (!paramValue.has(param)) throw new Error(`the fuzzer has no generator for the list parameter ${param}`);

const knownPair = fc.constantFrom(...LIST_PARAMS).chain((param) => paramValue.get(param)!.map((value): [string, string] => [param, value]));
const unknownPair = fc.tuple(
  fc.oneof(fc.constantFrom('limt', 'LIMIT', 'Limit', ' limit', 'limit ', 'offset[]', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'user_id', 'id', 'page'), queryText),
  queryText,
);
/** A cursor query: the cursor's sort usually matches the query's, so that valid cursors are frequent. */
const cursorQuery = fc
  .tuple(fc.constantFrom(...SORT_PARAMS), cursorValue, cursorId, fc.integer({ min: 1, max: 8 }), fc.boolean())
  .map(([sort, value, id, limit, matching]): [string, string][] => [
    ['sort', sort],
    ['cursor', encodeCursor(matching ? sort : sort.startsWith('-') ? sort.slice(1) : `-${sort}`, value, id)],
    ['limit', String(limit)],
  ]);

interface ListRequest {
  path: string;
  pairs: [string, string][];
  /** Raw query text appended as is (invalid percent-encoding, brackets, bare keys); the model then only checks invariants. */
  raw: string | null;
}
const RAW_QUERY_PARTS = [
  '%', '%zz', '%FF', '+', '&&', '=', '==', 'limit=1&limit=2', '__proto__=1', '__proto__[x]=1', 'constructor[prototype][x]=1',
  'a[]=1', 'limit[]=1', 'q=%ED%A0%80', 'q=%00%00%00', 'q=%C0%80abc', '%3D=%26', ';', 'limit=1;offset=1', 'sort=%2Did',
  'q=a+b', 'q=%2B', 'limit', 'count', 'q=' + '%F0%9F%98%80'.repeat((TEXT_PARAMS.get('q')?.maxLength ?? 100) + 1), 'offset=1e1', 'q=%',
];
const listRequestArb: fc.Arbitrary<ListRequest> = fc.record({
  path: fc.constantFrom('/users/', '/users'),
  pairs: fc.oneof(
    // Mostly distinct known parameters (a valid query is likelier); sometimes repeated or unknown ones.
    { weight: 6, arbitrary: fc.uniqueArray(knownPair, { maxLength: 4, selector: ([key]) => key }) },
    { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: knownPair }, { weight: 1, arbitrary: unknownPair }), { maxLength: 5 }) },
    { weight: 2, arbitrary: fc.tuple(cursorQuery, fc.array(knownPair, { maxLength: 2 })).map(([cursor, more]) => [...cursor, ...more]) },
  ),
  raw: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY_PARTS) }),
});

function listUrl({ path, pairs, raw }: ListRequest): string {
  const parts = pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  if (raw !== null) parts.push(raw);
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------

for (const dialect of DIALECTS) {
  describe(`fuzz (${dialect}, seed ${seed})`, () => {
    it('POST /users/: no 5xx, documented answers, a refused create changes nothing, an accepted one stores the body', async () => {
      await withFixture('POST /users/', dialect, WRITE_SEED, async (fixture) => {
        const bodyLimit = fixture.t.config.BODY_LIMIT;
        let successes = 0;
        await fc.assert(
          fc.asyncProperty(bodyArb('create'), contentTypeArb, fc.constantFrom('/users/', '/users'), async (body, type, url) => {
            const before = await fixture.before();
            const text = bodyText(body, bodyLimit);
            const parsed = parseJson(text);
            const { allowed, why } = bodyStatuses(body, type, text, 'create', uniqueTaken(before, parsed.ok ? parsed.value : undefined));
            const sent = await fixture.send({
              method: 'POST',
              url,
              headers: type.value === undefined ? {} : { 'content-type': type.value },
              ...(text === undefined ? {} : { payload: text }),
            });
            fixture.tally(`${body.kind}/${type.class}`, sent);
            expectStatus(sent, allowed, why);
            if (sent.response.statusCode === 409) assert.equal(sent.response.json().code, 'EMAIL_TAKEN');
            const after = await fixture.after();
            if (!isSuccess(sent)) {
              assert.deepEqual(after, before, `a refused create changed the users:\n${describeExchange(sent.options, sent.response)}`);
              return;
            }
            const created = sent.response.json() as User;
            const where = describeExchange(sent.options, sent.response);
            assert.ok(parsed.ok, where);
            assert.equal(sent.response.headers['location'], `/users/${created.id}`, where);
            assert.ok(created.id > fixture.maxId, `ids increase and are never reused:\n${where}`);
            fixture.maxId = created.id;
            assert.deepEqual(clientValues(created), expectedFields(parsed.value as Record<string, unknown>), `the created user is not what was sent:\n${where}`);
            assert.equal(created.updated_at, created.created_at, where);
            assert.deepEqual(after, [...before, created], `the create changed more than one user, or stored another value:\n${where}`);
            // Keep the table small: the state is re-read after every request.
            if (after.length > 40) {
              const removed = await fixture.send({ method: 'DELETE', url: `/users/${created.id}` });
              assert.equal(removed.response.statusCode, 200);
              fixture.users = null;
            }
            successes += 1;
          }),
          FC_OPTIONS,
        );
        assert.ok(successes > 0 || RUNS < 50, 'some creates succeed');
      });
    });

    it('PATCH /users/{id}: no 5xx, documented answers, a refused update changes nothing, an accepted one changes exactly the fields sent', async () => {
      await withFixture('PATCH /users/{id}', dialect, WRITE_SEED, async (fixture) => {
        const bodyLimit = fixture.t.config.BODY_LIMIT;
        await fc.assert(
          fc.asyncProperty(bodyArb('update'), contentTypeArb, targetArb, fc.boolean(), async (body, type, target, slash) => {
            const before = await fixture.before();
            const { segment, meaning } = resolveTarget(target, before);
            const text = bodyText(body, bodyLimit);
            const parsed = parseJson(text);
            const previous = meaning ? before.find((user) => user.id === meaning.id) : undefined;
            const fromBody = bodyStatuses(body, type, text, 'update', uniqueTaken(before, parsed.ok ? parsed.value : undefined, previous?.id));
            // The body decides, unless the id is not a user: then 404 (or 422 for an id that is not an integer).
            const bodyErrors = fromBody.allowed.filter((status) => status >= 400 && status !== 409);
            const bodyWouldPass = fromBody.allowed.some((status) => status === 200 || status === 409);
            let allowed: number[];
            if (meaning?.canonical) allowed = previous ? fromBody.allowed : [...bodyErrors, ...(bodyWouldPass ? [404] : [])];
            else if (meaning) allowed = [...fromBody.allowed, 404, 422];
            else allowed = [...bodyErrors.filter((status) => status !== 422), 404, 422];
            // A path that is not valid URL text (`%`, `%FF`) may be refused as a bad request.
            if (malformedUrl(target)) allowed.push(400);
            const sent = await fixture.send({
              method: 'PATCH',
              url: `/users/${segment}${slash ? '/' : ''}`,
              headers: type.value === undefined ? {} : { 'content-type': type.value },
              ...(text === undefined ? {} : { payload: text }),
            });
            fixture.tally(`${body.kind}/${type.class}/${target.kind}`, sent);
            expectStatus(sent, [...new Set(allowed)], `${fromBody.why}; target ${target.kind} ${JSON.stringify(segment)}`);
            const { response } = sent;
            const where = describeExchange(sent.options, response);
            if (response.statusCode === 404 && meaning) assert.equal(response.json().detail, 'User not found', where);
            if (response.statusCode === 409) assert.equal(response.json().code, 'EMAIL_TAKEN', where);
            const after = await fixture.after();
            if (!isSuccess(sent)) {
              assert.deepEqual(after, before, `a refused update changed the users:\n${where}`);
              return;
            }
            assert.ok(parsed.ok && previous, where);
            const changes = parsed.value as Record<string, unknown>;
            const updated = response.json() as User;
            assert.equal(updated.id, previous.id, where);
            assert.deepEqual(clientValues(updated), expectedFields(changes, previous), `the update did not store exactly the fields sent:\n${where}`);
            assert.equal(updated.created_at, previous.created_at, where);
            if (Object.keys(changes).length === 0) assert.equal(updated.updated_at, previous.updated_at, `an empty update changed updated_at:\n${where}`);
            else assert.ok(updated.updated_at >= previous.updated_at, `updated_at went back:\n${where}`);
            assert.deepEqual(after, before.map((user) => (user.id === updated.id ? updated : user)), `the update changed other users:\n${where}`);
          }),
          FC_OPTIONS,
        );
      });
    });

    it('GET and DELETE /users/{id}: no 5xx, documented answers, a refused delete changes nothing, ids are never reused', async () => {
      await withFixture('GET|DELETE /users/{id}', dialect, WRITE_SEED, async (fixture) => {
        let replacements = 0;
        await fc.assert(
          fc.asyncProperty(fc.constantFrom('GET', 'DELETE'), targetArb, fc.boolean(), async (method, target, slash) => {
            const before = await fixture.before();
            const { segment, meaning } = resolveTarget(target, before);
            const user = meaning ? before.find((candidate) => candidate.id === meaning.id) : undefined;
            let allowed: number[];
            if (meaning?.canonical) allowed = user ? [200] : [404];
            else if (meaning) allowed = [user ? 200 : 404, 404, 422];
            else allowed = [404, 422];
            if (malformedUrl(target)) allowed.push(400);
            const sent = await fixture.send({ method, url: `/users/${segment}${slash ? '/' : ''}` });
            fixture.tally(`${method} ${target.kind}`, sent);
            expectStatus(sent, allowed, `${target.kind} id ${JSON.stringify(segment)}`);
            const { response } = sent;
            const where = describeExchange(sent.options, response);
            if (response.statusCode === 404 && meaning) {
              assert.equal(response.json().code, 'USER_NOT_FOUND', where);
              assert.equal(response.json().detail, 'User not found', where);
            }
            if (method === 'GET') {
              if (response.statusCode === 200) assert.deepEqual(response.json(), user, where);
              fixture.users = before; // a read changes nothing (the next write re-reads anyway)
              return;
            }
            const after = await fixture.after();
            if (!isSuccess(sent)) {
              assert.deepEqual(after, before, `a refused delete changed the users:\n${where}`);
              return;
            }
            assert.deepEqual(response.json(), { ok: true }, where);
            assert.deepEqual(after, before.filter((candidate) => candidate.id !== user!.id), `the delete removed another user:\n${where}`);
            const again = await fixture.send({ method: 'GET', url: `/users/${user!.id}` });
            assert.equal(again.response.statusCode, 404, where);
            if (after.length < 4) {
              // Keep users to delete; a new one never takes a deleted id.
              const { response: created } = await fixture.send({
                method: 'POST',
                url: '/users/',
                payload: { first_name: 'Re', last_name: 'Placement', age: null, email: `replacement.${++replacements}@example.com` },
              });
              assert.equal(created.statusCode, 201, created.body);
              const id = (created.json() as User).id;
              assert.ok(id > fixture.maxId, `a deleted id was reused: ${id}`);
              fixture.maxId = id;
              fixture.users = null;
            }
          }),
          FC_OPTIONS,
        );
      });
    });

    it('GET /users/ with random queries: no 5xx, documented answers, and the page, headers and cursors of a valid query match the model', async () => {
      await withFixture('GET /users/?…', dialect, LIST_SEED, async (fixture) => {
        // Some history: distinct updated_at values, and gaps in the ids.
        for (const [id, age] of [[3, 33], [7, 7], [11, null]] as const) {
          assert.equal((await fixture.send({ method: 'PATCH', url: `/users/${id}`, payload: { age } })).response.statusCode, 200);
        }
        for (const email of ['gone.1@x.io', 'gone.2@x.io']) {
          const { response } = await fixture.send({ method: 'POST', url: '/users/', payload: { first_name: 'Gone', last_name: 'Soon', email } });
          assert.equal((await fixture.send({ method: 'DELETE', url: `/users/${(response.json() as User).id}` })).response.statusCode, 200);
        }
        fixture.statuses.clear();
        const all = await readAll(fixture.t, fixture.recorder);
        let modelled = 0;
        await fc.assert(
          fc.asyncProperty(listRequestArb, async (request) => {
            const url = listUrl(request);
            const sent = await fixture.send({ method: 'GET', url });
            const judged = request.raw === null ? judgeQuery(request.pairs) : null;
            fixture.tally(judged ? judged.expect : 'raw', sent);
            const { response } = sent;
            const where = describeExchange(sent.options, response);
            if (!judged) {
              expectStatus(sent, [200, 400, 422], 'a raw query');
              return;
            }
            if (judged.expect === 'bad') {
              expectStatus(sent, [422], judged.why);
              return;
            }
            expectStatus(sent, judged.expect === 'ok' ? [200] : [200, 422], 'a valid query');
            if (response.statusCode !== 200 || !modelledQ(judged.query.q)) return;
            modelled += 1;
            fixture.tally('modelled', sent);
            const { query } = judged;
            const { matching, start } = modelList(all, query);
            assert.deepEqual(response.json(), matching.slice(start, start + query.limit), `the page is not the model's:\n${where}`);
            const counted = query.count ?? true;
            assert.equal(response.headers['x-total-count'], counted ? String(matching.length) : undefined, `X-Total-Count:\n${where}`);
            const links = parseLinks(response.headers['link'] as string | undefined);
            assert.ok(links.has('first'), `Link first:\n${where}`);
            assert.equal(links.has('prev'), query.cursor === undefined && query.offset > 0, `Link prev:\n${where}`);
            assert.equal(links.has('last'), counted && matching.length > 0, `Link last:\n${where}`);
            assert.equal(links.has('next'), matching.length > start + query.limit, `Link next:\n${where}`);
            // Follow next (a keyset cursor) up to twice: each page continues exactly where the last one ended.
            let next = links.get('next');
            for (let page = 1; next !== undefined && page <= 2; page += 1) {
              const followed = await fixture.send({ method: 'GET', url: next });
              const followedWhere = describeExchange(followed.options, followed.response);
              assert.equal(followed.response.statusCode, 200, followedWhere);
              const from = start + page * query.limit;
              assert.deepEqual(followed.response.json(), matching.slice(from, from + query.limit), `the next page is not the model's:\n${followedWhere}`);
              const nextLinks = parseLinks(followed.response.headers['link'] as string | undefined);
              assert.equal(nextLinks.has('next'), matching.length > from + query.limit, `Link next of a next page:\n${followedWhere}`);
              next = nextLinks.get('next');
            }
          }),
          FC_OPTIONS,
        );
        assert.ok(modelled > 0 || RUNS < 50, 'some queries are checked against the model');
      });
    });
  });
}
