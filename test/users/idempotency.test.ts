import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';

for (const dialect of TEST_DIALECTS) {
  describe(`POST /users/ with an Idempotency-Key (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const post = (payload: object, key?: string) =>
      t.request({ method: 'POST', url: '/users/', payload, headers: key ? { 'idempotency-key': key } : {} });
    const total = async () => Number((await t.request({ url: '/users/' })).headers['x-total-count']);

    it('returns the original response to a retry with the same key and body, without a second user', async () => {
      const body = userInput();
      const first = await post(body, 'key-1');
      assert.equal(first.statusCode, 201);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const retry = await post(body, 'key-1');
      assert.equal(retry.statusCode, 201);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(retry.headers['location'], first.headers['location']);
      assert.deepEqual(retry.json(), first.json());
      assert.equal(await total(), 1);
    });

    it('replays the original response even after the user changed', async () => {
      const body = userInput();
      const first = await post(body, 'key-2');
      await t.request({ method: 'PATCH', url: `/users/${first.json().id}`, payload: { age: 99 } });
      assert.deepEqual((await post(body, 'key-2')).json(), first.json());
    });

    it('refuses the same key with another body with 422, creating nothing', async () => {
      await post(userInput(), 'key-3');
      const reused = await post(userInput(), 'key-3');
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(await total(), 1);
    });

    it('treats different keys as different requests, and requests without a key as always new', async () => {
      const body = userInput();
      assert.equal((await post(body, 'key-4')).statusCode, 201);
      assert.equal((await post(body, 'key-5')).statusCode, 409, 'a new key is a new create: the email is taken');
      assert.equal((await post({ ...body, email: 'other@example.com' })).statusCode, 201);
    });

    it('does not remember a key whose request failed', async () => {
      const taken = userInput();
      await post(taken);
      assert.equal((await post(taken, 'key-6')).statusCode, 409);
      const fixed = await post({ ...taken, email: 'fixed@example.com' }, 'key-6');
      assert.equal(fixed.statusCode, 201, 'the key is free after a failed attempt');
    });

    it('answers 422 for a malformed key', async () => {
      for (const key of ['a'.repeat(256), 'has space', 'ünïcode']) {
        const response = await t.app.inject({ method: 'POST', url: '/users/', payload: userInput(), headers: { 'idempotency-key': key } });
        assert.equal(response.statusCode, 422, key);
        assert.deepEqual(response.json().errors[0].location, ['header', 'idempotency-key']);
      }
    });
  });
}
