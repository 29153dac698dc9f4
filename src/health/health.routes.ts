import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { SERVER_ERRORS, jsonResponse } from '../http/openapi.js';
import type { Database } from '../db/database.js';

const HealthSchema = Type.Object(
  { status: Type.Literal('ok'), message: Type.String() },
  { additionalProperties: false, examples: [{ status: 'ok', message: 'The service is healthy' }] },
);

/** GET /healthcheck: healthy only after a real round trip to the database. */
export const healthRoutes: FastifyPluginAsync<{ database: Database }> = async (app, { database }) => {
  app.get(
    '/healthcheck',
    {
      schema: {
        summary: 'Health check',
        description: 'Answers 200 after a real round trip to the database, 503 when the database does not answer.',
        tags: ['health'],
        response: { 200: jsonResponse(HealthSchema, 'The service and its database answer'), ...SERVER_ERRORS },
      },
    },
    async () => {
      await database.ping();
      return { status: 'ok', message: 'The service is healthy' } as const;
    },
  );
};
