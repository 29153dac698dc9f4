import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { TEST_DIALECTS } from '../helpers/database.js';
import { boundsOf, userInput } from '../helpers/factories.js';
import { userModel, type User } from '../../src/users/users.schemas.js';

/** Every sort the declaration allows, in both directions. */
const SORTS = [...userModel.sorts.keys()].flatMap((field) => [field, `-${field}`]);
const [AGE_MIN, AGE_MAX] = boundsOf('age');

/** Parses an RFC 8288 Link header into rel → URL. */
function parseLinks(header: string | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  for (const part of (header ?? '').split(/,\s*(?=<)/)) {
    const match = /^<([^>]*)>;\s*rel="([^"]+)"$/.exec(part.trim());
    if (match) links[match[2]!] = match[1]!;
  }
  return links;
}

for (const dialect of TEST_DIALECTS) {
  describe(`GET /users/ (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    async function seed(inputs: Record<string, unknown>[]): Promise<User[]> {
      const users: User[] = [];
      for (const input of inputs) {
        const response = await t.request({ method: 'POST', url: '/users/', payload: userInput(input) });
        assert.equal(response.statusCode, 201);
        users.push(response.json());
      }
      return users;
    }
    const list = (query = '') => t.request({ url: `/users/${query}` });
    const ids = (response: { json(): User[] }) => response.json().map((user) => user.id);

    it('answers an empty array with X-Total-Count 0 on an empty database', async () => {
      const response = await list();
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), []);
      assert.equal(response.headers['x-total-count'], '0');
      assert.deepEqual(parseLinks(response.headers['link'] as string), { first: '/users/?limit=100' });
    });

    it('lists users as a bare array in id order, the same with and without the trailing slash', async () => {
      const users = await seed([{}, {}, {}]);
      const response = await list();
      assert.deepEqual(response.json(), users);
      assert.equal(response.headers['x-total-count'], '3');
      const withoutSlash = await t.request({ url: '/users' });
      assert.equal(withoutSlash.statusCode, 200);
      assert.deepEqual(withoutSlash.json(), users);
    });

    it('pages with offset and limit, and links first, prev, next and last', async () => {
      const users = await seed(Array.from({ length: 5 }, () => ({})));
      const response = await list('?offset=2&limit=2');
      assert.deepEqual(ids(response), [users[2]!.id, users[3]!.id]);
      assert.equal(response.headers['x-total-count'], '5');
      const links = parseLinks(response.headers['link'] as string);
      assert.deepEqual(Object.keys(links).sort(), ['first', 'last', 'next', 'prev']);
      assert.equal(links['first'], '/users/?limit=2');
      assert.equal(links['prev'], '/users/?limit=2&offset=0');
      assert.equal(links['last'], '/users/?limit=2&offset=4');
      const next = await t.request({ url: links['next']! });
      assert.deepEqual(ids(next), [users[4]!.id]);
      assert.equal(parseLinks(next.headers['link'] as string)['next'], undefined, 'no next link on the last page');
    });

    it('walks the whole collection through next links without gaps or repeats, in every sort order', async () => {
      const users = await seed(Array.from({ length: 7 }, (_, i) => ({ age: i % 3 === 0 ? null : 20 + (i % 2) })));
      for (const sort of SORTS) {
        const seen: number[] = [];
        let url: string | undefined = `/users/?limit=3&sort=${sort}`;
        while (url) {
          const response = await t.request({ url });
          assert.equal(response.statusCode, 200, url);
          seen.push(...ids(response));
          url = parseLinks(response.headers['link'] as string)['next'];
        }
        const all = ids(await list(`?sort=${sort}`));
        assert.deepEqual(seen, all, `sort=${sort}`);
        assert.equal(new Set(seen).size, users.length);
      }
    });

    it('sorts by each field in both directions, breaking ties by id', async () => {
      const users = await seed([
        { first_name: 'Bob', last_name: 'Zed', age: 40 },
        { first_name: 'alice', last_name: 'Young', age: null },
        { first_name: 'Alice', last_name: 'Young', age: 25 },
        { first_name: 'Carl', last_name: 'Adams', age: 25 },
      ]);
      const [bob, alice, Alice, carl] = users.map((user) => user.id);
      assert.deepEqual(ids(await list('?sort=first_name')), [Alice, bob, carl, alice]);
      assert.deepEqual(ids(await list('?sort=-first_name')), [alice, carl, bob, Alice]);
      assert.deepEqual(ids(await list('?sort=last_name')), [carl, alice, Alice, bob]);
      assert.deepEqual(ids(await list('?sort=-last_name')), [bob, Alice, alice, carl]);
      assert.deepEqual(ids(await list('?sort=age')), [alice, Alice, carl, bob], 'no age sorts first');
      assert.deepEqual(ids(await list('?sort=-age')), [bob, carl, Alice, alice], 'no age sorts last descending');
      assert.deepEqual(ids(await list('?sort=-id')), [carl, Alice, alice, bob]);
      assert.deepEqual(ids(await list('?sort=created_at')), [bob, alice, Alice, carl]);
    });

    it('sorts by email case-insensitively', async () => {
      const users = await seed([{ email: 'b@example.com' }, { email: 'A@example.com' }, { email: 'c@example.com' }]);
      assert.deepEqual(ids(await list('?sort=email')), [users[1]!.id, users[0]!.id, users[2]!.id]);
    });

    it('filters by exact email case-insensitively, by exact names, by age bounds and by q, combined with AND', async () => {
      const users = await seed([
        { first_name: 'Ann', last_name: 'Lee', age: 20, email: 'Ann.Lee@Example.com' },
        { first_name: 'Ann', last_name: 'Ray', age: 35, email: 'ann.ray@example.com' },
        { first_name: 'ann', last_name: 'Lee', age: null, email: 'ann2@example.org' },
        { first_name: 'Bo', last_name: '100%_real', age: 50, email: 'bo@example.net' },
      ]);
      const [annLee, annRay, annLower, bo] = users.map((user) => user.id);
      const check = async (query: string, expected: (number | undefined)[]) => {
        const response = await list(query);
        assert.equal(response.statusCode, 200, query);
        assert.deepEqual(ids(response), expected, query);
        assert.equal(response.headers['x-total-count'], String(expected.length), query);
      };
      await check('?email=ann.lee@example.COM', [annLee]);
      await check('?first_name=Ann', [annLee, annRay]);
      await check('?last_name=Lee', [annLee, annLower]);
      await check('?min_age=20&max_age=35', [annLee, annRay]);
      await check(`?min_age=${AGE_MIN}`, [annLee, annRay, bo]);
      await check(`?max_age=${AGE_MAX}`, [annLee, annRay, bo]);
      await check('?first_name=Ann&last_name=Lee', [annLee]);
      await check('?q=ANN', [annLee, annRay, annLower]);
      await check('?q=ANN&count=true', [annLee, annRay, annLower]);
      await check('?q=example.org', [annLower]);
      await check('?q=%25_', [bo]);
      await check('?q=_', [bo]);
      await check('?q=nobody', []);
      await check('?q=ann&min_age=30', [annRay]);
      await check('?q=ann&sort=-email', [annLower, annRay, annLee]);
    });

    it('sends X-Total-Count and a Link with rel="last" for q by default, as for every list', async () => {
      const users = await seed(Array.from({ length: 3 }, () => ({ first_name: 'Quinn' })));
      await seed([{ first_name: 'Other' }]);
      for (const q of ['qui', 'QUINN', 'qu']) {
        const response = await list(`?q=${q}&limit=1`);
        assert.deepEqual(ids(response), [users[0]!.id], q);
        assert.equal(response.headers['x-total-count'], '3', q);
        const links = parseLinks(response.headers['link'] as string);
        assert.equal(links['last'], `/users/?q=${q}&limit=1&offset=2`, q);
        assert.doesNotMatch(links['next']!, /count=/, q);
      }
    });

    it('omits X-Total-Count and rel="last" for q with count=false, and the next link keeps count=false', async () => {
      await seed(Array.from({ length: 3 }, () => ({ first_name: 'Quinn' })));
      const response = await list('?q=quinn&limit=1&count=false');
      assert.equal(response.json().length, 1);
      assert.equal(response.headers['x-total-count'], undefined);
      const links = parseLinks(response.headers['link'] as string);
      assert.equal(links['last'], undefined);
      assert.match(links['next']!, /count=false/);
      const next = await t.request({ url: links['next']! });
      assert.equal(next.headers['x-total-count'], undefined, 'the next page does not count either');
      assert.equal(parseLinks(next.headers['link'] as string)['last'], undefined);
    });

    it('keeps filters and sort in the links, and omits X-Total-Count with count=false', async () => {
      await seed(Array.from({ length: 3 }, () => ({ first_name: 'Zoe' })));
      const response = await list('?first_name=Zoe&sort=-age&limit=1&count=false');
      assert.equal(response.headers['x-total-count'], undefined);
      const links = parseLinks(response.headers['link'] as string);
      assert.equal(links['last'], undefined);
      assert.match(links['next']!, /first_name=Zoe/);
      assert.match(links['next']!, /sort=-age/);
      assert.match(links['next']!, /count=false/);
    });

    const badQueries = [
      'limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'offset=1.5', 'sort=password', 'sort=--id', `min_age=${AGE_MIN - 1}`,
      `max_age=${AGE_MAX + 1}`, 'q=', 'q=abc%00def', 'q=%00', 'first_name=a%0Ab', 'unknown=1', 'cursor=!!!', 'cursor=abc', 'limit=1&limit=2',
    ];
    for (const query of badQueries) {
      it(`answers 422 for ?${query}`, async () => {
        const response = await list(`?${query}`);
        assert.equal(response.statusCode, 422);
        assert.equal(response.json().code, 'VALIDATION_FAILED');
        assert.equal(response.json().errors[0].location[0], 'query');
      });
    }

    it('refuses a blank name filter with the message of a blank name in a body', async () => {
      for (const query of ['first_name=%20%20', 'last_name=%C2%A0']) {
        const response = await list(`?${query}`);
        assert.equal(response.statusCode, 422, query);
        assert.deepEqual(response.json().errors, [{ location: ['query', query.split('=')[0]], message: 'must not be blank' }], query);
      }
    });

    it('refuses a cursor made for another sort order, and a cursor combined with offset', async () => {
      await seed([{}, {}, {}]);
      const first = await list('?limit=1&sort=age');
      const next = parseLinks(first.headers['link'] as string)['next']!;
      const cursor = new URLSearchParams(next.split('?')[1]).get('cursor');
      assert.equal((await list(`?limit=1&sort=age&cursor=${cursor}`)).statusCode, 200);
      assert.equal((await list(`?limit=1&sort=id&cursor=${cursor}`)).statusCode, 422);
      assert.equal((await list(`?limit=1&sort=age&offset=1&cursor=${cursor}`)).statusCode, 422);
    });

    it('counts only the rows matching the filters, also after deletes', async () => {
      const users = await seed([{ age: 10 }, { age: 10 }, { age: 60 }]);
      await t.request({ method: 'DELETE', url: `/users/${users[0]!.id}` });
      assert.equal((await list()).headers['x-total-count'], '2');
      assert.equal((await list('?max_age=10')).headers['x-total-count'], '1');
    });
  });
}

for (const dialect of TEST_DIALECTS) {
  describe(`GET /users/ search and counts after changes (${dialect})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp(dialect);
    });
    afterEach(() => t.close());

    const create = async (input: Record<string, unknown>) =>
      ((await t.request({ method: 'POST', url: '/users/', payload: userInput(input) })).json() as { id: number });
    const found = async (query: string) => {
      const response = await t.request({ url: `/users/?${query}` });
      return { ids: (response.json() as { id: number }[]).map((user) => user.id), total: response.headers['x-total-count'] };
    };

    it('finds a user by q under the new name after a rename, and not after a delete', async () => {
      const user = await create({ first_name: 'Maximilian', last_name: 'Quux' });
      assert.deepEqual(await found('q=imili'), { ids: [user.id], total: '1' });
      await t.request({ method: 'PATCH', url: `/users/${user.id}`, payload: { first_name: 'Bartholomew' } });
      assert.deepEqual(await found('q=imili'), { ids: [], total: '0' });
      assert.deepEqual(await found('q=THOLO'), { ids: [user.id], total: '1' });
      await t.request({ method: 'DELETE', url: `/users/${user.id}` });
      assert.deepEqual(await found('q=tholo'), { ids: [], total: '0' });
    });

    it('counts q exactly: every column, a user matching in two columns once, after renames and deletes, with other filters', async () => {
      // 3 characters (one trigram), longer, non-ASCII and 1-2 characters: each way the total of a q is counted.
      const inFirst = await create({ first_name: 'Wyxander', last_name: 'Émile', age: 30 });
      const inLast = await create({ first_name: 'Plain', last_name: 'Ewyxson', age: 40 });
      const inEmail = await create({ email: `mail.wyxon.${inFirst.id}@example.com`, age: 50 });
      const inTwo = await create({ first_name: 'Wyxie', last_name: 'Wyxonford', email: `wyx.wyxon.${inFirst.id}@example.com`, age: 60 });
      await create({ first_name: 'Nobody', last_name: 'Else' });
      const all = [inFirst.id, inLast.id, inEmail.id, inTwo.id];
      assert.deepEqual(await found('q=wyx'), { ids: all, total: '4' });
      assert.deepEqual(await found('q=WYX&sort=-first_name'), { ids: [inTwo.id, inFirst.id, inLast.id, inEmail.id], total: '4' });
      assert.deepEqual(await found('q=wyxon'), { ids: [inEmail.id, inTwo.id], total: '2' });
      assert.deepEqual(await found('q=yx'), { ids: all, total: '4' });
      assert.deepEqual(await found('q=%C3%89MI'), { ids: [inFirst.id], total: '1' });
      assert.deepEqual(await found('q=wyx&min_age=45'), { ids: [inEmail.id, inTwo.id], total: '2' });
      assert.deepEqual(await found('q=wyx&first_name=Wyxie'), { ids: [inTwo.id], total: '1' });
      assert.deepEqual(await found('q=wyx&limit=1&count=true'), { ids: [inFirst.id], total: '4' });

      await t.request({ method: 'PATCH', url: `/users/${inFirst.id}`, payload: { first_name: 'Alexander' } });
      await t.request({ method: 'PATCH', url: `/users/${inTwo.id}`, payload: { first_name: 'Plainer' } });
      assert.deepEqual(await found('q=wyx'), { ids: [inLast.id, inEmail.id, inTwo.id], total: '3' }, 'after renames');
      await t.request({ method: 'PATCH', url: `/users/${inTwo.id}`, payload: { last_name: 'Ford' } });
      assert.deepEqual(await found('q=wyx'), { ids: [inLast.id, inEmail.id, inTwo.id], total: '3' }, 'still in its email');
      await t.request({ method: 'PATCH', url: `/users/${inLast.id}`, payload: { first_name: 'Wyxa' } });
      assert.deepEqual(await found('q=wyx'), { ids: [inLast.id, inEmail.id, inTwo.id], total: '3' }, 'a second column of a match');
      await t.request({ method: 'DELETE', url: `/users/${inEmail.id}` });
      assert.deepEqual(await found('q=wyx'), { ids: [inLast.id, inTwo.id], total: '2' }, 'after a delete');
      assert.deepEqual(await found('q=wyxon'), { ids: [inTwo.id], total: '1' });
      assert.deepEqual(await found('q=yx'), { ids: [inLast.id, inTwo.id], total: '2' });
      assert.deepEqual(await found('q=wyx&min_age=45'), { ids: [inTwo.id], total: '1' });
      assert.deepEqual(await found('q=%C3%A9mi'), { ids: [inFirst.id], total: '1' });
    });

    it('matches q literally, quotes and wildcards included', async () => {
      const quoted = await create({ last_name: 'O"Brien (x)' });
      await create({ last_name: 'OBrien' });
      assert.deepEqual(await found(`q=${encodeURIComponent('O"Brien (')}`), { ids: [quoted.id], total: '1' });
      assert.deepEqual(await found(`q=${encodeURIComponent('"*')}`), { ids: [], total: '0' });
    });

    it('keeps age-filter totals right when ages change and users go', async () => {
      const a = await create({ age: 20 });
      const b = await create({ age: null });
      await create({ age: 40 });
      assert.equal((await found('min_age=30')).total, '1');
      await t.request({ method: 'PATCH', url: `/users/${b.id}`, payload: { age: 35 } });
      assert.deepEqual(await found('min_age=30'), { ids: [b.id, a.id + 2], total: '2' });
      await t.request({ method: 'PATCH', url: `/users/${a.id}`, payload: { age: null } });
      await t.request({ method: 'DELETE', url: `/users/${b.id}` });
      assert.deepEqual(await found(`max_age=${AGE_MAX}`), { ids: [a.id + 2], total: '1' });
      assert.equal((await found('')).total, '2');
    });
  });
}
