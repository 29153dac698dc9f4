import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { uniqueEmail, userInput } from '../helpers/factories.js';
import { CsvReader } from '../../src/http/csv.js';
import { EXPORT_PAGE_ROWS } from '../../src/users/users.bulk.js';
import { userModel } from '../../src/users/users.schemas.js';

const FIELDS = userModel.fields.map((field) => field.name);

/** The records of a CSV text, as the server's own reader reads them. */
function csvRecords(text: string): string[][] {
  const reader = new CsvReader(1 << 20);
  return [...reader.feed(text), ...reader.end()].map((record) => {
    assert.ok('fields' in record, `a readable record at line ${record.line}`);
    return record.fields;
  });
}

/** Every user of the list (all pages), in the list's order for this query. */
async function listAll(t: TestApp, query = ''): Promise<Record<string, unknown>[]> {
  const users: Record<string, unknown>[] = [];
  let url: string | undefined = `/users/?limit=100${query}`;
  while (url) {
    const response = await t.request({ url });
    users.push(...response.json<Record<string, unknown>[]>());
    const next = /<([^>]+)>; rel="next"/.exec(String(response.headers['link'] ?? ''));
    url = next?.[1];
  }
  return users;
}

for (const dialect of TEST_DIALECTS) {
  describe(`GET /users/export (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const create = async (overrides: Record<string, unknown> = {}) => {
      const response = await t.request({ method: 'POST', url: '/users/', payload: userInput(overrides) });
      assert.equal(response.statusCode, 201);
      return response.json<Record<string, unknown>>();
    };
    /** Many users at once, through the repository's batch insert. */
    const seed = async (count: number, make: (i: number) => Record<string, unknown> = (i) => ({ age: i % 7 })) => {
      for (let start = 0; start < count; start += 1000) {
        const batch = Array.from({ length: Math.min(1000, count - start) }, (_, i) => userInput(make(start + i)));
        const created = await t.users.insertMany(batch as never);
        assert.ok(created.every(Boolean));
      }
    };

    it('exports every user as RFC 4180 CSV with a header row of the fields, in id order, by default', async () => {
      const first = await create({ first_name: 'Ann, "the first"', age: null });
      const second = await create({ last_name: 'Lee' });
      const response = await t.app.inject({ url: '/users/export' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8; header=present');
      assert.equal(response.headers['content-disposition'], 'attachment; filename="users.csv"');
      assert.equal(response.headers['cache-control'], 'no-store');
      const line = (user: Record<string, unknown>) =>
        FIELDS.map((name) => {
          const value = user[name];
          if (value === null) return '';
          const text = String(value);
          return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
        }).join(',');
      assert.equal(response.body, `${FIELDS.join(',')}\r\n${line(first)}\r\n${line(second)}\r\n`);
      assert.ok(response.body.includes('"Ann, ""the first"""'), 'quotes doubled, the field quoted');
    });

    it('exports only the header row when no user matches', async () => {
      await create({ age: 20 });
      const response = await t.app.inject({ url: '/users/export?min_age=21' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, `${FIELDS.join(',')}\r\n`);
      const ndjson = await t.app.inject({ url: '/users/export?min_age=21&format=ndjson' });
      assert.equal(ndjson.statusCode, 200);
      assert.equal(ndjson.body, '');
    });

    it('exports NDJSON when Accept or format asks for it: each line is the user as GET /users/{id} returns it', async () => {
      const users = [await create(), await create({ age: null }), await create({ first_name: '=1+2' })];
      for (const options of [{ url: '/users/export', headers: { accept: 'application/x-ndjson' } }, { url: '/users/export?format=ndjson' }]) {
        const response = await t.app.inject(options);
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers['content-type'], 'application/x-ndjson; charset=utf-8');
        assert.ok(response.body.endsWith('\n'));
        const lines = response.body.trimEnd().split('\n').map((line) => JSON.parse(line));
        assert.deepEqual(lines, users);
        for (const line of lines) assert.deepEqual(Object.keys(line), FIELDS);
      }
    });

    it('chooses by Accept: by preference, CSV for a wildcard, format= over Accept, 406 when neither type is acceptable', async () => {
      await create();
      const typeOf = async (accept: string, query = '') =>
        (await t.app.inject({ url: `/users/export${query}`, headers: { accept } })).headers['content-type'];
      assert.match(String(await typeOf('*/*')), /^text\/csv/);
      assert.match(String(await typeOf('text/csv;q=0.5, application/x-ndjson')), /^application\/x-ndjson/);
      assert.match(String(await typeOf('application/x-ndjson;q=0.2, text/*;q=0.9')), /^text\/csv/);
      assert.match(String(await typeOf('application/x-ndjson', '?format=csv')), /^text\/csv/);
      const refused = await t.request({ url: '/users/export', headers: { accept: 'application/json' } });
      assert.equal(refused.statusCode, 406);
      assert.equal(refused.json().code, 'NOT_ACCEPTABLE');
      const zero = await t.request({ url: '/users/export', headers: { accept: 'text/csv;q=0' } });
      assert.equal(zero.statusCode, 406);
    });

    it('takes the list filters and sort but no paging: 422 for limit, offset, cursor or an unknown format', async () => {
      for (const query of ['limit=10', 'offset=1', 'cursor=abc', 'count=false', 'format=xml', 'sort=nope', 'min_age=-1']) {
        const response = await t.request({ url: `/users/export?${query}` });
        assert.equal(response.statusCode, 422, query);
        assert.equal(response.json().code, 'VALIDATION_FAILED');
      }
    });

    it(`exports the same users in the same order as the list, for filters and sorts, across pages of ${EXPORT_PAGE_ROWS}`, async () => {
      // Few distinct ages: many ties, so that pages end inside a run of equal keys.
      await seed(EXPORT_PAGE_ROWS * 2 + 137, (i) => ({ age: i % 3 === 0 ? null : i % 5, first_name: `N${i % 11}` }));
      for (const query of ['', '&sort=-age', '&sort=first_name', '&sort=-email', '&min_age=2&sort=age', '&q=example&sort=-id', '&first_name=N3&sort=-created_at']) {
        const expected = await listAll(t, query);
        const response = await t.app.inject({ url: `/users/export?format=ndjson${query}` });
        assert.equal(response.statusCode, 200, query);
        const exported = response.body.trimEnd().split('\n').map((line) => JSON.parse(line));
        assert.equal(exported.length, expected.length, query);
        assert.deepEqual(exported.map((user) => user.id), expected.map((user) => user.id), query);
        assert.deepEqual(exported, expected, query);
      }
    });

    it('neutralises cells a spreadsheet would run as formulas, and leaves numbers alone', async () => {
      const names = ['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', "'quoted", "'=already", "''twice", "O'Brien", 'plain'];
      for (const name of names) await create({ first_name: name, age: 0 });
      const response = await t.app.inject({ url: '/users/export' });
      const [, ...rows] = csvRecords(response.body);
      const firstNames = rows.map((row) => row[FIELDS.indexOf('first_name')]);
      assert.deepEqual(firstNames, ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "'quoted", "''=already", "'''twice", "O'Brien", 'plain']);
      for (const row of rows) assert.ok(!/^[=+\-@\t\r]/.test(row.join('')), 'no cell starts like a formula');
      assert.ok(rows.every((row) => row[FIELDS.indexOf('age')] === '0'));
    });

    it('round-trips: an export imports into an empty service as the same users (new ids and timestamps), CSV and NDJSON', async () => {
      const names = ['=cmd|" /C calc"!A0', '+1', "'=x", "''y", "'z", 'Comma, "quote"', 'Ünïcødé 😀', '-'];
      for (const [i, name] of names.entries()) await create({ first_name: name, last_name: names.at(-1 - i), age: i === 0 ? null : i });
      const original = await listAll(t);
      for (const format of ['csv', 'ndjson'] as const) {
        const exported = await t.app.inject({ url: `/users/export?format=${format}` });
        const other = await buildTestApp(dialect);
        try {
          const imported = await other.request({
            method: 'POST',
            url: '/users/import',
            headers: { 'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
            payload: exported.body,
          });
          assert.equal(imported.statusCode, 200, imported.body);
          assert.deepEqual(imported.json(), { created: names.length, refused: 0, last_line: names.length + (format === 'csv' ? 1 : 0), errors: [] });
          const copied = await listAll(other);
          const userFields = userModel.created.map((field) => field.name);
          const pick = (user: Record<string, unknown>) => Object.fromEntries(userFields.map((name) => [name, user[name]]));
          assert.deepEqual(copied.map(pick), original.map(pick), format);
        } finally {
          await other.close();
        }
      }
    });

    it('answers HEAD with the headers of the export and no body', async () => {
      await create();
      const response = await t.request({ method: 'HEAD', url: '/users/export?format=ndjson' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'application/x-ndjson; charset=utf-8');
      assert.equal(response.body, '');
    });

    it('answers 503 as a problem when the database cannot give the first page', async () => {
      const original = t.users.exportPage;
      t.users.exportPage = async () => {
        const { DatabaseUnavailableError } = await import('../../src/errors.js');
        throw new DatabaseUnavailableError(new Error('SQLITE_BUSY: secret detail'));
      };
      try {
        const response = await t.request({ url: '/users/export' });
        assert.equal(response.statusCode, 503);
        assert.equal(response.json().code, 'DATABASE_UNAVAILABLE');
        assert.ok(!response.body.includes('secret'));
      } finally {
        t.users.exportPage = original;
      }
    });

    it('cuts the response (never a complete-looking body) when a later page fails', async () => {
      await seed(EXPORT_PAGE_ROWS + 10);
      const original = t.users.exportPage.bind(t.users);
      let calls = 0;
      t.users.exportPage = async (criteria) => {
        if (++calls === 2) throw new Error('the disk went away');
        return original(criteria);
      };
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const outcome = await new Promise<string>((resolve) => {
        const request = httpRequest({ port, host: '127.0.0.1', path: '/users/export' }, (response) => {
          response.on('data', () => {});
          response.on('end', () => resolve('ended'));
          response.on('error', () => resolve('cut'));
          response.on('aborted', () => resolve('cut'));
        });
        request.on('error', () => resolve('cut'));
        request.end();
      });
      assert.equal(outcome, 'cut');
    });
  });
}

describe('GET /users/export on a real connection (sqlite)', () => {
  let t: TestApp;
  let origin: string;
  // Wide rows (about 300 bytes): the export is far larger than the socket buffers.
  const USERS = 30_000;
  beforeEach(async () => {
    t = await buildTestApp('sqlite');
    for (let start = 0; start < USERS; start += 1000) {
      const batch = Array.from({ length: 1000 }, () => userInput({ first_name: 'F'.repeat(100), last_name: 'L'.repeat(100), email: uniqueEmail() }));
      await t.users.insertMany(batch as never);
    }
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterEach(() => t.close());

  /** Counts the export's page reads. */
  const countPages = () => {
    const original = t.users.exportPage.bind(t.users);
    const counter = { pages: 0 };
    t.users.exportPage = async (criteria) => {
      counter.pages++;
      return original(criteria);
    };
    return counter;
  };

  it('gives a reader that does not read backpressure, not a buffered copy, and serves other requests meanwhile', async () => {
    const counter = countPages();
    const total = Math.ceil(USERS / EXPORT_PAGE_ROWS);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest(`${origin}/users/export`, resolve).on('error', reject).end();
    });
    response.pause();
    await sleep(300);
    const readWhilePaused = counter.pages;
    assert.ok(readWhilePaused < total, `${readWhilePaused} of ${total} pages read while the client reads nothing`);
    const other = await fetch(`${origin}/users/1`);
    assert.equal(other.status, 200, 'another request is answered while the export waits');
    await sleep(200);
    assert.equal(counter.pages, readWhilePaused, 'no page is read while the client reads nothing');
    // Once read, the whole export arrives.
    let lines = 0;
    response.setEncoding('utf8');
    for await (const chunk of response) lines += (chunk as string).split('\n').length - 1;
    assert.equal(lines, USERS + 1);
    assert.equal(counter.pages, total + (USERS % EXPORT_PAGE_ROWS === 0 ? 1 : 0));
  });

  it('stops reading pages when the client goes away', async () => {
    const counter = countPages();
    const controller = new AbortController();
    const response = await fetch(`${origin}/users/export`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await sleep(300);
    const after = counter.pages;
    await sleep(300);
    assert.equal(counter.pages, after, 'no page is read after the client left');
    assert.ok(after < Math.ceil(USERS / EXPORT_PAGE_ROWS), `${after} pages read`);
    // The server is fine: the next export is whole.
    const again = await fetch(`${origin}/users/export?format=ndjson`);
    assert.equal((await again.text()).trimEnd().split('\n').length, USERS);
  });
});
