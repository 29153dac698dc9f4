import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { AppError, DatabaseUnavailableError, type DatabaseFaultCode } from '../errors.js';
import { SERVER_ERRORS, badRequest, jsonResponse, unavailable } from '../http/openapi.js';
import { SHUTTING_DOWN } from '../http/protocol.js';
import type { Database } from '../db/database.js';

const HEALTHY = { status: 'ok', message: 'The service is healthy' } as const;
const LIVE = { status: 'ok', message: 'The process answers' } as const;
const READY = { status: 'ok', message: 'Ready: the database answers and has every migration of this release' } as const;
const StatusSchema = Type.Object({ status: Type.Literal('ok'), message: Type.String() }, { additionalProperties: false });
/** Why a health check fails: the database's own state, which requests report as DATABASE_UNAVAILABLE. */
const FAULTS: DatabaseFaultCode[] = ['DATABASE_UNAVAILABLE', 'DATABASE_READ_ONLY', 'DATABASE_FILE_MISSING', 'DATABASE_FILE_REPLACED'];
const DATABASE_FAULTS = FAULTS.map((code) => new DatabaseUnavailableError(undefined, code));

/** The database has fewer migrations than this release applies at start: restored from an older backup while running. */
export const MIGRATIONS_PENDING = new AppError(
  503,
  'MIGRATIONS_PENDING',
  'The database lacks migrations of this release; restart the server to apply them.',
  undefined,
  { 'retry-after': '1' },
);

/**
 * Whether this server takes new work. False from the moment a SIGTERM arrives (server.ts), while the server still
 * serves for SHUTDOWN_DELAY_MS so that a balancer polling /readyz stops sending first, and from app.close() on.
 */
export class Readiness {
  stopping = false;
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

export interface HealthRoutesOptions {
  /** The probe of the database (timed as the `ping` operation when metrics are on). */
  database: Pick<Database, 'ping'>;
  /** The number of migrations of this release: /readyz wants at least as many applied. */
  migrations: number;
  readiness: Readiness;
}

/**
 * The probes. /healthcheck (the seed's): a real round trip to the database. /livez: the process answers, no
 * database (a restart cannot mend a database that is down). /readyz: send traffic here — the database answers,
 * has this release's migrations, and the server is not shutting down.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { database, migrations, readiness }) => {
  app.get(
    '/healthcheck',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Health check',
        description: 'Answers 200 after a real round trip to the database, 503 when the database does not answer.',
        tags: ['health'],
        response: {
          200: jsonResponse(StatusSchema, 'The service and its database answer', HEALTHY),
          400: badRequest(),
          500: SERVER_ERRORS[500],
          503: unavailable(DATABASE_FAULTS),
        },
      },
    },
    async () => {
      await database.ping();
      return HEALTHY;
    },
  );

  app.get(
    '/livez',
    {
      schema: {
        operationId: 'getLiveness',
        summary: 'Liveness probe',
        description:
          'Answers 200 whenever the process can answer, without asking the database: a liveness probe that fails ' +
          'means the process should be restarted, which would not mend a database that is down.',
        tags: ['health'],
        response: {
          200: jsonResponse(StatusSchema, 'The process answers', LIVE),
          400: badRequest(),
          503: unavailable([]),
        },
      },
    },
    async () => LIVE,
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness probe',
        description:
          'Answers 200 when this server should get traffic: the database answers and has every migration of this ' +
          'release. 503 from the moment the server receives SIGTERM (while it still finishes and serves requests for ' +
          'SHUTDOWN_DELAY_MS), so that a balancer stops sending before the server closes.',
        tags: ['health'],
        response: {
          200: jsonResponse(StatusSchema, 'Ready for traffic', READY),
          400: badRequest(),
          500: SERVER_ERRORS[500],
          503: unavailable([...DATABASE_FAULTS, MIGRATIONS_PENDING]),
        },
      },
    },
    async () => {
      if (readiness.stopping) throw SHUTTING_DOWN;
      if ((await database.ping()) < migrations) throw MIGRATIONS_PENDING;
      return READY;
    },
  );
};
