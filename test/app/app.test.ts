import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { DatabaseUnavailableError } from '../../src/errors.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { userInput } from '../helpers/factories.js';

const INTERNALS = /at .*\.(ts|js):\d+|SQLITE_|sqlite|SELECT |INSERT |node_modules|postgres|stack/i;

for (const dialect of TEST_DIALECTS) {
  describe(`the service around the users routes (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    it('answers /healthcheck with the seed body after a database round trip', async () => {
      const response = await t.request({ url: '/healthcheck' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok', message: 'The service is healthy' });
    });

    it('answers /healthcheck with a 503 problem when the database does not answer', async () => {
      t.database.ping = async () => {
        throw new DatabaseUnavailableError();
      };
      const response = await t.request({ url: '/healthcheck' });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '1');
      assert.equal(response.json().code, 'DATABASE_UNAVAILABLE');
    });

    it('answers / with an index of links', async () => {
      const response = await t.request({ url: '/' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        name: 'users-api',
        docs: '/docs',
        openapi: '/openapi.json',
        health: '/healthcheck',
        users: '/users/',
      });
    });

    it('serves Swagger UI at /docs from its own assets', async () => {
      const page = await t.request({ url: '/docs/' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.doesNotMatch(page.body, /https?:\/\//, 'no asset comes from another origin');
      const bundle = await t.request({ url: '/docs/static/swagger-ui-bundle.js' });
      assert.equal(bundle.statusCode, 200);
    });

    it('answers unknown routes with a 404 problem that does not echo the path', async () => {
      const response = await t.request({ url: '/nope/<script>alert(1)</script>' });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(response.json().code, 'NOT_FOUND');
      assert.doesNotMatch(response.body, /script/);
    });

    it('answers a wrong method on a known route with 405 and Allow', async () => {
      const item = await t.request({ method: 'PUT', url: '/users/1', payload: {} });
      assert.equal(item.statusCode, 405);
      assert.equal(item.headers['allow'], 'DELETE, GET, HEAD, PATCH');
      assert.equal(item.json().code, 'METHOD_NOT_ALLOWED');
      const collection = await t.request({ method: 'DELETE', url: '/users' });
      assert.equal(collection.statusCode, 405);
      assert.equal(collection.headers['allow'], 'GET, HEAD, POST');
      const health = await t.request({ method: 'POST', url: '/healthcheck' });
      assert.equal(health.statusCode, 405);
    });

    it('sends the security headers and no X-Powered-By, on success and on errors', async () => {
      for (const url of ['/users/', '/users/999', '/nope']) {
        const response = await t.request({ url });
        assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(response.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", url);
        assert.equal(response.headers['x-powered-by'], undefined);
      }
    });

    it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
      const safe = await t.request({ url: '/healthcheck', headers: { 'x-request-id': 'abc-123' } });
      assert.equal(safe.headers['x-request-id'], 'abc-123');
      const unsafe = await t.request({ url: '/healthcheck', headers: { 'x-request-id': '<b>x</b>' } });
      assert.match(String(unsafe.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      const generated = await t.request({ url: '/healthcheck' });
      assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    it('answers an unexpected failure with a generic 500 problem that hides internals', async () => {
      t.users.findById = async () => {
        throw new Error('SQLITE_MISUSE: SELECT * FROM users WHERE secret');
      };
      const response = await t.request({ url: '/users/1', headers: { 'x-request-id': 'trace-me' } });
      assert.equal(response.statusCode, 500);
      assert.deepEqual(response.json(), {
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred; it has been logged.',
        code: 'INTERNAL_ERROR',
        request_id: 'trace-me',
      });
      assert.doesNotMatch(response.body, INTERNALS);
    });

    it('answers a database fault during a write with 503, not 500', async () => {
      t.users.insert = async () => {
        throw new DatabaseUnavailableError();
      };
      const response = await t.request({ method: 'POST', url: '/users/', payload: userInput() });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().code, 'DATABASE_UNAVAILABLE');
    });

    it('logs why the database did not answer once per outage, then a line when it is over, and keeps it from the client', async () => {
      const lines: string[] = [];
      const app = await buildApp(t.config, {
        database: t.database,
        users: t.users,
        logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
      });
      const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const insert = t.users.insert;
      try {
        const cause = Object.assign(new Error('connect ECONNREFUSED 10.9.8.7:5432'), {
          code: 'ECONNREFUSED',
          detail: 'Key (email)=(secret@example.com) already exists.',
        });
        t.users.insert = async () => {
          throw new DatabaseUnavailableError(cause);
        };
        for (const id of ['why-503', 'again-503', 'third-503']) {
          const response = await app.inject({ method: 'POST', url: '/users/', payload: userInput(), headers: { 'x-request-id': id } });
          assert.equal(response.statusCode, 503);
          assert.doesNotMatch(response.body, /ECONNREFUSED|10\.9\.8\.7/);
        }
        const causes = entries().filter((entry) => entry['msg'] === 'database unavailable');
        assert.equal(causes.length, 1, `one line for the outage, not one per request: ${lines.join('')}`);
        assert.equal(causes[0]!['level'], 50);
        assert.equal(causes[0]!['request_id'], 'why-503');
        const err = causes[0]!['err'] as Record<string, unknown>;
        assert.match(String(err['cause'] ? (err['cause'] as { message: string }).message : err['message']), /ECONNREFUSED 10\.9\.8\.7:5432/);
        assert.doesNotMatch(lines.join(''), /secret@example\.com|"detail"/, 'a driver error is logged without its other fields');
        t.users.insert = insert;
        // The database answers again: one line says so, with the count of failed requests.
        let over: Record<string, unknown> | undefined;
        for (let i = 0; i < 100 && !over; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          over = entries().find((entry) => entry['msg'] === 'database available again');
        }
        assert.ok(over, `no end-of-outage line in ${lines.join('')}`);
        assert.equal(over['failed_requests'], 3);
      } finally {
        t.users.insert = insert;
        await app.close();
      }
    });

    it('answers HEAD on the collection without a body', async () => {
      const response = await t.request({ method: 'HEAD', url: '/users/' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, '');
    });
  });
}
