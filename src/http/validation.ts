import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { ValidationIssue } from '../errors.js';

type Part = 'body' | 'querystring' | 'params' | 'headers';

/**
 * Installs the validators: bodies are never coerced (`"30"`, `30.5` and `true` are not ages), while the
 * query string and path, which are text by nature, are coerced to their declared types. Both report every
 * problem at once.
 */
export function installValidators(app: FastifyInstance): void {
  const common = { allErrors: true, strict: false, removeAdditional: false } as const;
  const bodyAjv = new Ajv({ ...common, coerceTypes: false, useDefaults: false });
  const textAjv = new Ajv({ ...common, coerceTypes: true, useDefaults: true });
  for (const ajv of [bodyAjv, textAjv]) addFormats.default(ajv, ['email', 'date-time']);
  let schemasAdded = false;

  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (!schemasAdded) {
      // Shared schemas (User, UserCreate...) are referenced by $ref from the route schemas.
      for (const shared of Object.values(app.getSchemas())) {
        bodyAjv.addSchema(shared as object);
        textAjv.addSchema(shared as object);
      }
      schemasAdded = true;
    }
    // Header values are strings by nature: a header schema that says only that (If-Match, If-None-Match,
    // documented for OpenAPI) has nothing to check, so it costs nothing per request.
    if (httpPart === 'headers' && onlyDocumentsStrings(schema)) return () => true;
    return (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as FastifySchema);
  });
}

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
    case 'pattern':
      return patternMessages[String(error.params['pattern'])] ?? 'has an invalid format';
    case 'enum':
      return `must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** Turns ajv errors into one issue per problem, located as [part, ...path]. */
export function toValidationIssues(
  errors: ErrorObject[],
  part: string | undefined,
  patternMessages: PatternMessages = {},
): ValidationIssue[] {
  const where = LOCATION[part as Part] ?? part ?? 'request';
  const issues: ValidationIssue[] = [];
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
    }
  }
  return issues;
}
