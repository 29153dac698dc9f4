import createClient, { type Client } from 'openapi-fetch';
import { ApiError, unwrap } from './errors.js';
import { nextQuery, totalCount } from './headers.js';
import type { paths } from './schema.js';
import type { ListQuery, User, UserCreate, UserUpdate } from './types.js';

export { ApiError, toApiError, unwrap } from './errors.js';
export { nextQuery, parseLinks, totalCount } from './headers.js';
export type { components, operations, paths } from './schema.js';
export type * from './types.js';

export interface UsersClientOptions {
  /** The server's origin, with a path prefix if it has one: `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` (servers started with API_KEY); empty or undefined sends none. */
  apiKey?: string;
  /** A fetch to use instead of globalThis.fetch (tests, retries, proxies). */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** What every helper accepts besides its own options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A user and the version it was read at: pass `etag` as `ifMatch` to change it only if nobody else has. */
export interface Versioned {
  user: User;
  /** The strong ETag of this version (the server sends one with every GET, POST and PATCH). */
  etag: string | undefined;
  response: Response;
}

export interface Created extends Versioned {
  /** `/users/{id}` */
  location: string | undefined;
  /** True when the server answered a retry with its stored response (`Idempotent-Replayed: true`): no new user. */
  replayed: boolean;
}

export interface Page {
  users: User[];
  /** X-Total-Count: the users matching the filters; undefined with `count=false`. */
  total: number | undefined;
  /** The query of the next page (its keyset cursor), from the Link header; undefined on the last page. */
  next: ListQuery | undefined;
  response: Response;
}

export interface UsersHelpers {
  /** POST /users/. With `idempotencyKey`, a retry returns the first answer (`replayed: true`) instead of a second user. */
  createUser(body: UserCreate, options?: CallOptions & { idempotencyKey?: string }): Promise<Created>;
  /** GET /users/{id}, with the ETag of the version read. */
  getUser(id: number, options?: CallOptions): Promise<Versioned>;
  /** PATCH /users/{id}. With `ifMatch`, only if the user is still at that ETag (else ApiError PRECONDITION_FAILED, 412). */
  updateUser(id: number, patch: UserUpdate, options?: CallOptions & { ifMatch?: string }): Promise<Versioned>;
  /**
   * Read, compute a patch from the current user, write it with If-Match; when someone else changed the user in
   * between (412), read again and retry, up to `attempts` times (default 3). No lost updates.
   */
  modifyUser(
    id: number,
    change: (user: User) => UserUpdate | Promise<UserUpdate>,
    options?: CallOptions & { attempts?: number },
  ): Promise<Versioned>;
  /** DELETE /users/{id}. With `ifMatch`, only if the user is still at that ETag. */
  deleteUser(id: number, options?: CallOptions & { ifMatch?: string }): Promise<void>;
  /** One page of GET /users/: its users, X-Total-Count, and the query of the next page. */
  listUsers(query?: ListQuery, options?: CallOptions): Promise<Page>;
  /** Every page, from `query` on, following `Link: <…>; rel="next"` (keyset cursors: fast at any depth). */
  listPages(query?: ListQuery, options?: CallOptions): AsyncGenerator<Page, void, undefined>;
  /** Every user matching `query`, page after page (`limit` is the page size). */
  listAll(query?: ListQuery, options?: CallOptions): AsyncGenerator<User, void, undefined>;
}

/** The openapi-fetch client of the API (`GET`, `POST`, … typed by the generated paths) plus the helpers. */
export type UsersClient = Client<paths> & UsersHelpers;

/** Helpers throw ApiError for any error answer of the API; `switch (error.problem.code)` to handle them. */
export function createUsersClient({ baseUrl, apiKey, fetch, headers }: UsersClientOptions): UsersClient {
  const client = createClient<paths>({
    baseUrl,
    ...(fetch && { fetch }),
    headers: { ...headers, ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
  });

  const versioned = (user: User, response: Response): Versioned => ({
    user,
    etag: response.headers.get('etag') ?? undefined,
    response,
  });

  const helpers: UsersHelpers = {
    async createUser(body, { idempotencyKey, signal } = {}) {
      const result = await client.POST('/users/', { body, params: { header: { 'idempotency-key': idempotencyKey } }, signal });
      const user = unwrap(result);
      return {
        ...versioned(user, result.response),
        location: result.response.headers.get('location') ?? undefined,
        replayed: result.response.headers.get('idempotent-replayed') === 'true',
      };
    },

    async getUser(id, { signal } = {}) {
      const result = await client.GET('/users/{user_id}', { params: { path: { user_id: id } }, signal });
      return versioned(unwrap(result), result.response);
    },

    async updateUser(id, patch, { ifMatch, signal } = {}) {
      const result = await client.PATCH('/users/{user_id}', {
        params: { path: { user_id: id }, header: { 'if-match': ifMatch } },
        body: patch,
        signal,
      });
      return versioned(unwrap(result), result.response);
    },

    async modifyUser(id, change, { attempts = 3, signal } = {}) {
      for (let attempt = 1; ; attempt++) {
        const { user, etag } = await helpers.getUser(id, { signal });
        // Without a tag the PATCH would be unconditional: refuse rather than risk losing someone else's change.
        if (etag === undefined) throw new Error(`GET /users/${id} answered without an ETag: cannot update conditionally`);
        try {
          return await helpers.updateUser(id, await change(user), { ifMatch: etag, signal });
        } catch (error) {
          if (!(error instanceof ApiError && error.problem.code === 'PRECONDITION_FAILED') || attempt >= attempts) throw error;
        }
      }
    },

    async deleteUser(id, { ifMatch, signal } = {}) {
      unwrap(await client.DELETE('/users/{user_id}', { params: { path: { user_id: id }, header: { 'if-match': ifMatch } }, signal }));
    },

    async listUsers(query = {}, { signal } = {}) {
      const result = await client.GET('/users/', { params: { query }, signal });
      const users = unwrap(result);
      // The Link's values are text; sent back as they came, they mean what the server wrote.
      const next = nextQuery(result.response) as ListQuery | undefined;
      return { users, total: totalCount(result.response), next, response: result.response };
    },

    async *listPages(query = {}, options = {}) {
      for (let page: ListQuery | undefined = query; page !== undefined; ) {
        const current = await helpers.listUsers(page, options);
        yield current;
        page = current.next;
      }
    },

    async *listAll(query = {}, options = {}) {
      for await (const page of helpers.listPages(query, options)) yield* page.users;
    },
  };
  return Object.assign(client, helpers);
}
