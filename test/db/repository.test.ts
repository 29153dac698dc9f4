import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { EmailTakenError, IdempotencyKeyReusedError } from '../../src/errors.js';
import type { Database } from '../../src/db/database.js';
import type { UserListCriteria, UsersRepository } from '../../src/users/users.repository.js';
import { userModel, type SortField, type User, type UserCreate } from '../../src/users/users.schemas.js';
import { createTestDatabase, TEST_DIALECTS } from '../helpers/database.js';
import { boundsOf, compareSortValues, rulesOf, sortValues, type SortValue } from '../helpers/factories.js';

// The repository contract, run on every dialect with the same expectations: whatever passes here on SQLite
// passes on PostgreSQL, so the HTTP layer above cannot tell them apart.

const WIRE_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Every field of the declaration, in wire order. */
const USER_KEYS = userModel.fields.map((field) => field.name);
const [AGE_MIN, AGE_MAX] = boundsOf('age');

/** Names that tell a binary (code point) order from a locale's: case, accents, fullwidth letters, emoji. */
const FIXTURE: UserCreate[] = [
  { first_name: 'Ann', last_name: 'Lee', age: 30, email: 'ann.lee@example.com' },
  { first_name: 'ann', last_name: 'Lee', age: null, email: 'Ann.Two@Example.com' },
  { first_name: 'Zoë', last_name: 'Ångström', age: 30, email: 'zoe@example.com' },
  { first_name: 'Bob', last_name: 'lee', age: AGE_MIN, email: 'bob_100%@example.com' },
  { first_name: 'Ann', last_name: 'Émile', age: AGE_MAX, email: 'x@example.org' },
  { first_name: 'Émile', last_name: 'Zola', email: 'EMILE@EXAMPLE.COM' },
  { first_name: 'Ｚed', last_name: '😀 Smile', age: 45, email: 'smile@example.net' },
  { first_name: 'Bob', last_name: 'Back\\slash', age: 45, email: 'bob.b@example.com' },
];

/** The value a user sorts by, from the declared sort expression of each sortable field. */
const SORT_VALUES = sortValues();
const sortValue = (user: User, field: SortField): SortValue => SORT_VALUES.get(field)!(user);
/** What an insert stores for each optional field it is not given: the schema's default, or null. */
const ABSENT = Object.fromEntries(
  userModel.created.filter((field) => field.spec.create === 'optional').map((field) => [field.name, rulesOf(field).default ?? null]),
);

/** The ids in the order the repository must return them: by the sort value, ties by id, both in one direction. */
function expectedOrder(users: User[], field: SortField, descending: boolean): number[] {
  const sign = descending ? -1 : 1;
  return [...users]
    .sort((a, b) => sign * (compareSortValues(sortValue(a, field), sortValue(b, field)) || a.id - b.id))
    .map((user) => user.id);
}

const criteria = (overrides: Partial<UserListCriteria> = {}): UserListCriteria => ({
  filters: {},
  sort: 'id',
  descending: false,
  limit: 100,
  offset: 0,
  count: true,
  ...overrides,
});

for (const dialect of TEST_DIALECTS) {
  describe(`users repository (${dialect})`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    let repository: UsersRepository;
    beforeEach(async () => {
      ({ database, users: repository, drop } = await createTestDatabase(
        dialect,
        loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: ':memory:' }),
      ));
    });
    afterEach(() => drop());

    async function seed(inputs: UserCreate[] = FIXTURE): Promise<User[]> {
      const users: User[] = [];
      for (const input of inputs) users.push(await repository.insert(input));
      return users;
    }

    /** A page with its JSON parsed. */
    async function list(overrides: Partial<UserListCriteria> = {}) {
      const page = await repository.list(criteria(overrides));
      const users = JSON.parse(String(page.json)) as User[];
      assert.equal(page.size, users.length, 'size is the number of users in the page');
      return { ...page, users, ids: users.map((user) => user.id) };
    }

    function assertWireTimestamps(user: User) {
      assert.match(user.created_at, WIRE_TIMESTAMP);
      assert.match(user.updated_at, WIRE_TIMESTAMP);
    }

    it('reports its dialect and answers ping', async () => {
      assert.equal(database.dialect, dialect);
      await database.ping();
    });

    describe('insert, findById, update, delete', () => {
      it('inserts a user and returns it with its id and timestamps, age (every optional field) null when absent', async () => {
        const before = Date.now();
        const user = await repository.insert({ first_name: 'John', last_name: 'Doe', email: 'john@example.com' });
        assert.deepEqual(Object.keys(user), USER_KEYS);
        assert.equal(user.id, 1);
        assert.equal(user.age, null);
        assert.deepEqual(
          { ...user, created_at: undefined, updated_at: undefined },
          { ...ABSENT, id: 1, first_name: 'John', last_name: 'Doe', email: 'john@example.com', created_at: undefined, updated_at: undefined },
        );
        assertWireTimestamps(user);
        assert.equal(user.created_at, user.updated_at);
        const created = Date.parse(user.created_at);
        assert.ok(Math.abs(created - before) < 60_000, 'created_at is the current UTC time');
      });

      it('finds a user by id exactly as inserted; undefined for an unknown id, however large', async () => {
        const [first, second] = await seed(FIXTURE.slice(0, 2));
        assert.deepEqual(await repository.findById(first!.id), first);
        assert.deepEqual(await repository.findById(second!.id), second);
        assert.deepEqual(Object.keys((await repository.findById(first!.id))!), USER_KEYS);
        assert.equal(await repository.findById(3), undefined);
        assert.equal(await repository.findById(2 ** 31), undefined);
        assert.equal(await repository.findById(Number.MAX_SAFE_INTEGER), undefined);
      });

      it('keeps text exactly: accents, emoji, backslashes, quotes', async () => {
        const user = await repository.insert({
          first_name: 'Zoë "Z" O\'Brien',
          last_name: '😀 \\ ％ _ %',
          age: AGE_MAX,
          email: 'odd_%\\@example.com',
        });
        assert.deepEqual(await repository.findById(user.id), user);
        assert.deepEqual((await list()).users, [user]);
        assert.equal(user.first_name, 'Zoë "Z" O\'Brien');
        assert.equal(user.last_name, '😀 \\ ％ _ %');
      });

      it('updates only the given fields, sets age to null, and bumps updated_at', async () => {
        const user = await repository.insert({ first_name: 'John', last_name: 'Doe', age: 30, email: 'john@example.com' });
        await sleep(5);
        const renamed = await repository.update(user.id, { first_name: 'Jane' });
        assert.deepEqual(
          { ...renamed, updated_at: undefined },
          { ...user, first_name: 'Jane', updated_at: undefined },
        );
        assertWireTimestamps(renamed!);
        assert.ok(renamed!.updated_at > user.updated_at, 'updated_at moves forward');
        assert.equal(renamed!.created_at, user.created_at, 'created_at never changes');
        const cleared = await repository.update(user.id, { age: null, last_name: 'Roe', email: 'JANE@example.com' });
        assert.deepEqual(
          { ...cleared, updated_at: undefined },
          { ...renamed, age: null, last_name: 'Roe', email: 'JANE@example.com', updated_at: undefined },
        );
        assert.deepEqual(Object.keys(cleared!), USER_KEYS);
        assert.deepEqual(await repository.findById(user.id), cleared);
      });

      it('updates nothing and answers undefined for an unknown id', async () => {
        const [user] = await seed(FIXTURE.slice(0, 1));
        assert.equal(await repository.update(99, { first_name: 'Nobody' }), undefined);
        assert.equal(await repository.update(Number.MAX_SAFE_INTEGER, { age: 1 }), undefined);
        assert.deepEqual(await repository.findById(user!.id), user);
      });

      it('moves updated_at strictly forward, even for changes within one millisecond', async () => {
        const user = await repository.insert({ first_name: 'John', last_name: 'Doe', email: 'john@example.com' });
        const versions = [user.updated_at];
        for (let age = 1; age <= 5; age++) versions.push((await repository.update(user.id, { age }))!.updated_at);
        for (const version of versions) assert.match(version, WIRE_TIMESTAMP);
        for (let i = 1; i < versions.length; i++) assert.ok(versions[i]! > versions[i - 1]!, `${versions[i]} > ${versions[i - 1]}`);
      });

      it('updates only while updated_at is one of the expected versions (If-Match)', async () => {
        const user = await repository.insert({ first_name: 'John', last_name: 'Doe', email: 'john@example.com' });
        const renamed = await repository.update(user.id, { first_name: 'Jane' }, [user.updated_at]);
        assert.equal(renamed?.first_name, 'Jane');
        assert.equal(await repository.update(user.id, { first_name: 'Stale' }, [user.updated_at]), undefined);
        for (const expected of [[], ['not a timestamp'], ['x\0'], [user.created_at.slice(0, 19)]]) {
          assert.equal(await repository.update(user.id, { age: 1 }, expected), undefined);
        }
        assert.deepEqual(await repository.findById(user.id), renamed, 'a refused update changes nothing');
        const aged = await repository.update(user.id, { age: 2 }, ['stale', renamed!.updated_at]);
        assert.equal(aged?.age, 2);
        assert.equal(await repository.update(99, { age: 3 }, [aged!.updated_at]), undefined);
      });

      it('deletes only while updated_at is one of the expected versions (If-Match)', async () => {
        const user = await repository.insert({ first_name: 'John', last_name: 'Doe', email: 'john@example.com' });
        const changed = (await repository.update(user.id, { age: 1 }))!;
        assert.equal(await repository.delete(user.id, [user.updated_at]), false);
        assert.equal(await repository.delete(user.id, []), false);
        assert.deepEqual(await repository.findById(user.id), changed);
        assert.equal(await repository.delete(user.id, [changed.updated_at]), true);
        assert.equal(await repository.findById(user.id), undefined);
        assert.equal(await repository.delete(user.id, [changed.updated_at]), false);
      });

      it('deletes a user once: true, then false', async () => {
        const [first, second] = await seed(FIXTURE.slice(0, 2));
        assert.equal(await repository.delete(first!.id), true);
        assert.equal(await repository.findById(first!.id), undefined);
        assert.equal(await repository.delete(first!.id), false);
        assert.equal(await repository.delete(Number.MAX_SAFE_INTEGER), false);
        assert.deepEqual(await repository.findById(second!.id), second);
      });

      it('never reuses an id, not even after the highest one is deleted or the table is emptied', async () => {
        const users = await seed(FIXTURE.slice(0, 3));
        assert.deepEqual(users.map((user) => user.id), [1, 2, 3]);
        assert.equal(await repository.delete(3), true);
        assert.equal((await repository.insert(FIXTURE[3]!)).id, 4);
        for (const id of [1, 2, 4]) assert.equal(await repository.delete(id), true);
        assert.equal((await repository.insert(FIXTURE[4]!)).id, 5);
      });
    });

    describe('insertOnce (Idempotency-Key)', () => {
      const request = (key: string, fingerprint = 'fingerprint-1') => ({ key, fingerprint });

      it('creates the user once, then replays the response of the first time, not the user as it is now', async () => {
        const first = await repository.insertOnce(FIXTURE[0]!, request('key-1'));
        assert.equal(first.replayed, false);
        assert.deepEqual(await repository.findById(first.user.id), first.user);
        await repository.update(first.user.id, { age: 99 });
        const again = await repository.insertOnce(FIXTURE[0]!, request('key-1'));
        assert.deepEqual(again, { user: first.user, replayed: true });
        assert.deepEqual(Object.keys(again.user), USER_KEYS);
        assert.equal((await list()).total, 1);
      });

      it('refuses a known key with another fingerprint', async () => {
        await repository.insertOnce(FIXTURE[0]!, request('key-1'));
        await assert.rejects(repository.insertOnce(FIXTURE[1]!, request('key-1', 'fingerprint-2')), IdempotencyKeyReusedError);
        assert.equal((await list()).total, 1);
      });

      it('creates another user under another key', async () => {
        const first = await repository.insertOnce(FIXTURE[0]!, request('key-1'));
        const second = await repository.insertOnce(FIXTURE[1]!, request('key-2'));
        assert.equal(second.replayed, false);
        assert.notEqual(second.user.id, first.user.id);
      });

      it('remembers nothing when the email is taken: the same key may be retried once the email is free', async () => {
        const owner = await repository.insert(FIXTURE[0]!);
        await assert.rejects(repository.insertOnce({ ...FIXTURE[1]!, email: FIXTURE[0]!.email }, request('key-1')), EmailTakenError);
        assert.equal((await list()).total, 1);
        await repository.delete(owner.id);
        const retried = await repository.insertOnce({ ...FIXTURE[1]!, email: FIXTURE[0]!.email }, request('key-1'));
        assert.equal(retried.replayed, false);
        assert.equal(retried.user.id, owner.id + 1);
      });

      it('creates one user for concurrent requests with one key', async () => {
        const results = await Promise.all(Array.from({ length: 12 }, () => repository.insertOnce(FIXTURE[2]!, request('same-key'))));
        assert.equal(results.filter((result) => !result.replayed).length, 1);
        for (const result of results) assert.deepEqual(result.user, results[0]!.user);
        assert.equal((await list()).total, 1);
      });
    });

    describe('email uniqueness', () => {
      it('refuses a case-insensitive duplicate on insert with EmailTakenError, and the next id follows without a gap', async () => {
        await repository.insert({ first_name: 'John', last_name: 'Doe', email: 'John.Doe@Example.com' });
        await assert.rejects(
          repository.insert({ first_name: 'Other', last_name: 'Person', email: 'john.doe@example.COM' }),
          EmailTakenError,
        );
        await assert.rejects(
          repository.insert({ first_name: 'Other', last_name: 'Person', email: 'John.Doe@Example.com' }),
          EmailTakenError,
        );
        assert.equal((await list()).total, 1);
        assert.equal((await repository.insert({ first_name: 'A', last_name: 'B', email: 'a@example.com' })).id, 2);
      });

      it('refuses an update to the email of another user, in any case; allows a new case of its own email', async () => {
        const [first, second] = await seed(FIXTURE.slice(0, 2));
        await assert.rejects(repository.update(second!.id, { email: first!.email.toUpperCase() }), EmailTakenError);
        assert.deepEqual(await repository.findById(second!.id), second, 'a refused update changes nothing');
        const recased = await repository.update(first!.id, { email: first!.email.toUpperCase() });
        assert.equal(recased!.email, first!.email.toUpperCase());
      });

      it('frees the email of a deleted user', async () => {
        const [user] = await seed(FIXTURE.slice(0, 1));
        await repository.delete(user!.id);
        assert.equal((await repository.insert({ ...FIXTURE[0]!, email: user!.email.toUpperCase() })).id, 2);
      });
    });

    describe('list', () => {
      it('renders the page as a JSON array of users, the same users findById returns', async () => {
        const users = await seed();
        const page = await list();
        assert.deepEqual(page.users, users);
        for (const user of page.users) {
          assert.deepEqual(Object.keys(user), USER_KEYS);
          assertWireTimestamps(user);
        }
        assert.equal(page.hasMore, false);
        assert.equal(page.lastKey, null);
        assert.equal(page.total, users.length);
      });

      it('renders an empty page as [] with a total of 0', async () => {
        const page = await repository.list(criteria());
        assert.deepEqual({ ...page, json: String(page.json) }, { json: '[]', size: 0, hasMore: false, lastKey: null, total: 0 });
      });

      for (const field of userModel.sorts.keys() as Iterable<SortField>) {
        for (const descending of [false, true]) {
          it(`sorts by ${descending ? '-' : ''}${field} in binary order, ties broken by id in the same direction`, async () => {
            const users = await seed();
            // Later changes give updated_at an order of its own (created_at has ties within a millisecond).
            await sleep(2);
            users[2] = (await repository.update(users[2]!.id, { age: 31 }))!;
            await sleep(2);
            users[0] = (await repository.update(users[0]!.id, { first_name: 'Ann' }))!;
            const expected = expectedOrder(users, field, descending);
            assert.deepEqual((await list({ sort: field, descending })).ids, expected);

            // The same order, page by page, through the keyset cursor of each page and through offsets.
            const walked: number[] = [];
            let after: UserListCriteria['after'];
            for (let pages = 0; pages < 10; pages++) {
              const page = await list({ sort: field, descending, limit: 3, after });
              walked.push(...page.ids);
              assert.equal(page.total, users.length, 'the total ignores the cursor');
              assert.equal(page.hasMore, walked.length < users.length);
              if (!page.hasMore) {
                assert.equal(page.lastKey, null);
                break;
              }
              const last = page.users.at(-1)!;
              assert.deepEqual(page.lastKey, { value: sortValue(last, field), id: last.id });
              after = page.lastKey!;
            }
            assert.deepEqual(walked, expected);
            for (let offset = 0; offset < users.length; offset += 3) {
              assert.deepEqual((await list({ sort: field, descending, limit: 3, offset })).ids, expected.slice(offset, offset + 3));
            }
          });
        }
      }

      it('sorts users without an age first ascending and last descending', async () => {
        const users = await seed();
        const withoutAge = users.filter((user) => user.age === null).map((user) => user.id);
        assert.deepEqual(withoutAge, [2, 6]);
        assert.deepEqual((await list({ sort: 'age' })).ids.slice(0, 2), [2, 6]);
        assert.deepEqual((await list({ sort: 'age', descending: true })).ids.slice(-2), [6, 2]);
        // Ages tie at 30 (1, 3) and 45 (7, 8): ids break the ties.
        assert.deepEqual((await list({ sort: 'age' })).ids, [2, 6, 4, 1, 3, 7, 8, 5]);
      });

      it('knows whether more rows follow, exactly at the boundary', async () => {
        await seed();
        const all = await list({ limit: FIXTURE.length });
        assert.equal(all.hasMore, false);
        assert.equal(all.lastKey, null);
        const short = await list({ limit: FIXTURE.length - 1 });
        assert.equal(short.hasMore, true);
        assert.deepEqual(short.lastKey, { value: FIXTURE.length - 1, id: FIXTURE.length - 1 });
        const beyond = await list({ offset: FIXTURE.length });
        assert.deepEqual([String(beyond.json), beyond.size, beyond.hasMore, beyond.total], ['[]', 0, false, FIXTURE.length]);
        const far = await list({ offset: Number.MAX_SAFE_INTEGER });
        assert.deepEqual(far.ids, []);
      });

      it('skips the count when not asked for it', async () => {
        await seed();
        assert.equal((await list({ count: false })).total, null);
        assert.equal((await list({ count: false, filters: { q: 'ann' } })).total, null);
      });

      it('keeps the unfiltered total through inserts and deletes', async () => {
        const users = await seed();
        assert.equal((await list({ limit: 1 })).total, 8);
        await repository.delete(users[7]!.id);
        await repository.delete(users[0]!.id);
        await repository.delete(users[0]!.id);
        assert.equal((await list({ limit: 1 })).total, 6);
        await assert.rejects(repository.insert(FIXTURE[1]!), EmailTakenError);
        assert.equal((await list({ limit: 1 })).total, 6, 'a refused insert does not count');
        await repository.insert(FIXTURE[0]!);
        assert.equal((await list({ limit: 1 })).total, 7);
        for (const user of (await list()).users) await repository.delete(user.id);
        assert.equal((await list()).total, 0);
      });

      it('counts concurrent inserts exactly', async () => {
        const inputs = Array.from({ length: 40 }, (_, i) => ({ first_name: 'N', last_name: 'M', email: `n${i}@example.com` }));
        const created = await Promise.all(inputs.map((input) => repository.insert(input)));
        assert.equal(new Set(created.map((user) => user.id)).size, 40);
        assert.equal((await list({ limit: 1 })).total, 40);
        await Promise.all(created.slice(0, 15).map((user) => repository.delete(user.id)));
        assert.equal((await list({ limit: 1 })).total, 25);
      });

      describe('filters', () => {
        const cases: { name: string; filters: UserListCriteria['filters']; ids: number[] }[] = [
          { name: 'email: exact, case-insensitive', filters: { email: 'ANN.LEE@EXAMPLE.COM' }, ids: [1] },
          { name: 'email: not a substring', filters: { email: 'ann.lee@example' }, ids: [] },
          { name: 'first_name: exact, same case', filters: { first_name: 'Ann' }, ids: [1, 5] },
          { name: 'first_name: another case is another name', filters: { first_name: 'ann' }, ids: [2] },
          { name: 'first_name: not a prefix', filters: { first_name: 'An' }, ids: [] },
          { name: 'first_name: accents are kept', filters: { first_name: 'Émile' }, ids: [6] },
          { name: 'last_name: exact, same case', filters: { last_name: 'Lee' }, ids: [1, 2] },
          { name: 'min_age: inclusive, no age never matches', filters: { min_age: 30 }, ids: [1, 3, 5, 7, 8] },
          { name: 'max_age: inclusive, no age never matches', filters: { max_age: AGE_MIN }, ids: [4] },
          { name: 'min_age and max_age', filters: { min_age: 30, max_age: 45 }, ids: [1, 3, 7, 8] },
          { name: `max_age ${AGE_MAX} is every user with an age`, filters: { max_age: AGE_MAX }, ids: [1, 3, 4, 5, 7, 8] },
          { name: 'q: case-insensitive substring of first name or email', filters: { q: 'ANN' }, ids: [1, 2, 5] },
          { name: 'q: substring of last name and email', filters: { q: 'mile' }, ids: [5, 6, 7] },
          { name: 'q: an email domain', filters: { q: '@example.org' }, ids: [5] },
          { name: 'q: % is a literal percent sign', filters: { q: '%' }, ids: [4] },
          { name: 'q: _ is a literal underscore', filters: { q: '_' }, ids: [4] },
          { name: 'q: _1 and 0% are literal', filters: { q: '_100%@' }, ids: [4] },
          { name: 'q: a wildcard pattern is not a pattern', filters: { q: 'b%e' }, ids: [] },
          { name: 'q: backslash is a literal backslash', filters: { q: 'k\\s' }, ids: [8] },
          { name: 'q: accents are kept as they are', filters: { q: 'Émile' }, ids: [5, 6] },
          // From 3 characters on, SQLite's trigram index folds every script; below, its LIKE folds ASCII only.
          { name: 'q: from 3 characters on, every letter folds', filters: { q: 'éMI' }, ids: [5, 6] },
          { name: 'q: fullwidth and accented letters fold', filters: { q: 'ｚED' }, ids: [7] },
          { name: 'q: 1-2 characters fold ASCII letters only', filters: { q: 'é' }, ids: [] },
          { name: 'q: 1-2 characters, accent as it is', filters: { q: 'Ém' }, ids: [5, 6] },
          { name: 'q: 2 ASCII characters fold', filters: { q: 'OB' }, ids: [4, 8] },
          { name: 'q: emoji', filters: { q: '😀' }, ids: [7] },
          { name: 'q: no match', filters: { q: 'nobody' }, ids: [] },
          { name: 'filters combine with AND', filters: { first_name: 'Ann', min_age: 100 }, ids: [5] },
          { name: 'q and age combine', filters: { q: 'lee', max_age: 29 }, ids: [4] },
          { name: 'all filters at once', filters: { email: 'x@EXAMPLE.org', first_name: 'Ann', last_name: 'Émile', min_age: AGE_MAX, max_age: AGE_MAX, q: 'ann' }, ids: [5] },
          // PostgreSQL text cannot hold U+0000: a value with one matches nothing there, and nothing stored has one.
          { name: 'a filter value with U+0000 matches nothing', filters: { first_name: 'Ann\0' }, ids: [] },
          { name: 'an email filter with U+0000 matches nothing', filters: { email: 'x@example.org\0' }, ids: [] },
        ];
        for (const { name, filters, ids } of cases) {
          it(name, async () => {
            await seed();
            const page = await list({ filters });
            assert.deepEqual(page.ids, ids);
            assert.equal(page.total, ids.length);
            // The total counts every match, not the page; the keyset position does not change it.
            const first = await list({ filters, limit: 1 });
            assert.equal(first.total, ids.length);
            assert.equal(first.hasMore, ids.length > 1);
            if (first.lastKey) {
              const rest = await list({ filters, after: first.lastKey });
              assert.deepEqual(rest.ids, ids.slice(1));
              assert.equal(rest.total, ids.length);
            }
            assert.deepEqual((await list({ filters, sort: 'id', descending: true })).ids, [...ids].reverse());
          });
        }
      });

      describe('a cursor value altered by a client is compared as SQLite compares it, never a database error', () => {
        const afterValue = async (field: SortField, value: string | number, id: number, descending: boolean) => {
          const users = await seed();
          const sign = descending ? -1 : 1;
          const expected = expectedOrder(users, field, descending).filter((userId) => {
            const user = users.find((candidate) => candidate.id === userId)!;
            // In id order the cursor's id is the whole position.
            if (field === 'id') return sign * (user.id - id) > 0;
            // A unique sort has no ties: the position is the value alone, whatever id the cursor holds.
            const unique = userModel.sorts.get(field)!.field.spec.unique !== undefined;
            return sign * (compareSortValues(sortValue(user, field), value) || (unique ? 0 : user.id - id)) > 0;
          });
          return { actual: (await list({ sort: field, descending, after: { value, id } })).ids, expected };
        };
        const cases: [SortField, string | number, number][] = [
          ['created_at', 'not a timestamp', 1],
          ['created_at', '2026-13-45T99:00:00.000Z', 1],
          ['updated_at', '0000-01-01T00:00:00.000Z', 1],
          ['updated_at', '2000-01-01T00:00:00.000Z', 1],
          ['created_at', '2000-01-01', 1],
          ['created_at', '', 1],
          ['first_name', 'Ann\0zzz', 1],
          ['first_name', 'Ann\0', 5],
          ['last_name', '\0', 0],
          ['email', 'bob\0', 4],
          ['email', 'bob.b@example.com', 0],
          ['email', 'bob.b@example.com', 1_000_000],
          ['age', 2 ** 40, 1],
          ['age', -(2 ** 40), 1],
          ['id', Number.MAX_SAFE_INTEGER, 4],
        ];
        for (const [field, value, id] of cases) {
          for (const descending of [false, true]) {
            it(`${descending ? '-' : ''}${field} after ${JSON.stringify(value)}`, async () => {
              const { actual, expected } = await afterValue(field, value, id, descending);
              assert.deepEqual(actual, expected);
            });
          }
        }
      });
    });
  });
}
