import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { createDatabase } from './db/client.js';
import { AppError, ProblemSchema, ValidationError } from './errors.js';
import { healthRoutes } from './health/health.routes.js';
import { allowOrigins, limitRate, requireApiKey } from './http/access.js';
import { AccessLogController, installRequestHooks, requestIdOf } from './http/hooks.js';
import { installJsonBodyParser } from './http/json-body.js';
import { openBufferedLog } from './http/log-destination.js';
import { OutageLog, loggableBug } from './http/outage-log.js';
import { answerClientError, installProblemHandlers, sendProblem } from './http/problems.js';
import { installProtocolAnswers } from './http/protocol.js';
import { buildSharedSerializers } from './http/serializers.js';
import { installValidators } from './http/validation.js';
import type { Database } from './db/database.js';
import { createUsersRepository, type UsersRepository } from './users/users.repository.js';
import { usersRoutes } from './users/users.routes.js';
import { userModel, type UserModel } from './users/users.schemas.js';
import { UsersService } from './users/users.service.js';

export interface BuildAppOptions {
  /** An already connected database (tests, workers); by default one is opened from the config and closed with the app. */
  database?: Database;
  /** Overrides the pino logger options (tests pass false). */
  logger?: FastifyServerOptions['logger'];
  /** The users model (tests derive one with an extra field); by default the declaration of users.fields.ts. */
  userModel?: UserModel;
  /** A users repository to serve from (tests inject faults into one); by default one built on the database. */
  users?: UsersRepository;
}

/** Builds the application without listening: plugins, validation, error handling and routes. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  // stdout in blocks (LOG_BUFFER_BYTES), written on a timer, at warn and above, on close and at exit.
  const bufferedLog =
    options.logger === undefined && config.LOG_LEVEL !== 'silent'
      ? openBufferedLog({ bytes: config.LOG_BUFFER_BYTES, flushIntervalMs: config.LOG_FLUSH_INTERVAL_MS })
      : undefined;
  const app = Fastify({
    logger: options.logger ?? (bufferedLog ? {
      level: config.LOG_LEVEL,
      redact: ['req.headers.authorization'],
      // Errors are logged by class, code, message and stack only: a driver error's other fields hold row values.
      serializers: { err: loggableBug },
      stream: bufferedLog.stream,
      hooks: bufferedLog.hooks,
    } : false),
    logController: new AccessLogController(),
    genReqId: requestIdOf,
    requestIdHeader: false,
    bodyLimit: config.BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Requests that arrive while closing get installProtocolAnswers' problem+json 503 instead of Fastify's JSON.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    // A URL that cannot be decoded (`/users/%`) or a path parameter over maxParamLength: Fastify's own
    // answers would echo the URL.
    frameworkErrors: (error, _request, reply) =>
      sendProblem(
        reply,
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ValidationError([{ location: ['path'], message: 'is too long' }])
          : new AppError(400, 'BAD_REQUEST', 'The URL is malformed.'),
      ),
    trustProxy: config.TRUST_PROXY,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // Node checks the header and request deadlines on this interval (default 30 s): check often enough
    // that a client sending its headers byte by byte is cut off near HEADERS_TIMEOUT_MS.
    http: {
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      // A missing Host is answered by installProtocolAnswers (Node's own answer is an empty 400).
      requireHostHeader: false,
      connectionsCheckingInterval: Math.min(1000, config.HEADERS_TIMEOUT_MS),
    },
    forceCloseConnections: 'idle',
    schemaController: { compilersFactory: { buildSerializer: buildSharedSerializers } },
  });

  // On close the lines that wait are written, and every later one at once (other onClose hooks may still log).
  if (bufferedLog) app.addHook('onClose', (_instance, done) => {
    bufferedLog.close();
    done();
  });
  const database = options.database ?? (await createDatabase(config, app.log));
  if (!options.database) app.addHook('onClose', () => database.close());
  const outages = new OutageLog(app.log, () => database.ping());
  app.addHook('onClose', async () => outages.stop());

  // JSON is the only body the API takes: anything else, text/plain included, is 415.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app, config.BODY_LIMIT);
  installValidators(app);
  const model = options.userModel ?? userModel;
  installProblemHandlers(app, model.patternMessages, outages);
  installRequestHooks(app, config.INSTANCE_ID, installProtocolAnswers(app, config.INSTANCE_ID));

  // Shared schemas become the OpenAPI components, named as in the seed.
  for (const name of ['UserBase', 'UserCreate', 'UserUpdate', 'User'] as const) app.addSchema({ $id: name, ...model.schemas[name] });
  app.addSchema({ $id: 'Problem', ...ProblemSchema });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'users-api',
        version: '1.0.0',
        description:
          'Create, read, update and delete users. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      tags: [
        { name: 'users', description: 'The users collection' },
        { name: 'health', description: 'Liveness and database health' },
      ],
      ...(config.apiKeys.length > 0 && {
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API_KEY' } } },
      }),
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { tryItOutEnabled: false } });

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get('/', { schema: { hide: true } }, async () => ({
    name: 'users-api',
    docs: '/docs',
    openapi: '/openapi.json',
    health: '/healthcheck',
    users: '/users/',
  }));
  await allowOrigins(app, config);
  await app.register(healthRoutes, { database });
  // /users only: health and docs stay open and unlimited. Nothing is added when the features are off.
  await app.register(async (scope) => {
    if (config.apiKeys.length > 0) requireApiKey(scope, config.apiKeys);
    if (config.RATE_LIMIT > 0) await limitRate(scope, config.RATE_LIMIT);
    await scope.register(usersRoutes, {
      users: new UsersService(options.users ?? (await createUsersRepository(database, model)), model),
      model,
      secured: config.apiKeys.length > 0,
      rateLimited: config.RATE_LIMIT > 0,
    });
  });
  return app;
}
