import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { boundsOf, lengthOf, userInput } from '../helpers/factories.js';
import { userModel } from '../../src/users/users.schemas.js';

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Every field of a user, and those a client sends on create. */
const USER_KEYS = userModel.fields.map((field) => field.name);
const CREATED_KEYS = userModel.created.map((field) => field.name);
const [AGE_MIN, AGE_MAX] = boundsOf('age');
const NAME_MAX = lengthOf('first_name')[1];
const EMAIL_MAX = lengthOf('email')[1];

for (const dialect of TEST_DIALECTS) {
  describe(`POST /users/ (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const create = (payload: unknown, headers: Record<string, string> = {}) =>
      t.request({ method: 'POST', url: '/users/', payload: payload as object, headers });
    const count = async () => Number((await t.request({ url: '/users/' })).headers['x-total-count']);

    it('creates a user and answers 201 with the user and its Location', async () => {
      const input = userInput({ first_name: 'John', last_name: 'Doe', age: 30 });
      const response = await create(input);
      assert.equal(response.statusCode, 201);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const user = response.json();
      assert.equal(response.headers['location'], `/users/${user.id}`);
      assert.deepEqual(Object.keys(user).sort(), [...USER_KEYS].sort());
      assert.deepEqual(Object.fromEntries(CREATED_KEYS.map((key) => [key, user[key]])), input);
      assert.ok(Number.isInteger(user.id) && user.id > 0);
      assert.match(user.created_at, TIMESTAMP);
      assert.equal(user.updated_at, user.created_at);
      const fetched = await t.request({ url: `/users/${user.id}` });
      assert.deepEqual(fetched.json(), user);
    });

    it('stores a missing age as null', async () => {
      const { age: _age, ...input } = userInput();
      const response = await create(input);
      assert.equal(response.statusCode, 201);
      assert.equal(response.json().age, null);
    });

    it(`accepts an explicit null age and the bounds ${AGE_MIN} and ${AGE_MAX}`, async () => {
      for (const age of [null, AGE_MIN, AGE_MAX]) {
        const response = await create(userInput({ age }));
        assert.equal(response.statusCode, 201, `age ${age}`);
        assert.equal(response.json().age, age);
      }
    });

    it('accepts a name whose first character is a Unicode line separator', async () => {
      const response = await create(userInput({ last_name: '\u2029a' }));
      assert.equal(response.statusCode, 201);
    });

    it(`accepts names of exactly ${NAME_MAX} code points, emoji included`, async () => {
      const name = '😀'.repeat(NAME_MAX);
      const response = await create(userInput({ first_name: name, last_name: 'Ünïcødé' }));
      assert.equal(response.statusCode, 201);
      assert.equal(response.json().first_name, name);
      assert.equal(response.json().last_name, 'Ünïcødé');
    });

    it('assigns increasing ids that are never reused after a delete', async () => {
      const first = (await create(userInput())).json();
      const second = (await create(userInput())).json();
      assert.ok(second.id > first.id);
      assert.equal((await t.request({ method: 'DELETE', url: `/users/${second.id}` })).statusCode, 200);
      const third = (await create(userInput())).json();
      assert.ok(third.id > second.id, 'the id of the deleted highest user is not reused');
    });

    it('answers 409 EMAIL_TAKEN when the email is taken in another case, and creates nothing', async () => {
      await create(userInput({ email: 'John@X.com' }));
      const response = await create(userInput({ email: 'john@x.com' }));
      assert.equal(response.statusCode, 409);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(response.json(), {
        type: 'about:blank',
        title: 'Conflict',
        status: 409,
        detail: 'A user with this email already exists.',
        code: 'EMAIL_TAKEN',
      });
      assert.equal(await count(), 1);
    });

    const invalidBodies: [string, Record<string, unknown>, string[]][] = [
      ['age as a string', userInput({ age: '30' }), ['body', 'age']],
      ['a fractional age', userInput({ age: 30.5 }), ['body', 'age']],
      ['a boolean age', userInput({ age: true }), ['body', 'age']],
      [`an age below ${AGE_MIN}`, userInput({ age: AGE_MIN - 1 }), ['body', 'age']],
      [`an age above ${AGE_MAX}`, userInput({ age: AGE_MAX + 1 }), ['body', 'age']],
      ['a blank first name', userInput({ first_name: '   ' }), ['body', 'first_name']],
      ['a first name of only non-breaking spaces', userInput({ first_name: '\u00a0\u00a0' }), ['body', 'first_name']],
      ['a first name with a NUL character', userInput({ first_name: 'Jo\u0000hn' }), ['body', 'first_name']],
      ['a first name with a lone surrogate', userInput({ first_name: '\ud800x' }), ['body', 'first_name']],
      ['a last name with a line break', userInput({ last_name: 'Doe\nEvil' }), ['body', 'last_name']],
      ['an empty last name', userInput({ last_name: '' }), ['body', 'last_name']],
      [`a name of ${NAME_MAX + 1} code points`, userInput({ first_name: 'a'.repeat(NAME_MAX + 1) }), ['body', 'first_name']],
      ['a null first name', userInput({ first_name: null }), ['body', 'first_name']],
      ['a numeric last name', userInput({ last_name: 42 }), ['body', 'last_name']],
      ['an invalid email', userInput({ email: 'not-an-email' }), ['body', 'email']],
      ['an internationalized email', userInput({ email: 'jöhn@exämple.com' }), ['body', 'email']],
      [`an email over ${EMAIL_MAX} characters`, userInput({ email: `${'a'.repeat(64)}@${'b'.repeat(EMAIL_MAX - 64)}.com` }), ['body', 'email']],
      ['a client-chosen id', userInput({ id: 7 }), ['body', 'id']],
      ['a client-chosen created_at', userInput({ created_at: '2020-01-01T00:00:00.000Z' }), ['body', 'created_at']],
      ['a missing email', { first_name: 'A', last_name: 'B' }, ['body', 'email']],
    ];
    for (const [what, body, location] of invalidBodies) {
      it(`answers 422 naming ${location.join('.')} for ${what}, and creates nothing`, async () => {
        const response = await create(body);
        assert.equal(response.statusCode, 422);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        const problem = response.json();
        assert.equal(problem.code, 'VALIDATION_FAILED');
        assert.equal(problem.status, 422);
        assert.ok(
          problem.errors.some((error: { location: string[] }) => JSON.stringify(error.location) === JSON.stringify(location)),
          JSON.stringify(problem.errors),
        );
        assert.equal(await count(), 0);
      });
    }

    it('reports every problem of a body at once', async () => {
      const response = await create({ first_name: '', age: 'x', email: 'nope', extra: 1 });
      assert.equal(response.statusCode, 422);
      const locations = new Set<string>(response.json().errors.map((error: { location: string[] }) => error.location.join('.')));
      assert.deepEqual([...locations].sort(), ['body.age', 'body.email', 'body.extra', 'body.first_name', 'body.last_name']);
    });

    it('does not echo a hostile field name as markup', async () => {
      const response = await create({ ...userInput(), '<script>alert(1)</script>': 1 });
      assert.equal(response.statusCode, 422);
      assert.doesNotMatch(response.body, /<script>/);
    });

    it('answers 422 for a body that is not an object', async () => {
      for (const payload of ['[]', '"text"', '42', 'null']) {
        const response = await t.request({
          method: 'POST',
          url: '/users/',
          payload,
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(response.statusCode, 422, payload);
        assert.deepEqual(response.json().errors[0].location, ['body']);
      }
    });

    it('answers 400 INVALID_JSON for malformed JSON without echoing it', async () => {
      const response = await t.request({
        method: 'POST',
        url: '/users/',
        payload: '{"first_name": <b>oops',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'INVALID_JSON');
      assert.doesNotMatch(response.body, /oops|<b>/);
    });

    it('answers 400 for an empty JSON body and for a __proto__ key', async () => {
      const empty = await t.request({ method: 'POST', url: '/users/', payload: '', headers: { 'content-type': 'application/json' } });
      assert.equal(empty.statusCode, 400);
      assert.equal(empty.json().code, 'INVALID_JSON');
      const proto = await t.request({
        method: 'POST',
        url: '/users/',
        payload: `{"first_name":"A","last_name":"B","email":"${'p'}@x.com","__proto__":{"admin":true}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(proto.statusCode, 400);
      assert.equal(await count(), 0);
    });

    it('answers 415 for a body that is not application/json', async () => {
      const response = await t.request({
        method: 'POST',
        url: '/users/',
        payload: 'first_name=John',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(response.statusCode, 415);
      assert.equal(response.json().code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.doesNotMatch(response.body, /x-www-form-urlencoded/);
    });

    it('answers 413 for a body over the 1 MiB limit', async () => {
      const response = await create(userInput({ first_name: 'x'.repeat(1024 * 1024) }));
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().code, 'BODY_TOO_LARGE');
      assert.equal(await count(), 0);
    });

    it('accepts a charset parameter on the JSON content type', async () => {
      const response = await t.request({
        method: 'POST',
        url: '/users',
        payload: JSON.stringify(userInput()),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      assert.equal(response.statusCode, 201);
    });
  });
}
