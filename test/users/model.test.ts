import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Type } from 'typebox';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { userFields, type FieldSpec } from '../../src/users/users.fields.js';
import { defineUserModel, userModel } from '../../src/users/users.schemas.js';
import { createTestDatabase, TEST_DIALECTS } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';
import { OpenApiResponseChecker } from '../helpers/openapi.js';

// The recipe "add a field" of the README, exercised: one more entry in a copy of the declaration (and its column,
// as its migration would add it) gives create, read, patch, filter, the OpenAPI document and complete idempotent
// replays, on both dialects, without a change anywhere else.

const phone: FieldSpec = {
  schema: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    pattern: '^\\+[1-9][0-9]{1,14}$',
    description: 'E.164 phone number, or null',
    examples: ['+4930123456'],
  }),
  label: 'phone',
  patternMessage: 'must be an E.164 number such as +4930123456 (in a query string, send + as %2B)',
  create: 'optional',
  patch: true,
  filter: 'exact',
};
const phoneModel = defineUserModel({ ...userFields, phone });

describe('the model derived from the declaration', () => {
  it('names every field of the declaration in the seed model family, in declaration order', () => {
    const properties = (schema: unknown) => Object.keys((schema as { properties: object }).properties);
    const declared = Object.keys(userFields);
    assert.deepEqual(properties(userModel.schemas.User), declared);
    assert.deepEqual(properties(userModel.schemas.UserCreate), ['first_name', 'last_name', 'age', 'email']);
    assert.deepEqual((userModel.schemas.UserCreate as { required?: string[] }).required, ['first_name', 'last_name', 'email']);
    assert.deepEqual(properties(userModel.schemas.UserUpdate), ['first_name', 'last_name', 'age', 'email']);
    assert.equal((userModel.schemas.UserUpdate as { required?: string[] }).required, undefined);
    assert.deepEqual([...userModel.sorts.keys()], declared);
    assert.deepEqual(userModel.filterParams, ['first_name', 'last_name', 'min_age', 'max_age', 'email', 'q']);
  });

  it('takes range bounds from the field schema', () => {
    const query = userModel.schemas.UserListQuery as { properties: Record<string, { minimum?: number; maximum?: number }> };
    const age = userFields.age.schema as unknown as { minimum: number; maximum: number };
    for (const param of ['min_age', 'max_age']) {
      assert.equal(query.properties[param]!.minimum, age.minimum);
      assert.equal(query.properties[param]!.maximum, age.maximum);
    }
  });

  it('refuses a range filter on a field that is not an integer', () => {
    assert.throws(
      () => defineUserModel({ ...userFields, nickname: { ...phone, filter: { kind: 'range', min: 'a', max: 'b' } } }),
      /nickname: a range filter needs an integer field/,
    );
  });
});

for (const dialect of TEST_DIALECTS) {
  describe(`a field added to the declaration (${dialect})`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    let app: FastifyInstance;
    let checker: OpenApiResponseChecker;
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' });

    beforeEach(async () => {
      ({ database, drop } = await createTestDatabase(dialect, config));
      // What the field's migration would do.
      const addColumn = 'ALTER TABLE users ADD COLUMN phone text';
      if (database.dialect === 'sqlite') database.sqlite.exec(addColumn);
      else await database.pool.query(addColumn);
      app = await buildApp(config, { database, logger: false, userModel: phoneModel });
      await app.ready();
      checker = new OpenApiResponseChecker(app.swagger() as never);
    });
    afterEach(async () => {
      await app.close();
      await drop();
    });

    const request = async (options: InjectOptions & { url: string }) => {
      const response = await app.inject(options);
      const problems = checker.check(
        options.method ?? 'GET',
        options.url,
        response.statusCode,
        response.headers['content-type'] as string | undefined,
        response.body,
      );
      assert.deepEqual(problems, [], 'the response matches the OpenAPI document');
      return response;
    };

    it('is created, read, patched and returned, and null when absent', async () => {
      const created = await request({ method: 'POST', url: '/users/', payload: userInput({ phone: '+4930123456' }) });
      assert.equal(created.statusCode, 201);
      assert.equal(created.json().phone, '+4930123456');
      const without = await request({ method: 'POST', url: '/users/', payload: userInput() });
      assert.equal(without.json().phone, null);
      const id = created.json().id as number;
      const patched = await request({ method: 'PATCH', url: `/users/${id}`, payload: { phone: '+14155550100' } });
      assert.equal(patched.statusCode, 200);
      assert.equal(patched.json().phone, '+14155550100');
      assert.equal((await request({ url: `/users/${id}` })).json().phone, '+14155550100');
      const cleared = await request({ method: 'PATCH', url: `/users/${id}`, payload: { phone: null } });
      assert.equal(cleared.json().phone, null);
    });

    it('is validated by its own rules, with its own message', async () => {
      const response = await request({ method: 'POST', url: '/users/', payload: userInput({ phone: '030 123456' }) });
      assert.equal(response.statusCode, 422);
      assert.deepEqual(response.json().errors, [{ location: ['body', 'phone'], message: phone.patternMessage }]);
    });

    it('filters the list, with a total, and tells a client that sent + unencoded what to do', async () => {
      await request({ method: 'POST', url: '/users/', payload: userInput({ phone: '+4930123456' }) });
      const match = await request({ method: 'POST', url: '/users/', payload: userInput({ phone: '+4930999999' }) });
      await request({ method: 'POST', url: '/users/', payload: userInput() });
      const list = await request({ url: '/users/?phone=%2B4930999999' });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().map((user: { id: number }) => user.id), [match.json().id]);
      assert.equal(list.headers['x-total-count'], '1');
      assert.match(String(list.headers['link']), /phone=%2B4930999999/);
      const unencoded = await request({ url: '/users/?phone=+4930999999' });
      assert.equal(unencoded.statusCode, 422);
      assert.deepEqual(unencoded.json().errors, [{ location: ['query', 'phone'], message: phone.patternMessage }]);
    });

    it('is documented in the OpenAPI document: model, update, list parameter', async () => {
      const document = app.swagger() as {
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
        paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      };
      for (const name of ['User', 'UserCreate', 'UserUpdate']) assert.ok(document.components.schemas[name]!.properties['phone'], name);
      const parameters = document.paths['/users/']!['get']!.parameters!.map((parameter) => parameter.name);
      assert.ok(parameters.includes('phone'));
    });

    it('completes a response stored for an Idempotency-Key before the field existed', async () => {
      // The same database served by the model without the field: the stored response has no phone.
      const before = await buildApp(config, { database, logger: false });
      const body = userInput();
      const headers = { 'idempotency-key': 'before-the-migration' };
      const first = await before.inject({ method: 'POST', url: '/users/', payload: body, headers });
      await before.close();
      assert.equal(first.statusCode, 201);
      assert.equal('phone' in first.json(), false);
      const replay = await request({ method: 'POST', url: '/users/', payload: body, headers });
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(replay.json(), { ...first.json(), phone: null });
    });
  });
}
