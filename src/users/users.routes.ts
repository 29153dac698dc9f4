import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseEntityTags, strongEtag } from '../http/etag.js';
import { sendJsonText } from '../http/json-text.js';
import type { AppError} from '../errors.js';
import { EmailTakenError, IdempotencyKeyReusedError, PreconditionFailedError, UserNotFoundError, ValidationError } from '../errors.js';
import { UNAUTHORIZED, rateLimited as rateLimitedError } from '../http/access.js';
import { MALFORMED_URL } from '../http/problems.js';
import { SERVER_ERRORS, URL_ERRORS, badRequest, bodyErrors, jsonResponse, problemResponse, ref } from '../http/openapi.js';
import type { UserListResult, UsersService } from './users.service.js';
import { answerBulkPathMethods, usersBulkRoutes } from './users.bulk.routes.js';
import {
  DeletedSchema,
  UserIdParamsSchema,
  UserListSchema,
  userModel,
  type User,
  type UserCreate,
  type UserListQuery,
  type UserModel,
  type UserUpdate,
} from './users.schemas.js';

// A user's ETag is its updated_at in quotes. updated_at strictly increases with every change of a row (the
// database moves it at least 1 ms forward) and ids are never reused, so equal tags mean equal representations:
// a strong validator that the database can compare in the same statement as the write.
const etagOf = (user: User) => strongEtag(user.updated_at);

const UserRef = ref<User>('User');
const TAGS = ['users'];
const ETAG = { ETag: { type: 'string', description: 'Strong validator of this representation, for If-Match / If-None-Match' } };
const IF_MATCH = {
  type: 'object',
  properties: {
    'if-match': {
      type: 'string',
      description: 'Change only if the user is still at this ETag (from a GET); 412 otherwise. Prevents lost updates.',
    },
  },
} as const;

/** The updated_at values If-Match allows; undefined when the header is absent or `*` (the user must exist). */
function expectedVersions(header: string | string[] | undefined): string[] | undefined {
  const condition = parseEntityTags(header);
  return condition && !condition.any ? condition.versions : undefined;
}

// The error responses, each with the errors the server really sends for it (see problemResponse).
const NOT_FOUND = problemResponse('No user has this id (code USER_NOT_FOUND, detail "User not found")', [new UserNotFoundError()]);
const EMAIL_TAKEN = problemResponse('Another user has this email, compared case-insensitively (code EMAIL_TAKEN)', [
  new EmailTakenError(),
]);
const PRECONDITION_FAILED = problemResponse(
  'If-Match names a version that is no longer current; nothing was changed (code PRECONDITION_FAILED)',
  [new PreconditionFailedError()],
);
/** A 422 whose example is a real problem of that request part. */
const invalid = (location: string[], message: string, ...others: AppError[]) =>
  problemResponse(
    `A value is invalid; errors lists every problem (code VALIDATION_FAILED${others.map((error) => `; code ${error.code}: ${error.detail}`).join('')})`,
    [new ValidationError([{ location, message }]), ...others],
  );
const INVALID_ID = invalid(['path', 'user_id'], 'must be >= 1');

/** The Link header of a list page (RFC 8288), relative to this server, with the query's own filters. */
function linkHeader(model: UserModel, query: UserListQuery, page: UserListResult): string {
  const base = new URLSearchParams();
  for (const name of model.filterParams) {
    const value = (query as Record<string, unknown>)[name];
    if (value !== undefined) base.set(name, String(value));
  }
  if (query.sort !== 'id') base.set('sort', query.sort);
  if (query.count !== undefined) base.set('count', String(query.count));
  base.set('limit', String(query.limit));
  const link = (rel: string, extra: Record<string, string | number>) => {
    const params = new URLSearchParams(base);
    for (const [name, value] of Object.entries(extra)) params.set(name, String(value));
    return `</users/?${params.toString()}>; rel="${rel}"`;
  };
  const links = [link('first', {})];
  if (query.cursor === undefined && query.offset > 0) {
    links.push(link('prev', { offset: Math.max(0, query.offset - query.limit) }));
  }
  if (page.nextCursor) links.push(link('next', { cursor: page.nextCursor }));
  if (page.total !== null && page.total > 0) {
    links.push(link('last', { offset: Math.floor((page.total - 1) / query.limit) * query.limit }));
  }
  return links.join(', ');
}

/** The /users routes: schemas for every status, and handlers that call the service and pick the status code. */
export interface UsersRoutesOptions {
  users: UsersService;
  /** API_KEY is set: document the bearer scheme and 401. */
  secured?: boolean;
  /** RATE_LIMIT is set (requests a minute): document 429. */
  rateLimited?: number;
  /** The model whose schemas the routes validate with (registered as components by the app). */
  model?: UserModel;
  /** IMPORT_BODY_LIMIT: the bytes an import body may have, counted while it streams in. */
  importBodyLimit?: number;
}

export const usersRoutes: FastifyPluginAsync<UsersRoutesOptions> = async (
  fastify,
  { users, secured, rateLimited, model = userModel, importBodyLimit = 100 * 1024 * 1024 },
) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // With API_KEY set, every operation documents the bearer scheme and its 401; with RATE_LIMIT, the 429.
  const unauthorized = problemResponse('No valid API key: send Authorization: Bearer <key> (code UNAUTHORIZED)', [UNAUTHORIZED], {
    'WWW-Authenticate': { type: 'string', description: 'Bearer realm="users-api"' },
  });
  const tooMany =
    rateLimited &&
    problemResponse('Too many requests from this client in a minute (code RATE_LIMITED)', [rateLimitedError(rateLimited)], {
      'Retry-After': { type: 'integer', description: 'Seconds until the limit resets' },
    });
  fastify.addHook('onRoute', (route) => {
    const schema = route.schema as { security?: unknown; response?: Record<string, unknown> } | undefined;
    if (!schema?.response) return;
    if (tooMany) schema.response['429'] = tooMany;
    if (secured) {
      schema.security = [{ bearerAuth: [] }];
      schema.response['401'] = unauthorized;
    }
  });
  const example = model.example as User;
  const etag = { ETag: { ...ETAG.ETag, examples: [etagOf(example)] } };

  // GET /users/export, POST /users/import: static paths, which Fastify's router prefers to /users/:user_id. First,
  // so that a method no route has there (PUT /users/export) is answered with their Allow, not the item's.
  await fastify.register(usersBulkRoutes, { users, model, importBodyLimit, patternMessages: model.patternMessages });

  app.post(
    '/users/',
    {
      schema: {
        operationId: 'createUser',
        summary: 'Create a user',
        description:
          'With an Idempotency-Key header, a retry with the same key and body returns the original response ' +
          '(with Idempotent-Replayed: true) instead of creating a second user; keys are kept for 24 hours.',
        tags: TAGS,
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': {
              type: 'string',
              minLength: 1,
              maxLength: 255,
              pattern: '^[\\x21-\\x7E]+$',
              description: 'A unique key per intended create (e.g. a UUID), 1-255 printable ASCII characters',
            },
          },
        },
        body: ref<UserCreate>('UserCreate'),
        response: {
          201: jsonResponse(UserRef, 'The created user', example, {
            Location: { type: 'string', description: 'The URL of the new user, /users/{id}', examples: [`/users/${example.id}`] },
            ...etag,
            'Idempotent-Replayed': { type: 'string', description: '"true" when this is the stored response of a retry' },
          }),
          ...bodyErrors(),
          409: EMAIL_TAKEN,
          422: invalid(['body', 'email'], 'must be a valid email', new IdempotencyKeyReusedError()),
          ...SERVER_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { user, replayed } = await users.createUser(request.body, typeof key === 'string' ? key : undefined);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/users/${user.id}`).header('etag', etagOf(user)).send(user);
    },
  );

  app.get(
    '/users/',
    {
      schema: {
        operationId: 'listUsers',
        summary: 'List users',
        description:
          'A page of users as a bare JSON array, in a stable order. X-Total-Count counts the rows matching the ' +
          'filters; Link gives first, prev, next (a keyset cursor) and last pages.',
        tags: TAGS,
        querystring: model.schemas.UserListQuery,
        response: {
          200: jsonResponse(UserListSchema, 'A page of users', [example], {
            'X-Total-Count': { type: 'integer', description: 'Rows matching the filters (absent with count=false)', examples: [1] },
            Link: {
              type: 'string',
              description: 'RFC 8288 links: first, prev, next, last, as they apply',
              examples: ['</users/?limit=100>; rel="first", </users/?limit=100&offset=0>; rel="last"'],
            },
          }),
          400: badRequest(),
          422: invalid(['query', 'limit'], 'must be <= 100'),
          ...SERVER_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const query = request.query as UserListQuery; // defaults are filled in by the validator
      const page = await users.listUsers(query);
      if (page.total !== null) reply.header('x-total-count', page.total);
      reply.header('link', linkHeader(model, query, page));
      // The database rendered the page as JSON already: sent as is, not serialized again.
      return sendJsonText(reply, page.json);
    },
  );

  // HEAD declared with GET rather than left to Fastify's automatic HEAD route, which sends Content-Length: 0
  // with a 304; a 304 has no Content-Length, or the 200's.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/users/:user_id',
    exposeHeadRoute: false,
    onRequest: answerBulkPathMethods,
    schema: {
      operationId: 'getUser',
      summary: 'Get a user',
      description:
        'The user with this id, and its ETag. With If-None-Match naming the current ETag (or *), 304 without a body: ' +
        'the copy the client has is current.',
      tags: TAGS,
      params: UserIdParamsSchema,
      headers: {
        type: 'object',
        properties: {
          'if-none-match': { type: 'string', description: 'An ETag from an earlier GET: 304 if the user is unchanged' },
        },
      },
      response: {
        200: jsonResponse(UserRef, 'The user', example, etag),
        ...URL_ERRORS,
        304: { type: 'null', description: 'Not modified since the ETag in If-None-Match: no body', headers: etag },
        404: NOT_FOUND,
        422: INVALID_ID,
        ...SERVER_ERRORS,
      },
    },
    handler: async (request, reply) => {
      const user = await users.getUser(request.params.user_id);
      reply.header('etag', etagOf(user));
      const condition = parseEntityTags(request.headers['if-none-match']);
      if (condition && (condition.any || condition.tags.includes(user.updated_at))) return reply.code(304).send(undefined as never);
      return user;
    },
  });

  app.patch(
    '/users/:user_id',
    {
      onRequest: answerBulkPathMethods,
      schema: {
        operationId: 'updateUser',
        summary: 'Update a user partially',
        description:
          'Only the fields present in the body change; null is accepted only for age. With If-Match, the change ' +
          'is made only if the user is still at that ETag (412 otherwise).',
        tags: TAGS,
        params: UserIdParamsSchema,
        headers: IF_MATCH,
        body: ref<UserUpdate>('UserUpdate'),
        response: {
          200: jsonResponse(UserRef, 'The updated user', example, etag),
          ...bodyErrors(MALFORMED_URL),
          404: NOT_FOUND,
          409: EMAIL_TAKEN,
          412: PRECONDITION_FAILED,
          422: invalid(['body', 'age'], 'must be <= 150'),
          ...SERVER_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const expected = expectedVersions(request.headers['if-match']);
      const user = await users.updateUser(request.params.user_id, request.body, expected);
      return reply.header('etag', etagOf(user)).send(user);
    },
  );

  app.delete(
    '/users/:user_id',
    {
      onRequest: answerBulkPathMethods,
      schema: {
        operationId: 'deleteUser',
        summary: 'Delete a user',
        description: 'With If-Match, the user is deleted only if it is still at that ETag (412 otherwise).',
        tags: TAGS,
        params: UserIdParamsSchema,
        headers: IF_MATCH,
        response: {
          200: jsonResponse(DeletedSchema, 'The user was deleted', { ok: true }),
          ...URL_ERRORS,
          404: NOT_FOUND,
          412: PRECONDITION_FAILED,
          422: INVALID_ID,
          ...SERVER_ERRORS,
        },
      },
    },
    async (request) => {
      await users.deleteUser(request.params.user_id, expectedVersions(request.headers['if-match']));
      return { ok: true } as const;
    },
  );
};
