import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { MAX_LISTED_ISSUES, type ValidationIssue, type ValidationIssues } from '../errors.js';
import { TEXT_RULES, type TextRule } from '../users/users.fields.js';
import { compileInBackground } from './background-compile.js';

type Part = 'body' | 'querystring' | 'params' | 'headers';

/**
 * Installs the validators: bodies are never coerced (`"30"`, `30.5` and `true` are not ages), while the
 * query string and path, which are text by nature, are coerced to their declared types. Both report every
 * problem at once, up to a bound (see `boundedValidator`).
 *
 * Nothing is compiled at start-up (ajv's code generation was a fifth of it): a validator is compiled at its
 * first use, or in the background once the server listens, one per turn of the event loop so that requests are
 * answered in between. A schema that does not compile fails its requests (500, logged) instead of the start-up.
 */
export function installValidators(app: FastifyInstance): void {
  let ajvs: { body: Ajv; text: Ajv } | undefined;
  // Created at the first compilation, with the shared schemas (User, UserCreate...) that route schemas reference by $ref.
  const ajvsOf = () => {
    if (ajvs) return ajvs;
    // validateSchema: false: the schemas are the service's own, checked by its tests; checking them against the
    // JSON Schema meta-schema would compile that meta-schema first, in each instance (~15 ms apiece).
    const common = { allErrors: true, strict: false, removeAdditional: false, validateSchema: false } as const;
    const created = {
      body: new Ajv({ ...common, coerceTypes: false, useDefaults: false }),
      text: new Ajv({ ...common, coerceTypes: true, useDefaults: true }),
    };
    for (const ajv of [created.body, created.text]) {
      addFormats.default(ajv, ['email', 'date-time']);
      addTextRules(ajv);
      for (const shared of Object.values(app.getSchemas())) ajv.addSchema(shared as object);
    }
    return (ajvs = created);
  };
  const pending: (() => unknown)[] = [];

  app.setValidatorCompiler(({ schema, httpPart }) => {
    // Header values are strings by nature: a header schema that says only that (If-Match, If-None-Match,
    // documented for OpenAPI) has nothing to check, so it costs nothing per request.
    if (httpPart === 'headers' && onlyDocumentsStrings(schema)) return () => true;
    const validator = boundedValidator(() => {
      const ajv = httpPart === 'body' ? ajvsOf().body : ajvsOf().text;
      return { validate: ajv.compile(schema as FastifySchema), declared: closedObjectProperties(ajv, schema) };
    });
    pending.push(validator.compile);
    return validator;
  });

  app.addHook('onListen', function warm(done) {
    done();
    compileInBackground(pending);
  });
}

/** Ajv errors of one request part, with the number of problems past the bound that were counted, not looked at. */
type BoundedErrors = ErrorObject[] & { skipped?: number };

const TEXT_CHECKS: Record<TextRule, (text: string) => boolean> = {
  // With the u flag a pair of surrogates is one code point: only a lone surrogate is in Cs.
  'x-well-formed': (text) => !/\p{Cs}/u.test(text),
  'x-not-blank': (text) => /\S/.test(text),
};

/**
 * The text rules no portable pattern can say (users.fields.ts TEXT_RULES) as ajv keywords: `true` turns the
 * rule on for a string. Their errors carry the keyword, which messageOf words.
 */
function addTextRules(ajv: Ajv): void {
  for (const [keyword, check] of Object.entries(TEXT_CHECKS)) {
    ajv.addKeyword({ keyword, type: 'string', schemaType: 'boolean', validate: (on: boolean, text: string) => !on || check(text) });
  }
}

/** The most ajv errors handed on when no cheaper bound applies (a few per listed problem, for duplicates). */
const MAX_RAW_ERRORS = 4 * MAX_LISTED_ISSUES;

// Keywords a closed object schema may carry besides its own without changing what an unknown key costs.
const ANNOTATIONS = new Set([
  '$id',
  '$schema',
  '$comment',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/**
 * The property names of a schema that is a closed object (`additionalProperties: false`, declared
 * `properties`, perhaps `required`, behind `$ref`s): every key it does not declare is exactly one problem,
 * "is not an allowed field". Null for any other schema, whose problems cannot be counted without validating.
 */
function closedObjectProperties(ajv: Ajv, schema: unknown): Set<string> | null {
  let current = schema;
  for (let hops = 0; hops < 8; hops++) {
    if (typeof current !== 'object' || current === null) return null;
    const keywords = Object.keys(current).filter((key) => !ANNOTATIONS.has(key) && ajv.getKeyword(key) !== false);
    const { $ref, type, properties, additionalProperties } = current as Record<string, unknown>;
    if (typeof $ref === 'string' && keywords.length === 1) {
      current = ajv.getSchema($ref)?.schema;
      continue;
    }
    const closed =
      type === 'object' &&
      additionalProperties === false &&
      typeof properties === 'object' &&
      properties !== null &&
      keywords.every((key) => ['type', 'properties', 'additionalProperties', 'required'].includes(key));
    return closed ? new Set(Object.keys(properties)) : null;
  }
  return null;
}

interface Compiled {
  validate: ValidateFunction;
  /** The fields of a closed object schema (see closedObjectProperties), else null. */
  declared: Set<string> | null;
}

/** A validator as Fastify calls it, compiled at its first call or by `compile()`, whichever comes first. */
type LazyValidator = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => boolean) & { compile(): Compiled };

/**
 * Wraps an ajv validator so that the problems of one request part cost a bounded amount of work, whatever
 * the client sends. An object with more than MAX_LISTED_ISSUES keys that its closed schema does not declare
 * (a 1 MB body holds 90,000) is validated as a view holding its declared fields and only the first
 * MAX_LISTED_ISSUES unknown ones; each unknown key past those is one more "is not an allowed field", counted
 * without being validated. With any other schema the validator runs as it is, and its errors past
 * MAX_RAW_ERRORS are counted, not mapped. A valid request pays only for listing its keys.
 */
function boundedValidator(build: () => Compiled): LazyValidator {
  let compiled: Compiled | undefined;
  // Not kept when it throws: each request that needs the validator tries again, and fails the same way.
  const compile = () => (compiled ??= build());
  const check = (data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const { validate, declared } = compiled ?? compile();
    let view: Record<string, unknown> | undefined;
    let skipped = 0;
    if (declared !== null && typeof data === 'object' && data !== null && !Array.isArray(data)) {
      // Listed once, and only the first few keys looked at: on an object of 90,000 keys, listing them costs
      // more than all the rest of the validator.
      const keys = Object.keys(data);
      if (keys.length > MAX_LISTED_ISSUES) {
        const record = data as Record<string, unknown>;
        const present = [...declared].filter((key) => Object.hasOwn(record, key));
        const unknown = keys.length - present.length;
        if (unknown > MAX_LISTED_ISSUES) {
          // Null prototype: a key named __proto__ (possible in a query string) stays a plain key.
          view = Object.create(null) as Record<string, unknown>;
          for (const key of present) view[key] = record[key];
          let kept = 0;
          for (let i = 0; kept < MAX_LISTED_ISSUES; i++) {
            const key = keys[i]!;
            if (!declared.has(key)) {
              view[key] = record[key];
              kept++;
            }
          }
          skipped = unknown - MAX_LISTED_ISSUES;
        }
      }
    }
    // The view is invalid by construction (it keeps unknown keys), so coercion and defaults applied to it
    // instead of to the request part change nothing: the request is answered 422. Fastify reads `errors` only
    // after a false answer, so a valid request does not reset it.
    if (view === undefined ? validate(data, context) : validate(view)) return true;
    let errors: BoundedErrors = validate.errors ?? [];
    if (errors.length > MAX_RAW_ERRORS) {
      skipped += errors.length - MAX_RAW_ERRORS;
      errors = errors.slice(0, MAX_RAW_ERRORS);
    }
    if (skipped > 0) errors.skipped = skipped;
    check.errors = errors;
    return false;
  };
  check.errors = null as BoundedErrors | null;
  // Fastify passes the parent of the request part to validators that have a `schemaEnv` (every ajv validator
  // does), so that a coerced or defaulted root value is written back. Known before the compilation: always set.
  return Object.assign(check, { compile, schemaEnv: COMPILED_BY_AJV });
}

const COMPILED_BY_AJV = Object.freeze({});

/** Messages for the patterns of the schemas, by pattern: a feature passes its own (a regex means nothing to a client). */
export type PatternMessages = Readonly<Record<string, string>>;

function onlyDocumentsStrings(schema: unknown): boolean {
  const properties = (schema as { properties?: Record<string, object> }).properties ?? {};
  const required = (schema as { required?: unknown[] }).required ?? [];
  return (
    required.length === 0 &&
    Object.values(properties).every((property) =>
      Object.keys(property).every((keyword) => ['type', 'description', 'examples'].includes(keyword)),
    )
  );
}

const LOCATION: Record<Part, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

// Field names are client input: shown as they are only when they cannot carry markup; otherwise every other
// UTF-16 unit is escaped as %XX / %uXXXX (never throws, unlike encodeURIComponent on a lone surrogate).
const showField = (field: string) =>
  field
    .slice(0, 100)
    .replace(/[^\w.$-]/g, (unit) => {
      const code = unit.charCodeAt(0);
      return code < 0x100 ? `%${code.toString(16).padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
    });

function messageOf(error: ErrorObject, patternMessages: PatternMessages): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed field';
    case 'type':
      return `must be ${String(error.params['type']).split(',').join(' or ')}`;
    case 'format':
      return `must be a valid ${String(error.params['format'])}`;
    case 'x-well-formed':
    case 'x-not-blank':
      return TEXT_RULES[error.keyword].message;
    case 'pattern':
      return patternMessages[String(error.params['pattern'])] ?? 'has an invalid format';
    case 'enum':
      return `must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Turns ajv errors into one issue per problem, located as [part, ...path]. At most MAX_LISTED_ISSUES are
 * returned; when there are more, those about declared fields come before unknown fields, and the list's
 * `omitted` counts the rest (with the problems the validator counted without looking at them).
 */
export function toValidationIssues(
  errors: BoundedErrors,
  part: string | undefined,
  patternMessages: PatternMessages = {},
): ValidationIssues {
  const where = LOCATION[part as Part] ?? part ?? 'request';
  const issues: ValidationIssue[] = [];
  const unknownField: boolean[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((segment) => showField(segment.replace(/~1/g, '/').replace(/~0/g, '~')));
    const field = error.params['missingProperty'] ?? error.params['additionalProperty'];
    if (typeof field === 'string') path.push(showField(field));
    const issue = { location: [where, ...path], message: messageOf(error, patternMessages) };
    const key = JSON.stringify(issue);
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
      unknownField.push(error.keyword === 'additionalProperties');
    }
  }
  const skipped = errors.skipped ?? 0;
  if (issues.length <= MAX_LISTED_ISSUES && skipped === 0) return issues;
  // A real problem (a missing or malformed field) must not be crowded out by thousands of unknown fields.
  const listed: ValidationIssues = [
    ...issues.filter((_issue, i) => !unknownField[i]),
    ...issues.filter((_issue, i) => unknownField[i]),
  ].slice(0, MAX_LISTED_ISSUES);
  listed.omitted = skipped + issues.length - listed.length;
  return listed;
}
