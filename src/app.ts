import cluster from 'node:cluster';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { createDatabase } from './db/client.js';
import { ProblemSchema, ValidationError } from './errors.js';
import { Readiness, healthRoutes } from './health/health.routes.js';
import { readMigrations } from './db/migrations.js';
import { allowOrigins, limitRate, requireApiKey } from './http/access.js';
import { AccessLogController, requestLoggerOf } from './http/access-log.js';
import { apiHeadersOf, installRequestHooks, requestHeadersOf, requestIdOf } from './http/hooks.js';
import { installJsonBodyParser } from './http/json-body.js';
import { openBufferedLog } from './http/log-destination.js';
import { badRequest, finishDocument, jsonResponse, unavailable } from './http/openapi.js';
import { OutageLog, loggableBug } from './http/outage-log.js';
import { MALFORMED_URL, answerClientErrors, installProblemHandlers, sendProblem } from './http/problems.js';
import { installProtocolAnswers } from './http/protocol.js';
import { buildSharedSerializers } from './http/serializers.js';
import { installValidators } from './http/validation.js';
import type { Database } from './db/database.js';
import type { ServiceMetrics } from './metrics/metrics.js';
import { createUsersRepository, type UsersRepository } from './users/users.repository.js';
import { usersRoutes } from './users/users.routes.js';
import { userModel, type UserModel } from './users/users.schemas.js';
import { UsersService } from './users/users.service.js';

const INDEX = { name: 'users-api', docs: '/docs', openapi: '/openapi.json', health: '/healthcheck', users: '/users/' } as const;
const IndexSchema = Type.Object(Object.fromEntries(Object.keys(INDEX).map((key) => [key, Type.String()])), { additionalProperties: false });

const API_DESCRIPTION = `Create, read, update and delete users. Errors are RFC 9457 problem+json with a stable \`code\`;
each error response lists the codes it can carry.

Every answer, also those of the table below, carries \`X-Request-Id\` (the client's, when it sends a safe one)
and \`X-Content-Type-Options: nosniff\`. Every answer to a parsed request carries a W3C \`traceparent\`: the trace
of the request's own \`traceparent\` (or a new one) with this server's span; its trace id is in every log line of
the request. HEAD is answered for every GET. Answers no operation lists, because they concern no single operation:

| status | code | when |
|---|---|---|
| 404 | NOT_FOUND | no route has this path |
| 405 | METHOD_NOT_ALLOWED | the path exists, the method does not: \`Allow\` lists the methods |
| 400 | BAD_REQUEST | a malformed request line or headers; the connection is closed |
| 408 | REQUEST_TIMEOUT | the request headers or body did not arrive in time |
| 417 | EXPECTATION_FAILED | an \`Expect\` other than 100-continue |
| 431 | HEADERS_TOO_LARGE | the request headers are too large |
| 501 | METHOD_NOT_IMPLEMENTED | CONNECT |`;

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's metrics, when METRICS_PORT is set (server.ts serves them on their own listener). */
    metrics: ServiceMetrics | undefined;
  }
}

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
  // The headers of every answer, also of those given before routing (frameworkErrors, clientErrorHandler).
  const answerHeaders = apiHeadersOf(config.INSTANCE_ID);
  const accessLog = new AccessLogController();
  const app = Fastify({
    logger: options.logger ?? (bufferedLog ? {
      level: config.LOG_LEVEL,
      redact: ['req.headers.authorization'],
      // Errors are logged by class, code, message and stack only: a driver error's other fields hold row values.
      serializers: { err: loggableBug },
      stream: bufferedLog.stream,
      hooks: bufferedLog.hooks,
    } : false),
    logController: accessLog,
    genReqId: requestIdOf,
    childLoggerFactory: requestLoggerOf,
    requestIdHeader: false,
    bodyLimit: config.BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Requests that arrive while closing get installProtocolAnswers' problem+json 503 instead of Fastify's JSON.
    return503OnClosing: false,
    clientErrorHandler: answerClientErrors(answerHeaders),
    // A URL that cannot be decoded (`/users/%`) or a path parameter over maxParamLength: Fastify's own
    // answers would echo the URL. No hook has run yet: the headers of every answer are set here.
    frameworkErrors: (error, request, reply) =>
      sendProblem(
        reply.headers(answerHeaders).headers(requestHeadersOf(request.raw, request.id)),
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ValidationError([{ location: ['path'], message: 'is too long' }]) : MALFORMED_URL,
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

  accessLog.attach(app.log, bufferedLog?.write);
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
  // Loaded only when used: prom-client is not part of a start-up without METRICS_PORT.
  const metrics =
    config.METRICS_PORT === undefined ? undefined : new (await import('./metrics/metrics.js')).ServiceMetrics({ clustered: cluster.isWorker });
  app.decorate('metrics', metrics);
  if (metrics) {
    metrics.instrument(app);
    metrics.observeDatabase(database);
  }

  // Shared schemas become the OpenAPI components, named as in the seed. UserBase is not one: no request or
  // response is exactly it, and an allOf of closed objects breaks generated validators (the seed's FastAPI
  // document has no UserBase either).
  for (const name of ['UserCreate', 'UserUpdate', 'User'] as const) app.addSchema({ $id: name, ...model.schemas[name] });
  app.addSchema({ $id: 'Problem', ...ProblemSchema });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'users-api',
        version: '1.0.0',
        description: API_DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'users-api maintainers' },
      },
      // Relative: a generated client's base URL is wherever the document was fetched from.
      servers: [{ url: '/', description: 'This server' }],
      // Open by default; with API_KEY set, the users operations name the bearer scheme (users.routes.ts).
      security: [],
      tags: [
        { name: 'users', description: 'The users collection' },
        { name: 'health', description: 'Liveness and database health' },
        { name: 'meta', description: 'Where to find the rest' },
      ],
      components: {
        ...(config.apiKeys.length > 0 && {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of the keys in API_KEY' } },
        }),
      },
    },
    // Fastify answers HEAD for every GET route: documented, as HEAD operations (finishDocument).
    exposeHeadRoutes: true,
    transformObject: (documentObject) => finishDocument((documentObject as { openapiObject: object }).openapiObject),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // One URL of the document, /openapi.json (relative, so that it also works behind a path prefix): Swagger UI
    // would load its own copy at /docs/json, which now redirects there.
    uiConfig: { tryItOutEnabled: false, urls: [{ url: '../openapi.json', name: 'users-api' }] },
    uiHooks: {
      onRequest: (request, reply, done) => {
        if (request.url.split('?', 1)[0] === '/docs/json') return void reply.redirect('/openapi.json', 301);
        done();
      },
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get(
    '/',
    {
      schema: {
        operationId: 'getIndex',
        summary: 'Index',
        description: 'Where the documentation, the OpenAPI document, the health check and the users collection are.',
        tags: ['meta'],
        response: { 200: jsonResponse(IndexSchema, 'The links of the service', INDEX), 400: badRequest(), 503: unavailable([]) },
      },
    },
    async () => INDEX,
  );
  await allowOrigins(app, config);
  // Not ready from SIGTERM (server.ts sets it before SHUTDOWN_DELAY_MS) or from close() on.
  app.decorate('readiness', new Readiness());
  app.addHook('preClose', (done) => {
    app.readiness.stopping = true;
    done();
  });
  await app.register(healthRoutes, { database: metrics ? metrics.timed(database, ['ping']) : database, migrations: readMigrations(database.dialect).length, readiness: app.readiness });
  // /users only: health and docs stay open and unlimited. Nothing is added when the features are off.
  await app.register(async (scope) => {
    if (config.apiKeys.length > 0) requireApiKey(scope, config.apiKeys, metrics?.countApiKeys(config.apiKeys.length));
    if (config.RATE_LIMIT > 0) await limitRate(scope, config.RATE_LIMIT);
    const repository = options.users ?? (await createUsersRepository(database, model));
    await scope.register(usersRoutes, {
      users: new UsersService(metrics ? metrics.timed(repository) : repository, model),
      model,
      secured: config.apiKeys.length > 0,
      importBodyLimit: config.IMPORT_BODY_LIMIT,
      ...(config.RATE_LIMIT > 0 && { rateLimited: config.RATE_LIMIT }),
    });
  });
  return app;
}
