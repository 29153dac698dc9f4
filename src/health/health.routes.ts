import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { DatabaseUnavailableError, type DatabaseFaultCode } from '../errors.js';
import { SERVER_ERRORS, badRequest, jsonResponse, unavailable } from '../http/openapi.js';
import type { Database } from '../db/database.js';

const HEALTHY = { status: 'ok', message: 'The service is healthy' } as const;
const HealthSchema = Type.Object({ status: Type.Literal('ok'), message: Type.String() }, { additionalProperties: false });
/** Why a health check fails: the database's own state, which requests report as DATABASE_UNAVAILABLE. */
const FAULTS: DatabaseFaultCode[] = ['DATABASE_UNAVAILABLE', 'DATABASE_READ_ONLY', 'DATABASE_FILE_MISSING', 'DATABASE_FILE_REPLACED'];

/** GET /healthcheck: healthy only after a real round trip to the database. */
export const healthRoutes: FastifyPluginAsync<{ database: Database }> = async (app, { database }) => {
  app.get(
    '/healthcheck',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Health check',
        description: 'Answers 200 after a real round trip to the database, 503 when the database does not answer.',
        tags: ['health'],
        response: {
          200: jsonResponse(HealthSchema, 'The service and its database answer', HEALTHY),
          400: badRequest(),
          500: SERVER_ERRORS[500],
          503: unavailable(FAULTS.map((code) => new DatabaseUnavailableError(undefined, code))),
        },
      },
    },
    async () => {
      await database.ping();
      return HEALTHY;
    },
  );
};
