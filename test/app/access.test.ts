import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { userInput } from '../helpers/factories.js';

const KEY = 'k3y-0123456789abcdef';
const OTHER_KEY = 'second-key-0123456789';

describe('access control, rate limit and CORS (opt-in)', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  it('sends no CORS headers and needs no key by default', async () => {
    t = await buildTestApp('sqlite');
    const response = await t.request({ url: '/users/', headers: { origin: 'https://evil.example' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
    const document = (await t.request({ url: '/openapi.json' })).json();
    assert.equal(document.components.securitySchemes, undefined);
  });

  it('answers /users without a valid key with 401 and WWW-Authenticate when API_KEY is set', async () => {
    t = await buildTestApp('sqlite', { API_KEY: `${KEY},${OTHER_KEY}` });
    for (const authorization of [undefined, 'Bearer wrong-key-0123456789', `Basic ${KEY}`, `Bearer ${KEY}x`, 'Bearer']) {
      const response = await t.request({
        method: 'POST',
        url: '/users/',
        payload: userInput(),
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="users-api"');
      assert.equal(response.json().code, 'UNAUTHORIZED');
    }
    const list = await t.request({ url: '/users/' });
    assert.equal(list.statusCode, 401);
    assert.equal((await t.request({ url: '/users/', headers: { authorization: `Bearer ${KEY}` } })).json().length, 0);
  });

  it('accepts any of the configured keys, and keeps health and docs open', async () => {
    t = await buildTestApp('sqlite', { API_KEY: `${KEY},${OTHER_KEY}` });
    for (const key of [KEY, OTHER_KEY]) {
      const response = await t.request({ method: 'POST', url: '/users/', payload: userInput(), headers: { authorization: `Bearer ${key}` } });
      assert.equal(response.statusCode, 201);
    }
    assert.equal((await t.request({ url: '/healthcheck' })).statusCode, 200);
    assert.equal((await t.request({ url: '/docs/' })).statusCode, 200);
    const document = (await t.request({ url: '/openapi.json' })).json();
    assert.deepEqual(document.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'One of the keys in API_KEY' });
    assert.deepEqual(document.paths['/users/'].post.security, [{ bearerAuth: [] }]);
    assert.ok(document.paths['/users/{user_id}'].get.responses['401']);
    assert.equal(document.paths['/healthcheck'].get.security, undefined);
  });

  it('answers 429 with Retry-After past RATE_LIMIT requests a minute, but never on health', async () => {
    t = await buildTestApp('sqlite', { RATE_LIMIT: '3' });
    for (let i = 0; i < 3; i++) assert.equal((await t.request({ url: '/users/' })).statusCode, 200);
    const limited = await t.request({ url: '/users/' });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    for (let i = 0; i < 5; i++) assert.equal((await t.request({ url: '/healthcheck' })).statusCode, 200);
  });

  it('allows only the configured CORS origins, preflight included', async () => {
    t = await buildTestApp('sqlite', { CORS_ORIGINS: 'https://app.example.com' });
    const allowed = await t.request({ url: '/users/', headers: { origin: 'https://app.example.com' } });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
    const denied = await t.request({ url: '/users/', headers: { origin: 'https://evil.example' } });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/users/',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PATCH' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.match(String(preflight.headers['access-control-allow-methods']), /PATCH/);
    assert.equal((await t.request({ url: '/nope' })).statusCode, 404, 'unknown routes stay 404 with CORS on');
  });

  it('refuses short API keys and malformed origins at start-up', async () => {
    await assert.rejects(buildTestApp('sqlite', { API_KEY: 'short', CORS_ORIGINS: 'evil.example/path' }), /API_KEY[\s\S]*CORS_ORIGINS/);
  });
});
