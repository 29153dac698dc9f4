import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';

for (const dialect of TEST_DIALECTS) {
  describe(`ETags and conditional requests (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const create = async () => {
      const response = await t.request({ method: 'POST', url: '/users/', payload: userInput() });
      return { user: response.json() as { id: number; updated_at: string }, etag: String(response.headers['etag']) };
    };
    const get = (id: number, headers: Record<string, string> = {}) => t.request({ url: `/users/${id}`, headers });
    const patch = (id: number, payload: object, headers: Record<string, string> = {}) =>
      t.request({ method: 'PATCH', url: `/users/${id}`, payload, headers });

    it('sends a strong ETag on create, read and update, which changes with every change', async () => {
      const { user, etag } = await create();
      assert.match(etag, /^"[^"]+"$/);
      assert.equal((await get(user.id)).headers['etag'], etag);
      const updated = await patch(user.id, { age: 40 });
      assert.notEqual(updated.headers['etag'], etag);
      assert.equal((await get(user.id)).headers['etag'], updated.headers['etag']);
    });

    it('gives every one of many quick successive changes its own ETag', async () => {
      const { user, etag } = await create();
      const tags = new Set([etag]);
      for (let age = 0; age < 20; age++) tags.add(String((await patch(user.id, { age })).headers['etag']));
      assert.equal(tags.size, 21);
    });

    it('answers 304 without a body to If-None-Match with the current ETag, and 200 otherwise', async () => {
      const { user, etag } = await create();
      const cached = await get(user.id, { 'if-none-match': etag });
      assert.equal(cached.statusCode, 304);
      assert.equal(cached.body, '');
      assert.equal(cached.headers['etag'], etag);
      // RFC 9110 §15.4.5: no body, so no Content-Type, and no Content-Length (that of a body would be the 200's).
      assert.equal(cached.headers['content-type'], undefined);
      assert.equal(cached.headers['content-length'], undefined);
      const head = await t.request({ method: 'HEAD', url: `/users/${user.id}`, headers: { 'if-none-match': etag } });
      assert.deepEqual([head.statusCode, head.headers['content-type'], head.headers['content-length']], [304, undefined, undefined]);
      assert.equal((await get(user.id, { 'if-none-match': `"other", W/${etag}` })).statusCode, 304, 'weak comparison');
      assert.equal((await get(user.id, { 'if-none-match': '"stale"' })).statusCode, 200);
    });

    it('answers HEAD as GET without the body: the same status, ETag, type and Content-Length', async () => {
      const { user } = await create();
      const got = await get(user.id);
      const head = await t.request({ method: 'HEAD', url: `/users/${user.id}` });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      for (const name of ['etag', 'content-type', 'content-length']) assert.equal(head.headers[name], got.headers[name], name);
      assert.equal(Number(head.headers['content-length']), Buffer.byteLength(got.body));
    });

    it('applies a PATCH with the current ETag in If-Match', async () => {
      const { user, etag } = await create();
      const response = await patch(user.id, { first_name: 'Fresh' }, { 'if-match': etag });
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().first_name, 'Fresh');
    });

    it('refuses a PATCH or DELETE with a stale ETag with 412 and changes nothing', async () => {
      const { user, etag } = await create();
      await patch(user.id, { age: 1 });
      const current = (await get(user.id)).json();
      const stalePatch = await patch(user.id, { first_name: 'Lost' }, { 'if-match': etag });
      assert.equal(stalePatch.statusCode, 412);
      assert.equal(stalePatch.json().code, 'PRECONDITION_FAILED');
      const staleEmpty = await patch(user.id, {}, { 'if-match': etag });
      assert.equal(staleEmpty.statusCode, 412);
      const staleDelete = await t.request({ method: 'DELETE', url: `/users/${user.id}`, headers: { 'if-match': etag } });
      assert.equal(staleDelete.statusCode, 412);
      assert.deepEqual((await get(user.id)).json(), current);
      const weak = await patch(user.id, { age: 2 }, { 'if-match': `W/"${current.updated_at}"` });
      assert.equal(weak.statusCode, 412, 'If-Match uses the strong comparison');
    });

    it('deletes with the current ETag, and answers 404 (not 412) once the user is gone', async () => {
      const { user, etag } = await create();
      const response = await t.request({ method: 'DELETE', url: `/users/${user.id}`, headers: { 'if-match': `"x", ${etag}` } });
      assert.equal(response.statusCode, 200);
      assert.equal((await patch(user.id, { age: 3 }, { 'if-match': etag })).statusCode, 404);
      assert.equal((await patch(user.id, { age: 3 }, { 'if-match': '*' })).statusCode, 404);
    });
  });
}
