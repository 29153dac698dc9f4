import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { userModel } from '../../src/users/users.schemas.js';

// The OpenAPI document checked against the contract (../shared/CONTRACT.md): valid 3.1, and complete:
// every route, parameter, body, status code, header, summary and example a client relies on.

interface Schema {
  $ref?: string;
  type?: string | string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  examples?: unknown[];
  [keyword: string]: unknown;
}
interface Header {
  description?: string;
  schema?: Schema;
}
interface Response {
  description: string;
  headers?: Record<string, Header>;
  content?: Record<string, { schema: Schema }>;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** The operations of the contract and the status codes each must document. */
const CONTRACT: { method: string; path: string; statuses: number[] }[] = [
  { method: 'get', path: '/', statuses: [200] },
  { method: 'get', path: '/healthcheck', statuses: [200, 503] },
  { method: 'post', path: '/users/', statuses: [201, 409, 413, 415, 422] },
  { method: 'get', path: '/users/', statuses: [200, 422] },
  { method: 'get', path: '/users/{user_id}', statuses: [200, 404, 422] },
  { method: 'patch', path: '/users/{user_id}', statuses: [200, 404, 409, 413, 415, 422] },
  { method: 'delete', path: '/users/{user_id}', statuses: [200, 404] },
];

// UserBase is not a component: no request or response is exactly it (as in the seed's own FastAPI document).
const SEED_MODELS = ['UserCreate', 'UserUpdate', 'User', 'Problem'];
// The fields, sorts and filters come from the declaration (src/users/users.fields.ts), through the model.
const names = (fields: { name: string }[]) => fields.map((field) => field.name);
const LIST_PARAMETERS = ['offset', 'limit', 'sort', 'cursor', ...userModel.filterParams, 'count'];
const SORT_FIELDS = [...userModel.sorts.keys()];
const PROBLEM_REF = '#/components/schemas/Problem';
const USER_REF = '#/components/schemas/User';

describe('the OpenAPI document served at GET /openapi.json', () => {
  let testApp: TestApp;
  let document: OpenApiDocument;
  let contentType: string | undefined;
  let statusCode: number;

  const operation = (method: string, path: string): Operation => {
    const found = document.paths[path]?.[method];
    assert.ok(found, `${method.toUpperCase()} ${path} must be documented`);
    return found;
  };
  const allOperations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, op })),
    );

  /** Validates a value against a schema of the document, with the document's components in scope. */
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const schemaErrors = (schema: Schema, value: unknown): string | null => {
    const check = ajv.compile({ ...schema, components: document.components });
    return check(value) ? null : ajv.errorsText(check.errors);
  };

  before(async () => {
    testApp = await buildTestApp();
    const response = await testApp.app.inject({ method: 'GET', url: '/openapi.json' });
    statusCode = response.statusCode;
    contentType = response.headers['content-type'] as string | undefined;
    document = response.json<OpenApiDocument>();
  });

  after(async () => {
    await testApp?.close();
  });

  it('is served with status 200 as JSON', () => {
    assert.equal(statusCode, 200);
    assert.match(contentType ?? '', /^application\/json\b/);
  });

  it('passes @readme/openapi-parser validation as an OpenAPI 3.1 document, without warnings', async () => {
    // validate() dereferences in place: give it a copy so the other tests see the document as served.
    const result = await validate(structuredClone(document) as never);
    assert.equal(result.valid, true, result.valid ? '' : compileErrors(result));
    assert.equal(result.specification, 'OpenAPI');
    assert.deepEqual(result.warnings, []);
  });

  it('declares OpenAPI version 3.1.x and has a title and version', () => {
    assert.match(document.openapi, /^3\.1\.\d+$/);
    assert.ok(document.info.title.length > 0);
    assert.ok(document.info.version.length > 0);
  });

  it('names its schema components after the seed models, not with generated names like def-0', () => {
    const names = Object.keys(document.components.schemas);
    for (const model of SEED_MODELS) assert.ok(names.includes(model), `components.schemas must contain ${model}`);
    const generated = names.filter((name) => /^def-\d+$/.test(name));
    assert.deepEqual(generated, [], 'no component may have a generated name');
  });

  it('gives each seed model exactly the fields of the declaration', () => {
    const { User, UserCreate, UserUpdate } = document.components.schemas;
    const userFields = names(userModel.fields);
    const created = names(userModel.created);
    const required = names(userModel.created.filter((field) => field.spec.create === 'required'));
    const patched = names(userModel.patched);
    assert.deepEqual(Object.keys(User?.properties ?? {}).sort(), [...userFields].sort());
    assert.deepEqual([...(User?.required ?? [])].sort(), [...userFields].sort());
    assert.deepEqual(Object.keys(UserCreate?.properties ?? {}).sort(), [...created].sort());
    assert.deepEqual([...(UserCreate?.required ?? [])].sort(), [...required].sort());
    assert.deepEqual(Object.keys(UserUpdate?.properties ?? {}).sort(), [...patched].sort());
    assert.deepEqual(UserUpdate?.required ?? [], [], 'every UserUpdate field is optional');
    for (const [name, schema] of Object.entries({ UserCreate, UserUpdate })) {
      assert.equal(schema?.additionalProperties, false, `${name} must reject unknown fields`);
    }
  });

  it('documents the contract paths with exactly their operations, and HEAD beside every GET', () => {
    const expected: Record<string, string[]> = {};
    for (const { method, path } of CONTRACT) (expected[path] ??= []).push(method, ...(method === 'get' ? ['head'] : []));
    for (const [path, methods] of Object.entries(expected)) {
      assert.ok(document.paths[path], `path ${path} must be documented`);
      assert.deepEqual(Object.keys(document.paths[path]).sort(), [...methods].sort(), `operations of ${path}`);
    }
  });

  for (const { method, path, statuses } of CONTRACT) {
    it(`documents every contract status code of ${method.toUpperCase()} ${path}: ${statuses.join(', ')}`, () => {
      const documented = Object.keys(operation(method, path).responses);
      const missing = statuses.filter((status) => !documented.includes(String(status)));
      assert.deepEqual(missing, [], `documented: ${documented.join(', ')}`);
    });
  }

  it('describes every error response as application/problem+json: the Problem schema with an enum of its codes', () => {
    const wrong: string[] = [];
    for (const { label, op } of allOperations()) {
      if (label.startsWith('HEAD ')) continue; // no body
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const media = Object.keys(response.content ?? {});
        const [problem, narrowed] = (response.content?.['application/problem+json']?.schema?.['allOf'] ?? []) as Schema[];
        const codes = narrowed?.properties?.['code']?.enum ?? [];
        if (media.length !== 1 || problem?.$ref !== PROBLEM_REF || codes.length === 0) wrong.push(`${label} ${status}: ${media.join(', ')}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('describes every success response as application/json with a schema (the export: CSV and NDJSON), and 304 as empty', () => {
    for (const { label, op } of allOperations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) continue;
        if (status === '304' || label.startsWith('HEAD ')) {
          assert.equal(response.content, undefined, `${label} 304 has no body`);
          continue;
        }
        if (label === 'GET /users/export') {
          assert.deepEqual(Object.keys(response.content ?? {}), ['text/csv', 'application/x-ndjson'], label);
          for (const media of Object.values(response.content ?? {})) assert.equal(media.schema.type, 'string', label);
          continue;
        }
        assert.ok(response.content?.['application/json']?.schema, `${label} ${status} must have an application/json schema`);
      }
    }
  });

  it('returns User from create, read and update, and an array of User from the list', () => {
    assert.equal(operation('post', '/users/').responses['201']?.content?.['application/json']?.schema.$ref, USER_REF);
    assert.equal(operation('get', '/users/{user_id}').responses['200']?.content?.['application/json']?.schema.$ref, USER_REF);
    assert.equal(operation('patch', '/users/{user_id}').responses['200']?.content?.['application/json']?.schema.$ref, USER_REF);
    const list = operation('get', '/users/').responses['200']?.content?.['application/json']?.schema;
    assert.equal(list?.type, 'array');
    assert.equal(list?.items?.$ref, USER_REF);
  });

  it('documents DELETE success as {"ok": true} and the health check as {"status": "ok", ...}', () => {
    const deleted = operation('delete', '/users/{user_id}').responses['200']?.content?.['application/json']?.schema;
    assert.equal(schemaErrors(deleted ?? {}, { ok: true }), null);
    assert.notEqual(schemaErrors(deleted ?? {}, { ok: false }), null);
    const health = operation('get', '/healthcheck').responses['200']?.content?.['application/json']?.schema;
    assert.equal(schemaErrors(health ?? {}, { status: 'ok', message: 'The service is healthy' }), null);
  });

  it('requires a UserCreate body on POST and a UserUpdate body on PATCH, as application/json', () => {
    const create = operation('post', '/users/').requestBody;
    assert.equal(create?.required, true);
    assert.deepEqual(Object.keys(create?.content ?? {}), ['application/json']);
    assert.equal(create?.content['application/json']?.schema.$ref, '#/components/schemas/UserCreate');
    const update = operation('patch', '/users/{user_id}').requestBody;
    assert.equal(update?.required, true);
    assert.deepEqual(Object.keys(update?.content ?? {}), ['application/json']);
    assert.equal(update?.content['application/json']?.schema.$ref, '#/components/schemas/UserUpdate');
  });

  it('documents user_id as a required positive integer path parameter on every /users/{user_id} operation', () => {
    for (const method of ['get', 'patch', 'delete']) {
      const parameters = operation(method, '/users/{user_id}').parameters ?? [];
      const userId = parameters.find((parameter) => parameter.name === 'user_id');
      assert.ok(userId, `${method.toUpperCase()} /users/{user_id} must document user_id`);
      assert.equal(userId.in, 'path');
      assert.equal(userId.required, true);
      assert.equal(userId.schema?.type, 'integer');
      assert.equal(userId.schema?.minimum, 1);
    }
  });

  it('documents the list query parameters offset, limit, sort, cursor, count and the filters, each with a schema and a description', () => {
    const parameters = operation('get', '/users/').parameters ?? [];
    const query = parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
    assert.deepEqual([...query].sort(), [...LIST_PARAMETERS].sort(), 'exactly the parameters of the list and the filters of the declaration');
    for (const name of LIST_PARAMETERS) {
      const parameter = parameters.find((candidate) => candidate.name === name);
      assert.ok(parameter, `GET /users/ must document the query parameter ${name}`);
      assert.equal(parameter.in, 'query', `${name} is a query parameter`);
      assert.ok(parameter.schema, `${name} must have a schema`);
      assert.ok(parameter.description, `${name} must have a description`);
    }
  });

  it('documents the list bounds and defaults of the contract: offset >= 0 (0), limit 1-100 (100), sort (id)', () => {
    const parameters = operation('get', '/users/').parameters ?? [];
    const schemaOf = (name: string) => parameters.find((parameter) => parameter.name === name)?.schema ?? {};
    assert.deepEqual(
      { type: schemaOf('offset').type, minimum: schemaOf('offset').minimum, default: schemaOf('offset').default },
      { type: 'integer', minimum: 0, default: 0 },
    );
    assert.deepEqual(
      {
        type: schemaOf('limit').type,
        minimum: schemaOf('limit').minimum,
        maximum: schemaOf('limit').maximum,
        default: schemaOf('limit').default,
      },
      { type: 'integer', minimum: 1, maximum: 100, default: 100 },
    );
    assert.equal(schemaOf('sort').default, 'id');
    const sortValues = schemaOf('sort').enum ?? [];
    for (const field of SORT_FIELDS) {
      assert.ok(sortValues.includes(field), `sort must accept ${field}`);
      assert.ok(sortValues.includes(`-${field}`), `sort must accept -${field}`);
    }
    assert.equal(sortValues.length, 2 * SORT_FIELDS.length, 'sort accepts only the sortable fields of the declaration');
    // A range filter's bounds are its field's, as the field's schema declares them.
    const ranges = userModel.filters.flatMap((filter) => (filter.kind === 'range' ? [filter] : []));
    assert.ok(ranges.length > 0, 'the declaration has a range filter (min_age, max_age)');
    for (const { field, min, max } of ranges) {
      const { minimum, maximum } = field.spec.schema as { minimum?: number; maximum?: number };
      for (const name of [min, max]) {
        assert.deepEqual(
          { type: schemaOf(name).type, minimum: schemaOf(name).minimum, maximum: schemaOf(name).maximum },
          { type: 'integer', minimum, maximum },
          name,
        );
      }
    }
  });

  it('marks every list query parameter optional, since each is a filter or has a default', () => {
    const required = (operation('get', '/users/').parameters ?? [])
      .filter((parameter) => parameter.in === 'query' && parameter.required === true)
      .map((parameter) => parameter.name);
    assert.deepEqual(required, []);
  });

  it('documents the Location header of a 201 and the X-Total-Count and Link headers of a list page', () => {
    const created = operation('post', '/users/').responses['201']?.headers ?? {};
    assert.equal(created['Location']?.schema?.type, 'string');
    assert.ok(created['Location']?.description);
    const page = operation('get', '/users/').responses['200']?.headers ?? {};
    assert.equal(page['X-Total-Count']?.schema?.type, 'integer');
    assert.ok(page['X-Total-Count']?.description);
    assert.equal(page['Link']?.schema?.type, 'string');
    assert.ok(page['Link']?.description);
  });

  it('gives every operation a summary and a tag, and every response a description', () => {
    for (const { label, op } of allOperations()) {
      assert.ok(op.summary && op.summary.trim().length > 0, `${label} must have a summary`);
      assert.ok(op.tags && op.tags.length > 0, `${label} must have a tag`);
      for (const [status, response] of Object.entries(op.responses)) {
        assert.ok(response.description.trim().length > 0, `${label} ${status} must have a description`);
      }
    }
  });

  it('gives every User and UserCreate field an example that its own schema accepts', () => {
    for (const model of ['User', 'UserCreate', 'UserUpdate']) {
      for (const [field, schema] of Object.entries(document.components.schemas[model]?.properties ?? {})) {
        assert.ok(schema.examples && schema.examples.length > 0, `${model}.${field} must have an example`);
        for (const example of schema.examples) {
          assert.equal(schemaErrors(schema, example), null, `${model}.${field} example ${JSON.stringify(example)}`);
        }
      }
    }
  });

  it('gives a whole User, assembled from its field examples, that the User schema accepts', () => {
    const properties = document.components.schemas['User']?.properties ?? {};
    const user = Object.fromEntries(Object.entries(properties).map(([field, schema]) => [field, schema.examples?.[0]]));
    assert.equal(schemaErrors({ $ref: USER_REF }, user), null);
  });

  it('gives UserCreate and UserUpdate whole-body examples that their schemas accept', () => {
    for (const model of ['UserCreate', 'UserUpdate']) {
      const examples = document.components.schemas[model]?.examples ?? [];
      assert.ok(examples.length > 0, `${model} must have a whole-body example`);
      for (const example of examples) {
        assert.equal(schemaErrors({ $ref: `#/components/schemas/${model}` }, example), null, `${model} example`);
      }
    }
  });

  it('documents a Problem with the RFC 9457 members, a stable code and the list of validation errors', () => {
    const problem = document.components.schemas['Problem'];
    for (const member of ['type', 'title', 'status', 'detail', 'code']) {
      assert.ok(problem?.required?.includes(member), `Problem.${member} must be required`);
    }
    assert.equal(problem?.properties?.['errors']?.type, 'array');
    const notFound = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'User not found', code: 'USER_NOT_FOUND' };
    assert.equal(schemaErrors({ $ref: PROBLEM_REF }, notFound), null);
  });

  it('does not document internal routes: the document itself and the docs UI', () => {
    for (const path of ['/openapi.json', '/docs', '/docs/json']) {
      assert.equal(document.paths[path], undefined, `${path} must not be an operation of the API`);
    }
  });
});
