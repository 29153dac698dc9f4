import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { uniqueEmail, userInput } from '../helpers/factories.js';
import { ATOMIC_MAX_ROWS, IMPORT_BATCH_ROWS } from '../../src/users/users.bulk.js';
import { MAX_LISTED_ISSUES } from '../../src/errors.js';

const CSV = { 'content-type': 'text/csv' };
const NDJSON = { 'content-type': 'application/x-ndjson' };
const TAKEN = 'is already used by another user or by an earlier line of this upload';

/** An NDJSON upload of these users. */
const ndjson = (users: readonly unknown[]) => users.map((user) => `${JSON.stringify(user)}\n`).join('');
/** A CSV upload of these users (header first_name,last_name,age,email). */
const csv = (users: readonly Record<string, unknown>[]) =>
  `first_name,last_name,age,email\r\n${users.map((user) => `${user['first_name']},${user['last_name']},${user['age'] ?? ''},${user['email']}\r\n`).join('')}`;
const people = (count: number) => Array.from({ length: count }, (_, i) => userInput({ first_name: `P${i}`, age: i % 100, email: uniqueEmail('bulk') }));

for (const dialect of TEST_DIALECTS) {
  describe(`POST /users/import (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const upload = (payload: string | Readable, headers: Record<string, string> = CSV, query = '') =>
      t.request({ method: 'POST', url: `/users/import${query}`, headers, payload });
    const total = async () => Number((await t.request({ url: '/users/' })).headers['x-total-count']);
    const byEmail = async (email: string) => (await t.request({ url: `/users/?email=${encodeURIComponent(email)}` })).json<Record<string, unknown>[]>()[0];

    it('creates the users of a CSV upload and reports how many', async () => {
      const body =
        'email,first_name,last_name,age\r\n' +
        'ann@example.com,Ann,"Lee, Jr.",31\r\n' +
        'bob@example.com,"Bob ""B""",Smith,\r\n' +
        "carl@example.com,'=1+1,'t Hooft,0\n" + // a bare LF ends a record too
        'dora@example.com,Dora,Ng,150'; // and the last one may have no line break
      const response = await upload(body);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { created: 4, refused: 0, last_line: 5, errors: [] });
      const ann = await byEmail('ann@example.com');
      assert.deepEqual([ann?.['first_name'], ann?.['last_name'], ann?.['age']], ['Ann', 'Lee, Jr.', 31]);
      const bob = await byEmail('bob@example.com');
      assert.deepEqual([bob?.['first_name'], bob?.['age']], ['Bob "B"', null], 'doubled quotes; an empty cell is null');
      const carl = await byEmail('carl@example.com');
      assert.deepEqual([carl?.['first_name'], carl?.['last_name']], ['=1+1', "'t Hooft"], 'the formula quote is dropped, a plain quote kept');
    });

    it('creates the users of an NDJSON upload, ignoring the fields the server sets (an export imports as it is)', async () => {
      const body =
        `{"id":77,"first_name":"Ann","last_name":"Lee","age":null,"email":"ann@example.com","created_at":"2000-01-01T00:00:00.000Z","updated_at":"x"}\r\n` +
        '\n' + // blank lines are skipped
        '{"first_name":"Bob","last_name":"Ray","email":"bob@example.com"}';
      const response = await upload(body, NDJSON);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { created: 2, refused: 0, last_line: 3, errors: [] });
      const ann = await byEmail('ann@example.com');
      assert.notEqual(ann?.['id'], 77);
      assert.notEqual(ann?.['created_at'], '2000-01-01T00:00:00.000Z');
    });

    it('validates every row as POST /users/ does, reports each refused row by line, and creates the others (default: per row)', async () => {
      const good = people(2);
      const lines = [
        JSON.stringify(good[0]),
        JSON.stringify({ first_name: 'A', last_name: 'B', email: 'not an email', age: '30' }),
        '{"first_name": "A", broken',
        '[1, 2]',
        JSON.stringify({ ...good[1], nickname: 'x', __proto__: 1 }).replace('"nickname"', '"__proto__":{"admin":true},"nickname"'),
        JSON.stringify({ first_name: ' ', last_name: 'B', email: uniqueEmail(), age: 151 }),
        JSON.stringify(good[1]),
      ];
      const response = await upload(`${lines.join('\n')}\n`, NDJSON);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        created: 2,
        refused: 5,
        last_line: 7,
        errors: [
          { location: ['line', 2, 'age'], message: 'must be integer or null' },
          { location: ['line', 2, 'email'], message: 'must be a valid email' },
          { location: ['line', 3], message: 'is not valid JSON' },
          { location: ['line', 4], message: 'must be object' },
          { location: ['line', 5, '__proto__'], message: 'is not an allowed field' },
          { location: ['line', 5, 'nickname'], message: 'is not an allowed field' },
          { location: ['line', 6, 'first_name'], message: 'must not be blank' },
          { location: ['line', 6, 'age'], message: 'must be <= 150' },
        ],
      });
      assert.equal(await total(), 2);
      assert.equal(({} as Record<string, unknown>)['admin'], undefined, 'no prototype was polluted');
    });

    it('refuses duplicate emails within the upload (in any case) and of existing users as rows, never a 500', async () => {
      const existing = (await t.request({ method: 'POST', url: '/users/', payload: userInput() })).json<{ email: string }>();
      const fresh = uniqueEmail();
      const rows = [
        userInput({ email: fresh }),
        userInput({ email: fresh.toUpperCase() }),
        userInput({ email: existing.email.toUpperCase() }),
        userInput(),
      ];
      for (const [format, body, headers] of [['ndjson', ndjson(rows), NDJSON], ['csv', csv(rows.map((row) => ({ ...row, email: `x${String(row['email'])}` }))), CSV]] as const) {
        const response = await upload(body, headers);
        assert.equal(response.statusCode, 200, `${format}: ${response.body}`);
        const report = response.json();
        const first = format === 'csv' ? 2 : 1;
        if (format === 'ndjson') {
          assert.deepEqual(report, {
            created: 2,
            refused: 2,
            last_line: 4,
            errors: [
              { location: ['line', first + 1, 'email'], message: TAKEN },
              { location: ['line', first + 2, 'email'], message: TAKEN },
            ],
          });
        } else {
          // x<existing email> is new; the in-file duplicate is not.
          assert.deepEqual(report, { created: 3, refused: 1, last_line: 5, errors: [{ location: ['line', first + 1, 'email'], message: TAKEN }] });
        }
      }
      assert.equal(await total(), 1 + 2 + 3);
    });

    it('sending the same upload again creates nothing twice: every row comes back refused as taken', async () => {
      const rows = people(IMPORT_BATCH_ROWS + 3);
      const first = await upload(ndjson(rows), NDJSON);
      assert.equal(first.json().created, rows.length);
      const again = await upload(ndjson(rows), NDJSON);
      assert.equal(again.statusCode, 200);
      const report = again.json();
      assert.deepEqual([report.created, report.refused, report.last_line], [0, rows.length, rows.length]);
      assert.equal(report.errors.length, MAX_LISTED_ISSUES);
      assert.equal(report.errors_omitted, rows.length - MAX_LISTED_ISSUES);
      assert.deepEqual(report.errors[0], { location: ['line', 1, 'email'], message: TAKEN });
      assert.equal(await total(), rows.length);
    });

    it('resumes from a line with from_line: earlier rows are not read', async () => {
      const rows = people(10);
      const response = await upload(csv(rows), CSV, '?from_line=7');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { created: 5, refused: 0, last_line: 11, errors: [] });
      assert.equal(await byEmail(String(rows[4]!['email'])), undefined);
      assert.ok(await byEmail(String(rows[5]!['email'])));
    });

    it('atomic=true: one refused row and nothing is created (422 listing the rows); a valid upload is created whole', async () => {
      const rows = people(5);
      const bad = [...rows.slice(0, 3), { ...rows[3], age: -1 }, rows[4], { ...rows[0], email: String(rows[0]!['email']).toUpperCase() }];
      const refused = await upload(ndjson(bad), NDJSON, '?atomic=true');
      assert.equal(refused.statusCode, 422);
      assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(refused.json(), {
        type: 'about:blank',
        title: 'Unprocessable Entity',
        status: 422,
        code: 'VALIDATION_FAILED',
        detail: '2 rows are refused; nothing was created (atomic=true). errors lists the problems by line.',
        errors: [
          { location: ['line', 4, 'age'], message: 'must be >= 0' },
          { location: ['line', 6, 'email'], message: TAKEN },
        ],
      });
      assert.equal(await total(), 0);
      const created = await upload(ndjson(rows), NDJSON, '?atomic=true');
      assert.equal(created.statusCode, 200);
      assert.deepEqual(created.json(), { created: 5, refused: 0, last_line: 5, errors: [] });
      // Now every email is taken: the whole upload is refused, as one transaction, on the database's unique index.
      const again = await upload(ndjson([people(1)[0], ...rows.slice(2)]), NDJSON, '?atomic=true');
      assert.equal(again.statusCode, 422);
      assert.deepEqual(again.json().errors, [2, 3, 4].map((line) => ({ location: ['line', line, 'email'], message: TAKEN })));
      assert.equal(await total(), 5);
    });

    it(`atomic=true takes at most ${ATOMIC_MAX_ROWS} rows: 413 TOO_MANY_ROWS, nothing created`, async () => {
      const response = await upload(ndjson(people(ATOMIC_MAX_ROWS + 1)), NDJSON, '?atomic=true');
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().code, 'TOO_MANY_ROWS');
      assert.equal(await total(), 0);
    });

    it('refuses a CSV whose header is missing, unknown or repeated, before creating anything (422)', async () => {
      const cases: [string, unknown][] = [
        ['', [{ location: ['line', 1], message: 'must be a header row naming the columns' }]],
        ['first_name,last_name,email,nickname,email\r\nA,B,a@example.com,x,y\r\n', [
          { location: ['line', 1, 4], message: 'is not a field of a user (id, first_name, last_name, age, email, created_at, updated_at)' },
          { location: ['line', 1, 5], message: 'repeats the column email' },
        ]],
        ['first_name,age\r\nA,3\r\n', [
          { location: ['line', 1], message: 'must have the column last_name' },
          { location: ['line', 1], message: 'must have the column email' },
        ]],
      ];
      for (const [body, errors] of cases) {
        const response = await upload(body);
        assert.equal(response.statusCode, 422, body);
        assert.deepEqual(response.json().errors, errors, body);
      }
      assert.equal(await total(), 0);
    });

    it('reports CSV rows that cannot be read: a field count unlike the header, a stray quote, an unclosed quote', async () => {
      const body = 'first_name,last_name,email\r\nA,B\r\nA,B"x,c@example.com\r\nA,B,ok@example.com\r\n"A,B,never closed\r\nmore\r\n';
      const response = await upload(body);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        created: 1,
        refused: 3,
        last_line: 5,
        errors: [
          { location: ['line', 2], message: 'has 2 fields; the header has 3' },
          { location: ['line', 3], message: 'has a quote inside a field that is not quoted as a whole (RFC 4180)' },
          { location: ['line', 5], message: 'has a quoted field that is never closed' },
        ],
      });
    });

    it('converts CSV cells by the field type: an integer column takes decimal integers only', async () => {
      const body = `first_name,last_name,email,age\r\nA,B,${uniqueEmail()},3.5\r\nA,B,${uniqueEmail()},x\r\nA,B,,\r\n`;
      const response = await upload(body);
      assert.deepEqual(response.json().errors, [
        { location: ['line', 2, 'age'], message: 'must be integer or null' },
        { location: ['line', 3, 'age'], message: 'must be integer or null' },
        { location: ['line', 4, 'email'], message: 'is required' },
      ]);
    });

    it(`lists at most ${MAX_LISTED_ISSUES} problems and counts the others`, async () => {
      const body = Array.from({ length: 150 }, () => '{"first_name":"A"}\n').join('');
      const response = await upload(body, NDJSON);
      const report = response.json();
      assert.equal(report.refused, 150);
      assert.equal(report.errors.length, MAX_LISTED_ISSUES);
      assert.equal(report.errors_omitted, 300 - MAX_LISTED_ISSUES);
    });

    it('answers 415 for any other content type, and POST /users/ still takes only JSON', async () => {
      for (const type of ['application/json', 'text/plain', 'application/csv']) {
        const response = await upload('{}', { 'content-type': type });
        assert.equal(response.statusCode, 415, type);
        assert.equal(response.json().detail, 'An import is sent as text/csv or application/x-ndjson.');
      }
      const noType = await t.request({ method: 'POST', url: '/users/import' });
      assert.equal(noType.statusCode, 415);
      const create = await t.request({ method: 'POST', url: '/users/', headers: CSV, payload: 'first_name\r\nA\r\n' });
      assert.equal(create.statusCode, 415);
    });

    it('answers the import paths other methods with 405 and Allow, and the item routes still answer', async () => {
      for (const [method, url, allow] of [['GET', '/users/import', 'POST'], ['DELETE', '/users/import', 'POST'], ['PATCH', '/users/export', 'GET, HEAD'], ['PUT', '/users/export', 'GET, HEAD'], ['POST', '/users/export', 'GET, HEAD']] as const) {
        const response = await t.request({ method, url, ...(method === 'PATCH' && { payload: { age: 1 } }) });
        assert.equal(response.statusCode, 405, `${method} ${url}`);
        assert.equal(response.headers['allow'], allow, `${method} ${url}`);
      }
      assert.equal((await t.request({ url: '/users/12345' })).statusCode, 404);
      assert.equal((await t.request({ url: '/users/importer' })).statusCode, 422);
      // Names of Object.prototype's members are ids like any other, not bulk paths.
      for (const id of ['valueOf', 'constructor', 'toString', '__proto__']) {
        for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
          const response = await t.request({ method, url: `/users/${id}`, ...(method === 'PATCH' && { payload: { age: 1 } }) });
          assert.equal(response.statusCode, 422, `${method} /users/${id}`);
        }
      }
    });
  });

  describe(`POST /users/import limits and cut uploads (${dialect})`, () => {
    let t: TestApp;
    const LIMIT = 64 * 1024;
    beforeEach(async () => {
      t = await buildTestApp(dialect, { IMPORT_BODY_LIMIT: String(LIMIT) });
    });
    afterEach(() => t.close());
    const total = async () => Number((await t.request({ url: '/users/' })).headers['x-total-count']);

    it('answers 413 at once when Content-Length is over IMPORT_BODY_LIMIT', async () => {
      const body = ndjson(people(1000));
      assert.ok(body.length > LIMIT);
      const response = await t.request({ method: 'POST', url: '/users/import', headers: NDJSON, payload: body });
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().detail, `The upload is larger than the import limit (${LIMIT} bytes). Nothing was created.`);
      assert.equal(await total(), 0);
    });

    it('counts a chunked upload while it streams: 413 past the limit, the committed batches stay, the answer says where to resume', async () => {
      const rows = people(1500);
      const body = ndjson(rows);
      // About 110 bytes a row, sent in pieces of 4 KiB: the limit falls in the second batch.
      const pieces = Array.from({ length: Math.ceil(body.length / 4096) }, (_, i) => body.slice(i * 4096, (i + 1) * 4096));
      const response = await t.request({ method: 'POST', url: '/users/import', headers: NDJSON, payload: Readable.from(pieces) });
      assert.equal(response.statusCode, 413, response.body);
      assert.equal(response.headers['connection'], 'close');
      const committed = await total();
      assert.equal(committed % IMPORT_BATCH_ROWS, 0, 'only whole batches are committed');
      assert.ok(committed > 0);
      assert.equal(
        response.json().detail,
        `The upload is larger than the import limit (${LIMIT} bytes). Rows up to line ${committed} are settled (${committed} users created, 0 rows refused): send the rest with from_line=${committed + 1}.`,
      );
      // Resuming from the line it names (the lines before are read, not imported: they count toward the limit).
      const rest = await t.request({ method: 'POST', url: `/users/import?from_line=${committed + 1}`, headers: NDJSON, payload: Readable.from([ndjson(rows.slice(0, committed + 50))]) });
      assert.equal(rest.statusCode, 200, rest.body);
      assert.deepEqual(rest.json(), { created: 50, refused: 0, last_line: committed + 50, errors: [] });
    });
  });
}

for (const dialect of TEST_DIALECTS) describe(`POST /users/import when the connection drops mid-upload (${dialect}, real server)`, () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterEach(() => t.close());

  it('keeps the committed batches only, and sending the whole file again completes it without duplicates', async () => {
    const rows = people(IMPORT_BATCH_ROWS * 4);
    const body = Buffer.from(ndjson(rows));
    const { port } = t.app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /users/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${body.length}\r\n\r\n`);
    // Two and a half batches, then the client is gone.
    const cut = body.indexOf('\n', Math.floor(body.length * 0.625));
    socket.write(body.subarray(0, cut - 10));
    await sleep(500);
    socket.destroy();
    await sleep(300);
    const count = async () => Number((await t.request({ url: '/users/' })).headers['x-total-count']);
    const committed = await count();
    assert.equal(committed, IMPORT_BATCH_ROWS * 2, 'the two whole batches, not the half one');
    const again = await t.request({ method: 'POST', url: '/users/import', headers: NDJSON, payload: body.toString() });
    assert.equal(again.statusCode, 200);
    const report = again.json();
    assert.deepEqual([report.created, report.refused, report.last_line], [rows.length - committed, committed, rows.length]);
    assert.equal(await count(), rows.length);
  });
});
