import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';
import { userModel } from '../../src/users/users.schemas.js';

const NOT_FOUND = {
  type: 'about:blank',
  title: 'Not Found',
  status: 404,
  detail: 'User not found',
  code: 'USER_NOT_FOUND',
};

for (const dialect of TEST_DIALECTS) {
  describe(`GET, PATCH and DELETE /users/{user_id} (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const create = async (input: Record<string, unknown> = {}): Promise<{ id: number; updated_at: string; created_at: string } & Record<string, unknown>> => {
      const response = await t.request({ method: 'POST', url: '/users/', payload: userInput(input) });
      assert.equal(response.statusCode, 201);
      return response.json();
    };
    const patch = (id: number | string, payload: unknown) =>
      t.request({ method: 'PATCH', url: `/users/${id}`, payload: payload as object });
    const get = (id: number | string) => t.request({ url: `/users/${id}` });

    it('reads a user by id', async () => {
      const user = await create();
      const response = await get(user.id);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), user);
    });

    it('answers 404 "User not found" for an unknown id, on every verb', async () => {
      for (const response of [await get(999), await patch(999, { age: 1 }), await t.request({ method: 'DELETE', url: '/users/999' })]) {
        assert.equal(response.statusCode, 404);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        assert.deepEqual(response.json(), NOT_FOUND);
      }
    });

    for (const id of ['0', '-1', '1.5', 'abc', '1e400', '123456789012345678901234567890', '%00', 'null', '1'.repeat(250)]) {
      it(`answers 404 or 422, never 500, for the id ${id.slice(0, 40)}`, async () => {
        for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
          const response = await t.request({ method, url: `/users/${id}`, payload: method === 'PATCH' ? { age: 1 } : undefined });
          assert.ok([404, 422].includes(response.statusCode), `${method} ${id}: ${response.statusCode}`);
          assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        }
      });
    }

    it('changes only the fields sent, and bumps updated_at', async () => {
      const user = await create({ first_name: 'John', last_name: 'Doe', age: 30 });
      await sleep(5);
      const response = await patch(user.id, { age: 31 });
      assert.equal(response.statusCode, 200);
      const updated = response.json();
      assert.deepEqual({ ...updated, updated_at: undefined }, { ...user, age: 31, updated_at: undefined });
      assert.ok(updated.updated_at > user.updated_at, 'updated_at moves forward');
      assert.equal(updated.created_at, user.created_at);
      assert.deepEqual((await get(user.id)).json(), updated);
    });

    it('updates every field at once', async () => {
      const user = await create();
      const changes = { first_name: 'Jane', last_name: 'Roe', age: null, email: 'jane.roe@example.com' };
      const response = await patch(user.id, changes);
      assert.equal(response.statusCode, 200);
      assert.deepEqual({ ...(response.json() as object), updated_at: undefined }, { ...user, ...changes, updated_at: undefined });
    });

    it('treats an empty update as no change', async () => {
      const user = await create();
      const response = await patch(user.id, {});
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), user);
    });

    it('answers 422 for null in a field that cannot be null, and changes nothing', async () => {
      const user = await create();
      for (const field of userModel.patched.filter((candidate) => !candidate.nullable).map((candidate) => candidate.name)) {
        const response = await patch(user.id, { [field]: null });
        assert.equal(response.statusCode, 422, field);
        assert.deepEqual(response.json().errors[0].location, ['body', field]);
      }
      assert.deepEqual((await get(user.id)).json(), user);
    });

    it('answers 422 for unknown fields, id and timestamps included, and changes nothing', async () => {
      const user = await create();
      for (const payload of [{ id: 5 }, { updated_at: '2020-01-01T00:00:00.000Z' }, { nickname: 'x', age: 3 }, { age: '31' }]) {
        const response = await patch(user.id, payload);
        assert.equal(response.statusCode, 422, JSON.stringify(payload));
      }
      assert.deepEqual((await get(user.id)).json(), user);
    });

    it('answers 409 when the new email belongs to another user in another case, and changes nothing', async () => {
      await create({ email: 'taken@example.com' });
      const user = await create();
      const response = await patch(user.id, { email: 'TAKEN@example.com', age: 99 });
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().code, 'EMAIL_TAKEN');
      assert.deepEqual((await get(user.id)).json(), user);
    });

    it("lets a user change the case of their own email", async () => {
      const user = await create({ email: 'me@example.com' });
      const response = await patch(user.id, { email: 'Me@Example.com' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().email, 'Me@Example.com');
    });

    it('answers 415 and 413 on PATCH like on POST', async () => {
      const user = await create();
      const text = await t.request({ method: 'PATCH', url: `/users/${user.id}`, payload: 'age=3', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.statusCode, 415);
      const big = await patch(user.id, { first_name: 'x'.repeat(1024 * 1024) });
      assert.equal(big.statusCode, 413);
      assert.deepEqual((await get(user.id)).json(), user);
    });

    it('deletes a user: 200 {"ok": true}, then 404', async () => {
      const user = await create();
      const response = await t.request({ method: 'DELETE', url: `/users/${user.id}` });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { ok: true });
      assert.equal((await get(user.id)).statusCode, 404);
      assert.equal((await t.request({ method: 'DELETE', url: `/users/${user.id}` })).statusCode, 404);
    });

    it('frees the email of a deleted user', async () => {
      const user = await create({ email: 'reuse@example.com' });
      await t.request({ method: 'DELETE', url: `/users/${user.id}` });
      const again = await create({ email: 'REUSE@example.com' });
      assert.ok(again.id > user.id);
    });
  });
}
